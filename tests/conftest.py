"""Shared fixtures: the Bot API stand-in (`api`) and a running bot against it (`bot`)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from botapi import FakeBotAPI, api_fixture  # noqa: F401

from bot.app import build
from bot.config import Settings
from bot.content import DEFAULT_CONTENT
from bot.state import Core
from bot.validation import load

ADMIN = 900
TOKEN = "123456:TEST-token-secret"
Runner = Callable[..., AbstractAsyncContextManager[Any]]


def buttons(params: dict[str, object]) -> list[str]:
    markup = params.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def replies_to(
    api: FakeBotAPI, chat: int, count: int = 1, since: int = 0, timeout: float = 5.0
) -> list[dict[str, object]]:
    """The bot's sendMessage calls to a chat, once there are `count` of them."""
    return await api.wait_for("sendMessage", count, timeout, lambda p: p["chat_id"] == chat, since)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped content, so a test may break it."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT, root)
    return root


@pytest.fixture(scope="session")
def shipped_core() -> Core:
    """The shipped content, read once for the whole session (lexical only: fast and deterministic)."""
    return Core.build(load(DEFAULT_CONTENT), None)


@pytest.fixture
def run_bot(api: FakeBotAPI, tmp_path: Path, content_dir: Path, shipped_core: Core) -> Runner:
    """Start the production Application against the stand-in, polling; stop it on exit."""

    @asynccontextmanager
    async def running(embedder: Any = None, **overrides: Any) -> AsyncIterator[Any]:
        defaults: dict[str, Any] = {
            "token": TOKEN,
            "base_url": f"{api.url}/bot",
            "data_dir": tmp_path / "data",
            "admins": frozenset({ADMIN}),
            "reload_seconds": 0.3,
            "retry_seconds": 0.05,
        }
        settings = Settings(**(defaults | overrides))
        core = shipped_core if embedder is None else Core.build(shipped_core.knowledge, embedder)
        app = build(settings, core.knowledge, content_dir, embedder, core)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield app
            finally:
                await app.updater.stop()
                await app.stop()
                assert app.post_stop is not None
                await app.post_stop(app)

    return running


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG, httpx included, to check that no message text is ever logged."""
    caplog.set_level(logging.DEBUG)
    return caplog
