"""Deep links: neutral codes for cards, both ways, so a link on a shared phone gives nothing away.

Payloads are `[<lang>_]<card>[__<campaign>]`, where the card is its neutral code (`t3f9a2c`) or,
for links made by hand, its id, and a campaign tag lets an NGO count what its own posters bring.
Parsing applies the same rules as making, so free text typed after /start is never kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.content import LANGS, Knowledge

PAYLOAD_MAX = 64
# A campaign tag: 1-20 letters, digits or '-', never a run of five digits (that could be a phone number).
CAMPAIGN = re.compile(r"^(?!.*\d{5})[A-Za-z0-9][A-Za-z0-9-]{0,19}$")


@dataclass(frozen=True)
class Link:
    lang: str
    card: str | None
    title: str
    url: str


@dataclass(frozen=True)
class Payload:
    """What a /start payload asks for; unknown or free-text parts are simply None or empty."""

    lang: str | None
    card: str | None
    campaign: str


def code(card: str) -> str:
    """A card's neutral link code: stable (derived from the id), and saying nothing of the topic,
    so that "domestic-violence" never shows in a link on a shared phone."""
    return "t" + hashlib.sha256(card.encode()).hexdigest()[:6]


def payload(lang: str | None, card: str | None, campaign: str = "") -> str:
    """The start payload for a card and/or language, within Telegram's 64 characters of [A-Za-z0-9_-]."""
    if campaign and not CAMPAIGN.match(campaign):
        raise ValueError("a campaign tag is 1-20 letters, digits or '-', with at most four digits in a row")
    body = "_".join(part for part in (lang, card and code(card)) if part)
    text = f"{body}__{campaign}" if campaign else body
    if len(text) > PAYLOAD_MAX:
        raise ValueError(f"payload longer than {PAYLOAD_MAX} characters: {text}")
    return text


def parse_payload(text: str, card_ids: Sequence[str]) -> Payload:
    """`[<lang>_]<card>[__<campaign>]` → what it asks for. A campaign is kept only if it has the
    format the bot issues, so a name or a phone number typed after /start is never stored."""
    body, _, campaign = text.partition("__")
    tag = campaign if CAMPAIGN.match(campaign) else ""
    if body in LANGS:
        return Payload(body, None, tag)
    head, sep, rest = body.partition("_")
    lang = head if sep and head in LANGS else None
    wanted = rest if lang else body
    cards = {code(cid): cid for cid in card_ids} | {cid: cid for cid in card_ids}
    card = cards.get(wanted)
    return Payload(lang, card, tag if (lang or card) else "")


def links(k: Knowledge, bot: str, langs: Iterable[str] = LANGS, campaign: str = "") -> list[Link]:
    """The bare bot and every card, per language."""
    out = []
    for lang in langs:
        url = f"https://t.me/{bot}?start={payload(lang, None, campaign)}"
        out.append(Link(lang, None, k.text(lang, "bot_short_description"), url))
        for cid in k.card_ids:
            url = f"https://t.me/{bot}?start={payload(lang, cid, campaign)}"
            out.append(Link(lang, cid, k.card(cid, lang).title, url))
    return out
