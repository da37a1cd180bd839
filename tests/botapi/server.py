"""FakeBotAPI: an in-process Telegram Bot API stand-in for end-to-end tests of a PTB 22 bot.

Each call is checked against methods.json (made by scripts/api_table.py); breaches of the contract land in
`violations` and are answered with a Telegram-style 400. Faults can be scheduled the way they happen in
front of the real API: error answers (JSON or a proxy's HTML page), slow answers, answers cut short,
connections closed, and outages.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from .markup import parse_entities, parse_html

JSON = dict[str, Any]
METHODS: dict[str, dict[str, list[Any]]] = json.loads(
    Path(__file__).with_name("methods.json").read_text(encoding="utf-8")
)["methods"]
CANONICAL = {name.lower(): name for name in METHODS}  # Telegram method names are case-insensitive
BOT_USER: JSON = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Test Help Bot",
    "username": "test_help_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
LIMITS = {
    "text": 4096,
    "caption": 1024,
    "answerCallbackQuery.text": 200,
    "setMyDescription.description": 512,
    "setMyShortDescription.short_description": 120,
}
SIZES = {
    "answerInlineQuery": ("results", 0, 50),
    "deleteMessages": ("message_ids", 1, 100),
    "setMyCommands": ("commands", 0, 100),
}
MEDIA: dict[str, JSON] = {  # required fields of each media kind besides file ids; photo: a PhotoSize list
    "photo": {},
    "document": {},
    "audio": {"duration": 3},
    "voice": {"duration": 3, "mime_type": "audio/ogg"},
    "video": {"width": 640, "height": 360, "duration": 3},
    "video_note": {"length": 240, "duration": 3},
    "animation": {"width": 320, "height": 240, "duration": 2},
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
}
ERRORS = {
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n<center><h1>{code} {phrase}</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Raw:
    """An answer that is not Telegram's JSON: a proxy's error page, or a body cut short."""

    body: bytes
    content_type: str = "text/html"
    status: int = 200


class Cut(Exception):
    """The connection is closed without an answer, as when a network or a proxy drops it."""


@dataclass
class _Fault:
    method: str
    chat_id: str | None
    action: ApiError | Raw | float | str  # an error, a raw answer, a delay in seconds, "cut" or "garble"


class ApiError(Exception):
    """A Telegram error answer: HTTP status, description and, for 429, retry_after seconds."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def _fits(value: Any, kind: str) -> bool:
    """Whether a decoded JSON value fits a Bot API type ("Array of X" is checked item by item)."""
    if kind.startswith("Array of "):
        return isinstance(value, list) and all(_fits(item, kind[9:]) for item in value)
    if kind == "Boolean" or isinstance(value, bool):
        return kind == "Boolean" and isinstance(value, bool)
    if kind in ("Integer", "Float"):
        return isinstance(value, int) or (kind == "Float" and isinstance(value, float))
    return isinstance(value, str) if kind in ("String", "InputFile") else isinstance(value, dict)


def _decode(raw: str, types: list[str]) -> tuple[bool, Any]:
    """Decodes a form value as the first declared type it fits; String (fitting anything) goes last."""
    for kind in sorted(types, key=lambda kind: kind in ("String", "InputFile")):
        if kind in ("String", "InputFile"):
            return True, raw
        with contextlib.suppress(ValueError):
            if _fits(value := json.loads(raw), kind):
                return True, value
    return False, raw


def _semantic_problems(method: str, p: JSON) -> list[str]:
    """Checks beyond types: HTML and length of texts, callback_data size, list sizes, bot commands."""
    problems = []
    for field in ("text", "caption", "description", "short_description"):
        limit = LIMITS.get(f"{method}.{field}", LIMITS.get(field, 0))
        if isinstance(value := p.get(field), str) and limit:
            is_html = str(p.get("parse_mode")).lower() == "html" and field in ("text", "caption")
            plain, problem = parse_html(value) if is_html else (value, None)
            if problem or len(plain) > limit:
                problems.append(problem or f"{field} is too long: {len(plain)} characters, at most {limit}")
    markups = [p.get("reply_markup"), *(r.get("reply_markup") for r in p.get("results", []))]
    rows = [row for m in markups if isinstance(m, dict) for row in m.get("inline_keyboard", [])]
    problems += [
        f"BUTTON_DATA_INVALID: callback_data over 64 bytes: {b['callback_data']!r}"
        for row in rows
        for b in row
        if len(str(b.get("callback_data", "")).encode()) > 64
    ]
    if method in SIZES and not SIZES[method][1] <= len(p[SIZES[method][0]]) <= SIZES[method][2]:
        problems.append(f"{SIZES[method][0]} must hold {SIZES[method][1]}-{SIZES[method][2]} items")
    return problems + [
        f"BOT_COMMAND_INVALID: {c!r}"
        for c in p.get("commands", [])
        if not (
            re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command")))
            and 0 < len(str(c.get("description"))) <= 256
        )
    ]


def validate(method: str, raw: dict[str, str], files: dict[str, JSON]) -> tuple[JSON, list[str]]:
    """Decodes the raw fields of a call to `method` and lists its breaches of the API contract."""
    spec, params, problems = METHODS[method], {}, []
    for key, value in raw.items():
        ok, params[key] = _decode(value, spec[key][0]) if key in spec else (False, value)
        if not ok:
            problems.append(
                f"parameter {key!r} must be {' or '.join(spec[key][0])}, got {value[:80]!r}"
                if key in spec
                else f"unknown parameter {key!r}"
            )
    attached = re.findall(r"attach://([\w-]+)", " ".join(raw.values()))  # files sent as extra parts
    for key, file in files.items():
        params[key] = file
        if key not in attached and "InputFile" not in spec.get(key, [[]])[0]:
            problems.append(f"unexpected file part {key!r}")
    problems += [f"missing required parameter {k!r}" for k, (_, r) in spec.items() if r and k not in params]
    return params, problems or _semantic_problems(method, params)


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, JSON]]:
    """Splits a form, multipart or JSON body into raw string fields and files {filename, mime_type, size}."""
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, {}
    if not content_type.startswith("multipart/form-data"):
        return dict(parse_qsl(body.decode(), keep_blank_values=True)), {}
    fields, files = {}, {}
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        content = part.get_payload(decode=True)
        if (filename := part.get_filename()) is None:
            fields[name] = cast(bytes, content).decode()
        else:
            files[name] = {"filename": filename, "mime_type": part.get_content_type(), "size": len(content)}
    return fields, files


class _Handler(BaseHTTPRequestHandler):
    """Serves /bot<token>/<method>; any other path is 404, as on Telegram."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # answers in one go: no 40 ms wait for a delayed ACK on loopback
    api: FakeBotAPI

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        size = int(self.headers.get("Content-Length") or 0)
        if len(body := self.rfile.read(size)) < size:  # the client hung up mid-request: no call at all
            self.close_connection = True
            return
        answer: JSON | Raw = {"ok": False, "error_code": 404, "description": "Not Found"}
        status = 404
        try:
            if self.api.is_down():
                raise Cut
            if route := re.fullmatch(r"/bot[^/]+/(\w+)", url.path):
                fields, files = parse_body(self.headers.get("Content-Type", ""), body)
                status, answer = self.api.handle(route[1], dict(parse_qsl(url.query)) | fields, files)
        except Cut:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(answer, Raw):
            data, kind = answer.body, answer.content_type
        else:
            data, kind = json.dumps(answer, ensure_ascii=False).encode(), "application/json"
        with contextlib.suppress(ConnectionError):  # the client may be gone after a long poll
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeBotAPI:
    """Bot API stand-in, serving on 127.0.0.1 (a free port) at once; PTB: base_url=f"{api.url}/bot"."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, JSON]] = []  # (method, decoded params) of every call, failed ones too
        self.violations: list[str] = []
        self.messages: dict[tuple[int, int], JSON] = {}  # (chat id, message id) → message as it is now
        self.sent: list[JSON] = []  # every message the bot sent, as first answered
        self.bot_user: JSON = dict(BOT_USER)
        self._lock = threading.Condition(threading.RLock())
        self._updates: list[JSON] = []
        self._update_ids, self._ids = itertools.count(100_000_001), itertools.count(1)
        self._last_id: dict[int, int] = {}  # per chat: users' and bot's messages share one sequence
        self._chats: dict[int | str, JSON] = {}
        self._faults: list[_Fault] = []
        self._closed = False
        self._down_until = 0.0
        self.delay = 0.0  # seconds every answer takes, getUpdates aside (real round trips are 30-300 ms)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"api": self}))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()  # ends pending long polls
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def calls_to(self, method: str, since: int = 0) -> list[JSON]:
        """Params of each call to `method` (case-insensitive) in calls[since:], oldest first."""
        with self._lock:
            return [params for name, params in self.calls[since:] if name.lower() == method.lower()]

    def sent_to(self, chat_id: int | str) -> list[JSON]:
        """Each message the bot sent to the chat, as Telegram reported it (entities included)."""
        with self._lock:
            cid = self._chat(chat_id)["id"]
            return [dict(m) for m in self.sent if m["chat"]["id"] == cid]

    def entity_types(self, chat_id: int | str) -> list[set[str]]:
        """The entity types (bold, text_link, expandable_blockquote, …) of each message sent to the chat."""
        return [
            {str(e["type"]) for e in m.get("entities") or m.get("caption_entities") or []}
            for m in self.sent_to(chat_id)
        ]

    def sent_texts(self, chat_id: int | str) -> list[str]:
        """Text or caption of each message the bot sent to the chat, HTML parsed to plain text."""
        with self._lock:
            cid = self._chat(chat_id)["id"]
            return [
                str(m.get("text", m.get("caption")))
                for m in self.sent
                if m["chat"]["id"] == cid and {"text", "caption"} & m.keys()
            ]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[JSON], bool] | None = None,
        since: int = 0,
    ) -> list[JSON]:
        """Waits until `count` calls to `method` matching `predicate` arrived; returns all the matches."""
        deadline, matches = time.monotonic() + timeout, predicate or (lambda params: True)
        while len(found := [p for p in self.calls_to(method, since) if matches(p)]) < count:
            if time.monotonic() > deadline:
                seen = [name for name, _ in self.calls[since:] if name != "getUpdates"]
                raise AssertionError(f"waited {timeout}s for {count}×{method}, got {len(found)}; {seen}")
            await asyncio.sleep(0.01)
        return found

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
        html_page: bool = False,
    ) -> None:
        """Makes the next `times` valid calls to `method` (to `chat_id` only, if given) fail like Telegram,
        or, with `html_page`, like the proxy in front of it (nginx's HTML error page)."""
        if error_code == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        error = ApiError(error_code, description or ERRORS.get(error_code, "Bad Request"), retry_after)
        phrase = ERRORS.get(error_code, "Error").split(": ")[-1]
        page = Raw(NGINX_PAGE.format(code=error_code, phrase=phrase).encode(), status=error_code)
        self._schedule(method, chat_id, times, page if html_page else error)

    def slow_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls to `method` are carried out at once but answered `seconds` later."""
        self._schedule(method, None, times, seconds)

    def garble_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls to `method` are carried out, but their answer is cut short (bad JSON)."""
        self._schedule(method, None, times, "garble")

    def cut_next(self, method: str, times: int = 1) -> None:
        """The connection of each of the next `times` calls to `method` is closed before it is carried out."""
        self._schedule(method, None, times, "cut")

    def outage(self, seconds: float) -> None:
        """Every connection is closed unanswered for `seconds` (getUpdates too), as when the API is unreachable."""
        with self._lock:
            self._down_until = time.monotonic() + seconds

    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _schedule(
        self, method: str, chat_id: int | str | None, times: int, action: ApiError | Raw | float | str
    ) -> None:
        with self._lock:
            chat = None if chat_id is None else str(chat_id)
            self._faults += [_Fault(method.lower(), chat, action) for _ in range(times)]

    def push_update(self, update: JSON) -> JSON:
        """Queues an update for getUpdates, with the next update_id unless it has one."""
        with self._lock:
            self._updates.append(update := {"update_id": next(self._update_ids), **copy.deepcopy(update)})
            self._lock.notify_all()
        return update

    def text_message(
        self,
        user_id: int,
        text: str,
        language_code: str = "ru",
        chat_type: str = "private",
        chat_id: int | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A user's text message in their private chat, or in chat_id (default -user_id if not private)."""
        cid = chat_id if chat_id is not None else user_id if chat_type == "private" else -user_id
        content = {"text": text} | ({"entities": entities} if entities else {})
        return self._incoming(user_id, language_code, content, self._chat(cid, chat_type))

    def command(
        self, user_id: int, command: str, payload: str | None = None, language_code: str = "ru"
    ) -> JSON:
        """A /command with its bot_command entity, followed by the payload (deep-link argument) if any."""
        command = command if command.startswith("/") else f"/{command}"
        entity = {"type": "bot_command", "offset": 0, "length": len(command)}
        text = f"{command} {payload}" if payload else command
        return self.text_message(user_id, text, language_code, entities=[entity])

    def group_message(self, user_id: int, group_id: int, text: str, language_code: str = "ru") -> JSON:
        kind = "supergroup" if str(group_id).startswith("-100") else "group"
        return self.text_message(user_id, text, language_code, kind, chat_id=group_id)

    def sticker(self, user_id: int, language_code: str = "ru") -> JSON:
        return self._incoming(user_id, language_code, {"sticker": self._media("sticker") | {"emoji": "🙂"}})

    def photo(self, user_id: int, caption: str | None = None, language_code: str = "ru") -> JSON:
        with_caption = {"caption": caption} if caption else {}
        return self._incoming(user_id, language_code, {"photo": self._media("photo")} | with_caption)

    def voice(self, user_id: int, language_code: str = "ru") -> JSON:
        return self._incoming(user_id, language_code, {"voice": self._media("voice")})

    def edited_message(
        self, user_id: int, text: str, message_id: int | None = None, language_code: str = "ru"
    ) -> JSON:
        """An edit of the user's message `message_id` (default: their latest one in the private chat)."""
        with self._lock:
            old = self._find(user_id, message_id, self._user(user_id, language_code))
            message = old | {"text": text, "edit_date": int(time.time())}
            self.messages[(user_id, message["message_id"])] = message
            return self.push_update({"edited_message": message})

    def callback(
        self, user_id: int, data: str, message_id: int | None = None, language_code: str = "ru"
    ) -> JSON:
        """A button press under the bot's message `message_id` (default: the bot's latest in the chat)."""
        query = {
            "id": f"cq{next(self._ids)}",
            "from": self._user(user_id, language_code),
            "data": data,
            "chat_instance": f"ci{user_id}",
            "message": self._find(user_id, message_id, self.bot_user),
        }
        return self.push_update({"callback_query": query})

    def inline_query(self, user_id: int, query: str, language_code: str = "ru") -> JSON:
        user = self._user(user_id, language_code)
        return self.push_update(
            {
                "inline_query": {
                    "id": f"iq{next(self._ids)}",
                    "from": user,
                    "query": query,
                    "offset": "",
                    "chat_type": "sender",
                }
            }
        )

    def _find(self, user_id: int, message_id: int | None, sender: JSON) -> JSON:
        """Message `message_id` (default: the latest by `sender`) in the user's private chat; made if new."""
        with self._lock:
            mine = [
                mid
                for (cid, mid), m in self.messages.items()
                if cid == user_id and m["from"]["id"] == sender["id"]
            ]
            found = self.messages.get((user_id, message_id or max(mine, default=0)))
            return found or self._store(self._chat(user_id), sender, {"text": "…"}, message_id)

    def _user(self, user_id: int, language_code: str) -> JSON:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
            "username": f"user{user_id}",
            "language_code": language_code,
        }

    def _chat(self, chat_id: int | str, chat_type: str | None = None) -> JSON:
        """The chat for an id (private if positive, else a (super)group) or an @username (a channel)."""
        with self._lock:
            if chat_id not in self._chats or (chat_type and self._chats[chat_id]["type"] != chat_type):
                cid = chat_id if isinstance(chat_id, int) else -1_000_000_000_000 - len(self._chats)
                kind = chat_type or (
                    "channel"
                    if isinstance(chat_id, str)
                    else "private"
                    if cid > 0
                    else "supergroup"
                    if str(cid).startswith("-100")
                    else "group"
                )
                name = {"first_name": f"User{cid}"} if kind == "private" else {"title": f"Chat {chat_id}"}
                self._chats[chat_id] = self._chats[cid] = {"id": cid, "type": kind, **name}
            return self._chats[chat_id]

    def _media(self, kind: str) -> Any:
        n = next(self._ids)
        if kind == "photo":
            return [
                {
                    "file_id": f"photo{n}-{w}",
                    "file_unique_id": f"uphoto{n}-{w}",
                    "width": w,
                    "height": w * 3 // 4,
                }
                for w in (90, 320, 1280)
            ]
        return {"file_id": f"{kind}{n}", "file_unique_id": f"u{kind}{n}", **MEDIA[kind]}

    def _store(self, chat: JSON, sender: JSON, content: JSON, message_id: int | None = None) -> JSON:
        """Files a message under `message_id` or the chat's next id."""
        with self._lock:
            mid = message_id or self._last_id.get(chat["id"], 0) + 1
            self._last_id[chat["id"]] = max(mid, self._last_id.get(chat["id"], 0))
            message = {"message_id": mid, "from": sender, "chat": chat, "date": int(time.time()), **content}
            self.messages[(chat["id"], mid)] = message
            return message

    def _incoming(self, user_id: int, language_code: str, content: JSON, chat: JSON | None = None) -> JSON:
        message = self._store(chat or self._chat(user_id), self._user(user_id, language_code), content)
        return self.push_update({"message": message})

    def handle(self, name: str, raw: dict[str, str], files: dict[str, JSON]) -> tuple[int, JSON | Raw]:
        """Records, checks and answers one call; returns (HTTP status, response body). Raises Cut when
        a scheduled fault closes the connection instead."""
        method = CANONICAL.get(name.lower())
        params, problems = validate(method, raw, files) if method else (raw, [f"unknown method {name!r}"])
        with self._lock:
            self.calls.append((method or name, params))
            self.violations += [f"{method or name}: {problem}" for problem in problems]
            chat = str(params.get("chat_id"))
            mine = (f for f in self._faults if f.method == name.lower() and f.chat_id in (None, chat))
            fault = next(mine, None)
            if fault and not problems:
                self._faults.remove(fault)
            else:
                fault = None
        action = fault.action if fault else None
        if action == "cut":
            raise Cut
        if isinstance(action, Raw):
            return action.status, action
        try:
            if method is None or problems:
                raise ApiError(400, f"Bad Request: {problems[0]}") if method else ApiError(404, "Not Found")
            if isinstance(action, ApiError):
                raise action
            answer: JSON = {"ok": True, "result": self._answer(method, params)}
        except ApiError as error:
            answer = {"ok": False, "error_code": error.code, "description": error.description}
            if error.retry_after is not None:
                answer["parameters"] = {"retry_after": error.retry_after}
            return error.code, answer
        if method != "getUpdates":
            time.sleep(self.delay + (action if isinstance(action, float) else 0.0))
        if action == "garble":
            return 200, Raw(json.dumps(answer, ensure_ascii=False).encode()[:-7], "application/json")
        return 200, answer

    def _answer(self, method: str, p: JSON) -> Any:
        """The result Telegram would give for a valid call; True for the methods not modelled here."""
        deadline = time.monotonic() + min(float(p.get("timeout", 0)), 1.0)
        with self._lock:
            if method == "getUpdates":  # forget updates below offset (all but the last -offset if negative)
                offset = int(p.get("offset", 0))
                self._updates = [u for u in self._updates[min(offset, 0) :] if u["update_id"] >= offset]
                self._lock.wait_for(lambda: self._updates or self._closed, deadline - time.monotonic())
                return copy.deepcopy(self._updates[: int(p.get("limit", 100))])
            if method == "getMe":
                return self.bot_user
            chat = self._chat(p["chat_id"]) if "chat_id" in p else {"id": 0}
            if method.startswith("send") and method not in ("sendChatAction", "sendGift", "sendMessageDraft"):
                items = p["media"] if method == "sendMediaGroup" else [{"type": method[4:]} | p]
                sent = [self._store(chat, self.bot_user, self._content(item)) for item in items]
                self.sent += [dict(m) for m in sent]
                return sent if method == "sendMediaGroup" else sent[0]
            if method in ("forwardMessage", "copyMessage"):
                source = self.messages.get((self._chat(p["from_chat_id"])["id"], p["message_id"]), {})
                content = {k: v for k, v in source.items() if k not in ("message_id", "from", "chat", "date")}
                self.sent.append(dict(copied := self._store(chat, self.bot_user, content)))
                return copied if method == "forwardMessage" else {"message_id": copied["message_id"]}
            message = self.messages.get((chat["id"], p.get("message_id", 0)))
            if method.startswith("editMessage") and "inline_message_id" not in p:
                if message is None:
                    raise ApiError(400, "Bad Request: message to edit not found")
                old = {k: v for k, v in message.items() if k != "edit_date"}
                gone = ("reply_markup", "entities", "caption_entities")  # an omitted keyboard goes
                new = {k: v for k, v in old.items() if k not in gone}
                new |= self._content(p | p.get("media", {}))
                if new == old:
                    raise ApiError(
                        400,
                        "Bad Request: message is not modified: specified new message content "
                        "and reply markup are exactly the same as a current content and reply "
                        "markup of the message",
                    )
                self.messages[(chat["id"], p["message_id"])] = new | {"edit_date": int(time.time())}
                return dict(self.messages[(chat["id"], p["message_id"])])
            if method == "deleteMessage" and self.messages.pop((chat["id"], p["message_id"]), None) is None:
                raise ApiError(400, "Bad Request: message to delete not found")
            for mid in p["message_ids"] if method == "deleteMessages" else []:
                self.messages.pop((chat["id"], mid), None)
            if method in ("setWebhook", "deleteWebhook") and p.get("drop_pending_updates"):
                self._updates.clear()
            if method in ("getMyCommands", "getMyDescription", "getMyShortDescription", "getMyName"):
                field = re.sub(r"(?<!^)(?=[A-Z])", "_", method[5:]).lower()
                return [] if field == "commands" else {field: ""}
            return True

    def _content(self, item: JSON) -> JSON:
        """Message content for one sent item: plain text/caption and their entities, a media object, an
        inline keyboard."""
        is_html = str(item.get("parse_mode")).lower() == "html"
        content: JSON = {}
        for field, entities in (("text", "entities"), ("caption", "caption_entities")):
            if value := item.get(field):
                plain, _, found = parse_entities(value) if is_html else (value, None, [])
                content |= {field: plain} | ({entities: found} if found else {})
        kind = re.sub(r"(?<!^)(?=[A-Z])", "_", str(item.get("type", ""))).lower()
        media = {kind: self._media(kind)} if kind in MEDIA else {}
        markup = item.get("reply_markup")
        inline = isinstance(markup, dict) and "inline_keyboard" in markup  # other keyboards aren't echoed
        return content | media | ({"reply_markup": markup} if inline else {})
