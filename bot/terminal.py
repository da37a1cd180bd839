"""The Telegram conversation in a terminal: the same replies, buttons shown as numbered choices.

It is what `scripts/run` starts without a token, so a new contributor sees the bot in seconds.
Collapsed blocks are shown with a bar, as `preview` shows them to editors.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from bot.content import Knowledge
from bot.messages import plain_view
from bot.replies import Button, Reply, answer, command, press, start_reply
from bot.understanding import Understander

QUIT = ("/quit", "/exit")


def show(reply: Reply) -> list[Button]:
    for part in reply.parts:
        print(plain_view(part), end="\n\n")
    buttons = [b for row in reply.buttons for b in row]
    for n, button in enumerate(buttons, 1):
        print(f"  [{n}] {button.label}")
    return buttons


def _lines() -> Iterator[str]:
    """Lines typed at a prompt, or piped in; ends quietly at end of input or Ctrl-C."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return


def chat(k: Knowledge, understander: Understander, lang: str) -> int:
    """Read lines until /quit or end of input; a number presses the button of that number."""
    buttons = show(start_reply(k, lang))
    print(k.text(lang, "terminal_hint"))
    for line in _lines():
        text = line.strip()
        if not text:
            continue
        if text.casefold() in QUIT:
            break
        if text.isdigit() and len(text) <= 2:
            if not 0 < int(text) <= len(buttons):
                print(k.text(lang, "terminal_choose", count=len(buttons)))
                continue
            reply = press(k, buttons[int(text) - 1].action, lang)
        elif text.startswith("/"):
            reply = command(k, text.split()[0][1:].split("@")[0].casefold(), lang)
        else:
            reply = answer(k, understander, text, lang)
        if reply.effect and reply.effect[0] == "set_language":
            lang = reply.effect[1]
        print()
        buttons = show(reply)
    print(k.text(lang, "terminal_bye"))
    return 0
