"""Channel-neutral replies: what the bot says, as HTML text parts and buttons, built from content.

The Telegram layer and the terminal chat both render these; neither writes a sentence of its own.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass, field

from babel.dates import format_date

from bot.content import CATEGORIES, LANGS, Card, Knowledge
from bot.matching import Match, Matcher

LIMIT = 4096
LONG_TEXT = 1500  # past this many characters a message is read from its beginning (see matching.MAX_WORDS)

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
    "fallback",
    "not_text",
    "too_long",
    "slow_down",
    "error",
    "forget_button",
    "forget_done",
    "topics_button",
    "helplines_button",
    "back_button",
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
    "reload_ok",
    "reload_failed",
    "stats_title",
    "which_number",
    *(f"category_{c}" for c in CATEGORIES),
)
MAX_TOPIC_BUTTONS = 30


@dataclass(frozen=True)
class Button:
    """A choice shown under a reply; `action` is short and stable (`card:battery`, `lang:kk`, `forget`)."""

    label: str
    action: str


@dataclass(frozen=True)
class Reply:
    lang: str
    kind: str
    parts: tuple[str, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    card: str | None = None
    protect: bool = False
    match: Match | None = field(default=None, compare=False)


def split(text: str, limit: int = LIMIT) -> tuple[str, ...]:
    """Split at paragraph boundaries so no part exceeds Telegram's limit; tags never span paragraphs."""
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
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


def contact_lines(k: Knowledge, lang: str, ids: tuple[str, ...]) -> str:
    """One line per contact: number first, then name and purpose, with free/24/7 only where confirmed."""
    language = k.languages[lang]
    lines = []
    for cid in ids:
        contact, text = k.contacts[cid], language.contacts[cid]
        notes = [k.text(lang, "free")] if contact.free else []
        if contact.always_open:
            notes.append(k.text(lang, "always_open"))
        if not contact.verified:
            notes.append(k.text(lang, "unverified"))
        note = f" ({', '.join(notes)})" if notes else ""
        name = html.escape(text.name)
        if contact.url:
            name = f'<a href="{html.escape(contact.url)}">{name}</a>'
        head = f"📞 <b>{html.escape(contact.phone)}</b> — {name}" if contact.phone else f"• {name}"
        lines.append(f"{head}: {html.escape(text.what)}{note}")
    return "\n".join(lines)


def main_contacts(k: Knowledge) -> tuple[str, ...]:
    return tuple(cid for cid, c in k.contacts.items() if c.main)


def render_card(k: Knowledge, card: Card) -> str:
    lang = card.lang
    sources = "; ".join(f'<a href="{html.escape(s.url)}">{html.escape(s.title)}</a>' for s in card.sources)
    reviewed = format_date(card.reviewed, format="long", locale=lang).rstrip(".")
    parts = [f"<b>{html.escape(card.title)}</b>", card.body]
    if card.contacts:
        parts.append(f"<b>{k.text(lang, 'contacts_heading')}</b>\n{contact_lines(k, lang, card.contacts)}")
    parts.append(
        f"<i>{k.text(lang, 'sources_label')}: {sources}. {k.text(lang, 'reviewed_label')}: {reviewed}. "
        f"{k.text(lang, 'disclaimer')}</i>"
    )
    return "\n\n".join(parts)


def _row(*buttons: Button) -> tuple[Button, ...]:
    return tuple(buttons)


def _footer(k: Knowledge, lang: str) -> tuple[tuple[Button, ...], ...]:
    return (
        _row(
            Button(k.text(lang, "topics_button"), "topics"),
            Button(k.text(lang, "helplines_button"), "helplines"),
        ),
        _row(Button(k.text(lang, "forget_button"), "forget")),
    )


def card_reply(k: Knowledge, card_id: str, lang: str, match: Match | None = None) -> Reply:
    card = k.card(card_id, lang)
    related = [Button(k.card(r, lang).title, f"card:{r}") for r in card.related[:3]]
    rows: list[tuple[Button, ...]] = [(b,) for b in related]
    if any(k.contacts[c].phone for c in card.contacts):
        rows.append((Button(k.text(lang, "didnt_work_button"), f"dead:{card_id}"),))
    return Reply(
        lang, "card", split(render_card(k, card)), (*rows, *_footer(k, lang)), card_id, card.sensitive, match
    )


def emergency_reply(k: Knowledge, kind: str, lang: str, match: Match | None = None) -> Reply:
    """Numbers first, one sentence each, then where to go: nothing may come before them."""
    phrases = k.languages[lang].emergency[kind]
    lines = [
        f"📞 <b>{html.escape(k.contacts[cid].phone or '')}</b> — {html.escape(say)}"
        for cid, say in phrases.numbers
    ]
    text = "\n".join(lines) + "\n\n" + phrases.reply
    return Reply(lang, "emergency", split(text), _footer(k, lang), None, False, match)


def helplines_reply(k: Knowledge, lang: str) -> Reply:
    text = f"<b>{k.text(lang, 'helplines_title')}</b>\n\n{contact_lines(k, lang, main_contacts(k))}"
    rows = ((Button(k.card("helplines", lang).title, "card:helplines"),), *_footer(k, lang))
    return Reply(lang, "helplines", split(text), rows)


def with_helplines(k: Knowledge, lang: str, key: str, kind: str, **values: object) -> Reply:
    """A short interface line followed by the main helplines: the shape of every non-answer."""
    text = f"{k.text(lang, key, **values)}\n\n{contact_lines(k, lang, main_contacts(k))}"
    return Reply(lang, kind, split(text), _footer(k, lang))


def suggestions_reply(k: Knowledge, lang: str, match: Match) -> Reply:
    rows = tuple((Button(k.card(cid, lang).title, f"card:{cid}"),) for cid in match.alternatives)
    return Reply(
        lang, "suggestions", (k.text(lang, "suggestions"),), (*rows, *_footer(k, lang)), None, False, match
    )


def numbers_reply(k: Knowledge, card_id: str, lang: str) -> Reply:
    """Which of a card's numbers did not answer: one button each, counted per contact."""
    phones = [c for c in k.card(card_id, lang).contacts if k.contacts[c].phone]
    rows = tuple(
        (Button(f"☎️ {k.contacts[c].phone} {k.languages[lang].contacts[c].name}", f"nr:{c}"),) for c in phones
    )
    return Reply(lang, "numbers", (k.text(lang, "which_number"),), rows)


def language_buttons(k: Knowledge) -> tuple[Button, ...]:
    from babel import Locale

    return tuple(
        Button((Locale.parse(code).get_display_name(code) or code).capitalize(), f"lang:{code}")
        for code in LANGS
    )


def start_reply(k: Knowledge, lang: str) -> Reply:
    rows = (language_buttons(k), *_topic_rows(k, lang))
    return Reply(lang, "start", (k.text(lang, "start"),), rows)


def language_reply(k: Knowledge, lang: str) -> Reply:
    return Reply(lang, "language", (k.text(lang, "choose_language"),), (language_buttons(k),))


def _topic_rows(k: Knowledge, lang: str) -> list[tuple[Button, ...]]:
    used = [c for c in CATEGORIES if any(card.category == c for card in k.languages[lang].cards.values())]
    buttons = [Button(k.text(lang, f"category_{c}"), f"cat:{c}") for c in used]
    return [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]


def topics_reply(k: Knowledge, lang: str) -> Reply:
    return Reply(
        lang, "topics", (k.text(lang, "topics_title"),), (*_topic_rows(k, lang), *_footer(k, lang)[1:])
    )


def category_reply(k: Knowledge, lang: str, category: str) -> Reply:
    cards = sorted(
        (c for c in k.languages[lang].cards.values() if c.category == category), key=lambda c: c.title
    )
    rows = [(Button(c.title, f"card:{c.id}"),) for c in cards[:MAX_TOPIC_BUTTONS]]
    rows.append((Button(k.text(lang, "back_button"), "topics"),))
    return Reply(lang, "topics", (f"<b>{k.text(lang, f'category_{category}')}</b>",), tuple(rows))


def press(k: Knowledge, action: str, lang: str) -> Reply:
    """The reply to a pressed button, for every channel; the caller carries out what the action
    changes (the language chosen, a number reported, the chat erased)."""
    verb, _, arg = action.partition(":")
    if verb == "lang" and arg in LANGS:
        return Reply(arg, "language", (k.text(arg, "language_set"),), start_reply(k, arg).buttons[1:])
    if verb == "card" and arg in k.languages[lang].cards:
        return card_reply(k, arg, lang)
    if verb == "cat" and arg in CATEGORIES:
        return category_reply(k, lang, arg)
    if verb == "helplines":
        return helplines_reply(k, lang)
    if verb == "forget":
        return Reply(lang, "forget", (k.text(lang, "forget_done"),))
    if verb == "dead" and arg in k.languages[lang].cards:
        return numbers_reply(k, arg, lang)
    if verb == "nr" and arg in k.contacts:
        return Reply(lang, "dead", (k.text(lang, "didnt_work_thanks"),))
    return topics_reply(k, lang)


def answer(k: Knowledge, matcher: Matcher, text: str, chosen: str) -> Reply:
    """The reply to a free-text question, saying so when only its beginning was read."""
    reply = _answer(k, matcher, text, chosen)
    if len(text) > LONG_TEXT and reply.kind != "emergency":  # nothing may come before emergency numbers
        note = k.text(reply.lang, "too_long")
        return dataclasses.replace(reply, parts=(f"{note}\n\n{reply.parts[0]}", *reply.parts[1:]))
    return reply


def _answer(k: Knowledge, matcher: Matcher, text: str, chosen: str) -> Reply:
    """Emergency, small talk, a card, suggestions or the fallback."""
    match = matcher.match(text, chosen)
    lang = match.lang
    if match.emergency:
        urgent = emergency_reply(k, match.emergency, lang, match)
        if match.card:  # numbers first, then what was asked
            card = card_reply(k, match.card, lang, match)
            return Reply(
                lang, "emergency", urgent.parts + card.parts, card.buttons, match.card, card.protect, match
            )
        return urgent
    if match.smalltalk:
        return Reply(
            lang,
            "smalltalk",
            (k.languages[lang].smalltalk[match.smalltalk].reply,),
            _footer(k, lang),
            None,
            False,
            match,
        )
    if match.card:
        return card_reply(k, match.card, lang, match)
    if match.alternatives:
        return suggestions_reply(k, lang, match)
    reply = with_helplines(k, lang, "fallback", "fallback")
    return Reply(lang, "fallback", reply.parts, (*_topic_rows(k, lang), *reply.buttons), None, False, match)
