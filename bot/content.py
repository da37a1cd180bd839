"""The knowledge as plain data: cards, contacts, interface strings and phrase lists.

This module imports nothing of the bot's, so every other module can lean on it. Editors are not
programmers, so reading never raises on bad content: every mistake becomes a `Problem` naming
file, line and field (see `reading` and `validation`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

LANGS = ("kk", "ru", "en")
CATEGORIES = ("law", "penalties", "protection", "support", "contacts", "about")
EMERGENCY_KINDS = ("danger", "self-harm")
SMALLTALK_KINDS = ("greeting", "thanks", "erase")
DEFAULT_CONTENT = Path(__file__).resolve().parent.parent / "content"
# The cue groups of `<lang>/emergency.yaml`: the triage combines them by rules (see `triage`).
CUE_GROUPS = (
    "attack",  # violence happening now: "is beating me"
    "threat",  # a threat to kill or maim: "kill me", "I will kill you"
    "weapon",  # "knife", "axe", "gun"
    "trapped",  # locked in, hiding, the door being broken
    "arriving",  # he is coming, outside the door, coming back tonight
    "hurt",  # bleeding, cannot breathe, unconscious
    "help",  # help, save me, sos
    "fear",  # scared, afraid
    "now",  # now, right now, tonight, at the moment
    "child",  # a child, my son, my daughter
    "suicidal",  # wanting to die, to kill oneself
    "farewell",  # goodbye messages, "forgive me everyone"
    "selfharm",  # an act of self-harm done or under way: took the pills, cut myself
    "means",  # pills, a rope, a blade, a roof, a bridge
    "intent",  # going to, want to, about to
    "topic",  # naming the subject without a wish or an act: "suicide"
)

# Interface strings the code uses; the validator checks that every language has each of them.
INTERFACE_KEYS = (
    "start",
    "choose_language",
    "language_set",
    "topics_title",
    "helplines_title",
    "contacts_heading",
    "free",
    "always_open",
    "unverified",
    "sources_label",
    "reviewed_label",
    "disclaimer",
    "suggestions",
    "several_topics",
    "child_first",
    "fallback",
    "off_topic",
    "not_text",
    "too_long",
    "slow_down",
    "error",
    "forget_button",
    "forget_done",
    "topics_button",
    "helplines_button",
    "back_button",
    "more_button",
    "help",
    "cmd_start",
    "cmd_topics",
    "cmd_helplines",
    "cmd_language",
    "cmd_help",
    "cmd_privacy",
    "cmd_forget",
    "bot_description",
    "bot_short_description",
    "didnt_work_button",
    "didnt_work_thanks",
    "try_next",
    "reload_ok",
    "reload_failed",
    "stats_title",
    "which_number",
    "terminal_hint",
    "terminal_choose",
    "terminal_bye",
    "poster_scan",
    "poster_opens",
    "poster_numbers",
    *(f"category_{c}" for c in CATEGORIES),
)


@dataclass(frozen=True)
class Problem:
    """One mistake in content, where an editor can find and fix it."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """Raised by `validation.load` with every problem found, so that a caller can show them all."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in content")
        self.problems = problems


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Card:
    """One answer in one language. `body` is what a person sees first (the answer and at most
    three steps); `details` goes into a collapsed block with the sources."""

    id: str
    lang: str
    category: str
    title: str
    summary: str
    body: str
    details: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    contacts: tuple[str, ...]
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed: dt.date
    sensitive: bool  # never forwarded (the safety plan)
    cautious: bool  # frightening if wrong: shown first only on clear evidence
    children: bool  # about children: stays first when a child writes
    path: Path
    lines: Mapping[str, int] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Contact:
    """A helpline or authority; its number lives here once, its name per language."""

    id: str
    phone: str | None
    url: str | None
    free: bool
    always_open: bool
    main: bool
    verified: bool
    children: bool = False  # put first when a child writes about themselves
    next: tuple[str, ...] = ()  # whom to try when this number does not answer


@dataclass(frozen=True)
class ContactText:
    name: str
    what: str


@dataclass(frozen=True)
class PhraseList:
    """Small-talk phrases of one kind, with what to answer."""

    kind: str
    phrases: tuple[str, ...]
    reply: str = ""


@dataclass(frozen=True)
class Emergency:
    """How one kind of emergency is answered in one language: numbers first, then `reply`."""

    kind: str
    numbers: tuple[tuple[str, str], ...]
    reply: str


@dataclass(frozen=True)
class Cues:
    """Words and phrases per language that together say "danger now" (see `triage`).

    Each group holds phrases of one to four words; a rule fires on a combination of groups.
    """

    groups: Mapping[str, tuple[str, ...]]
    examples: Mapping[str, tuple[str, ...]]  # whole messages per kind, for the semantic check
    negations: tuple[str, ...]  # words that cancel a cue right after them ("not")
    negations_after: tuple[str, ...]  # ... or right before them (Kazakh "jok", "emes")
    past: tuple[str, ...]  # a message about the past ("used to"), unless it also says "now"
    info: tuple[str, ...]  # a question for information ("what is the punishment for")
    turns: tuple[str, ...]  # words that turn a story into its next clause ("but", "however")


@dataclass(frozen=True)
class Language:
    code: str
    cards: Mapping[str, Card]
    contacts: Mapping[str, ContactText]
    interface: Mapping[str, str]
    emergency: Mapping[str, Emergency]
    cues: Cues
    smalltalk: Mapping[str, PhraseList]
    function_words: tuple[str, ...] = ()
    off_topic: tuple[str, ...] = ()  # words of subjects the bot does not cover (recipes, football)
    child_self: tuple[str, ...] = ()  # how a child says who is writing ("I'm #"): # is an age
    topic_words: tuple[str, ...] = ()  # words of the domain: a message with one is never off topic


@dataclass(frozen=True)
class Paths:
    """Cards that answer who is writing rather than what about (`content/paths.yaml`)."""

    child: str | None = None  # a child or teenager writing about themselves
    other_person: str | None = None  # someone writing for a sister, a friend, a pupil


@dataclass(frozen=True)
class Knowledge:
    """All content of one version, checked; swapped as a whole on reload."""

    root: Path
    contacts: Mapping[str, Contact]
    languages: Mapping[str, Language]
    paths: Paths = Paths()

    @property
    def card_ids(self) -> tuple[str, ...]:
        return tuple(sorted({i for lang in self.languages.values() for i in lang.cards}))

    def card(self, card_id: str, lang: str) -> Card:
        return self.languages[lang].cards[card_id]

    def text(self, lang: str, key: str, **values: object) -> str:
        """An interface string; placeholders are checked by the validator, so format cannot fail."""
        return self.languages[lang].interface[key].format(**values)

    def main_contacts(self) -> tuple[str, ...]:
        return tuple(cid for cid, c in self.contacts.items() if c.main)
