"""Checks across files that an editor cannot see from one card, as a list of named rules, and `load`.

Every rule yields `Problem`s with the file and line to fix and says how; nothing here raises.
Only the validator may declare a draft good, so it is also what builds the `Knowledge`.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType

from bot.content import CUE_GROUPS, DEFAULT_CONTENT, INTERFACE_KEYS, Card, ContentError, Knowledge, Problem
from bot.language import fold
from bot.messages import LIMIT, VISIBLE, html_errors, mentions, render_card, visible
from bot.reading import Draft, read
from bot.yamldoc import suggest

Rule = Callable[[Draft, dt.date], Iterator[Problem]]
PHONE = re.compile(r"^(?:\d{3,4}|(?:\+7|8)(?:[\s-]*\d){10})$")  # 102, 1414, +7 701 123 45 67, 8-701-…
MAX_STEPS = 3


def _cards(draft: Draft) -> Iterator[Card]:
    for lang in draft.languages.values():
        yield from lang.cards.values()


def card_files(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """The id is the file name, each id is used once, and every card exists in every language."""
    all_ids = {cid for lang in draft.languages.values() for cid in lang.cards}
    for code, files in draft.card_files.items():
        seen: dict[str, Path] = {}
        for path in files:
            data = draft.docs[path].data if isinstance(draft.docs[path].data, dict) else {}
            cid, line = data.get("id"), draft.line(path, "id")
            if isinstance(cid, str) and cid != path.stem:
                yield Problem(
                    path,
                    line,
                    f"id '{cid}' differs from the file name; rename the file or set id: {path.stem}",
                )
            if isinstance(cid, str) and cid in seen:
                yield Problem(
                    path, line, f"id '{cid}' is also used by {seen[cid]}; each card needs its own id"
                )
            elif isinstance(cid, str):
                seen[cid] = path
        for cid in sorted(all_ids - set(draft.languages[code].cards)):
            path = draft.root / code / "cards" / f"{cid}.yaml"
            if not path.exists():
                original = next(
                    lang.cards[cid].path for lang in draft.languages.values() if cid in lang.cards
                )
                yield Problem(path, 1, f"card '{cid}' is missing in '{code}': translate {original}")


def references(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """Contacts and related cards that a card names exist."""
    all_ids = {cid for lang in draft.languages.values() for cid in lang.cards}
    for card in _cards(draft):
        for field, refs, known, where in (
            ("contacts", card.contacts, set(draft.contacts), "content/contacts.yaml"),
            ("related", card.related, all_ids, "the cards"),
        ):
            for ref in refs:
                if ref not in known:
                    hint = suggest(ref, sorted(known)) if known else ""
                    yield Problem(
                        card.path,
                        card.lines.get(field, 1),
                        f"'{field}' names '{ref}', which is not in {where}; {hint}",
                    )


def paths(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """The cards of content/paths.yaml exist."""
    all_ids = {cid for lang in draft.languages.values() for cid in lang.cards}
    path = draft.root / "paths.yaml"
    for name in ("child", "other_person"):
        card = getattr(draft.paths, name)
        if card and card not in all_ids:
            yield Problem(
                path,
                draft.line(path, name),
                f"'{name}' names '{card}', which is not a card; {suggest(card, sorted(all_ids))}",
            )


def card_texts(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """Plain one-line titles, Telegram HTML in the texts, at most three steps, https sources, dates."""
    for card in _cards(draft):
        line = card.lines.get
        for name, text in (("title", card.title), ("summary", card.summary)):
            if "<" in text or "\n" in text:
                yield Problem(
                    card.path, line(name, 1), f"'{name}' must be one line of plain text, without HTML"
                )
        for name, text in (("body", card.body), ("details", card.details)):
            for error in html_errors(text):
                yield Problem(card.path, line(name, 1), f"{name}: {error}")
            if "<blockquote" in text:
                yield Problem(
                    card.path, line(name, 1), f"{name}: no <blockquote>; the bot folds the details by itself"
                )
        steps = sum(row.lstrip().startswith("•") for row in card.body.splitlines())
        if steps > MAX_STEPS:
            yield Problem(
                card.path,
                line("body", 1),
                f"body has {steps} steps; keep {MAX_STEPS} and move the rest to 'details'",
            )
        for source in card.sources:
            if not source.url.startswith("https://"):
                yield Problem(
                    card.path, line("sources", 1), f"source URL must start with https://: {source.url}"
                )
        if card.reviewed > today:
            yield Problem(
                card.path,
                line("reviewed", 1),
                f"reviewed date {card.reviewed} is in the future; use today's date",
            )


def across_cards(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """A question belongs to one card only; a card has the same category in every language."""
    by_question: dict[str, Card] = {}
    for card in _cards(draft):
        for i, question in enumerate(card.questions):
            key = fold(question)
            first = by_question.setdefault(key, card)
            if first.id != card.id:
                yield Problem(
                    card.path,
                    card.lines.get(f"questions.{i}", 1),
                    f"question '{question}' is also in {first.path}: keep it in one card only",
                )
        for code, other in draft.languages.items():
            if card.id in other.cards and other.cards[card.id].category != card.category:
                yield Problem(
                    card.path,
                    card.lines.get("category", 1),
                    f"category differs from the '{code}' card; use the same in all",
                )
                break


def contacts(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """Plausible Kazakhstan numbers, https addresses, known fallbacks, a name in every language."""
    path = draft.root / "contacts.yaml"
    for cid, contact in draft.contacts.items():
        if contact.phone is not None and not PHONE.match(contact.phone):
            yield Problem(
                path,
                draft.line(path, cid, "phone"),
                f"'{cid}': '{contact.phone}' is not a Kazakhstan number: use 3 or 4 digits (102, 1414) or +7 / 8 and ten digits",
            )
        if contact.url and not contact.url.startswith("https://"):
            yield Problem(path, draft.line(path, cid, "url"), f"'{cid}': URL must start with https://")
        for other in contact.next:
            if other not in draft.contacts or not draft.contacts[other].phone:
                yield Problem(
                    path,
                    draft.line(path, cid, "next"),
                    f"'{cid}': next names '{other}', which is not a contact with a phone",
                )
    for code, lang in draft.languages.items():
        base = draft.root / code / "contacts.yaml"
        for cid in draft.contacts:
            if cid not in lang.contacts:
                yield Problem(base, 1, f"contact '{cid}' has no name here: add '{cid}:' with name and what")
        for cid in lang.contacts:
            if cid not in draft.contacts:
                yield Problem(
                    base,
                    draft.line(base, cid),
                    f"'{cid}' is not in content/contacts.yaml; add it there or remove it here",
                )


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def interface(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """Every interface string present and used, with English's placeholders, in Telegram HTML."""
    reference = draft.languages.get("en")
    for code, lang in draft.languages.items():
        path = draft.root / code / "interface.yaml"
        if not path.exists():
            continue
        for key in INTERFACE_KEYS:
            if key not in lang.interface:
                yield Problem(path, 1, f"interface string '{key}' is missing: add '{key}: …'")
        for key in sorted(set(lang.interface) - set(INTERFACE_KEYS)):
            yield Problem(
                path,
                draft.line(path, key),
                f"'{key}' is not used by the bot: check its spelling or remove it",
            )
        for key, text in lang.interface.items():
            english = reference.interface.get(key) if reference else None
            where = draft.line(path, key)
            if english is not None and _placeholders(english) != _placeholders(text):
                yield Problem(
                    path,
                    where,
                    f"'{key}' must use the placeholders {sorted(_placeholders(english))} like English",
                )
            for error in html_errors(text):
                yield Problem(path, where, f"'{key}': {error}")


def emergency(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """Every emergency number is a contact with a phone; every cue group the triage needs exists."""
    for code, lang in draft.languages.items():
        path = draft.root / code / "emergency.yaml"
        if not path.exists():
            continue
        for kind, reply in lang.emergency.items():
            for cid, _ in reply.numbers:
                if cid not in draft.contacts or not draft.contacts[cid].phone:
                    yield Problem(
                        path,
                        draft.line(path, kind, "numbers", cid),
                        f"'{cid}' is not a contact with a phone number",
                    )
        for group in CUE_GROUPS:
            if group not in lang.cues.groups:
                yield Problem(path, draft.line(path, "cues"), f"cue group '{group}' is missing under 'cues:'")
        for group in lang.cues.groups:
            if group not in CUE_GROUPS:
                yield Problem(
                    path,
                    draft.line(path, "cues", group),
                    f"unknown cue group '{group}': {suggest(group, CUE_GROUPS)}",
                )


def lengths(draft: Draft, today: dt.date) -> Iterator[Problem]:
    """Each card fits one message, its first screen fits a phone, and each number shows once."""
    knowledge = Knowledge(
        draft.root, MappingProxyType(draft.contacts), MappingProxyType(draft.languages), draft.paths
    )
    for card in _cards(draft):
        text = render_card(knowledge, card)
        where = card.lines.get("body", 1)
        if len(text) > LIMIT:
            yield Problem(
                card.path,
                where,
                f"the card's message is {len(text)} characters, over Telegram's 4,096: shorten it",
            )
        shown = len(visible(text))
        if shown > VISIBLE:
            yield Problem(
                card.path,
                where,
                f"the first screen is {shown} characters, over {VISIBLE}: shorten the title or body, or move text to 'details'",
            )
        for contact in draft.contacts.values():
            if contact.phone and mentions(text, contact.phone) > 1:
                yield Problem(
                    card.path,
                    _line_with(card, contact.phone),
                    f"{contact.phone} shows more than once; it is listed under the card already, so name the service in the text instead",
                )


def _line_with(card: Card, phone: str) -> int:
    """The first line of the card's body or details that shows the number."""
    start = card.lines.get("body", 1)
    rows = card.path.read_text(encoding="utf-8").splitlines()
    found = (n for n, row in enumerate(rows, 1) if n > start and mentions(row, phone))
    return next(found, start)


RULES: tuple[Rule, ...] = (
    card_files,
    references,
    paths,
    card_texts,
    across_cards,
    contacts,
    interface,
    emergency,
)


def validate(draft: Draft, today: dt.date | None = None) -> list[Problem]:
    """Per-file problems first, then each cross-file rule in order; lengths once the rest is clean."""
    day = today or dt.date.today()
    problems = list(draft.problems)
    for rule in RULES:
        problems += rule(draft, day)
    return problems or list(lengths(draft, day))


def load(root: Path = DEFAULT_CONTENT) -> Knowledge:
    """Read and validate all content; raise `ContentError` with every problem, or return the knowledge."""
    draft = read(root)
    problems = validate(draft)
    if problems:
        raise ContentError(problems)
    return Knowledge(
        root=root,
        contacts=MappingProxyType(draft.contacts),
        languages=MappingProxyType(draft.languages),
        paths=draft.paths,
    )


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
