"""The webhook server, which refuses before it reads: a request without the secret, or with a body
larger than any real update, is answered without its body ever being held in memory.

PTB's own handler buffers the whole body (tornado allows 100 MB) before it looks at the secret,
answers 500 to a body that is not JSON (so Telegram sends it again), logs an update it cannot
parse with all its contents, and handles a replayed update twice. This one streams the body,
checks the headers in `prepare()`, and feeds the Application's queue the way PTB's does.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import deque
from pathlib import Path
from socket import socket
from typing import Any

import tornado.web
from telegram.ext import ExtBot, Updater
from tornado.httpserver import HTTPServer

from bot.delivery import read_update

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # 1 MB: a real update, even with a 4,096-character text, is a few kB
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REMEMBERED = 10_000  # update ids kept to drop a replayed update


class Seen:
    """The last REMEMBERED update ids, so one posted twice is handled once."""

    def __init__(self) -> None:
        self._order: deque[int] = deque(maxlen=REMEMBERED)
        self._ids: set[int] = set()

    def first(self, update_id: int) -> bool:
        if update_id in self._ids:
            return False
        if len(self._order) == REMEMBERED:
            self._ids.discard(self._order[0])
        self._order.append(update_id)
        self._ids.add(update_id)
        return True


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """One POST from Telegram: 403 without the secret, 411/413 without a length or over MAX_BODY
    (all before the body is read), 400 for anything that is not an update; 200 otherwise, also
    for an update that this PTB cannot read (skipped, so Telegram does not send it again)."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: ExtBot[Any], queue: asyncio.Queue[object], secret: str, seen: Seen) -> None:
        self.bot, self.queue, self.secret, self.seen = bot, queue, secret, seen
        self.body = bytearray()

    def prepare(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            raise tornado.web.HTTPError(403)
        length = self.request.headers.get("Content-Length", "")
        if not length.isdigit():
            raise tornado.web.HTTPError(411)
        if int(length) > MAX_BODY:
            raise tornado.web.HTTPError(413)

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk

    async def post(self) -> None:
        try:
            data = json.loads(self.body)
        except ValueError:
            raise tornado.web.HTTPError(400) from None
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int):
            raise tornado.web.HTTPError(400)
        if not self.seen.first(update_id):
            return
        if (update := read_update(data, self.bot)) is not None:
            await self.queue.put(update)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish()

    def log_exception(self, *args: Any) -> None:
        """Nothing: a refused request is not an error of the bot, and a body is never logged."""


class WebhookUpdater(Updater):
    """PTB's Updater (polling unchanged), serving the webhook with `UpdateHandler`."""

    __slots__ = ("_server",)

    def __init__(self, bot: ExtBot[Any], update_queue: asyncio.Queue[object]) -> None:
        super().__init__(bot, update_queue)
        self._server: HTTPServer | None = None

    async def _start_webhook(
        self,
        listen: str,
        port: int,
        url_path: str,
        bootstrap_retries: int,
        allowed_updates: Any,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        drop_pending_updates: bool | None = None,
        webhook_url: str | None = None,
        ready: asyncio.Event | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: str | Path | socket | None = None,
    ) -> None:
        if cert or key or unix or not secret_token:
            raise RuntimeError("the webhook runs behind a TLS proxy, on a TCP port, with a secret")
        handler = (rf"/{url_path.strip('/')}/?", UpdateHandler)
        options = {"bot": self.bot, "queue": self.update_queue, "secret": secret_token, "seen": Seen()}
        app = tornado.web.Application([(*handler, options)], log_function=lambda _: None)
        self._server = HTTPServer(app, max_body_size=MAX_BODY, max_buffer_size=MAX_BODY)
        self._server.listen(port, address=listen)
        try:
            await self._bootstrap(
                max_retries=bootstrap_retries,
                webhook_url=webhook_url or self._gen_webhook_url("http", listen, port, url_path),
                allowed_updates=allowed_updates,
                drop_pending_updates=drop_pending_updates,
                ip_address=ip_address,
                max_connections=max_connections,
                secret_token=secret_token,
            )
        except BaseException:
            await self._stop_httpd()
            raise
        if ready is not None:
            ready.set()

    async def _stop_httpd(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
        await super()._stop_httpd()
