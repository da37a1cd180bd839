"""Wiring: settings from the environment, the Application and its handlers, polling or webhook.

`build` reads like a table of contents of what the bot does; tests build the same Application
and point it at a Bot API stand-in through TELEGRAM_BASE_URL.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import admin, handlers
from bot.content import LANGS, ContentError, Knowledge, load
from bot.handlers import Core, State
from bot.language import FALLBACK_LANG
from bot.matching import Matcher
from bot.store import Store

log = logging.getLogger(__name__)
COMMANDS = ("start", "topics", "helplines", "language", "help", "privacy", "forget")
RELOAD_SECONDS = 5.0
TICK = 0.1


@dataclass(frozen=True)
class Settings:
    token: str
    base_url: str = "https://api.telegram.org/bot"
    data_dir: Path = Path("data")
    admins: frozenset[int] = frozenset()
    log_level: str = "INFO"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    keep_unmatched: bool = False
    reload_seconds: float = RELOAD_SECONDS

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            token=env("TELEGRAM_BOT_TOKEN", "").strip(),
            base_url=env("TELEGRAM_BASE_URL", "").strip() or cls.base_url,
            data_dir=Path(env("BOT_DATA_DIR", "data")),
            admins=frozenset(
                int(a) for a in env("BOT_ADMIN_IDS", "").replace(",", " ").split() if a.isdigit()
            ),
            log_level=env("BOT_LOG_LEVEL", "INFO").upper(),
            webhook_url=env("WEBHOOK_URL", "").strip(),
            webhook_secret=env("WEBHOOK_SECRET", "").strip(),
            webhook_listen=env("WEBHOOK_LISTEN", "127.0.0.1"),
            webhook_port=int(env("WEBHOOK_PORT", "8443")),
            keep_unmatched=env("BOT_KEEP_UNMATCHED", "") == "1",
        )


def configure_logging(level: str) -> None:
    """Plain lines on stderr, at the level asked for, with the libraries kept quiet (see `quiet`)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    quiet()


def quiet() -> None:
    """httpx at WARNING because its request lines contain the token; PTB at INFO at least because at
    DEBUG it logs whole updates, message texts and names included."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)


async def register(app: Application) -> None:  # type: ignore[type-arg]
    """Commands, description and short description in each language, from content."""
    st: State = app.bot_data["state"]
    k = st.core.knowledge
    for lang in (*LANGS, None):
        code = lang or FALLBACK_LANG
        commands = [BotCommand(c, k.text(code, f"cmd_{c}")) for c in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=lang)
        await app.bot.set_my_description(k.text(code, "bot_description"), language_code=lang)
        await app.bot.set_my_short_description(k.text(code, "bot_short_description"), language_code=lang)


def build(settings: Settings, knowledge: Knowledge, content_dir: Path) -> Application:  # type: ignore[type-arg]
    """The Application as in production: rate limiter, state, handlers, reload."""
    quiet()
    app = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(_start)
        .post_stop(_close)
        .build()
    )
    store = Store(settings.data_dir / "bot.sqlite3")
    app.bot_data["state"] = State(
        Core(knowledge, Matcher(knowledge)), store, settings.admins, settings.keep_unmatched
    )
    app.bot_data["content_dir"] = content_dir
    app.bot_data["reload_seconds"] = settings.reload_seconds

    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", handlers.start))
    app.add_handler(CommandHandler("topics", handlers.topics))
    app.add_handler(CommandHandler("helplines", handlers.helplines))
    app.add_handler(CommandHandler("language", handlers.language))
    app.add_handler(CommandHandler("help", handlers.help_command))
    app.add_handler(CommandHandler("privacy", handlers.privacy))
    app.add_handler(CommandHandler("forget", handlers.forget))
    app.add_handler(CommandHandler("stats", admin.stats))
    app.add_handler(CommandHandler("reload", admin.reload))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(handlers.inline))
    app.add_handler(MessageHandler(private & filters.UpdateType.EDITED, handlers.not_text))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.question))
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text))
    app.add_error_handler(handlers.error)
    return app


async def _close(app: Application) -> None:  # type: ignore[type-arg]
    st: State = app.bot_data["state"]
    st.store.close()


def content_stamp(root: Path) -> tuple[tuple[str, float, int], ...]:
    """A cheap fingerprint of every content file, to notice edits without reading them."""
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
    return tuple((str(p), p.stat().st_mtime, p.stat().st_size) for p in files)


def reload_content(app: Application) -> list[str]:  # type: ignore[type-arg]
    """Validate the content folder in full and swap it in, or keep the last good one; problems returned."""
    st: State = app.bot_data["state"]
    try:
        knowledge = load(app.bot_data["content_dir"])
    except ContentError as e:
        for problem in e.problems:
            log.warning("content problem: %s", problem)
        return [str(p) for p in e.problems]
    st.core = Core(knowledge, Matcher(knowledge))
    log.info("content reloaded: %d cards", len(knowledge.card_ids))
    return []


async def watch_content(app: Application, interval: float = RELOAD_SECONDS) -> None:  # type: ignore[type-arg]
    """Poll the content folder while the bot runs; on a change, reload, and tell the admins what failed."""
    root: Path = app.bot_data["content_dir"]
    stamp = content_stamp(root)
    waited = 0.0
    while not app.running:  # post_init runs before the application starts
        await asyncio.sleep(TICK)
    while app.running:  # short naps, so that stopping the bot never waits on this loop
        await asyncio.sleep(TICK)
        waited += TICK
        if waited < interval:
            continue
        waited = 0.0
        now = content_stamp(root)
        if now == stamp:
            continue
        stamp = now
        problems = await asyncio.to_thread(reload_content, app)  # ~1 s of work: updates keep flowing
        if problems:
            await admin.tell_admins(app, problems)


def webhook_options(settings: Settings) -> dict[str, object]:
    """PTB's webhook server settings: the secret is checked by PTB on every request."""
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.strip("/") or "telegram",
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret,
        "allowed_updates": list(Update.ALL_TYPES),
    }


def run(settings: Settings, knowledge: Knowledge, content_dir: Path) -> int:
    """Serve until SIGINT/SIGTERM: long polling, or PTB's webhook server when WEBHOOK_URL is set."""
    configure_logging(settings.log_level)
    if settings.webhook_url and not settings.webhook_secret:
        log.error("WEBHOOK_SECRET is required with WEBHOOK_URL")
        return 2
    app = build(settings, knowledge, content_dir)
    if settings.webhook_url:
        app.run_webhook(**webhook_options(settings))  # type: ignore[arg-type]
    else:
        app.run_polling(allowed_updates=list(Update.ALL_TYPES))
    return 0


async def _start(app: Application) -> None:  # type: ignore[type-arg]
    """After PTB's own start-up: register commands in every language and start watching content."""
    await register(app)
    app.bot_data["watcher"] = asyncio.create_task(watch_content(app, app.bot_data["reload_seconds"]))
