"""Settings, read and checked in one place: a mistyped value stops the bot with one line naming it.

Telegram-free, so the command line reads the same settings as the running bot; the token and the
webhook secret never show in a `repr` or a log line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

RELOAD_SECONDS = 5.0
RETRY_SECONDS = 0.5  # first pause before a failed Bot API call is tried again (then 2×, 4×, …)
SENDS_PER_SECOND = 30.0  # Telegram's limit for a bot's messages overall
PURGE_SECONDS = 3600.0  # how often ids and texts past their retention are deleted while running
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingError(ValueError):
    """A setting that cannot be used; its message names the variable and says what is expected."""


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    data_dir: Path = Path("data")
    admins: frozenset[int] = frozenset()
    log_level: str = "INFO"
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    keep_unmatched: bool = False
    reload_seconds: float = RELOAD_SECONDS
    retry_seconds: float = RETRY_SECONDS
    purge_seconds: float = PURGE_SECONDS
    sends_per_second: float = SENDS_PER_SECOND
    semantic: bool = True

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url).path.strip("/") or "telegram"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Read the environment; raise `SettingError` for the first value that cannot be used."""

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        level = get("BOT_LOG_LEVEL", "INFO").upper()
        if level not in LEVELS:
            raise SettingError(f"BOT_LOG_LEVEL={level!r}: use one of {', '.join(LEVELS)}")
        settings = cls(
            token=get("TELEGRAM_BOT_TOKEN"),
            base_url=get("TELEGRAM_BASE_URL") or cls.base_url,
            data_dir=Path(get("BOT_DATA_DIR", "data") or "data"),
            admins=_admins(get("BOT_ADMIN_IDS")),
            log_level=level,
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=get("WEBHOOK_SECRET"),
            webhook_listen=get("WEBHOOK_LISTEN", "127.0.0.1") or "127.0.0.1",
            webhook_port=_port(get("WEBHOOK_PORT", "8443") or "8443"),
            keep_unmatched=_flag(get("BOT_KEEP_UNMATCHED"), "BOT_KEEP_UNMATCHED"),
            semantic=get("BOT_SEMANTIC", "1") != "0",
        )
        if settings.webhook_url and not settings.webhook_secret:
            raise SettingError("WEBHOOK_URL is set without WEBHOOK_SECRET: set a long random secret")
        if settings.webhook_url and not settings.webhook_url.startswith("https://"):
            raise SettingError(f"WEBHOOK_URL={settings.webhook_url!r}: Telegram needs an https:// address")
        return settings


def _admins(value: str) -> frozenset[int]:
    ids = value.replace(",", " ").split()
    bad = [a for a in ids if not a.isdigit()]
    if bad:
        raise SettingError(
            f"BOT_ADMIN_IDS: {bad[0]!r} is not a Telegram user id (digits only, separated by commas)"
        )
    return frozenset(int(a) for a in ids)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingError(f"WEBHOOK_PORT={value!r}: use a port number from 1 to 65535")
    return int(value)


def _flag(value: str, name: str) -> bool:
    if value not in ("", "0", "1"):
        raise SettingError(f"{name}={value!r}: use 1 to switch it on, 0 or nothing to leave it off")
    return value == "1"


def level_number(level: str) -> int:
    return int(logging.getLevelName(level))
