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
from telegram.ext import Application

from bot.app import Settings, build
from bot.content import DEFAULT_CONTENT, load

ADMIN = 900
Runner = Callable[..., AbstractAsyncContextManager[Application]]  # type: ignore[type-arg]


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped content, so a test may break it."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT, root)
    return root


@pytest.fixture
def run_bot(api: FakeBotAPI, tmp_path: Path, content_dir: Path) -> Runner:
    """Start the production Application against the stand-in, polling; stop it on exit."""

    @asynccontextmanager
    async def running(**overrides: Any) -> AsyncIterator[Application]:  # type: ignore[type-arg]
        settings = Settings(
            token="123456:TEST-token-secret",
            base_url=f"{api.url}/bot",
            data_dir=tmp_path / "data",
            admins=frozenset({ADMIN}),
            reload_seconds=0.3,
            **overrides,
        )
        app = build(settings, load(content_dir), content_dir)
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
                app.bot_data["state"].store.close()

    return running


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG, httpx included, to check that no message text is ever logged."""
    caplog.set_level(logging.DEBUG)
    return caplog
