"""What the bot remembers, in SQLite: each person's language, message ids for erasing, anonymous counts.

No message text and no names are ever written here. WAL mode and one short transaction per write
mean that a crash or a kill loses at most the write in flight, never the file. Answering never
depends on it: every call is best effort (a full disk, a failing file system or a forged id is
logged once per kind and the call does nothing), and `Store.open` starts in any case.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar, cast

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

ERASABLE_SECONDS = 48 * 3600  # Telegram lets a bot delete messages younger than this
UNMATCHED_DAYS = 30
MIN_SHOWN = 5  # counts below this are shown as "<5" so that no one can be singled out
RELOG_SECONDS = 3600.0  # a failing kind of store call is logged again after this
DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (user_id INTEGER PRIMARY KEY, lang TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id));
CREATE INDEX IF NOT EXISTS messages_at ON messages (at);
CREATE TABLE IF NOT EXISTS counts (
    day TEXT NOT NULL, card TEXT NOT NULL, lang TEXT NOT NULL, outcome TEXT NOT NULL, campaign TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (day, card, lang, outcome, campaign));
CREATE TABLE IF NOT EXISTS dead_numbers (day TEXT NOT NULL, contact TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (day, contact));
CREATE TABLE IF NOT EXISTS unmatched (day TEXT NOT NULL, text TEXT NOT NULL);
"""
_DOMAIN = r"(?:[\w-]+\.)+[a-z]{2,24}\b"
_SCRUB = re.compile(
    rf"\S+@\S+|\S+\s+@\s+\S+|\S+\s*[(\[{{<]\s*(?:at|dog)\s*[)\]}}>]\s*\S+|\S+\s+at\s+{_DOMAIN}"  # e-mails
    rf"|@\w+|https?://\S+|t\.me/\S+|www\.\S+|\b{_DOMAIN}"  # handles, links, bare domains
    r"|\d",
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    """Remove what could identify someone from a kept question: digits (superscript, circled and
    fullwidth ones too: NFKC first), e-mails (also "x (at) y" and "x @ y"), handles, links and
    bare domains. Spelled-out numbers need the language's folding: see `numberwords`."""
    return " ".join(_SCRUB.sub(" ", unicodedata.normalize("NFKC", text)).split())


def _best_effort(
    default: Callable[[], object],
) -> Callable[[Callable[Concatenate[Store, P], R]], Callable[Concatenate[Store, P], R]]:
    """A store call that cannot fail the caller: a SQLite error, or an id too large for SQLite,
    is logged (once an hour per call and kind) and `default()` returned instead."""

    def wrap(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
        @functools.wraps(method)
        def safe(self: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(self, *args, **kwargs)
            except (sqlite3.Error, OverflowError) as e:
                self.failed(method.__name__, e)
                return cast(R, default())

        return safe

    return wrap


@dataclass(frozen=True)
class Count:
    day: str
    card: str
    lang: str
    outcome: str
    campaign: str
    n: int


class Store:
    def __init__(self, path: Path | str) -> None:
        """The database at `path` (":memory:" for one that lives only as long as the process)."""
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._failures: dict[tuple[str, str], float] = {}
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.purge()

    @classmethod
    def open(cls, path: Path) -> Store:
        """The bot's store, whatever state the data folder is in: a damaged database is moved aside
        (kept for the admin as `<name>.damaged-<time>`, never deleted) and a new one started; a
        folder that cannot be written gives a store in memory, with one warning."""
        for attempt in range(2):
            try:
                store = cls(path)
                if store.db.execute("PRAGMA quick_check").fetchone()[0] == "ok":
                    return store
                store.close()
                damage = "quick_check found damage"
            except sqlite3.DatabaseError as e:
                if e.sqlite_errorname not in DAMAGED:
                    return cls._in_memory(path, f"{type(e).__name__}: {e}")
                damage = str(e)
            except OSError as e:
                return cls._in_memory(path, f"{type(e).__name__}: {e.strerror}")
            if attempt == 0:
                try:
                    kept = _move_aside(path)
                except OSError as e:
                    return cls._in_memory(path, f"{damage}, and it cannot be moved aside: {e.strerror}")
                log.warning("the database was damaged (%s): kept as %s; a new one is started", damage, kept)
        return cls._in_memory(path, "the new database is damaged too")

    @classmethod
    def _in_memory(cls, path: Path, why: str) -> Store:
        log.warning(
            "cannot keep data in %s (%s): running without state; languages and message ids last "
            "only until the bot stops",
            path.parent,
            why,
        )
        return cls(":memory:")

    def failed(self, call: str, error: BaseException) -> None:
        """Log a failed call once an hour per call and kind of error; the bot goes on without it."""
        key, now = (call, f"{type(error).__name__}: {error}"), time.monotonic()
        if now - self._failures.get(key, -RELOG_SECONDS) >= RELOG_SECONDS:
            self._failures[key] = now
            log.warning("store: %s failed (%s); answering goes on without it", call, key[1])

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error as e:
            self.failed("close", e)

    @_best_effort(lambda: None)
    def language(self, user_id: int) -> str | None:
        row = self.db.execute("SELECT lang FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return str(row[0]) if row else None

    @_best_effort(lambda: None)
    def set_language(self, user_id: int, lang: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO users (user_id, lang) VALUES (?, ?)", (user_id, lang))

    @_best_effort(lambda: None)
    def remember(self, chat_id: int, message_ids: Iterable[int], at: float | None = None) -> None:
        stamp = int(at if at is not None else time.time())
        self.db.executemany(
            "INSERT OR IGNORE INTO messages (chat_id, message_id, at) VALUES (?, ?, ?)",
            [(chat_id, mid, stamp) for mid in message_ids],
        )

    @_best_effort(list)
    def erasable(self, chat_id: int, now: float | None = None) -> list[int]:
        since = int((now if now is not None else time.time()) - ERASABLE_SECONDS)
        rows = self.db.execute(
            "SELECT message_id FROM messages WHERE chat_id = ? AND at > ? ORDER BY message_id",
            (chat_id, since),
        )
        return [int(r[0]) for r in rows]

    @_best_effort(lambda: None)
    def forget(self, user_id: int, chat_id: int) -> None:
        """Delete everything kept about a person: their language and their chat's message ids."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            self.db.execute("DELETE FROM messages WHERE chat_id = ?", (chat_id,))

    @_best_effort(lambda: None)
    def purge(self, now: float | None = None) -> None:
        """Drop message ids too old to delete anyway, and kept questions past their 30 days."""
        now = now if now is not None else time.time()
        self.db.execute("DELETE FROM messages WHERE at <= ?", (int(now - ERASABLE_SECONDS),))
        oldest = (dt.date.fromtimestamp(now) - dt.timedelta(days=UNMATCHED_DAYS)).isoformat()
        self.db.execute("DELETE FROM unmatched WHERE day < ?", (oldest,))

    @_best_effort(lambda: None)
    def count(
        self, card: str | None, lang: str, outcome: str, campaign: str = "", day: dt.date | None = None
    ) -> None:
        self.db.execute(
            "INSERT INTO counts VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET n = n + 1",
            ((day or dt.date.today()).isoformat(), card or "", lang, outcome, campaign),
        )

    @_best_effort(list)
    def counts(self, since: dt.date | None = None) -> list[Count]:
        rows = self.db.execute(
            "SELECT day, card, lang, outcome, campaign, n FROM counts WHERE day >= ? ORDER BY day, card, lang",
            ((since or dt.date.min).isoformat(),),
        )
        return [Count(*row) for row in rows]

    @_best_effort(lambda: None)
    def dead_number(self, contact: str, day: dt.date | None = None) -> None:
        self.db.execute(
            "INSERT INTO dead_numbers VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET n = n + 1",
            ((day or dt.date.today()).isoformat(), contact),
        )

    @_best_effort(dict)
    def dead_numbers(self, since: dt.date | None = None) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT contact, SUM(n) FROM dead_numbers WHERE day >= ? GROUP BY contact ORDER BY contact",
            ((since or dt.date.min).isoformat(),),
        )
        return {str(c): int(n) for c, n in rows}

    @_best_effort(lambda: None)
    def keep_unmatched(self, text: str) -> None:
        cleaned = scrub(text)
        if cleaned:
            self.db.execute("INSERT INTO unmatched VALUES (?, ?)", (dt.date.today().isoformat(), cleaned))

    @_best_effort(list)
    def unmatched(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT text FROM unmatched ORDER BY day")]


def _move_aside(path: Path) -> Path:
    """Rename a damaged database and its WAL files out of the way, keeping them for the admin."""
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("-wal", "-shm", ""):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(kept.with_name(kept.name + suffix))
    return kept


def shown(n: int) -> str:
    return str(n) if n >= MIN_SHOWN else f"<{MIN_SHOWN}"
