"""The Telegram conversation in a terminal: the same replies, buttons shown as numbered choices.

It is what `scripts/run` starts without a token, so a new contributor sees the bot in seconds.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterator

from bot.content import Knowledge
from bot.matching import Matcher
from bot.replies import (
    Button,
    Reply,
    answer,
    card_reply,
    helplines_reply,
    language_reply,
    press,
    start_reply,
    topics_reply,
)

_TAG = re.compile(r"<[^>]+>")
_COMMANDS = {"/start", "/topics", "/helplines", "/language", "/help", "/privacy", "/forget"}


def plain(text: str) -> str:
    """Telegram HTML as terminal text: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def show(reply: Reply) -> list[Button]:
    for part in reply.parts:
        print(plain(part), end="\n\n")
    buttons = [b for row in reply.buttons for b in row]
    for n, button in enumerate(buttons, 1):
        print(f"  [{n}] {button.label}")
    return buttons


def command(k: Knowledge, name: str, lang: str) -> Reply:
    return {
        "/start": lambda: start_reply(k, lang),
        "/topics": lambda: topics_reply(k, lang),
        "/helplines": lambda: helplines_reply(k, lang),
        "/language": lambda: language_reply(k, lang),
        "/help": lambda: Reply(lang, "help", (k.text(lang, "help"),)),
        "/privacy": lambda: card_reply(k, "about", lang),
        "/forget": lambda: Reply(lang, "forget", (k.text(lang, "forget_done"),)),
    }[name]()


def _lines() -> Iterator[str]:
    """Lines typed at a prompt, or piped in; ends quietly at end of input."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("> ")
        except EOFError:
            return


def chat(k: Knowledge, lang: str) -> int:
    """Read lines until end of input; a number presses the button of that number."""
    matcher = Matcher(k)
    buttons = show(start_reply(k, lang))
    for line in _lines():
        text = line.strip()
        if not text:
            continue
        if text.isdigit() and 0 < int(text) <= len(buttons):
            reply = press(k, buttons[int(text) - 1].action, lang)
            lang = reply.lang
        elif text.split()[0] in _COMMANDS:
            reply = command(k, text.split()[0], lang)
        else:
            reply = answer(k, matcher, text, lang)
        print()
        buttons = show(reply)
    return 0
