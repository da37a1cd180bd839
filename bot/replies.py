"""Every reply the bot gives, channel-neutral: HTML parts, at most six buttons, and what the channel
must also do (store a language, count a number that did not answer, erase the chat) as data.

The Telegram layer and the terminal chat both render these and neither writes a sentence of its
own. Every reply that is not a card ends with the main numbers; a card ends with its own.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from babel import Locale

from bot.content import CATEGORIES, LANGS, Knowledge
from bot.messages import contact_lines, render_card, split
from bot.understanding import Understander, Understanding

Kind = Literal[
    "start",
    "language",
    "topics",
    "helplines",
    "card",
    "emergency",
    "smalltalk",
    "suggestions",
    "several",
    "fallback",
    "off_topic",
    "numbers",
    "forget",
    "next_number",
    "help",
    "not_text",
    "error",
    "slow",
]  # fmt: skip  -- also the `outcome` column of the anonymous counts
Effect = tuple[Literal["set_language", "report_number", "erase"], str]
MAX_BUTTONS = 6
PAGE = 4  # cards per page of a topic menu, with "more" and "back" under them
LONG_TEXT = 1500  # past this many characters a message is read from its beginning and its end

# Button actions, short and stable, because old buttons stay in people's chats.
CARD, CATEGORY, LANG, NUMBER, NUMBER_FAILED = "card:", "cat:", "lang:", "number:", "number-failed:"
TOPICS, HELPLINES, FORGET = "topics", "helplines", "forget"


@dataclass(frozen=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True, kw_only=True)
class Reply:
    """What the bot says: HTML parts, buttons under the last part, the cards it shows (the main
    one first) and what the channel must also do."""

    lang: str
    kind: Kind
    parts: tuple[str, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    cards: tuple[str, ...] = ()
    protect: bool = False
    effect: Effect | None = None
    understanding: Understanding | None = field(default=None, compare=False)

    @property
    def card(self) -> str | None:
        return self.cards[0] if self.cards else None


def _rows(*groups: Iterable[Button], per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    """Buttons in rows, each destination once, at most MAX_BUTTONS in all."""
    seen: set[str] = set()
    rows: list[tuple[Button, ...]] = []
    count = 0
    for group in groups:
        row: list[Button] = []
        for button in group:
            same = {button.action, HELPLINES if button.action == CARD + "helplines" else button.action}
            if seen & same or count == MAX_BUTTONS:
                continue
            seen |= same
            row.append(button)
            count += 1
        rows += [tuple(row[i : i + per_row]) for i in range(0, len(row), per_row)]
    return tuple(r for r in rows if r)


def _footer(k: Knowledge, lang: str, topics: bool = True) -> list[Button]:
    buttons = [Button(k.text(lang, "topics_button"), TOPICS)] if topics else []
    return [*buttons, Button(k.text(lang, "helplines_button"), HELPLINES)]


def _forget(k: Knowledge, lang: str) -> list[Button]:
    return [Button(k.text(lang, "forget_button"), FORGET)]


def _card_buttons(k: Knowledge, lang: str, ids: Iterable[str]) -> list[Button]:
    return [Button(k.card(cid, lang).title, CARD + cid) for cid in ids if cid in k.languages[lang].cards]


def _numbers(k: Knowledge, lang: str, skip: Iterable[str] = ()) -> str:
    left = [c for c in k.main_contacts() if c not in set(skip)]
    return contact_lines(k, lang, left, full=False)


def with_numbers(
    k: Knowledge, lang: str, kind: Kind, text: str, rows: tuple[tuple[Button, ...], ...] = ()
) -> Reply:
    """A short line followed by the main numbers: the shape of every reply that is not a card."""
    buttons = rows or _rows([*_footer(k, lang), *_forget(k, lang)], per_row=2)
    return Reply(lang=lang, kind=kind, parts=split(f"{text}\n\n{_numbers(k, lang)}"), buttons=buttons)


def card_reply(
    k: Knowledge, card_id: str, lang: str, also: Iterable[str] = (), shown: Iterable[str] = ()
) -> Reply:
    """A card; `also` are other topics recognised in the message, `shown` numbers already given."""
    card = k.card(card_id, lang)
    extra = [c for c in also if c != card_id]
    related = _card_buttons(k, lang, [*extra, *card.related][: 3 if extra else 2])
    phones = (
        [Button(k.text(lang, "didnt_work_button"), NUMBER + card_id)]
        if any(k.contacts[c].phone for c in card.contacts)
        else []
    )
    rows = _rows(related, phones, _footer(k, lang, topics=True), _forget(k, lang))
    text = render_card(k, card, shown)
    return Reply(
        lang=lang,
        kind="card",
        parts=split(text),
        buttons=rows,
        cards=(card_id, *extra),
        protect=card.sensitive,
    )


def emergency_text(k: Knowledge, kinds: Iterable[str], lang: str) -> tuple[str, list[str]]:
    """Numbers first, one sentence each, then where to go; with several kinds, each number once."""
    emergencies = [k.languages[lang].emergency[kind] for kind in kinds]
    lines, shown = [], []
    for emergency in emergencies:
        for cid, say in emergency.numbers:
            if cid not in shown:
                shown.append(cid)
                lines.append(f"📞 <b>{html.escape(k.contacts[cid].phone or '')}</b> — {say}")
    return "\n".join(lines) + "\n\n" + emergencies[0].reply, shown


def emergency_reply(
    k: Knowledge, kinds: tuple[str, ...], lang: str, card: str | None = None, child: bool = False
) -> Reply:
    """Nothing comes before the numbers; the card the message was about follows them (for a
    child, after a line for them and the numbers for children)."""
    text, shown = emergency_text(k, kinds, lang)
    if card:
        after = child_reply(k, card, lang, shown) if child else card_reply(k, card, lang, shown=shown)
        return dataclasses.replace(after, kind="emergency", parts=(*split(text), *after.parts))
    return Reply(
        lang=lang,
        kind="emergency",
        parts=split(text),
        buttons=_rows([*_footer(k, lang), *_forget(k, lang)], per_row=2),
    )


def child_reply(k: Knowledge, card: str, lang: str, shown: Iterable[str] = ()) -> Reply:
    """A child writing about themselves: a line for them and the numbers for children, then the card."""
    first = [cid for cid, c in k.contacts.items() if c.children and c.phone and cid not in set(shown)]
    head = f"{k.text(lang, 'child_first')}\n{contact_lines(k, lang, first, full=False)}"
    after = card_reply(k, card, lang, shown=[*shown, *first])
    return dataclasses.replace(after, parts=(head, *after.parts))


def helplines_reply(k: Knowledge, lang: str) -> Reply:
    text = f"<b>{k.text(lang, 'helplines_title')}</b>\n\n{contact_lines(k, lang, k.main_contacts())}"
    rows = _rows(
        _card_buttons(k, lang, ["helplines"]),
        [Button(k.text(lang, "topics_button"), TOPICS)],
        _forget(k, lang),
    )
    return Reply(lang=lang, kind="helplines", parts=split(text), buttons=rows)


def numbers_reply(k: Knowledge, card_id: str, lang: str) -> Reply:
    """Which of a card's numbers did not answer: one button each."""
    phones = [c for c in k.card(card_id, lang).contacts if k.contacts[c].phone]
    buttons = [
        Button(
            f"📞 {k.contacts[c].phone} · {k.languages[lang].contacts[c].name}"[:60],
            f"{NUMBER_FAILED}{c}:{card_id}",
        )
        for c in phones
    ]
    rows = _rows(buttons, [Button(k.text(lang, "back_button"), CARD + card_id)])
    return Reply(lang=lang, kind="numbers", parts=(k.text(lang, "which_number"),), buttons=rows)


def next_number_reply(k: Knowledge, contact: str, card_id: str | None, lang: str) -> Reply:
    """Thanks in one line, then the next numbers to try for the same need: never a dead end."""
    card = k.languages[lang].cards.get(card_id or "")
    nexts = [*k.contacts[contact].next, *(c for c in (card.contacts if card else ()) if k.contacts[c].phone)]
    nexts = [c for c in dict.fromkeys(nexts) if c != contact] or [
        c for c in k.main_contacts() if c != contact
    ]
    text = f"{k.text(lang, 'didnt_work_thanks')}\n{k.text(lang, 'try_next')}\n{contact_lines(k, lang, nexts)}"
    back = [Button(card.title, CARD + card.id)] if card else []
    rows = _rows(back, [Button(k.text(lang, "helplines_button"), HELPLINES)], _forget(k, lang))
    return Reply(
        lang=lang, kind="next_number", parts=split(text), buttons=rows, effect=("report_number", contact)
    )


def language_buttons() -> list[Button]:
    return [Button((Locale.parse(c).get_display_name(c) or c).capitalize(), LANG + c) for c in LANGS]


def start_reply(k: Knowledge, lang: str) -> Reply:
    rows = (tuple(language_buttons()), *_rows([*_footer(k, lang), *_forget(k, lang)], per_row=2))
    return Reply(lang=lang, kind="start", parts=(k.text(lang, "start"),), buttons=rows)


def language_reply(k: Knowledge, lang: str) -> Reply:
    return Reply(
        lang=lang,
        kind="language",
        parts=(k.text(lang, "choose_language"),),
        buttons=(tuple(language_buttons()),),
    )


def _categories(k: Knowledge, lang: str) -> list[Button]:
    used = [c for c in CATEGORIES if any(card.category == c for card in k.languages[lang].cards.values())]
    return [Button(k.text(lang, f"category_{c}"), CATEGORY + c) for c in used]


def topics_reply(k: Knowledge, lang: str) -> Reply:
    return Reply(
        lang=lang,
        kind="topics",
        parts=(k.text(lang, "topics_title"),),
        buttons=_rows(_categories(k, lang), per_row=2),
    )


def category_reply(k: Knowledge, lang: str, category: str, page: int = 0) -> Reply:
    """A topic's cards, PAGE at a time, with "more" and "back" under them."""
    cards = sorted(
        (c for c in k.languages[lang].cards.values() if c.category == category), key=lambda c: c.title
    )
    shown = cards[page * PAGE : (page + 1) * PAGE]
    more = (
        [Button(k.text(lang, "more_button"), f"{CATEGORY}{category}:{page + 1}")]
        if len(cards) > (page + 1) * PAGE
        else []
    )
    rows = _rows(
        [Button(c.title, CARD + c.id) for c in shown], more, [Button(k.text(lang, "back_button"), TOPICS)]
    )
    return Reply(
        lang=lang, kind="topics", parts=(f"<b>{k.text(lang, f'category_{category}')}</b>",), buttons=rows
    )


def help_reply(k: Knowledge, lang: str) -> Reply:
    return Reply(
        lang=lang, kind="help", parts=(k.text(lang, "help"),), buttons=_rows(_footer(k, lang), per_row=2)
    )


def forget_reply(k: Knowledge, lang: str) -> Reply:
    return Reply(lang=lang, kind="forget", parts=(k.text(lang, "forget_done"),), effect=("erase", ""))


def slow_reply(k: Knowledge, lang: str) -> Reply:
    return Reply(lang=lang, kind="slow", parts=(k.text(lang, "slow_down"),))


def not_text_reply(k: Knowledge, lang: str) -> Reply:
    return with_numbers(k, lang, "not_text", k.text(lang, "not_text"))


def error_reply(k: Knowledge, lang: str) -> Reply:
    return with_numbers(k, lang, "error", k.text(lang, "error"))


# One table of commands for the Telegram handlers, the terminal and command registration.
COMMANDS: dict[str, Callable[[Knowledge, str], Reply]] = {
    "start": start_reply,
    "topics": topics_reply,
    "helplines": helplines_reply,
    "language": language_reply,
    "help": help_reply,
    "privacy": lambda k, lang: card_reply(k, "about", lang),
    "forget": forget_reply,
}


def command(k: Knowledge, name: str, lang: str) -> Reply:
    """The reply to a command; an unknown one gets the help."""
    return COMMANDS.get(name, help_reply)(k, lang)


def press(k: Knowledge, action: str, lang: str) -> Reply:
    """The reply to a pressed button, for every channel, with its effect as data. Unknown actions
    (old buttons, forged data) get the topics menu."""
    verb, _, arg = action.partition(":")
    cards = k.languages[lang].cards
    if verb + ":" == LANG and arg in LANGS:
        text = k.text(arg, "language_set")
        return dataclasses.replace(start_reply(k, arg), parts=(text,), effect=("set_language", arg))
    if verb + ":" == CARD and arg in cards:
        return card_reply(k, arg, lang)
    if verb + ":" == CATEGORY:
        name, _, page = arg.partition(":")
        if name in CATEGORIES:
            return category_reply(k, lang, name, int(page) if page.isdigit() and int(page) < 20 else 0)
    if action == HELPLINES:
        return helplines_reply(k, lang)
    if action == FORGET:
        return forget_reply(k, lang)
    if verb + ":" == NUMBER and arg in cards:
        return numbers_reply(k, arg, lang)
    if verb + ":" == NUMBER_FAILED:
        contact, _, card = arg.partition(":")
        if contact in k.contacts and k.contacts[contact].phone:
            return next_number_reply(k, contact, card or None, lang)
    return topics_reply(k, lang)


def answer(k: Knowledge, understander: Understander, text: str, chosen: str) -> Reply:
    """The reply to a free-text message, saying so when only its beginning and end were read."""
    u = understander.read(text, chosen)
    reply = dataclasses.replace(_answer(k, u), understanding=u)
    if len(text) > LONG_TEXT and not u.emergency:  # nothing may come before emergency numbers
        note = k.text(reply.lang, "too_long")
        return dataclasses.replace(reply, parts=(f"{note}\n\n{reply.parts[0]}", *reply.parts[1:]))
    return reply


def _answer(k: Knowledge, u: Understanding) -> Reply:
    """Emergency numbers, small talk, a card (the child's path first), topics, suggestions or none."""
    lang = u.lang
    if u.emergency:
        card = u.cards[0] if u.mode in ("card", "topics", "suggestions") and u.cards else None
        return emergency_reply(k, u.emergency, lang, card, u.child)
    if u.smalltalk == "erase":
        smalltalk = k.languages[lang].smalltalk["erase"].reply
        return Reply(lang=lang, kind="smalltalk", parts=(smalltalk,), buttons=_rows(_forget(k, lang)))
    if u.smalltalk:
        return with_numbers(k, lang, "smalltalk", k.languages[lang].smalltalk[u.smalltalk].reply)
    if u.mode == "card" and u.child:
        return child_reply(k, u.cards[0], lang)
    if u.mode == "card":
        return card_reply(k, u.cards[0], lang, also=u.cards[1:])
    if u.mode in ("topics", "suggestions") and u.cards:
        key = "several_topics" if u.mode == "topics" else "suggestions"
        kind: Kind = "several" if u.mode == "topics" else "suggestions"
        rows = _rows(
            _card_buttons(k, lang, u.cards[:3]),
            [Button(k.text(lang, "topics_button"), TOPICS)],
            _forget(k, lang),
        )
        return dataclasses.replace(with_numbers(k, lang, kind, k.text(lang, key), rows), cards=u.cards[:3])
    if u.mode == "off_topic":
        return with_numbers(k, lang, "off_topic", k.text(lang, "off_topic"))
    rows = _rows(_categories(k, lang)[:4], _footer(k, lang, topics=True), _forget(k, lang), per_row=2)
    return with_numbers(k, lang, "fallback", k.text(lang, "fallback"), rows)
