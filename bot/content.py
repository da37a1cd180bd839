"""The knowledge: cards, contacts, interface strings and phrase lists, read from YAML.

Editors are not programmers, so reading never raises on bad content: every mistake becomes a
`Problem` naming file, line and field. `load` builds the immutable `Knowledge` only when there is
none, so a broken file is never partly applied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

LANGS = ("kk", "ru", "en")
CATEGORIES = ("law", "penalties", "protection", "support", "contacts", "about")
EMERGENCY_KINDS = ("danger", "self-harm")
SMALLTALK_KINDS = ("greeting", "thanks")
DEFAULT_CONTENT = Path(__file__).resolve().parent.parent / "content"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """Raised by `load` with every problem found, so that a caller can show them all."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in content")
        self.problems = problems


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Card:
    id: str
    lang: str
    category: str
    title: str
    summary: str
    body: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    contacts: tuple[str, ...]
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed: dt.date
    sensitive: bool
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


@dataclass(frozen=True)
class ContactText:
    name: str
    what: str


@dataclass(frozen=True)
class PhraseList:
    """Emergency or small-talk phrases of one kind, with what to answer."""

    kind: str
    phrases: tuple[str, ...]
    reply: str = ""
    numbers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Language:
    code: str
    cards: Mapping[str, Card]
    contacts: Mapping[str, ContactText]
    interface: Mapping[str, str]
    emergency: Mapping[str, PhraseList]
    negations: tuple[str, ...]
    smalltalk: Mapping[str, PhraseList]
    function_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Knowledge:
    root: Path
    contacts: Mapping[str, Contact]
    languages: Mapping[str, Language]

    @property
    def card_ids(self) -> tuple[str, ...]:
        return tuple(sorted({i for lang in self.languages.values() for i in lang.cards}))

    def card(self, card_id: str, lang: str) -> Card:
        return self.languages[lang].cards[card_id]

    def text(self, lang: str, key: str, **values: object) -> str:
        """An interface string; placeholders are checked by the validator, so format cannot fail."""
        return self.languages[lang].interface[key].format(**values)


def load(root: Path = DEFAULT_CONTENT) -> Knowledge:
    """Read and validate all content; raise `ContentError` with every problem, or return the knowledge."""
    from bot.reading import read
    from bot.validation import validate

    draft = read(root)
    problems = validate(draft)
    if problems:
        raise ContentError(problems)
    return Knowledge(
        root=root, contacts=MappingProxyType(draft.contacts), languages=MappingProxyType(draft.languages)
    )
