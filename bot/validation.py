"""Checks across files that an editor cannot see from one card: ids, references, HTML, lengths, dates.

Every check adds a `Problem` with the file and line to fix and says how; nothing here raises.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from html.parser import HTMLParser
from pathlib import Path

from bot.content import Card, Knowledge, Problem
from bot.reading import Draft

ALLOWED_TAGS = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "tg-spoiler": set(),
    "span": {"class"},
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
_ENTITIES = {"lt", "gt", "amp", "quot"}
_STRAY_LT = re.compile(r"<(?![a-zA-Z/])")


class _TelegramHTML(HTMLParser):
    """Collects what Telegram's HTML parser would refuse: unknown tags, attributes, unbalanced nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.errors: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(
                f"<{tag}> is not allowed by Telegram; use <b>, <i>, <u>, <s>, <a href>, <code>"
            )
            return
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                self.errors.append(f'<{tag} {name}="…"> is not allowed; remove the attribute')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"</{tag}> is not allowed by Telegram")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes a tag that is not open here; check the order of tags")
        else:
            self.stack.pop()

    def handle_entityref(self, name: str) -> None:
        if name not in _ENTITIES:
            self.errors.append(f"&{name}; is not understood by Telegram; write &amp; for '&'")


def html_errors(text: str) -> list[str]:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    errors = parser.errors
    if parser.stack:
        errors.append(f"<{parser.stack[-1]}> is never closed; add </{parser.stack[-1]}>")
    if _STRAY_LT.search(text):
        errors.append("a bare '<' must be written as &lt;")
    if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text):
        errors.append("a bare '&' must be written as &amp;")
    return errors


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def validate(draft: Draft, today: dt.date | None = None) -> list[Problem]:
    """All problems of a draft: the per-file ones found while reading, then the cross-file ones."""
    from bot.language import fold
    from bot.replies import INTERFACE_KEYS, render_card

    today = today or dt.date.today()
    problems = list(draft.problems)

    def add(path: Path, line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    langs = draft.languages
    all_ids = {cid for lang in langs.values() for cid in lang.cards}
    by_question: dict[str, tuple[Card, int]] = {}
    for code, files in draft.card_files.items():
        seen: dict[str, Path] = {}
        for path in files:
            doc = draft.docs[path]
            data = doc.data if isinstance(doc.data, dict) else {}
            cid = data.get("id")
            if isinstance(cid, str) and cid != path.stem:
                add(
                    path,
                    doc.line("id"),
                    f"id '{cid}' differs from the file name; rename the file or set id: {path.stem}",
                )
            if isinstance(cid, str) and cid in seen:
                add(
                    path,
                    doc.line("id"),
                    f"id '{cid}' is also used by {seen[cid]}; each card needs its own id",
                )
            elif isinstance(cid, str):
                seen[cid] = path
        for cid in sorted(all_ids - set(langs[code].cards)):
            if not (draft.root / code / "cards" / f"{cid}.yaml").exists():
                original = next(lang.cards[cid].path for lang in langs.values() if cid in lang.cards)
                add(
                    draft.root / code / "cards" / f"{cid}.yaml",
                    1,
                    f"card '{cid}' is missing in '{code}': translate {original}",
                )

    for lang in langs.values():
        for card in lang.cards.values():
            line = card.lines.get
            for field, ref_ids, known, what in (
                ("contacts", card.contacts, draft.contacts, "content/contacts.yaml"),
                ("related", card.related, all_ids, "the cards"),
            ):
                for ref in ref_ids:
                    if ref not in known:
                        add(card.path, line(field, 1), f"'{field}' names '{ref}', which is not in {what}")
            for field_name, text in (("title", card.title), ("summary", card.summary)):
                if "<" in text or "\n" in text:
                    add(
                        card.path,
                        line(field_name, 1),
                        f"'{field_name}' must be one line of plain text, without HTML",
                    )
            for error in html_errors(card.body):
                add(card.path, line("body", 1), f"body: {error}")
            for source in card.sources:
                if not source.url.startswith("https://"):
                    add(card.path, line("sources", 1), f"source URL must start with https://: {source.url}")
            if card.reviewed > today:
                add(
                    card.path,
                    line("reviewed", 1),
                    f"reviewed date {card.reviewed} is in the future; use today's date",
                )
            for i, question in enumerate(card.questions):
                key = fold(question)
                if key in by_question and by_question[key][0].id != card.id:
                    first = by_question[key][0]
                    add(
                        card.path,
                        line(f"questions.{i}", 1),
                        f"question '{question}' is also in {first.path}: keep it in one card only",
                    )
                by_question.setdefault(key, (card, i))
            for code, other in langs.items():
                if card.id in other.cards and other.cards[card.id].category != card.category:
                    add(
                        card.path,
                        line("category", 1),
                        f"category differs from the '{code}' card; use the same in all",
                    )
                    break

    for cid, contact in draft.contacts.items():
        if contact.url and not contact.url.startswith("https://"):
            add(
                draft.root / "contacts.yaml",
                draft.line(draft.root / "contacts.yaml", cid),
                f"'{cid}': URL must be https",
            )
    reference = langs.get("en")
    for code, lang in langs.items():
        base = draft.root / code
        for cid in draft.contacts:
            if cid not in lang.contacts:
                add(
                    base / "contacts.yaml",
                    1,
                    f"contact '{cid}' has no name here: add '{cid}:' with name and what",
                )
        for cid in lang.contacts:
            if cid not in draft.contacts:
                add(
                    base / "contacts.yaml",
                    draft.line(base / "contacts.yaml", cid),
                    f"'{cid}' is not in content/contacts.yaml; add it there or remove it here",
                )
        path = base / "interface.yaml"
        if lang.interface or path.exists():
            for key in INTERFACE_KEYS:
                if key not in lang.interface and path.exists():
                    add(path, 1, f"interface string '{key}' is missing: add '{key}: …'")
            for key in set(lang.interface) - set(INTERFACE_KEYS):
                add(
                    path,
                    draft.line(path, key),
                    f"'{key}' is not used by the bot: check its spelling or remove it",
                )
            for key, text in lang.interface.items():
                english = reference.interface.get(key) if reference else None
                where = draft.line(path, key)
                if english is not None and _placeholders(english) != _placeholders(text):
                    add(
                        path,
                        where,
                        f"'{key}' must use the placeholders {sorted(_placeholders(english))} like English",
                    )
                for error in html_errors(text):
                    add(path, where, f"'{key}': {error}")
        path = base / "emergency.yaml"
        for kind, phrases in lang.emergency.items():
            for cid, _ in phrases.numbers:
                if cid not in draft.contacts or not draft.contacts[cid].phone:
                    add(
                        path,
                        draft.line(path, kind, "numbers", cid),
                        f"'{cid}' is not a contact with a phone number",
                    )
    if problems:
        return problems

    knowledge = Knowledge(draft.root, draft.contacts, langs)
    for lang in langs.values():
        for card in lang.cards.values():
            size = len(render_card(knowledge, card))
            if size > 4096:
                add(
                    card.path,
                    card.lines.get("body", 1),
                    f"the card's message is {size} characters, over Telegram's 4,096: shorten the body",
                )
    return problems


def coverage(draft: Draft) -> list[tuple[str, dict[str, str]]]:
    """For each card id, per language: 'ok', 'missing' or 'stale' (reviewed before another language)."""
    ids = sorted({cid for lang in draft.languages.values() for cid in lang.cards})
    rows = []
    for cid in ids:
        cards = {code: lang.cards.get(cid) for code, lang in draft.languages.items()}
        newest = max(c.reviewed for c in cards.values() if c)
        rows.append(
            (
                cid,
                {
                    code: "missing" if c is None else "stale" if c.reviewed < newest else "ok"
                    for code, c in cards.items()
                },
            )
        )
    return rows
