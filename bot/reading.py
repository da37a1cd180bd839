"""Reading the content folder into a `Draft`: every file parsed, every per-file mistake collected.

A card with several mistakes reports all of them at once, so an editor fixes a file in one go;
`validation.load` checks the draft across files and only then builds the immutable knowledge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.content import (
    CATEGORIES,
    DEFAULT_CONTENT,
    EMERGENCY_KINDS,
    LANGS,
    SMALLTALK_KINDS,
    Card,
    Contact,
    ContactText,
    Cues,
    Emergency,
    Language,
    Paths,
    PhraseList,
    Problem,
    Source,
)
from bot.yamldoc import Spec, YamlDoc, check_fields, suggest, texts

CARD_FIELDS: Spec = {
    "id": (str, True),
    "category": (str, True),
    "title": (str, True),
    "summary": (str, True),
    "body": (str, True),
    "details": (str, False),
    "questions": (list, True),
    "keywords": (list, False),
    "contacts": (list, True),
    "related": (list, False),
    "sources": (list, True),
    "reviewed": (dt.date, True),
    "sensitive": (bool, False),
    "cautious": (bool, False),
    "children": (bool, False),
}
SOURCE_FIELDS: Spec = {"title": (str, True), "url": (str, True)}
CONTACT_FIELDS: Spec = {
    "phone": (str, False),
    "url": (str, False),
    "free": (bool, False),
    "always_open": (bool, False),
    "main": (bool, False),
    "verified": (bool, False),
    "children": (bool, False),
    "next": (list, False),
}
CONTACT_TEXT_FIELDS: Spec = {"name": (str, True), "what": (str, True)}
EMERGENCY_FIELDS: Spec = {"numbers": (dict, True), "after": (str, True)}
_MARKER_LISTS = ("negations", "negations_after", "past", "info", "turns")
EMERGENCY_SECTIONS = (*EMERGENCY_KINDS, "cues", *_MARKER_LISTS, "examples")
SMALLTALK_FIELDS: Spec = {"phrases": (list, True), "reply": (str, True)}
LANGUAGE_FIELDS: Spec = {
    "function_words": (list, True),
    "off_topic": (list, False),
    "child_self": (list, False),
    "topic_words": (list, False),
}
PATHS_FIELDS: Spec = {"child": (str, False), "other_person": (str, False)}


def _sources(doc: YamlDoc, items: list[Any]) -> tuple[Source, ...]:
    sources = []
    for i, item in enumerate(items):
        where = ("sources", str(i))
        if not isinstance(item, dict):
            doc.add(doc.line(*where), "each source needs 'title:' and 'url:' lines")
        elif check_fields(doc, item, SOURCE_FIELDS, where):
            sources.append(Source(item["title"].strip(), item["url"].strip()))
    return tuple(sources)


def _card(doc: YamlDoc, lang: str) -> Card | None:
    """The card of one file, or None after every mistake in it has been reported."""
    if not doc.ok:
        return None
    data = doc.mapping()
    if data is None:
        return None
    before = len(doc.problems)
    check_fields(doc, data, CARD_FIELDS)
    sources = _sources(doc, data["sources"]) if isinstance(data.get("sources"), list) else ()
    category = data.get("category")
    if isinstance(category, str) and category not in CATEGORIES:
        doc.add(doc.line("category"), f"unknown category '{category}': {suggest(category, CATEGORIES)}")
    if len(doc.problems) > before:
        return None
    return Card(
        id=data["id"].strip(),
        lang=lang,
        category=data["category"],
        title=data["title"].strip(),
        summary=data["summary"].strip(),
        body=data["body"].strip(),
        details=str(data.get("details") or "").strip(),
        questions=texts(data["questions"]),
        keywords=texts(data.get("keywords")),
        contacts=texts(data["contacts"]),
        related=texts(data.get("related")),
        sources=sources,
        reviewed=data["reviewed"],
        sensitive=bool(data.get("sensitive", False)),
        cautious=bool(data.get("cautious", False)),
        children=bool(data.get("children", False)),
        path=doc.path,
        lines=MappingProxyType({".".join(k): v for k, v in doc.lines.items()}),
    )


def _contacts(doc: YamlDoc) -> dict[str, Contact]:
    out: dict[str, Contact] = {}
    for cid, spec in (doc.mapping() or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict):
            doc.add(doc.line(cid), f"contact '{cid}' must be a set of 'key: value' lines")
            continue
        if not check_fields(doc, spec, CONTACT_FIELDS, (cid,)):
            continue
        phone = spec.get("phone")
        out[cid] = Contact(
            id=cid,
            phone=phone.strip() if isinstance(phone, str) else None,
            url=spec.get("url"),
            free=spec.get("free", False),
            always_open=spec.get("always_open", False),
            main=spec.get("main", False),
            verified=spec.get("verified", True),
            children=spec.get("children", False),
            next=texts(spec.get("next")),
        )
    return out


def _contacttexts(doc: YamlDoc) -> dict[str, ContactText]:
    out: dict[str, ContactText] = {}
    for cid, spec in (doc.mapping() or {}).items():
        if not isinstance(spec, dict):
            doc.add(doc.line(cid), f"'{cid}' needs 'name:' and 'what:' lines")
        elif check_fields(doc, spec, CONTACT_TEXT_FIELDS, (cid,)):
            out[cid] = ContactText(spec["name"].strip(), spec["what"].strip())
    return out


def _interface(doc: YamlDoc) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (doc.mapping() or {}).items():
        if isinstance(value, str) and value.strip():
            out[key] = value.strip()
        else:
            doc.add(doc.line(key), f"'{key}' must be non-empty text")
    return out


def _sections(doc: YamlDoc, allowed: tuple[str, ...]) -> dict[str, Any]:
    data = doc.mapping() or {}
    for key in data:
        if key not in allowed:
            doc.add(doc.line(str(key)), f"unknown section '{key}': {suggest(str(key), allowed)}")
    return data


def _phrase_map(doc: YamlDoc, data: Any, where: str) -> dict[str, tuple[str, ...]]:
    """A section of `name: [phrases]` lines, such as the cue groups."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        doc.add(doc.line(where), f"'{where}' must be a set of 'name: [phrases]' lines")
        return {}
    out = {}
    for name, phrases in data.items():
        if isinstance(phrases, list) and check_fields(doc, {name: phrases}, {name: (list, True)}, (where,)):
            out[str(name)] = texts(phrases)
        elif not isinstance(phrases, list):
            doc.add(doc.line(where, str(name)), f"'{name}' must be a list of phrases")
    return out


def _kinds(
    doc: YamlDoc, data: dict[str, Any], kinds: Iterable[str], fields: Spec
) -> dict[str, dict[str, Any]]:
    """The sections of these kinds that are there with all their fields; each one missing is reported."""
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        section = data.get(kind)
        if not isinstance(section, dict):
            doc.add(doc.line(kind), f"'{kind}:' is missing: add it with {', '.join(fields)}")
        elif check_fields(doc, section, fields, (kind,)):
            out[kind] = section
    return out


def _emergency(doc: YamlDoc) -> tuple[dict[str, Emergency], Cues]:
    data = _sections(doc, EMERGENCY_SECTIONS)
    replies: dict[str, Emergency] = {}
    for kind, section in _kinds(doc, data, EMERGENCY_KINDS, EMERGENCY_FIELDS).items():
        numbers = tuple((str(k), str(v).strip()) for k, v in section["numbers"].items())
        replies[kind] = Emergency(kind, numbers, section["after"].strip())
    lists: dict[str, tuple[str, ...]] = {}
    for name in _MARKER_LISTS:
        if data.get(name) is not None and check_fields(doc, {name: data[name]}, {name: (list, False)}):
            lists[name] = texts(data[name])
    cues = Cues(
        groups=MappingProxyType(_phrase_map(doc, data.get("cues"), "cues")),
        examples=MappingProxyType(_phrase_map(doc, data.get("examples"), "examples")),
        negations=lists.get("negations", ()),
        negations_after=lists.get("negations_after", ()),
        past=lists.get("past", ()),
        info=lists.get("info", ()),
        turns=lists.get("turns", ()),
    )
    return replies, cues


def _smalltalk(doc: YamlDoc) -> dict[str, PhraseList]:
    data = _sections(doc, SMALLTALK_KINDS)
    return {
        kind: PhraseList(kind, texts(section["phrases"]), section["reply"].strip())
        for kind, section in _kinds(doc, data, SMALLTALK_KINDS, SMALLTALK_FIELDS).items()
    }


def _words(doc: YamlDoc) -> dict[str, tuple[str, ...]]:
    data = doc.mapping()
    if data is None:
        return {}
    check_fields(doc, data, LANGUAGE_FIELDS)
    return {key: texts(data.get(key)) for key in LANGUAGE_FIELDS}


def _paths(doc: YamlDoc) -> Paths:
    data = doc.mapping()
    if data is None or not check_fields(doc, data, PATHS_FIELDS):
        return Paths()
    return Paths(**{key: str(data[key]).strip() for key in PATHS_FIELDS if data.get(key)})


@dataclass
class Draft:
    """Everything that could be read, even with problems: what the validator checks across files."""

    root: Path
    contacts: dict[str, Contact] = field(default_factory=dict)
    languages: dict[str, Language] = field(default_factory=dict)
    paths: Paths = field(default_factory=Paths)
    card_files: dict[str, list[Path]] = field(default_factory=dict)
    docs: dict[Path, YamlDoc] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path, *keys: str) -> int:
        doc = self.docs.get(path)
        return doc.line(*keys) if doc else 1

    def parse(self, path: Path) -> YamlDoc:
        doc = YamlDoc(path)
        self.docs[path] = doc
        return doc

    def required(self, path: Path) -> YamlDoc | None:
        if not path.is_file():
            self.problems.append(Problem(path, 1, "this file is missing: copy it from another language"))
            return None
        return self.parse(path)


def _card_files(folder: Path) -> list[Path]:
    """Card files an editor saved; editors' lock and backup files (`.#x.yaml`, `~`) are not cards."""
    found = [*folder.glob("*.yaml"), *folder.glob("*.yml")]
    return sorted(p for p in found if not p.name.startswith((".", "#")) and p.is_file())


def _language(draft: Draft, lang: str) -> Language:
    base = draft.root / lang
    cards: dict[str, Card] = {}
    draft.card_files[lang] = _card_files(base / "cards")
    for path in draft.card_files[lang]:
        card = _card(draft.parse(path), lang)
        if card is not None and card.id not in cards:
            cards[card.id] = card
    docs = {
        n: draft.required(base / f"{n}.yaml")
        for n in ("contacts", "interface", "emergency", "smalltalk", "language")
    }
    emergency, cues = (
        _emergency(docs["emergency"]) if docs["emergency"] else ({}, Cues({}, {}, (), (), (), (), ()))
    )
    vocabulary = _words(docs["language"]) if docs["language"] else {}
    return Language(
        code=lang,
        cards=MappingProxyType(cards),
        contacts=MappingProxyType(_contacttexts(docs["contacts"]) if docs["contacts"] else {}),
        interface=MappingProxyType(_interface(docs["interface"]) if docs["interface"] else {}),
        emergency=MappingProxyType(emergency),
        cues=cues,
        smalltalk=MappingProxyType(_smalltalk(docs["smalltalk"]) if docs["smalltalk"] else {}),
        function_words=vocabulary.get("function_words", ()),
        off_topic=vocabulary.get("off_topic", ()),
        child_self=vocabulary.get("child_self", ()),
        topic_words=vocabulary.get("topic_words", ()),
    )


def read(root: Path = DEFAULT_CONTENT) -> Draft:
    """Read every content file, collecting problems instead of stopping at the first."""
    draft = Draft(root)
    try:
        if not root.is_dir():
            draft.problems.append(Problem(root, 1, "no such content folder"))
            return draft
        if doc := draft.required(root / "contacts.yaml"):
            draft.contacts = _contacts(doc)
        if doc := draft.required(root / "paths.yaml"):
            draft.paths = _paths(doc)
        for lang in LANGS:
            draft.languages[lang] = _language(draft, lang)
    except OSError as e:  # an unreadable folder: reported like any other mistake
        draft.problems.append(Problem(Path(e.filename or root), 1, f"cannot read it: {e.strerror}"))
    for doc in draft.docs.values():
        draft.problems.extend(doc.problems)
    return draft
