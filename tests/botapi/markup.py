"""Telegram-flavoured HTML as the Bot API reads it: which tags and attributes it accepts, the plain
text it leaves, and the message entities it reports (offsets in UTF-16 units)."""

from __future__ import annotations

import html
import re
from typing import Any

JSON = dict[str, Any]
# Attributes Telegram accepts on each tag; any other attribute is refused.
ATTRIBUTES = {
    "a": {"href"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "blockquote": {"expandable"},
}
ENTITY_TYPES = {  # each tag Telegram accepts, and the entity it becomes
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
HTML_TAGS = frozenset(ENTITY_TYPES)
ATTR_RE = re.compile(r"([\w-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
TAG_RE = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>")


def parse_html(text: str) -> tuple[str, str | None]:
    """Parses Telegram-flavoured HTML into (plain text, first problem or None)."""
    plain, problem, _ = parse_entities(text)
    return plain, problem


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_entities(text: str) -> tuple[str, str | None, list[JSON]]:
    """Parses Telegram-flavoured HTML into (plain text, first problem or None, message entities with
    offsets and lengths in UTF-16 units, as Telegram reports them)."""
    stack: list[tuple[str, JSON]] = []
    out: list[str] = []
    entities: list[JSON] = []
    pos = length = 0
    while (start := text.find("<", pos)) != -1:
        out.append(chunk := html.unescape(text[pos:start]))
        length += _utf16(chunk)
        if not (tag := TAG_RE.match(text, start)):
            return "", f"can't parse entities: unescaped '<' or malformed tag at offset {start}", []
        closing, name, pos = tag[1] == "/", tag[2].lower(), tag.end()
        if closing:
            if not stack or stack[-1][0] != name:
                return "", f"can't parse entities: unmatched end tag </{name}> at offset {start}", []
            entity = stack.pop()[1]
            if (size := length - entity["offset"]) and entity["type"]:
                entities.append(entity | {"length": size})
            continue
        attrs = {m[1].lower(): (m[2] or "").strip("\"'") for m in ATTR_RE.finditer(tag[3])}
        spoiler = name == "span" and attrs.get("class") == "tg-spoiler"
        if name not in HTML_TAGS or (name == "span" and not spoiler):
            return "", f'can\'t parse entities: unsupported start tag "{name}" at offset {start}', []
        if extra := sorted(set(attrs) - ATTRIBUTES.get(name, set())):
            return (
                "",
                f'can\'t parse entities: unsupported attribute "{extra[0]}" of "{name}" at offset {start}',
                [],
            )
        entity = {"type": ENTITY_TYPES[name], "offset": length}
        if name == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif name == "a" and "href" in attrs:
            entity["url"] = attrs["href"]
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif name == "code" and stack and stack[-1][0] == "pre":  # <pre><code class="language-x">
            stack[-1][1]["language"] = attrs.get("class", "").removeprefix("language-")
            entity["type"] = ""
        stack.append((name, entity))
    if stack:
        return (
            "",
            f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1][0]}\"",
            [],
        )
    out.append(html.unescape(text[pos:]))
    return "".join(out), None, sorted(entities, key=lambda e: (e["offset"], -e["length"]))
