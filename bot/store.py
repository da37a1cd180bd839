"""What the bot remembers, in SQLite: each person's language, message ids for erasing, anonymous counts.

No message text and no names are ever written here. WAL mode and one short transaction per write
mean that a crash or a kill loses at most the write in flight, never the file.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ERASABLE_SECONDS = 48 * 3600  # Telegram lets a bot delete messages younger than this
UNMATCHED_DAYS = 30
MIN_SHOWN = 5  # counts below this are shown as "<5" so that no one can be singled out

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
_SCRUB = re.compile(r"\S+@\S+|@\w+|https?://\S+|t\.me/\S+|www\.\S+|\d")


def scrub(text: str) -> str:
    """Remove what could identify someone from a kept question: digits, e-mails, handles, links."""
    return " ".join(_SCRUB.sub(" ", text).split())


@dataclass(frozen=True)
class Count:
    day: str
    card: str
    lang: str
    outcome: str
    campaign: str
    n: int


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.purge()

    def close(self) -> None:
        self.db.close()

    def language(self, user_id: int) -> str | None:
        row = self.db.execute("SELECT lang FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return str(row[0]) if row else None

    def set_language(self, user_id: int, lang: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO users (user_id, lang) VALUES (?, ?)", (user_id, lang))

    def remember(self, chat_id: int, message_ids: Iterable[int], at: float | None = None) -> None:
        stamp = int(at if at is not None else time.time())
        self.db.executemany(
            "INSERT OR IGNORE INTO messages (chat_id, message_id, at) VALUES (?, ?, ?)",
            [(chat_id, mid, stamp) for mid in message_ids],
        )

    def erasable(self, chat_id: int, now: float | None = None) -> list[int]:
        since = int((now if now is not None else time.time()) - ERASABLE_SECONDS)
        rows = self.db.execute(
            "SELECT message_id FROM messages WHERE chat_id = ? AND at > ? ORDER BY message_id",
            (chat_id, since),
        )
        return [int(r[0]) for r in rows]

    def forget(self, user_id: int, chat_id: int) -> None:
        """Delete everything kept about a person: their language and their chat's message ids."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            self.db.execute("DELETE FROM messages WHERE chat_id = ?", (chat_id,))

    def purge(self, now: float | None = None) -> None:
        """Drop message ids too old to delete anyway, and kept questions past their 30 days."""
        now = now if now is not None else time.time()
        self.db.execute("DELETE FROM messages WHERE at <= ?", (int(now - ERASABLE_SECONDS),))
        oldest = (dt.date.fromtimestamp(now) - dt.timedelta(days=UNMATCHED_DAYS)).isoformat()
        self.db.execute("DELETE FROM unmatched WHERE day < ?", (oldest,))

    def count(
        self, card: str | None, lang: str, outcome: str, campaign: str = "", day: dt.date | None = None
    ) -> None:
        self.db.execute(
            "INSERT INTO counts VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET n = n + 1",
            ((day or dt.date.today()).isoformat(), card or "", lang, outcome, campaign),
        )

    def counts(self, since: dt.date | None = None) -> list[Count]:
        rows = self.db.execute(
            "SELECT day, card, lang, outcome, campaign, n FROM counts WHERE day >= ? ORDER BY day, card, lang",
            ((since or dt.date.min).isoformat(),),
        )
        return [Count(*row) for row in rows]

    def dead_number(self, contact: str, day: dt.date | None = None) -> None:
        self.db.execute(
            "INSERT INTO dead_numbers VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET n = n + 1",
            ((day or dt.date.today()).isoformat(), contact),
        )

    def dead_numbers(self, since: dt.date | None = None) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT contact, SUM(n) FROM dead_numbers WHERE day >= ? GROUP BY contact ORDER BY contact",
            ((since or dt.date.min).isoformat(),),
        )
        return {str(c): int(n) for c, n in rows}

    def keep_unmatched(self, text: str) -> None:
        cleaned = scrub(text)
        if cleaned:
            self.db.execute("INSERT INTO unmatched VALUES (?, ?)", (dt.date.today().isoformat(), cleaned))

    def unmatched(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT text FROM unmatched ORDER BY day")]


def shown(n: int) -> str:
    return str(n) if n >= MIN_SHOWN else f"<{MIN_SHOWN}"
