"""Telegram's HTML both ways: what its parser accepts, and how the bot writes a card and its contacts.

A frightened person reads the first screen only, so a card is written as the answer (title, body,
whom to call) with the details, the sources and the review date in a collapsed block
(`<blockquote expandable>`). The validator and the replies share these functions, so what the
validator measures is exactly what is sent.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from html.parser import HTMLParser

from babel.dates import format_date

from bot.content import Card, Knowledge

LIMIT = 4096  # Telegram's limit for one message
VISIBLE = 700  # characters a card may show outside its collapsed block
COLLAPSED_OPEN, COLLAPSED_CLOSE = "<blockquote expandable>", "</blockquote>"
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
_STRAY_AMP = re.compile(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)")
_TAG = re.compile(r"<[^>]+>")
_COLLAPSED = re.compile(r"<blockquote expandable>.*?</blockquote>", re.S)


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
    """What Telegram would refuse in a text, in words an editor can act on; empty when it is fine."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    errors = parser.errors
    if parser.stack:
        errors.append(f"<{parser.stack[-1]}> is never closed; add </{parser.stack[-1]}>")
    if _STRAY_LT.search(text):
        errors.append("a bare '<' must be written as &lt;")
    if _STRAY_AMP.search(text):
        errors.append("a bare '&' must be written as &amp;")
    return errors


def plain(text: str) -> str:
    """Telegram HTML as a person sees it: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def plain_view(text: str) -> str:
    """A message as plain text with the same structure: the collapsed block marked by a bar, so a
    terminal or an editor sees what stays folded until tapped."""

    def fold(block: re.Match[str]) -> str:
        inner = plain(block.group()[len(COLLAPSED_OPEN) : -len(COLLAPSED_CLOSE)]).strip("\n")
        return "\n".join(f"┃ {line}".rstrip() for line in inner.split("\n"))

    return plain(_COLLAPSED.sub(lambda m: fold(m).replace("<", "&lt;"), text))


def visible(text: str) -> str:
    """What shows before anyone taps: everything outside the collapsed blocks."""
    return plain(_COLLAPSED.sub("", text)).strip()


def mentions(text: str, phone: str) -> int:
    """How often a text shows a phone number as a number of its own (not inside a longer one)."""
    return len(re.findall(rf"(?<![\d-]){re.escape(phone)}(?![\d-])", plain(text)))


def collapsed(text: str) -> str:
    return f"{COLLAPSED_OPEN}{text}{COLLAPSED_CLOSE}"


def _notes(k: Knowledge, lang: str, cid: str) -> str:
    contact = k.contacts[cid]
    notes = [k.text(lang, "free")] if contact.free else []
    if contact.always_open:
        notes.append(k.text(lang, "always_open"))
    if not contact.verified:
        notes.append(k.text(lang, "unverified"))
    return f" ({', '.join(notes)})" if notes else ""


def contact_line(k: Knowledge, lang: str, cid: str, full: bool = True) -> str:
    """Number first, then the name; what it is for when `full` or when there is no number."""
    contact, text = k.contacts[cid], k.languages[lang].contacts[cid]
    name = html.escape(text.name)
    if contact.url:
        name = f'<a href="{html.escape(contact.url)}">{name}</a>'
    what = f": {html.escape(text.what)}" if full or not contact.phone else ""
    if contact.phone:
        return f"📞 <b>{html.escape(contact.phone)}</b> — {name}{what}{_notes(k, lang, cid)}"
    return f"• {name}{what}{_notes(k, lang, cid)}"


def contact_lines(k: Knowledge, lang: str, ids: Iterable[str], full: bool = True) -> str:
    return "\n".join(contact_line(k, lang, cid, full) for cid in ids)


def _footer(k: Knowledge, card: Card) -> str:
    lang = card.lang
    sources = "; ".join(f'<a href="{html.escape(s.url)}">{html.escape(s.title)}</a>' for s in card.sources)
    reviewed = format_date(card.reviewed, format="long", locale=lang).rstrip(".")
    return (
        f"<i>{k.text(lang, 'sources_label')}: {sources}. {k.text(lang, 'reviewed_label')}: {reviewed}. "
        f"{k.text(lang, 'disclaimer')}</i>"
    )


def render_card(k: Knowledge, card: Card, already_shown: Iterable[str] = ()) -> str:
    """Title and answer, the collapsed details with sources, then whom to call: the reply ends
    with the numbers. Contacts whose number the person has just been shown are not repeated."""
    shown = set(already_shown)
    details = "\n\n".join(part for part in (card.details, _footer(k, card)) if part)
    contacts = [c for c in card.contacts if c not in shown]
    parts = [f"<b>{html.escape(card.title)}</b>\n{card.body}", collapsed(details)]
    if contacts:
        heading = f"<b>{k.text(card.lang, 'contacts_heading')}</b>"
        parts.append(f"{heading}\n{contact_lines(k, card.lang, contacts, full=False)}")
    return "\n\n".join(parts)


def split(text: str, limit: int = LIMIT) -> tuple[str, ...]:
    """Split at paragraph boundaries so no part exceeds Telegram's limit; a collapsed block is one
    paragraph here (the validator keeps cards under the limit), and tags never span paragraphs."""
    parts: list[str] = []
    current = ""
    for paragraph in _paragraphs(text):
        while len(paragraph) > limit:
            cut = paragraph.rfind("\n", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                parts.append(current)
                current = ""
            parts.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip("\n")
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) > limit:
            parts.append(current)
            current = paragraph
        else:
            current = candidate
    if current:
        parts.append(current)
    return tuple(parts)


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    for block in _COLLAPSED.finditer(text):
        out += [p for p in text[pos : block.start()].split("\n\n") if p.strip()]
        out.append(block.group())
        pos = block.end()
    out += [p for p in text[pos:].split("\n\n") if p.strip()]
    return out
