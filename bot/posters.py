"""Print-ready QR posters for NGOs: A4 and A5 pages, each as PDF and SVG, for one deep link.

Every word comes from content. The font (Noto Sans, which covers Kazakh) travels with the file:
embedded in the PDF, outlined as paths in the SVG, so no print shop or viewer needs it installed.
Layout uses the font's own advance widths, and text shrinks until the page holds all of it.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import astuple, dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, NamedTuple

import fontpkg
import segno
from fontTools import subset  # type: ignore[import-untyped]
from fontTools.pens.recordingPen import RecordingPen  # type: ignore[import-untyped]
from fontTools.pens.svgPathPen import SVGPathPen  # type: ignore[import-untyped]
from fontTools.pens.transformPen import TransformPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fontTools.varLib import instancer  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import PathPaintRule

from bot.content import Knowledge
from bot.links import Link

PT = 25.4 / 72  # millimetres per point
MARGIN = 12.0  # mm on every side, above the 10 mm a print shop asks for
PAGES = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
QR_SHARE = 0.55  # the code with its quiet zone per page width: the code alone is 87-93 mm on A4, 61-66 on A5
# Font sizes on A4 in points; A5 scales them by its width, and a page too full shrinks them.
SIZE = {"head": 30, "scan": 20, "link": 14, "opens": 14, "heading": 17, "number": 28, "name": 16, "org": 20}
LEAD, ASCENT, DESCENT = 1.25, 0.95, 0.3  # per font size: line step, room above and below a baseline
# (headline, rest) scales to try, best first: the headline gives way before the numbers do.
SCALES = [(h / 20, 1.0) for h in range(20, 13, -1)] + [(0.7 * b / 20, b / 20) for b in range(19, 7, -1)]
Box = tuple[float, float, float, float]  # x, y, width, height in mm from the top left


def num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".")


class Face:
    """One static weight of the font: advance widths for layout, outlines for SVG, a file for PDF."""

    def __init__(self, font: Any, path: Path) -> None:
        font.save(path)
        self.path, self.em = path, float(font["head"].unitsPerEm)
        self.cmap, self.glyphs = font.getBestCmap(), font.getGlyphSet()
        self.advance = {n: float(a) for n, (a, _) in font["hmtx"].metrics.items()}
        self.shapes: dict[str, Any] = {}  # glyph outlines, recorded once and replayed at each use

    def names(self, text: str) -> list[str]:
        return [self.cmap.get(ord(ch), ".notdef") for ch in text]

    def width(self, text: str, size: float) -> float:
        """In mm: the sum of the advances, as the PDF sets the line (no kerning, no shaping)."""
        return sum(self.advance[n] for n in self.names(text)) * size * PT / self.em

    def outline(self, text: str, size: float, x: float, y: float) -> str:
        """SVG path data of the line in mm, so that the SVG needs no font at all."""
        pen, k = SVGPathPen(self.glyphs, num), size * PT / self.em
        for name in self.names(text):
            if name not in self.shapes:
                self.shapes[name] = RecordingPen()
                self.glyphs[name].draw(self.shapes[name])
            self.shapes[name].replay(TransformPen(pen, (k, 0, 0, -k, x, y)))
            x += self.advance[name] * k
        return str(pen.getCommands())


def faces(text: str, folder: Path) -> dict[bool, Face]:
    """Regular and bold static instances of the variable Noto Sans, each cut to the page's characters
    first: instancing the whole font takes seconds, the cut one milliseconds."""
    out = {}
    for bold, weight in ((False, 400), (True, 700)):
        font = TTFont(io.BytesIO(fontpkg.path("Noto Sans").read_bytes()), lazy=True)  # no file left open
        options = subset.Options(hinting=False, notdef_outline=True)
        options.drop_tables += ["GDEF", "GPOS", "GSUB"]  # no shaping: Cyrillic and Latin need none
        cutter = subset.Subsetter(options)
        cutter.populate(text=text)
        cutter.subset(font)
        axes = {"wght": weight, "wdth": 100}
        instancer.instantiateVariableFont(font, axes, inplace=True, static=True, updateFontNames=True)
        out[bold] = Face(font, folder / f"{weight}.ttf")
    return out


class Line(NamedTuple):
    """One line of text, placed by the left end of its baseline (mm from the top left)."""

    x: float
    y: float
    size: float
    bold: bool
    text: str


@dataclass
class Block:
    """A piece of the page laid out from its own top, moved down the page by `place`."""

    height: float
    lines: list[Line] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)  # filled black
    frames: list[Box] = field(default_factory=list)  # outlined

    def place(self, dy: float) -> Block:
        move = [[(x, y + dy, w, h) for x, y, w, h in boxes] for boxes in (self.boxes, self.frames)]
        return Block(self.height, [li._replace(y=li.y + dy) for li in self.lines], *move)


@dataclass(frozen=True)
class Texts:
    """Everything a poster says, in the link's language."""

    url: str
    head: str
    scan: str
    link: str
    opens: str
    heading: str
    rows: list[tuple[str, str]]  # (phone, name) of each main helpline
    org: str

    def chars(self) -> str:
        return " —" + "".join(map(str, astuple(self)))


def texts(k: Knowledge, link: Link, org: str) -> Texts:
    """A sensitive card (the safety plan) and the bare bot get the neutral description as headline:
    a poster on a wall must not tell an abuser walking past what it is about."""
    lang, card = link.lang, link.card and k.card(link.card, link.lang)
    head = link.title if card and not card.sensitive else k.text(lang, "bot_short_description")
    contacts = [(k.contacts[cid].phone, k.languages[lang].contacts[cid].name) for cid in k.main_contacts()]
    rows = [(phone, name) for phone, name in contacts if phone]
    scan, opens, heading = (k.text(lang, key) for key in ("poster_scan", "poster_opens", "poster_numbers"))
    return Texts(link.url, head, scan, link.url.removeprefix("https://"), opens, heading, rows, org)


def wrap(text: str, face: Face, size: float, width: float) -> list[str] | None:
    """Greedy word wrap by the font's advances, a dash kept with the word before it and a one-letter
    word (a Russian preposition or "and") with the word after it; None when a word is wider than the line."""
    words: list[str] = []
    for word in text.split():
        last = words[-1].rsplit(" ", 1)[-1] if words else ""
        glue = word in "—–" or (len(last) == 1 and last.isalpha())
        words += [f"{words.pop()} {word}"] if words and glue else [word]
    lines: list[str] = []
    space, used = face.width(" ", size), 0.0
    for word in words:
        wide = face.width(word, size)
        if wide > width:
            return None
        if lines and used + space + wide <= width:
            lines[-1] += f" {word}"
            used += space + wide
        else:
            lines.append(word)
            used = wide
    return lines


def balanced(text: str, face: Face, size: float, width: float) -> list[str] | None:
    """As many lines as greedy wrapping needs, but as even as they go: no lone word on the last line."""
    rows = wrap(text, face, size, width)
    low = width / 2
    while rows and width - low > 0.5:
        mid = (low + width) / 2
        tried = wrap(text, face, size, mid)
        low, width, rows = (
            (mid, width, rows) if tried is None or len(tried) > len(rows) else (low, mid, tried)
        )
    return rows


def paragraph(
    text: str, f: dict[bool, Face], bold: bool, size: float, left: float, width: float
) -> Block | None:
    """Lines centred in [left, left + width]; None if the text cannot wrap at this size."""
    face = f[bold]
    rows = balanced(text, face, size, width)
    if rows is None:
        return None
    step = size * PT * LEAD
    lines = [
        Line(left + (width - face.width(r, size)) / 2, size * PT * ASCENT + n * step, size, bold, r)
        for n, r in enumerate(rows)
    ]
    return Block(step * (len(rows) - 1) + size * PT * (ASCENT + DESCENT), lines)


def numbers(
    rows: list[tuple[str, str]], f: dict[bool, Face], scale: float, left: float, width: float
) -> Block | None:
    """One row per helpline, "112 — name": numbers big and bold in a right-aligned column, and each
    name wrapped beside its number; the whole table is centred."""
    if not rows:
        return Block(0.0)
    big, small, regular = SIZE["number"] * scale, SIZE["name"] * scale, f[False]
    column, dash = max(f[True].width(p, big) for p, _ in rows), regular.width(" — ", small)
    wrapped = [wrap(name, regular, small, width - column - dash) for _, name in rows]
    names = [parts for parts in wrapped if parts is not None]
    if len(names) < len(rows):
        return None
    used = column + dash + max(regular.width(part, small) for parts in names for part in parts)
    x, block = left + (width - used) / 2, Block(0.0)
    for (phone, _), parts in zip(rows, names, strict=True):
        base = block.height + big * PT * ASCENT
        block.lines.append(Line(x + column - f[True].width(phone, big), base, big, True, phone))
        for n, part in enumerate(parts):
            at, text = (x + column + dash, part) if n else (x + column, f" — {part}")
            block.lines.append(Line(at, base + n * small * PT * LEAD, small, False, text))
        below = max(big * PT * DESCENT, (len(parts) - 1) * small * PT * LEAD + small * PT * DESCENT)
        block.height = base + below + small * PT * 0.4
    return block


def qr_code(url: str, width: float) -> Block:
    """The code's dark modules as boxes, row runs merged, with the four-module quiet zone kept clear."""
    qr = segno.make(url, error="m")
    n = qr.symbol_size(border=0)[0]
    m = width * QR_SHARE / (n + 8)
    left, block = (width - m * n) / 2, Block(m * (n + 8))
    for r, row in enumerate(qr.matrix_iter(border=0)):
        c = 0
        for dark, run in groupby(row):
            start, c = c, c + len(list(run))
            if dark:
                block.boxes.append((left + start * m, (4 + r) * m, (c - start) * m, m))
    return block


def frame(org: str, f: dict[bool, Face], page_scale: float, left: float, width: float) -> Block | None:
    """A framed blank for the NGO's name, or for a sticker or pen when there is none yet."""
    height, pad = 24 * page_scale, 3 * page_scale
    box = Block(height, frames=[(left, 0.0, width, height)])
    for tenth in range(10, 2, -1) if org else ():
        name = paragraph(org, f, True, SIZE["org"] * page_scale * tenth / 10, left + pad, width - 2 * pad)
        if name and name.height <= height - 2 * pad:
            box.lines = name.place((height - name.height) / 2).lines
            return box
    return None if org else box


def layout(t: Texts, f: dict[bool, Face], width: float, height: float) -> list[Block]:
    """Headline, code, scan line, short link, what it opens, the numbers and the NGO frame, top to
    bottom at the largest sizes that fit; spare height goes to the gaps between the groups."""
    s, inner = width / 210, width - 2 * MARGIN
    code = qr_code(t.url, width)
    for hs, bs in SCALES:
        parts = [
            paragraph(t.head, f, True, SIZE["head"] * s * hs, MARGIN, inner),
            code,
            paragraph(t.scan, f, True, SIZE["scan"] * s * bs, MARGIN, inner),
            paragraph(t.link, f, False, SIZE["link"] * s * bs, MARGIN, inner),
            paragraph(t.opens, f, False, SIZE["opens"] * s * bs, MARGIN, inner),
            paragraph(t.heading, f, True, SIZE["heading"] * s * bs, MARGIN, inner),
            numbers(t.rows, f, s * bs, MARGIN, inner),
            frame(t.org, f, s, MARGIN, inner),
        ]
        gaps = [g * s for g in (2, 0, 1.5, 2, 6, 2, 6)]  # before each part after the first
        stretch = (0, 3, 5)  # the gaps that share the spare height
        blocks = [p for p in parts if p is not None]
        spare = height - 2 * MARGIN - sum(b.height for b in blocks) - sum(gaps)
        if len(blocks) < len(parts) or spare < 0:
            continue
        y, placed = MARGIN, [blocks[0].place(MARGIN)]
        for n, block in enumerate(blocks[1:]):
            y += placed[-1].height + gaps[n] + (spare / len(stretch) if n in stretch else 0)
            placed.append(block.place(y))
        return placed
    raise ValueError(f"the poster's texts do not fit on {width:g} x {height:g} mm even at the smallest size")


def write_pdf(
    blocks: list[Block], f: dict[bool, Face], size: tuple[float, float], lang: str, path: Path
) -> None:
    """Real text in an embedded subset of the font, so a print shop gets it sharp and searchable."""
    pdf = FPDF(unit="mm", format=size)
    pdf.set_auto_page_break(False)
    pdf.set_lang(lang)
    for bold, face in f.items():
        pdf.add_font("NotoSans", "B" if bold else "", face.path)
    pdf.add_page()
    for line in (li for b in blocks for li in b.lines):
        pdf.set_font("NotoSans", "B" if line.bold else "", line.size)
        pdf.text(line.x, line.y, line.text)
    with pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as shape:
        shape.style.fill_color = "#000000"
        for x, y, w, h in (box for b in blocks for box in b.boxes):
            shape.rectangle(x, y, w, h)
    pdf.set_line_width(0.5)
    for x, y, w, h in (box for b in blocks for box in b.frames):
        pdf.rect(x, y, w, h)
    pdf.output(str(path))


def svg(blocks: list[Block], f: dict[bool, Face], size: tuple[float, float]) -> str:
    """All text as outlined paths: the file looks the same on any machine and in any print shop."""
    w, h = (num(v) for v in size)
    modules = "".join(
        f"M{num(x)} {num(y)}h{num(bw)}v{num(bh)}h-{num(bw)}z" for b in blocks for x, y, bw, bh in b.boxes
    )
    frames = "".join(
        f'<rect x="{num(x)}" y="{num(y)}" width="{num(fw)}" height="{num(fh)}" fill="none" stroke="#000" stroke-width="0.5"/>'
        for b in blocks
        for x, y, fw, fh in b.frames
    )
    words = "".join(
        f'<path d="{f[li.bold].outline(li.text, li.size, li.x, li.y)}"/>' for b in blocks for li in b.lines
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}">'
        f'<rect width="{w}" height="{h}" fill="#fff"/><path fill="#000" d="{modules}"/>{frames}'
        f'<g fill="#000">{words}</g></svg>\n'
    )


def write_posters(k: Knowledge, link: Link, folder: Path, org: str = "") -> list[Path]:
    """`<lang>_<card or bot>_A4.pdf`, `_A4.svg`, `_A5.pdf` and `_A5.svg` in `folder`, for one link."""
    folder.mkdir(parents=True, exist_ok=True)
    t, stem, out = texts(k, link, org), f"{link.lang}_{link.card or 'bot'}", []
    with tempfile.TemporaryDirectory() as tmp:
        f = faces(t.chars(), Path(tmp))
        for name, size in PAGES.items():
            blocks = layout(t, f, *size)
            pdf_path, svg_path = folder / f"{stem}_{name}.pdf", folder / f"{stem}_{name}.svg"
            write_pdf(blocks, f, size, link.lang, pdf_path)
            svg_path.write_text(svg(blocks, f, size), encoding="utf-8")
            out += [pdf_path, svg_path]
    return out
