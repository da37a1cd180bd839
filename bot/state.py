"""The running bot's state, Telegram-free: the content and its reader, swapped whole on reload, the
store, and the per-person limit, so each can be tested without HTTP.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bot.content import ContentError, Knowledge
from bot.semantic import Embedder
from bot.store import Store
from bot.understanding import Understander
from bot.validation import load

log = logging.getLogger(__name__)
PER_MINUTE = 20  # messages a person may send in any minute, by when they wrote them
WINDOW = 60.0
PEOPLE = 10_000  # people whose recent messages are remembered for the limit

Verdict = Literal["go", "warn", "drop"]


@dataclass(frozen=True)
class Core:
    """One content version and its reader, swapped as a whole, so no reader sees a mix."""

    knowledge: Knowledge
    understander: Understander

    @classmethod
    def build(cls, knowledge: Knowledge, embedder: Embedder | None) -> Core:
        return cls(knowledge, Understander(knowledge, embedder))


@dataclass
class Limiter:
    """At most PER_MINUTE messages in any minute per person, counted by when they were written, so
    a backlog delivered at once after an outage is not flooding; one gentle warning, then silence."""

    per_minute: int = PER_MINUTE
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _warned: dict[int, float] = field(default_factory=dict)

    def check(self, person: int, written: float) -> Verdict:
        times = self._seen.setdefault(person, deque())
        times.append(written)
        while times and times[0] <= written - WINDOW:
            times.popleft()
        while len(times) > self.per_minute + 1:
            times.popleft()
        if len(self._seen) > PEOPLE:
            self._forget_oldest(written)
        if sum(t > written - WINDOW for t in times) <= self.per_minute:
            return "go"
        if self._warned.get(person, 0.0) > written - WINDOW:
            return "drop"
        self._warned[person] = written
        return "warn"

    def _forget_oldest(self, now: float) -> None:
        self._seen = {p: t for p, t in self._seen.items() if t and t[-1] > now - WINDOW}
        self._warned = {p: t for p, t in self._warned.items() if t > now - WINDOW}


@dataclass
class State:
    """Everything the handlers share while the bot runs."""

    core: Core
    store: Store
    content_dir: Path
    embedder: Embedder | None = None
    admins: frozenset[int] = frozenset()
    keep_unmatched: bool = False
    limiter: Limiter = field(default_factory=Limiter)
    inline_limiter: Limiter = field(default_factory=Limiter)
    reported: set[tuple[str, int, str]] = field(default_factory=set)  # (day, chat, contact), in memory only

    def reload(self) -> list[str]:
        """Validate the content folder in full and swap it in, or keep the last good one; the
        problems are returned for the admins."""
        try:
            knowledge = load(self.content_dir)
        except ContentError as e:
            for problem in e.problems:
                log.warning("content problem: %s", problem)
            return [str(p) for p in e.problems]
        self.core = Core.build(knowledge, self.embedder)
        log.info("content reloaded: %d cards", len(knowledge.card_ids))
        return []

    def first_report(self, day: str, chat: int, contact: str) -> bool:
        """Whether this chat reports this number for the first time today (at most once counted)."""
        key = (day, chat, contact)
        if key in self.reported:
            return False
        if len(self.reported) > 100_000:
            self.reported = {r for r in self.reported if r[0] == day}
        self.reported.add(key)
        return True


def content_stamp(root: Path) -> tuple[tuple[str, float, int], ...]:
    """A cheap fingerprint of every content file, to notice edits without reading them. Broken
    links, editors' lock files and unreadable entries are skipped, never fatal."""
    stamp = []
    try:
        paths = sorted(root.rglob("*.y*ml"))
    except OSError:
        return (("", 0.0, -1),)
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((str(path), info.st_mtime, info.st_size))
    return tuple(stamp)
