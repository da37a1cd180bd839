"""For NGOs and admins: anonymous figures where no count under 5 is ever shown, and groups of
unanswered questions for editors."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageFont

from bot.store import Count, shown


def _font(size: int) -> ImageFont.FreeTypeFont:
    """Noto Sans, shipped as a Python package, because Pillow's own font has no Cyrillic or Kazakh."""
    import fontpkg
    from PIL import ImageFont

    return ImageFont.truetype(str(fontpkg.path("Noto Sans")), size)


def table(counts: Iterable[Count]) -> list[tuple[str, str, str, str, str]]:
    """Rows (card, lang, outcome, campaign, count) summed over days, counts under 5 masked."""
    totals: Counter[tuple[str, str, str, str]] = Counter()
    for c in counts:
        totals[(c.card or "-", c.lang, c.outcome, c.campaign or "-")] += c.n
    return [(*key, shown(n)) for key, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]


def top_cards(counts: Iterable[Count], limit: int = 10) -> list[tuple[str, int]]:
    totals: Counter[str] = Counter()
    for c in counts:
        if c.card:
            totals[c.card] += c.n
    return totals.most_common(limit)


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @ first)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and value not in ("-",) else value


def csv_text(rows: list[tuple[str, str, str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("card", "lang", "outcome", "campaign", "count"))
    writer.writerows(tuple(_cell(v) for v in row) for row in rows)
    return out.getvalue()


def chart(counts: Iterable[Count]) -> bytes:
    """A PNG bar chart of the most asked topics; bars under 5 are drawn as '<5' at the threshold."""
    from PIL import Image, ImageDraw

    top = top_cards(counts)
    font = _font(16)
    width, row = 720, 34
    image = Image.new("RGB", (width, 30 + row * max(len(top), 1)), "white")
    draw = ImageDraw.Draw(image)
    most = max((max(n, 5) for _, n in top), default=5)
    for i, (card, n) in enumerate(top):
        y = 20 + i * row
        draw.text((20, y + 6), card, fill="black", font=font)
        length = int(380 * max(n, 5) / most)
        draw.rectangle((260, y + 4, 260 + length, y + row - 6), fill="#4a7ebb")
        draw.text((270 + length, y + 6), shown(n), fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def group_similar(texts: list[str], cutoff: float = 60) -> list[list[str]]:
    """Greedy groups of questions that say much the same (rapidfuzz token-set ratio), biggest first."""
    from rapidfuzz import fuzz, process

    from bot.language import fold

    folded = [fold(t) for t in texts]
    left = set(range(len(texts)))
    groups = []
    for i in range(len(texts)):
        if i not in left:
            continue
        members = [
            j
            for _, score, j in process.extract(
                folded[i], folded, scorer=fuzz.token_set_ratio, score_cutoff=cutoff, limit=None
            )
            if j in left
        ]
        members = members if i in members else [i, *members]
        left -= set(members)
        groups.append([texts[j] for j in members])
    return sorted(groups, key=len, reverse=True)
