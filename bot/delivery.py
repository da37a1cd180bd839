"""Updates in and replies out when Telegram is slow, failing or flooded, emergencies first.

Four PTB extension points, each the library's own: the request class (transient faults retried),
the rate limiter (an urgent reply skips the queue), the bot (updates read one by one, so one
that this PTB cannot parse is skipped instead of stopping polling) and the update processor
(updates handled concurrently, in order per chat, an urgent one at once).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, BaseRateLimiter, BaseUpdateProcessor, ExtBot
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

URGENT = "urgent"  # rate_limit_args of a reply that must not wait behind other people's
RETRIES = 6  # a failed call is tried again this many times: from a 0.5 s pause, about 30 s in all
READ_TIMEOUT = 30.0  # PTB's 5 s takes a slow answer for a failure, and a retry would send it twice
POOL = 64  # connections to the Bot API
SLOTS = 32  # ordinary updates handled at the same time
UNBOUNDED = 1_000_000  # PTB's own bound on concurrent updates, never reached: SLOTS apply instead
URGENT_RETRIES = 5  # 429s an urgent reply waits out before giving up
Result = bool | dict[str, Any] | list[dict[str, Any]]


class Request(HTTPXRequest):
    """PTB's HTTP client, but network errors, timeouts, 5xx answers and answers cut short are
    tried again with backoff a bounded number of times, and no answer body is ever logged."""

    def __init__(self, backoff: float, retries: int = RETRIES, **options: Any) -> None:
        super().__init__(**({"read_timeout": READ_TIMEOUT, "connection_pool_size": POOL} | options))
        self.retries, self.backoff = retries, backoff

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]  # never the url itself: it holds the token
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                code, payload = await super().do_request(url, method, *args, **kwargs)
            except NetworkError as e:  # TimedOut included
                if last:
                    raise
                why = type(e).__name__
            else:
                sound = code < 500 and (code != 200 or _is_json(payload))
                if sound or last:
                    return code, payload
                why = f"HTTP {code}" if code >= 500 else "an answer cut short"
            pause = self.backoff * 2**attempt
            log.warning("Bot API %s: %s; trying again in %.1f s", endpoint, why, pause)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """As PTB's, but a broken body is not written to the log: it may hold people's updates."""
        try:
            return cast(dict[str, Any], json.loads(payload.decode("utf-8", "replace")))
        except ValueError:
            raise TelegramError("Invalid server response (not JSON; the body is not logged)") from None


def _is_json(payload: bytes) -> bool:
    try:
        json.loads(payload)
    except ValueError:
        return False
    return True


class RateLimiter(BaseRateLimiter[str]):
    """PTB's AIORateLimiter (30 messages a second overall, 20 a minute per group, a 429 waited out
    three times), except that a request marked URGENT skips its queue: it still waits out a 429,
    but never behind other people's replies."""

    def __init__(self, queue: AIORateLimiter | None = None) -> None:
        self.queue = queue or AIORateLimiter(max_retries=3)

    async def initialize(self) -> None:
        await self.queue.initialize()

    async def shutdown(self) -> None:
        await self.queue.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Result:
        if rate_limit_args != URGENT:
            return await self.queue.process_request(callback, args, kwargs, endpoint, data, None)
        for attempt in range(URGENT_RETRIES + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as e:
                if attempt == URGENT_RETRIES:
                    raise
                wait = e.retry_after
                await asyncio.sleep((wait.total_seconds() if isinstance(wait, dt.timedelta) else wait) + 0.1)
        raise AssertionError("unreachable")


def read_update(data: object, bot: ExtBot[Any]) -> Update | None:
    """One update as PTB reads it, or None (logged by its id only, never its contents) when this
    PTB cannot: a newer Bot API may send a field it requires but does not know."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    try:
        update = Update.de_json(cast(dict[str, Any], data), bot) if isinstance(data, dict) else None
    except Exception as e:
        log.warning("update %s skipped: this PTB cannot read it (%s)", update_id, type(e).__name__)
        return None
    if update is None:
        log.warning("update %s skipped: not an update", update_id)
    return update


class Bot(ExtBot[str]):
    """An ExtBot whose getUpdates reads each update alone: one it cannot parse is skipped and the
    offset moves past it, so polling goes on for everyone else (PTB would refetch the batch)."""

    __slots__ = ("_next_offset",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_offset = 0

    async def _post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if endpoint != "getUpdates":
            return await super()._post(endpoint, data, **kwargs)
        data = dict(data or {})
        if self._next_offset > (data.get("offset") or 0):
            data["offset"] = self._next_offset  # past updates skipped at the end of a batch
        batch = await super()._post(endpoint, data, **kwargs)
        ids = [u["update_id"] for u in batch if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        self._next_offset = max([self._next_offset, *(i + 1 for i in ids)])
        return [raw for raw in batch if read_update(raw, self) is not None]


class Processor(BaseUpdateProcessor):
    """Up to SLOTS updates at a time, each chat's one after another in the order they came; an
    urgent update (see `handlers.urgent`) waits for neither, so an emergency at the end of a
    backlog is answered as soon as it is read."""

    def __init__(self, urgent: Callable[[object], bool], slots: int = SLOTS) -> None:
        super().__init__(max_concurrent_updates=UNBOUNDED)
        self._urgent = urgent
        self._slots = asyncio.Semaphore(slots)
        self._chats: dict[int, asyncio.Lock] = {}
        self._waiting: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._urgent(update):
            await coroutine
            return
        key = _chat_of(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock = self._chats.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._chats[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def _chat_of(update: object) -> int | None:
    """What orders updates: the chat, else the person (inline queries: one person, one slot)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None if update.effective_user is None else update.effective_user.id
