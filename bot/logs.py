"""Log lines that never carry a message text, a name or the token, whatever the libraries print.

PTB writes whole updates into some of its records (a batch it cannot parse, a webhook body it
cannot read, debug lines), and the token into others (a refused token, httpx's request lines).
The filters here sit on the root handlers, so they see every record, the libraries' included.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType

from bot.config import level_number

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "[not logged]"
REDACTED = "[token]"
# PTB records whose arguments are updates, request bodies or parameters (texts and names).
CARRY_DATA = (
    "Received data was",
    "Can not load invalid JSON data",
    "Processing update",
    "Dropping pending update",
    "Webhook received data",
    "Calling Bot API endpoint",
    "for update",
    "secret token:",
)
REPEAT_SECONDS = 60.0  # the same warning again within this is counted, not written
KINDS = 1000  # distinct warnings remembered for that


def configure(level: str) -> None:
    """Plain lines on stderr at the level asked for; the libraries follow it too (see `quiet`)."""
    logging.basicConfig(format=FORMAT, level=level)
    quiet(level)
    guard(())


def quiet(level: str = "INFO") -> None:
    """httpx at WARNING at least, because its request lines contain the token; PTB at INFO at least,
    because at DEBUG it logs whole updates, message texts and names included."""
    asked = level_number(level)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, asked))
    logging.getLogger("telegram").setLevel(max(logging.INFO, asked))


def guard(secrets: Iterable[str]) -> None:
    """Put the privacy and repeat filters on every root handler (once), redacting `secrets`, and
    make an uncaught exception's traceback go through the same redaction."""
    privacy = Privacy(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, Privacy | Repeats)]:
            handler.removeFilter(old)
        handler.addFilter(privacy)
        handler.addFilter(Repeats())

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        sys.stderr.write(privacy.redact("".join(traceback.format_exception(kind, error, tb))))

    sys.excepthook = hook


class Privacy(logging.Filter):
    """Hides the arguments of PTB's records that carry updates, and replaces secrets (the token, the
    webhook secret) in any record's message and traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        found = [s for s in secrets if s]
        parts = [s.partition(":")[2] for s in found if len(s.partition(":")[2]) >= 8]
        self.secrets = sorted({*found, *parts}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        carries = record.name.startswith("telegram") and any(m in str(record.msg) for m in CARRY_DATA)
        if carries and isinstance(record.args, tuple):
            record.args = tuple(HIDDEN for _ in record.args)
        if self.secrets:
            message = record.getMessage()
            if (redacted := self.redact(message)) != message:
                record.msg, record.args = redacted, None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self.redact(record.exc_text)
            if record.stack_info:
                record.stack_info = self.redact(record.stack_info)
        return True


class Repeats(logging.Filter):
    """A warning or error repeated within a minute (same logger, message, words in it and exception
    type; numbers may differ) is counted instead of written; the next one written says how many
    were left out. A fault that recurs 20 times a second then costs a line a minute, not a disk."""

    def __init__(self, seconds: float = REPEAT_SECONDS) -> None:
        super().__init__()
        self.seconds = seconds
        self._seen: dict[tuple[object, ...], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        error = type(record.exc_info[1]).__name__ if record.exc_info else ""
        words = tuple(a for a in record.args if isinstance(a, str)) if isinstance(record.args, tuple) else ()
        key = (record.name, record.levelno, str(record.msg), words, error)
        first, left_out = self._seen.get(key, (0.0, 0))
        if record.created - first < self.seconds:
            self._seen[key] = (first, left_out + 1)
            return False
        if len(self._seen) >= KINDS:
            self._seen.clear()
        self._seen[key] = (record.created, 0)
        if left_out:
            record.msg = (
                f"{record.msg} [{left_out} more like this in the last {self.seconds:.0f} s not logged]"
            )
        return True
