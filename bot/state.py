"""The running bot's state, Telegram-free: the content and its reader, swapped whole on reload, the
store, and the per-person limit, so each can be tested without HTTP.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bot.content import ContentError, Knowledge
from bot.numberwords import without_number_words
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
        problems are returned for the admins. A file or folder that cannot be read (a dangling
        link, no permission) is a problem too, not a card that silently went missing."""
        problems = scan(self.content_dir)[1]
        if not problems:
            try:
                knowledge = load(self.content_dir)
            except ContentError as e:
                problems = [str(p) for p in e.problems]
            else:
                self.core = Core.build(knowledge, self.embedder)
                log.info("content reloaded: %d cards", len(knowledge.card_ids))
                return []
        for problem in problems:
            log.warning("content problem: %s", problem)
        return problems

    def keep_question(self, text: str) -> None:
        """Keep a question that found no card (only with BOT_KEEP_UNMATCHED=1), without the
        numbers, spelled out or not, e-mails and links that could identify who wrote it."""
        if self.keep_unmatched:
            self.store.keep_unmatched(without_number_words(text))

    def first_report(self, day: str, chat: int, contact: str) -> bool:
        """Whether this chat reports this number for the first time today (at most once counted)."""
        key = (day, chat, contact)
        if key in self.reported:
            return False
        if len(self.reported) > 100_000:
            self.reported = {r for r in self.reported if r[0] == day}
        self.reported.add(key)
        return True


Stamp = tuple[tuple[str, float, int], ...]
EDITORS_FILES = (".", "#")  # lock and backup files editors leave beside the ones they edit (".#x.yaml")


def scan(root: Path) -> tuple[Stamp, list[str]]:
    """A cheap fingerprint of every content file, to notice edits without reading them, and the
    entries that cannot be read, as problems in the validator's `path:line: problem` form.
    Editors' lock files are neither; nothing here raises."""
    stamp: list[tuple[str, float, int]] = []
    problems: list[str] = []

    def unreadable(e: OSError) -> None:
        problems.append(f"{e.filename or root}:1: cannot read it: {e.strerror or type(e).__name__}")

    for folder, _, names in os.walk(root, onerror=unreadable):
        for name in sorted(names):
            if name.startswith(EDITORS_FILES) or not name.endswith((".yaml", ".yml")):
                continue
            try:
                info = (Path(folder) / name).stat()
            except OSError as e:
                unreadable(e)
                continue
            stamp.append((str(Path(folder) / name), info.st_mtime, info.st_size))
    return tuple(sorted(stamp)), problems


def content_stamp(root: Path) -> Stamp:
    """What the watcher compares: every file's stamp, and every entry that cannot be read."""
    stamp, problems = scan(root)
    return stamp + tuple((p, 0.0, -1) for p in problems)
