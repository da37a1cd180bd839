"""For NGOs and admins: anonymous figures where no count under 5 is ever shown, and groups of
unanswered questions for editors."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import segno

if TYPE_CHECKING:
    from PIL import ImageFont

from bot.links import Link
from bot.store import Count, shown


def write_qr(link: Link, folder: Path) -> list[Path]:
    """A poster-ready QR code as PNG and SVG, with the title and the link printed under it."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{link.lang}_{link.card or 'bot'}"
    qr = segno.make(link.url, error="m")
    svg_path, png_path = folder / f"{stem}.svg", folder / f"{stem}.png"
    qr.save(str(svg_path), scale=10, border=4)
    _caption_svg(svg_path, link)
    qr.save(str(png_path), scale=12, border=4)
    _caption_png(png_path, link)
    return [png_path, svg_path]


def _caption_svg(path: Path, link: Link) -> None:
    from xml.sax.saxutils import escape

    text = path.read_text(encoding="utf-8")
    width = int(re.search(r'width="(\d+)"', text).group(1))  # type: ignore[union-attr]
    height = int(re.search(r'height="(\d+)"', text).group(1))  # type: ignore[union-attr]
    extra = 70
    text = re.sub(r'height="\d+"', f'height="{height + extra}"', text, count=1)
    caption = (
        f'<rect x="0" y="{height}" width="{width}" height="{extra}" fill="#fff"/>'
        f'<text x="{width // 2}" y="{height + 25}" font-family="sans-serif" font-size="18" text-anchor="middle">'
        f"{escape(link.title)}</text>"
        f'<text x="{width // 2}" y="{height + 55}" font-family="monospace" font-size="12" text-anchor="middle">'
        f"{escape(link.url)}</text></svg>"
    )
    text = text.replace('viewBox="0 0', 'data-qr="1" viewBox="0 0').replace("</svg>", caption)
    text = re.sub(
        r'viewBox="0 0 (\d+) (\d+)"', lambda m: f'viewBox="0 0 {m[1]} {int(m[2]) + extra // 10}"', text
    )
    path.write_text(text, encoding="utf-8")


def _caption_png(path: Path, link: Link) -> None:
    from PIL import Image, ImageDraw

    qr = Image.open(path).convert("RGB")
    font, small = _font(22), _font(14)
    lines: list[str] = []
    for word in link.title.split():  # wrap the title to the code's width
        if lines and font.getlength(f"{lines[-1]} {word}") <= qr.width - 40:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    poster = Image.new("RGB", (qr.width, qr.height + 30 * len(lines) + 45), "white")
    poster.paste(qr, (0, 0))
    draw = ImageDraw.Draw(poster)
    for n, line in enumerate(lines):
        draw.text((qr.width // 2, qr.height + 10 + 30 * n), line, fill="black", font=font, anchor="mt")
    draw.text((qr.width // 2, poster.height - 25), link.url, fill="black", font=small, anchor="mt")
    poster.save(path)


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


def csv_text(rows: list[tuple[str, str, str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("card", "lang", "outcome", "campaign", "count"))
    writer.writerows(rows)
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
