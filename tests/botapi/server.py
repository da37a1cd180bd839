"""FakeBotAPI: an in-process Telegram Bot API stand-in for end-to-end tests of a PTB 22 bot.

PTB posts form-urlencoded fields (multipart/form-data when it uploads files): strings as they are,
everything else JSON-encoded. Every call is checked against methods.json (scripts/api_table.py);
breaches of the contract are collected in `violations` and answered with a Telegram-style 400.
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

JSON = dict[str, Any]
Call = tuple[str, JSON]
METHODS: dict[str, dict[str, list[Any]]] = json.loads(
    Path(__file__).with_name("methods.json").read_text(encoding="utf-8")
)["methods"]
CANONICAL = {name.lower(): name for name in METHODS}  # Telegram method names are case-insensitive
BOT_USER: JSON = {"id": 7000000001, "is_bot": True, "first_name": "Test Help Bot", "username": "test_help_bot",
                  "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
             "code", "pre", "blockquote"}
TAG_RE = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>")
LIMITS = {"text": 4096, "caption": 1024, "answerCallbackQuery.text": 200, "setMyDescription.description": 512,
          "setMyShortDescription.short_description": 120}
BUTTON_ACTIONS = {"url", "callback_data", "web_app", "login_url", "switch_inline_query", "copy_text", "pay",
                  "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "callback_game"}
MEDIA: dict[str, JSON] = {
    "photo": {}, "document": {"file_name": "file.bin"}, "voice": {"duration": 3, "mime_type": "audio/ogg"},
    "audio": {"duration": 3}, "video": {"width": 640, "height": 360, "duration": 3},
    "animation": {"width": 320, "height": 240, "duration": 2}, "video_note": {"length": 240, "duration": 3},
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False,
                "emoji": "🙂"},
}
NOT_MESSAGES = {"sendChatAction", "sendGift", "sendMessageDraft"}
BOT_SETTINGS = {"MyCommands": "commands", "MyDescription": "description",
                "MyShortDescription": "short_description", "MyName": "name"}
DEFAULT_ERRORS = {400: "Bad Request", 403: "Forbidden: bot was blocked by the user",
                  500: "Internal Server Error", 502: "Internal Server Error"}


class ApiError(Exception):
    """A Telegram error answer: HTTP status code plus description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass
class Fault:
    """An injected failure, consumed by the next `times` matching calls."""

    method: str
    code: int
    description: str
    retry_after: int | None
    chat_id: int | str | None
    times: int


def parse_html(text: str) -> tuple[str, str | None]:
    """Parses Telegram-flavoured HTML; returns (plain text, first problem or None)."""
    stack: list[str] = []
    out: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        out.append(text[pos:start])
        tag = TAG_RE.match(text, start)
        if tag is None:
            return "", f"can't parse entities: unescaped '<' or malformed tag at offset {start}"
        closing, name, attrs = tag[1] == "/", tag[2].lower(), tag[3]
        pos = tag.end()
        if closing:
            if not stack or stack.pop() != name:
                return "", f"can't parse entities: unmatched end tag </{name}> at offset {start}"
        elif name not in HTML_TAGS or (name == "span" and not re.search(r"class\s*=\s*[\"']?tg-spoiler", attrs)):
            return "", f'can\'t parse entities: unsupported start tag "{name}" at offset {start}'
        elif name == "tg-emoji" and "emoji-id" not in attrs:
            return "", "can't parse entities: tg-emoji needs an emoji-id"
        else:
            stack.append(name)
    if stack:
        return "", f'can\'t parse entities: can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return html.unescape("".join([*out, text[pos:]])), None


def _fits(value: Any, kind: str) -> bool:
    """Whether a decoded JSON value fits a Bot API type name."""
    if kind.startswith("Array of "):
        return isinstance(value, list) and all(_fits(item, kind[9:]) for item in value)
    if kind == "Boolean" or isinstance(value, bool):
        return kind == "Boolean" and isinstance(value, bool)
    if kind in ("Integer", "Float"):
        return isinstance(value, int) or kind == "Float" and isinstance(value, float)
    return isinstance(value, str) if kind in ("String", "InputFile") else isinstance(value, dict)


def _decode(raw: str, types: list[str]) -> tuple[bool, Any]:
    """Decodes a form value as the first declared type it fits; String (which fits anything) last."""
    for kind in sorted(types, key=lambda kind: kind in ("String", "InputFile")):
        if kind in ("String", "InputFile"):
            return True, raw
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if _fits(value, kind):
            return True, value
    return False, raw


def _markup_problems(markup: Any) -> list[str]:
    """Problems of an inline keyboard: callback_data over 64 bytes, buttons without exactly one action."""
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    buttons = [button for row in rows for button in row]
    problems = [f"BUTTON_DATA_INVALID: callback_data over 64 bytes: {b['callback_data']!r}"
                for b in buttons if len(str(b.get("callback_data", "")).encode()) > 64]
    return problems + [f"can't parse inline keyboard button: needs exactly one action: {b!r}"
                       for b in buttons if len(BUTTON_ACTIONS & b.keys()) != 1]


def _semantic_problems(method: str, p: JSON) -> list[str]:
    """Checks beyond types: chat ids, parse_mode, HTML, lengths, keyboards, list sizes, commands."""
    problems = [] if not isinstance(p.get("chat_id"), str) or p["chat_id"].startswith("@") else ["chat not found"]
    mode = str(p.get("parse_mode", "")).lower()
    if mode not in ("", "html", "markdown", "markdownv2"):
        problems.append(f"unsupported parse_mode {p['parse_mode']!r}")
    for field in ("text", "caption", "description", "short_description"):
        if not isinstance(value := p.get(field), str):
            continue
        plain, problem = parse_html(value) if mode == "html" and field in ("text", "caption") else (value, None)
        limit = LIMITS.get(f"{method}.{field}", LIMITS.get(field, 0))
        if problem or limit and len(plain) > limit:
            problems.append(problem or f"{field} is too long: {len(plain)} characters, at most {limit}")
        elif method in ("sendMessage", "editMessageText") and field == "text" and not plain.strip():
            problems.append("message text is empty")
    problems += _markup_problems(p.get("reply_markup"))
    if method == "answerInlineQuery":
        if len(p["results"]) > 50:
            problems.append(f"RESULTS_TOO_MUCH: {len(p['results'])} results, at most 50")
        problems += [x for result in p["results"] for x in _markup_problems(result.get("reply_markup"))]
    if method == "deleteMessages" and not 1 <= len(p["message_ids"]) <= 100:
        problems.append(f"message_ids must hold 1-100 ids, got {len(p['message_ids'])}")
    for command in p.get("commands", []) if method == "setMyCommands" else []:
        if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command"))):
            problems.append(f"BOT_COMMAND_INVALID: {command.get('command')!r}")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            problems.append(f"command description must be 1-256 characters: {command!r}")
    return problems


def validate(method: str, raw: dict[str, str], files: dict[str, JSON]) -> tuple[JSON, list[str]]:
    """Decodes the raw fields of a call to `method` and lists its breaches of the API contract."""
    spec, params, problems = METHODS[method], {}, []
    for key, value in raw.items():
        ok, params[key] = _decode(value, spec[key][0]) if key in spec else (False, value)
        if key not in spec:
            problems.append(f"unknown parameter {key!r}")
        elif not ok:
            problems.append(f"parameter {key!r} must be {' or '.join(spec[key][0])}, got {value[:80]!r}")
    attached = set(re.findall(r"attach://([\w-]+)", " ".join(raw.values())))
    for key, file in files.items():
        if key in spec and "InputFile" in spec[key][0]:
            params[key] = file
        elif key not in attached:
            problems.append(f"unexpected file part {key!r}")
    problems += [f"attach://{name} has no file part" for name in sorted(attached - files.keys())]
    problems += [f"missing required parameter {key!r}" for key, (_, req) in spec.items() if req and key not in params]
    return params, problems or _semantic_problems(method, params)


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, JSON]]:
    """Splits a request body into raw string fields and uploaded files (name → filename, type, size)."""
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, {}
    if not content_type.startswith("multipart/form-data"):
        return dict(parse_qsl(body.decode(), keep_blank_values=True)), {}
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    files: dict[str, JSON] = {}
    for part in message.iter_parts():
        name, content = str(part.get_param("name", header="content-disposition")), part.get_payload(decode=True)
        if part.get_filename() is None:
            fields[name] = content.decode()
        else:
            files[name] = {"filename": part.get_filename(), "mime_type": part.get_content_type(), "size": len(content)}
    return fields, files


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeBotAPI


class _Handler(BaseHTTPRequestHandler):
    """Serves POST/GET /bot<token>/<method>; everything else is 404 like Telegram."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, answer = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if route := re.fullmatch(r"/bot[^/]+/(\w+)", url.path):
            fields, files = parse_body(self.headers.get("Content-Type", ""), body)
            status, answer = self.server.api.handle(route[1], {**dict(parse_qsl(url.query)), **fields}, files)
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Keeps the test output quiet."""


class FakeBotAPI:
    """Telegram Bot API stand-in on 127.0.0.1; PTB talks to it via base_url=f"{api.url}/bot"."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.errors: list[tuple[str, str]] = []  # (method, description) of every non-ok answer
        self.messages: dict[tuple[int, int], JSON] = {}  # (chat id, message id) → current message
        self.sent: list[JSON] = []  # messages the bot sent, as first answered
        self.bot_user: JSON = dict(BOT_USER)
        self._lock = threading.Condition(threading.RLock())
        self._updates: list[JSON] = []
        self._update_ids, self._ids = itertools.count(100_000_001), itertools.count(1)
        self._last_message_id: dict[int, int] = {}
        self._chats: dict[int | str, JSON] = {}
        self._queries: set[str] = set()
        self._faults: list[Fault] = []
        self._settings: dict[tuple[str, str, str], Any] = {}
        self._webhook, self._closed = "", False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="FakeBotAPI", daemon=True)

    def start(self) -> FakeBotAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- inspection -------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[JSON]:
        """Params of every call to `method` (case-insensitive), oldest first."""
        with self._lock:
            return [params for name, params in self.calls if name.lower() == method.lower()]

    def sent_texts(self, chat_id: int | str) -> list[str]:
        """Text (or caption) of each message the bot sent to the chat; HTML parsed to plain text."""
        with self._lock:
            cid = self._chat(chat_id)["id"]
            return [m.get("text", m.get("caption", "")) for m in self.sent if m["chat"]["id"] == cid]

    def _matches(self, method: str, predicate: Callable[[JSON], bool] | None, since: int) -> list[JSON]:
        with self._lock:
            calls = self.calls[since:]
        return [p for name, p in calls if name.lower() == method.lower() and (predicate is None or predicate(p))]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0,
                       predicate: Callable[[JSON], bool] | None = None, since: int = 0) -> list[JSON]:
        """Waits until `count` calls to `method` matching `predicate` arrived (from calls[since:])."""
        deadline = time.monotonic() + timeout
        while len(found := self._matches(method, predicate, since)) < count:
            if time.monotonic() > deadline:
                with self._lock:
                    seen = [name for name, _ in self.calls[since:] if name != "getUpdates"]
                raise AssertionError(f"waited {timeout}s for {count} {method} call(s), got {len(found)}: {seen}")
            await asyncio.sleep(0.01)
        return found

    def wait_for_sync(self, method: str, count: int = 1, timeout: float = 5.0,
                      predicate: Callable[[JSON], bool] | None = None, since: int = 0) -> list[JSON]:
        """Blocking twin of wait_for, for code that runs outside the event loop."""
        deadline = time.monotonic() + timeout
        while len(found := self._matches(method, predicate, since)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s for {count} {method} call(s), got {len(found)}")
            time.sleep(0.01)
        return found

    def fail_next(self, method: str, error_code: int, description: str | None = None,
                  retry_after: int | None = None, chat_id: int | str | None = None, times: int = 1) -> None:
        """Makes the next `times` valid calls to `method` (only to `chat_id`, if given) fail like Telegram."""
        if error_code == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or DEFAULT_ERRORS.get(error_code, "Internal Server Error")
        with self._lock:
            self._faults.append(Fault(method.lower(), error_code, description, retry_after, chat_id, times))

    # --- incoming updates ---------------------------------------------------------------------------
    def push_update(self, update: JSON) -> JSON:
        """Queues an update for getUpdates; assigns update_id unless given."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **copy.deepcopy(update)}
            self._updates.append(update)
            self._lock.notify_all()
        return update

    def text_message(self, user_id: int, text: str, language_code: str = "ru", chat_type: str = "private",
                     chat_id: int | None = None, entities: list[JSON] | None = None) -> JSON:
        """A user's text message; chat_id defaults to the user's private chat (or -user_id for groups)."""
        cid = chat_id if chat_id is not None else user_id if chat_type == "private" else -user_id
        content: JSON = {"text": text, **({"entities": entities} if entities else {})}
        return self._incoming(user_id, language_code, content, self._chat(cid, chat_type))

    def command(self, user_id: int, command: str, payload: str | None = None, language_code: str = "ru") -> JSON:
        """A /command (with a bot_command entity), optionally followed by a payload (deep-link argument)."""
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {payload}" if payload else command
        entity = {"type": "bot_command", "offset": 0, "length": len(command)}
        return self.text_message(user_id, text, language_code, entities=[entity])

    def group_message(self, user_id: int, group_id: int, text: str, language_code: str = "ru") -> JSON:
        chat_type = "supergroup" if str(group_id).startswith("-100") else "group"
        return self.text_message(user_id, text, language_code, chat_type, chat_id=group_id)

    def sticker(self, user_id: int, language_code: str = "ru") -> JSON:
        return self._incoming(user_id, language_code, {"sticker": self._media("sticker")})

    def photo(self, user_id: int, caption: str | None = None, language_code: str = "ru") -> JSON:
        content = {"photo": self._media("photo"), **({"caption": caption} if caption else {})}
        return self._incoming(user_id, language_code, content)

    def voice(self, user_id: int, language_code: str = "ru") -> JSON:
        return self._incoming(user_id, language_code, {"voice": self._media("voice")})

    def edited_message(self, user_id: int, text: str, message_id: int | None = None,
                       language_code: str = "ru") -> JSON:
        """An edit of the user's message `message_id` (default: their latest in the private chat)."""
        with self._lock:
            mine = [mid for (cid, mid), m in self.messages.items() if cid == user_id and m["from"]["id"] == user_id]
            old = self.messages.get((user_id, message_id or max(mine, default=0)))
            if old is None:
                old = self._store(self._chat(user_id), self._user(user_id, language_code), {}, message_id)
            message = {**old, "text": text, "edit_date": int(time.time())}
            self.messages[(user_id, message["message_id"])] = message
            return self.push_update({"edited_message": message})

    def callback(self, user_id: int, data: str, message_id: int | None = None, language_code: str = "ru") -> JSON:
        """A button press on the bot's message `message_id` (default: the bot's latest in the chat)."""
        with self._lock:
            ours = [mid for (cid, mid), m in self.messages.items() if cid == user_id and m["from"]["is_bot"]]
            message = self.messages.get((user_id, message_id or max(ours, default=0)))
            message = message or self._store(self._chat(user_id), self.bot_user, {"text": "…"}, message_id)
            query = {"id": self._query_id(), "from": self._user(user_id, language_code), "message": message,
                     "chat_instance": f"ci{user_id}", "data": data}
            return self.push_update({"callback_query": query})

    def inline_query(self, user_id: int, query: str, language_code: str = "ru") -> JSON:
        user = self._user(user_id, language_code)
        return self.push_update({"inline_query": {"id": self._query_id(), "from": user, "query": query,
                                                  "offset": "", "chat_type": "sender"}})

    # --- internals ---------------------------------------------------------------------------------------
    def _user(self, user_id: int, language_code: str) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "username": f"user{user_id}",
                "language_code": language_code}

    def _chat(self, chat_id: int | str, chat_type: str | None = None) -> JSON:
        with self._lock:
            if chat_id not in self._chats or chat_type and self._chats[chat_id]["type"] != chat_type:
                kind = chat_type or ("channel" if isinstance(chat_id, str) else
                                     "private" if chat_id > 0 else "supergroup" if str(chat_id)[:4] == "-100"
                                     else "group")
                cid = chat_id if isinstance(chat_id, int) else -1_000_000_000_000 - len(self._chats)
                name = {"first_name": f"User{cid}"} if kind == "private" else {"title": f"Chat {chat_id}"}
                self._chats[chat_id] = self._chats[cid] = {"id": cid, "type": kind, **name}
            return self._chats[chat_id]

    def _query_id(self) -> str:
        with self._lock:
            query_id = f"q{next(self._ids)}"
            self._queries.add(query_id)
            return query_id

    def _media(self, kind: str) -> Any:
        n = next(self._ids)
        if kind == "photo":
            return [{"file_id": f"photo{n}-{w}", "file_unique_id": f"uphoto{n}-{w}", "width": w,
                     "height": w * 3 // 4, "file_size": w * 60} for w in (90, 320, 1280)]
        return {"file_id": f"{kind}{n}", "file_unique_id": f"u{kind}{n}", **MEDIA[kind]}

    def _store(self, chat: JSON, sender: JSON, content: JSON, message_id: int | None = None) -> JSON:
        """Files a message under the chat's next message id (shared by both sides of the chat)."""
        with self._lock:
            mid = message_id or self._last_message_id.get(chat["id"], 0) + 1
            self._last_message_id[chat["id"]] = max(mid, self._last_message_id.get(chat["id"], 0))
            message = {"message_id": mid, "from": sender, "chat": chat, "date": int(time.time()), **content}
            self.messages[(chat["id"], mid)] = message
            return message

    def _incoming(self, user_id: int, language_code: str, content: JSON, chat: JSON | None = None) -> JSON:
        message = self._store(chat or self._chat(user_id), self._user(user_id, language_code), content)
        return self.push_update({"message": message})

    def handle(self, name: str, raw: dict[str, str], files: dict[str, JSON]) -> tuple[int, JSON]:
        """Records, checks and answers one call; returns (HTTP status, response body)."""
        method = CANONICAL.get(name.lower())
        params, problems = validate(method, raw, files) if method else (dict(raw), [f"unknown method {name!r}"])
        with self._lock:
            self.calls.append((method or name, params))
            self.violations += [f"{method or name}: {problem}" for problem in problems]
            fault = None if problems else next((f for f in self._faults if f.method == name.lower() and (
                f.chat_id is None or str(f.chat_id) == str(params.get("chat_id")))), None)
            if fault:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
        try:
            if method is None:
                raise ApiError(404, "Not Found")
            if problems:
                raise ApiError(400, f"Bad Request: {problems[0]}")
            if fault:
                raise ApiError(fault.code, fault.description)
            return 200, {"ok": True, "result": self._answer(method, params)}
        except ApiError as error:
            with self._lock:
                self.errors.append((method or name, error.description))
            answer: JSON = {"ok": False, "error_code": error.code, "description": error.description}
            if fault and fault.retry_after is not None:
                answer["parameters"] = {"retry_after": fault.retry_after}
            return error.code, answer

    def _get_updates(self, p: JSON) -> list[JSON]:
        """Confirms updates below `offset`, then long-polls up to min(timeout, 1 s) for new ones."""
        deadline = time.monotonic() + min(float(p.get("timeout", 0)), 1.0)
        with self._lock:
            if self._webhook:
                self.violations.append("getUpdates: called while a webhook is set")
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            offset = int(p.get("offset", 0))
            if offset:
                self._updates = self._updates[offset:] if offset < 0 else [
                    u for u in self._updates if u["update_id"] >= offset]
            self._lock.wait_for(lambda: self._updates or self._closed, max(0.0, deadline - time.monotonic()))
            return copy.deepcopy(self._updates[: int(p.get("limit", 100))])

    def _answer(self, method: str, p: JSON) -> Any:
        """The result Telegram would send for a valid call."""
        if method == "getUpdates":
            return self._get_updates(p)
        with self._lock:
            chat: JSON = self._chat(p["chat_id"]) if "chat_id" in p else {}
            message = self.messages.get((chat.get("id", 0), p.get("message_id", 0)))
            if method == "getMe":
                return self.bot_user
            if method.startswith("send") and method not in NOT_MESSAGES:
                items = p["media"] if method == "sendMediaGroup" else [{"type": method[4:], **p}]
                sent = [self._store(chat, self.bot_user, self._content(item)) for item in items]
                self.sent += [dict(m) for m in sent]
                return sent if method == "sendMediaGroup" else sent[0]
            if method.startswith("editMessage"):
                if "inline_message_id" in p:
                    return True
                if message is None:
                    raise ApiError(400, "Bad Request: message to edit not found")
                old = {k: v for k, v in message.items() if k != "edit_date"}  # no reply_markup: keyboard removed
                new = {k: v for k, v in old.items() if k != "reply_markup"} | self._content({**p, **p.get("media", {})})
                if new == old:
                    raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                        "reply markup are exactly the same as a current content and reply markup "
                                        "of the message")
                self.messages[(chat["id"], p["message_id"])] = new | {"edit_date": int(time.time())}
                return dict(self.messages[(chat["id"], p["message_id"])])
            if method == "deleteMessage" and self.messages.pop((chat["id"], p["message_id"]), None) is None:
                raise ApiError(400, "Bad Request: message to delete not found")
            for mid in p["message_ids"] if method == "deleteMessages" else []:
                self.messages.pop((chat["id"], mid), None)
            if method in ("answerCallbackQuery", "answerInlineQuery"):
                if p.get("callback_query_id", p.get("inline_query_id")) not in self._queries:
                    raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                        "or query ID is invalid")
            if (setting := re.fullmatch(r"(set|get|delete)(My\w+)", method)) and setting[2] in BOT_SETTINGS:
                scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
                key, field = (setting[2], scope, p.get("language_code", "")), BOT_SETTINGS[setting[2]]
                if setting[1] == "get":
                    value = self._settings.get(key, [] if field == "commands" else "")
                    return value if field == "commands" else {field: value}
                self._settings[key] = p.get(field, [] if field == "commands" else "")
            if method in ("setWebhook", "deleteWebhook"):
                self._webhook = p.get("url", "")
                if p.get("drop_pending_updates"):
                    self._updates.clear()
            if method == "getWebhookInfo":
                return {"url": self._webhook, "has_custom_certificate": False,
                        "pending_update_count": len(self._updates)}
            if method == "getChat" and chat:
                gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"),
                                      False)
                return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
            if method == "getChatMember":
                return {"status": "member", "user": self._user(p["user_id"], "ru")}
            if method == "getFile":
                return {"file_id": p["file_id"], "file_unique_id": f"u{p['file_id']}", "file_size": 1024}
            return True

    def _content(self, item: JSON) -> JSON:
        """Message content for one sent item: plain text/caption, media objects, inline keyboard."""
        mode = str(item.get("parse_mode", "")).lower()
        content = {f: parse_html(item[f])[0] if mode == "html" else item[f] for f in ("text", "caption") if f in item}
        kind = re.sub(r"(?<!^)(?=[A-Z])", "_", str(item.get("type", ""))).lower()
        if kind in MEDIA:
            content[kind] = self._media(kind)
        if kind == "location":
            content["location"] = {"latitude": item["latitude"], "longitude": item["longitude"]}
        if isinstance(item.get("reply_markup"), dict) and "inline_keyboard" in item["reply_markup"]:
            content["reply_markup"] = item["reply_markup"]
        return content


@pytest.fixture(name="api")
def api_fixture() -> Iterator[FakeBotAPI]:
    """A running FakeBotAPI; the test fails at teardown if the bot broke the Bot API contract."""
    with FakeBotAPI() as api:
        yield api
    if api.violations:
        pytest.fail("Telegram Bot API violations:\n  " + "\n  ".join(api.violations), pytrace=False)
