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
from typing import Any

import yaml
from rapidfuzz import process

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


# --- reading YAML with line numbers ------------------------------------------------------------------

Lines = dict[tuple[str, ...], int]


def _walk(node: yaml.Node, path: tuple[str, ...], lines: Lines, dup: list[tuple[str, int]]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                dup.append((name, key.start_mark.line + 1))
            seen.add(name)
            _walk(value, (*path, name), lines, dup)
            lines[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, str(i)), lines, dup)


class _Doc:
    """One parsed file: its data, the line of every key, and the problems found in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: Any = None
        self.lines: Lines = {}
        self.problems: list[Problem] = []
        try:
            text = path.read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            if node is not None:
                dup: list[tuple[str, int]] = []
                _walk(node, (), self.lines, dup)
                for name, line in dup:
                    self.add(line, f"'{name}' appears twice; keep one")
                self.data = yaml.SafeLoader(text).get_single_data()
        except UnicodeDecodeError:
            self.add(1, "the file is not UTF-8 text; save it as UTF-8")
        except yaml.MarkedYAMLError as e:
            start, found = e.context_mark, e.problem_mark
            first = start or found
            line = first.line + 1 if first else 1
            where = (
                f" (noticed at line {found.line + 1})" if start and found and found.line != start.line else ""
            )
            what = " ".join(str(x) for x in (e.context, e.problem) if x)
            self.add(line, f"YAML syntax error: {what}{where}; check indentation, colons and quotes")
        except yaml.YAMLError as e:
            self.add(1, f"YAML error: {e}")
        except OSError as e:
            self.add(1, f"cannot read the file: {e.strerror}")

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self, *path: str) -> int:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return 1

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def mapping(self, *path: str) -> dict[str, Any] | None:
        value: Any = self.data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, dict):
            return value
        what = f"'{path[-1]}'" if path else "the file"
        self.add(self.line(*path), f"{what} must be a set of 'key: value' lines")
        return None


def _typename(t: type | tuple[type, ...]) -> str:
    names = {
        str: "text",
        list: "a list",
        bool: "true or false",
        dt.date: "a date like 2026-01-31",
        dict: "keys",
    }
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(names.get(x, x.__name__) for x in ts)


def _fields(
    doc: _Doc, data: dict[str, Any], spec: Mapping[str, tuple[type, bool]], where: tuple[str, ...] = ()
) -> bool:
    """Check keys against a spec {key: (type, required)}; report unknown, missing, empty and mistyped."""
    good = True
    for key in data:
        if key not in spec:
            guess = process.extractOne(str(key), list(spec), score_cutoff=60)
            hint = f"did you mean '{guess[0]}'?" if guess else f"allowed keys: {', '.join(spec)}"
            doc.add(doc.line(*where, str(key)), f"unknown key '{key}': {hint}")
            good = False
    for key, (kind, required) in spec.items():
        value = data.get(key)
        if value is None or (isinstance(value, str | list | dict) and not value):
            if required:
                doc.add(doc.line(*where, key), f"'{key}' is missing or empty: add it ({_typename(kind)})")
                good = False
            continue
        if not isinstance(value, kind) or (kind is dt.date and isinstance(value, dt.datetime)):
            doc.add(doc.line(*where, key), f"'{key}' must be {_typename(kind)}, not {type(value).__name__}")
            good = False
        elif isinstance(value, list) and key != "sources":
            for i, item in enumerate(value):
                where_item = doc.line(*where, key, str(i))
                if isinstance(item, bool):  # yes, no, on, off: YAML reads them as true/false
                    doc.add(where_item, f"item {i + 1} of '{key}' reads as yes/no: put it in quotes")
                    good = False
                elif not isinstance(item, str | int | float):
                    doc.add(where_item, f"item {i + 1} of '{key}' must be one line of text")
                    good = False
    return good


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in value or () if str(v).strip())


CARD_FIELDS: Mapping[str, tuple[type, bool]] = {
    "id": (str, True),
    "category": (str, True),
    "title": (str, True),
    "summary": (str, True),
    "body": (str, True),
    "questions": (list, True),
    "keywords": (list, False),
    "contacts": (list, True),
    "related": (list, False),
    "sources": (list, True),
    "reviewed": (dt.date, True),
    "sensitive": (bool, False),
}
SOURCE_FIELDS: Mapping[str, tuple[type, bool]] = {"title": (str, True), "url": (str, True)}
CONTACT_FIELDS: Mapping[str, tuple[type, bool]] = {
    "phone": (str, False),
    "url": (str, False),
    "free": (bool, False),
    "always_open": (bool, False),
    "main": (bool, False),
    "verified": (bool, False),
}
CONTACT_TEXT_FIELDS: Mapping[str, tuple[type, bool]] = {"name": (str, True), "what": (str, True)}
EMERGENCY_FIELDS: Mapping[str, tuple[type, bool]] = {
    "numbers": (dict, True),
    "after": (str, True),
    "phrases": (list, True),
}
SMALLTALK_FIELDS: Mapping[str, tuple[type, bool]] = {"phrases": (list, True), "reply": (str, True)}


def _card(doc: _Doc, lang: str) -> Card | None:
    if not doc.ok:
        return None
    data = doc.mapping()
    if data is None or not _fields(doc, data, CARD_FIELDS):
        return None
    sources = []
    for i, item in enumerate(data["sources"]):
        where = ("sources", str(i))
        if not isinstance(item, dict):
            doc.add(doc.line(*where), "each source needs 'title:' and 'url:' lines")
            return None
        if not _fields(doc, item, SOURCE_FIELDS, where):
            return None
        sources.append(Source(item["title"].strip(), item["url"].strip()))
    if data["category"] not in CATEGORIES:
        doc.add(
            doc.line("category"), f"unknown category '{data['category']}': use one of {', '.join(CATEGORIES)}"
        )
        return None
    return Card(
        id=data["id"].strip(),
        lang=lang,
        category=data["category"],
        title=data["title"].strip(),
        summary=data["summary"].strip(),
        body=data["body"].strip(),
        questions=_texts(data["questions"]),
        keywords=_texts(data.get("keywords")),
        contacts=_texts(data["contacts"]),
        related=_texts(data.get("related")),
        sources=tuple(sources),
        reviewed=data["reviewed"],
        sensitive=bool(data.get("sensitive", False)),
        path=doc.path,
        lines=MappingProxyType({".".join(k): v for k, v in doc.lines.items()}),
    )


def _contacts(doc: _Doc) -> dict[str, Contact]:
    out: dict[str, Contact] = {}
    data = doc.mapping()
    for cid, spec in (data or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict) or not _fields(doc, spec, CONTACT_FIELDS, (cid,)):
            if not isinstance(spec, dict):
                doc.add(doc.line(cid), f"contact '{cid}' must be a set of 'key: value' lines")
            continue
        out[cid] = Contact(
            id=cid,
            phone=spec.get("phone"),
            url=spec.get("url"),
            free=spec.get("free", False),
            always_open=spec.get("always_open", False),
            main=spec.get("main", False),
            verified=spec.get("verified", True),
        )
    return out


def _contact_texts(doc: _Doc) -> dict[str, ContactText]:
    out: dict[str, ContactText] = {}
    for cid, spec in (doc.mapping() or {}).items():
        if not isinstance(spec, dict):
            doc.add(doc.line(cid), f"'{cid}' needs 'name:' and 'what:' lines")
        elif _fields(doc, spec, CONTACT_TEXT_FIELDS, (cid,)):
            out[cid] = ContactText(spec["name"].strip(), spec["what"].strip())
    return out


def _interface(doc: _Doc) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (doc.mapping() or {}).items():
        if isinstance(value, str) and value.strip():
            out[key] = value.strip()
        else:
            doc.add(doc.line(key), f"'{key}' must be non-empty text")
    return out


def _phrase_lists(
    doc: _Doc, kinds: tuple[str, ...], spec: Mapping[str, tuple[type, bool]], extra: tuple[str, ...] = ()
) -> dict[str, PhraseList]:
    out: dict[str, PhraseList] = {}
    data = doc.mapping() or {}
    for key in data:
        if key not in kinds + extra:
            doc.add(doc.line(str(key)), f"unknown section '{key}': use {', '.join(kinds + extra)}")
    for kind in kinds:
        if not isinstance(data.get(kind), dict):
            doc.add(doc.line(kind), f"'{kind}:' is missing: add it with {', '.join(spec)}")
            continue
        section = data[kind]
        if not _fields(doc, section, spec, (kind,)):
            continue
        numbers = section.get("numbers") or {}
        out[kind] = PhraseList(
            kind=kind,
            phrases=_texts(section["phrases"]),
            reply=str(section.get("reply") or section.get("after") or "").strip(),
            numbers=tuple((str(k), str(v).strip()) for k, v in numbers.items()),
        )
    return out


def _function_words(doc: _Doc) -> tuple[str, ...]:
    data = doc.mapping()
    if data is None:
        return ()
    _fields(doc, data, {"function_words": (list, True)})
    return _texts(data.get("function_words"))


@dataclass
class Draft:
    """Everything that could be read, even with problems: what the validator checks across files."""

    root: Path
    contacts: dict[str, Contact] = field(default_factory=dict)
    languages: dict[str, Language] = field(default_factory=dict)
    card_files: dict[str, list[Path]] = field(default_factory=dict)
    docs: dict[Path, _Doc] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path, *keys: str) -> int:
        doc = self.docs.get(path)
        return doc.line(*keys) if doc else 1


def read(root: Path = DEFAULT_CONTENT) -> Draft:
    """Read every content file, collecting problems instead of stopping at the first."""
    draft = Draft(root)

    def parse(path: Path) -> _Doc:
        doc = _Doc(path)
        draft.docs[path] = doc
        return doc

    def required(path: Path) -> _Doc | None:
        if not path.is_file():
            draft.problems.append(Problem(path, 1, "this file is missing: copy it from another language"))
            return None
        return parse(path)

    if not root.is_dir():
        draft.problems.append(Problem(root, 1, "no such content folder"))
        return draft
    if doc := required(root / "contacts.yaml"):
        draft.contacts = _contacts(doc)
    for lang in LANGS:
        base = root / lang
        cards: dict[str, Card] = {}
        files = sorted((base / "cards").glob("*.yaml")) + sorted((base / "cards").glob("*.yml"))
        draft.card_files[lang] = files
        for path in files:
            card = _card(parse(path), lang)
            if card is not None and card.id not in cards:
                cards[card.id] = card
        docs = {
            name: required(base / f"{name}.yaml")
            for name in ("contacts", "interface", "emergency", "smalltalk", "language")
        }
        emergency_doc = docs["emergency"]
        negations: tuple[str, ...] = ()
        if emergency_doc and isinstance(emergency_doc.data, dict):
            negations = _texts(emergency_doc.data.get("negations"))
        draft.languages[lang] = Language(
            code=lang,
            cards=MappingProxyType(cards),
            contacts=MappingProxyType(_contact_texts(docs["contacts"]) if docs["contacts"] else {}),
            interface=MappingProxyType(_interface(docs["interface"]) if docs["interface"] else {}),
            emergency=MappingProxyType(
                _phrase_lists(emergency_doc, EMERGENCY_KINDS, EMERGENCY_FIELDS, ("negations",))
                if emergency_doc
                else {}
            ),
            negations=negations,
            function_words=_function_words(docs["language"]) if docs["language"] else (),
            smalltalk=MappingProxyType(
                _phrase_lists(docs["smalltalk"], SMALLTALK_KINDS, SMALLTALK_FIELDS)
                if docs["smalltalk"]
                else {}
            ),
        )
    for doc in draft.docs.values():
        draft.problems.extend(doc.problems)
    return draft


def load(root: Path = DEFAULT_CONTENT) -> Knowledge:
    """Read and validate all content; raise `ContentError` with every problem, or return the knowledge."""
    from bot.validation import validate

    draft = read(root)
    problems = validate(draft)
    if problems:
        raise ContentError(problems)
    return Knowledge(
        root=root, contacts=MappingProxyType(draft.contacts), languages=MappingProxyType(draft.languages)
    )
