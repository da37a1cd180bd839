"""Telegram Bot API stand-in for end-to-end tests; see server.py.

Use the `api` fixture from a conftest.py or test module with `from botapi import api_fixture  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeBotAPI

__all__ = ["FakeBotAPI", "api_fixture"]


@pytest.fixture(name="api")
def api_fixture() -> Iterator[FakeBotAPI]:
    """A running FakeBotAPI; the test fails at teardown if the bot broke the Bot API contract."""
    with FakeBotAPI() as api:
        yield api
    if api.violations:
        pytest.fail("Telegram Bot API violations:\n  " + "\n  ".join(api.violations), pytrace=False)
