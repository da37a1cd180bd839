"""Reading the content folder into a `Draft`: every file parsed, every per-file mistake collected.

`content.load` validates the draft across files and only then builds the immutable knowledge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bot.content import (
    CATEGORIES,
    DEFAULT_CONTENT,
    EMERGENCY_KINDS,
    LANGS,
    SMALLTALK_KINDS,
    Card,
    Contact,
    ContactText,
    Language,
    PhraseList,
    Problem,
    Source,
)
from bot.yamldoc import YamlDoc, check_fields, texts

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


def _card(doc: YamlDoc, lang: str) -> Card | None:
    if not doc.ok:
        return None
    data = doc.mapping()
    if data is None or not check_fields(doc, data, CARD_FIELDS):
        return None
    sources = []
    for i, item in enumerate(data["sources"]):
        where = ("sources", str(i))
        if not isinstance(item, dict):
            doc.add(doc.line(*where), "each source needs 'title:' and 'url:' lines")
            return None
        if not check_fields(doc, item, SOURCE_FIELDS, where):
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
        questions=texts(data["questions"]),
        keywords=texts(data.get("keywords")),
        contacts=texts(data["contacts"]),
        related=texts(data.get("related")),
        sources=tuple(sources),
        reviewed=data["reviewed"],
        sensitive=bool(data.get("sensitive", False)),
        path=doc.path,
        lines=MappingProxyType({".".join(k): v for k, v in doc.lines.items()}),
    )


def _contacts(doc: YamlDoc) -> dict[str, Contact]:
    out: dict[str, Contact] = {}
    data = doc.mapping()
    for cid, spec in (data or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict) or not check_fields(doc, spec, CONTACT_FIELDS, (cid,)):
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


def _phrase_lists(
    doc: YamlDoc, kinds: tuple[str, ...], spec: Mapping[str, tuple[type, bool]], extra: tuple[str, ...] = ()
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
        if not check_fields(doc, section, spec, (kind,)):
            continue
        numbers = section.get("numbers") or {}
        out[kind] = PhraseList(
            kind=kind,
            phrases=texts(section["phrases"]),
            reply=str(section.get("reply") or section.get("after") or "").strip(),
            numbers=tuple((str(k), str(v).strip()) for k, v in numbers.items()),
        )
    return out


def _function_words(doc: YamlDoc) -> tuple[str, ...]:
    data = doc.mapping()
    if data is None:
        return ()
    check_fields(doc, data, {"function_words": (list, True)})
    return texts(data.get("function_words"))


@dataclass
class Draft:
    """Everything that could be read, even with problems: what the validator checks across files."""

    root: Path
    contacts: dict[str, Contact] = field(default_factory=dict)
    languages: dict[str, Language] = field(default_factory=dict)
    card_files: dict[str, list[Path]] = field(default_factory=dict)
    docs: dict[Path, YamlDoc] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path, *keys: str) -> int:
        doc = self.docs.get(path)
        return doc.line(*keys) if doc else 1


def read(root: Path = DEFAULT_CONTENT) -> Draft:
    """Read every content file, collecting problems instead of stopping at the first."""
    draft = Draft(root)

    def parse(path: Path) -> YamlDoc:
        doc = YamlDoc(path)
        draft.docs[path] = doc
        return doc

    def required(path: Path) -> YamlDoc | None:
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
            negations = texts(emergency_doc.data.get("negations"))
        draft.languages[lang] = Language(
            code=lang,
            cards=MappingProxyType(cards),
            contacts=MappingProxyType(_contacttexts(docs["contacts"]) if docs["contacts"] else {}),
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
