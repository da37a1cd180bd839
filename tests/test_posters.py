"""QR posters as a print shop and a passer-by meet them: the code scans from the printed page and is
big enough, nothing leaves the page, the fonts travel with the files, and a sensitive topic never
shows on a wall."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
import resvg_py
import zxingcpp
from PIL import Image

from bot import content
from bot.content import Card, Contact, ContactText, ContentError, Knowledge, Language
from bot.links import Link, payload
from bot.posters import write_posters

DPI = 72  # enough for a code of 2 mm modules, and quick
MM = DPI / 25.4  # pixels per millimetre at DPI
PHONES = {"emergency-112": "112", "police-102": "102", "ambulance-103": "103", "family-111": "111"}
TEXTS = {
    "kk": {
        "poster_scan": "Телефон камерасымен сканерлеңіз",
        "poster_opens": "Telegram-да бот ашылады: заң туралы сұрақтар және қайда хабарласу керегі, қазақ, орыс және ағылшын тілдерінде.",
        "poster_numbers": "Дәл қазір көмек, тегін:",
        "bot_short_description": "Әйелдер құқықтары мен балалар қауіпсіздігі туралы 2024 жылғы заң және кім көмектеседі. Қауіп төнсе — 112.",
        "report-to-police": "Зорлық туралы полицияға қалай хабарлау керек",
        "safety-plan": "Қауіпсіздік жоспары",
    },
    "ru": {
        "poster_scan": "Наведите камеру телефона",
        "poster_opens": "Откроется бот в Telegram: вопросы о законе и куда обратиться, на казахском, русском и английском.",
        "poster_numbers": "Помощь сейчас, бесплатно:",
        "bot_short_description": "Закон 2024 года о правах женщин и безопасности детей и кто может помочь. В опасности — звоните 112.",
        "report-to-police": "Как сообщить о насилии в полицию",
        "safety-plan": "План безопасности",
    },
    "en": {
        "poster_scan": "Scan with your phone's camera",
        "poster_opens": "It opens the bot in Telegram: questions about the law and whom to call, in Kazakh, Russian and English.",
        "poster_numbers": "Help now, free of charge:",
        "bot_short_description": "The 2024 law on women's rights and child safety, and who can help. In danger now, call 112.",
        "report-to-police": "How to report violence to the police",
        "safety-plan": "A safety plan",
    },
}
NAMES = {  # of the main helplines, in the order of PHONES
    "kk": (
        "Шұғыл қызмет",
        "Полиция",
        "Жедел жәрдем",
        "Отбасы, әйелдер мен балалар мәселелері жөніндегі байланыс орталығы",
    ),
    "ru": (
        "Служба экстренного вызова",
        "Полиция",
        "Скорая помощь",
        "Контакт-центр по вопросам семьи, женщин и детей",
    ),
    "en": (
        "Emergency service",
        "Police",
        "Ambulance",
        "Contact centre for families, women and children",
    ),
}
T = TypeVar("T")
LONG_TITLE = (
    "Әйелдер мен балаларды қорғау туралы заңның барлық жаңа нормалары: қауіпсіздік, құқық, көмек " * 2
)[:140]


def blank(cls: type[T], **given: Any) -> T:
    """A content dataclass with the fields a poster reads and blanks for every other required one:
    content.py is edited elsewhere, and a field added there must not break these tests."""
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in given or f.default is not MISSING or f.default_factory is not MISSING:
            continue
        kind = str(f.type)
        nested = getattr(content, kind, None)
        values[f.name] = (
            blank(nested) if is_dataclass(nested)
            else () if kind.startswith("tuple") else {} if kind.startswith("Mapping")
            else None if "None" in kind else False if kind == "bool" else dt.date(2026, 1, 1) if "date" in kind
            else Path() if kind == "Path" else ""
        )  # fmt: skip
    return cls(**values, **given)


def fixture_knowledge() -> Knowledge:
    """The few strings a poster needs, as the shipped content has them, so these tests do not hang on
    content being edited elsewhere."""
    contacts = {cid: blank(Contact, id=cid, phone=phone, main=True) for cid, phone in PHONES.items()}
    cards = ("report-to-police", "safety-plan")
    languages = {
        lang: blank(
            Language,
            code=lang,
            cards={c: blank(Card, id=c, lang=lang, title=t[c], sensitive=c == "safety-plan") for c in cards},
            contacts={
                cid: blank(ContactText, name=name) for cid, name in zip(PHONES, NAMES[lang], strict=True)
            },
            interface={key: value for key, value in t.items() if key.startswith(("poster_", "bot_"))},
        )
        for lang, t in TEXTS.items()
    }
    return blank(Knowledge, root=Path("content"), contacts=contacts, languages=languages)


K = fixture_knowledge()


def make_link(lang: str, card: str | None, title: str | None = None) -> Link:
    """A link as `links.links` makes it, with a campaign tag: the longest URL an NGO prints."""
    url = f"https://t.me/zanhelp_bot?start={payload(lang, card, 'ngo-almaty-2026')}"
    return Link(lang, card, title or TEXTS[lang][card or "bot_short_description"], url)


@pytest.fixture(scope="module")
def posters(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[Path]]:
    """The card poster and the bare-bot poster in each language, made once for all the tests."""
    folder = tmp_path_factory.mktemp("posters")
    return {
        (lang, card or "bot"): write_posters(K, make_link(lang, card), folder)
        for lang in TEXTS
        for card in ("report-to-police", None)
    }


def pdf_image(path: Path) -> Image.Image:
    return pdfium.PdfDocument(path)[0].render(scale=DPI / 72).to_pil().convert("L")


def svg_image(path: Path) -> Image.Image:
    """Rendered with no system font at all: an SVG that needed one would lose its words here."""
    png = resvg_py.svg_to_bytes(svg_path=str(path), dpi=DPI, background="white", skip_system_fonts=True)
    return Image.open(io.BytesIO(png)).convert("L")


def pdf_text(path: Path) -> str:
    return " ".join(pdfium.PdfDocument(path)[0].get_textpage().get_text_range().split())


def scanned(image: Image.Image) -> tuple[str, float]:
    """What a phone reads from the page, and the code's printed width in cm."""
    (code,) = zxingcpp.read_barcodes(image)
    corners = (
        code.position.top_left,
        code.position.top_right,
        code.position.bottom_left,
        code.position.bottom_right,
    )
    xs = [p.x for p in corners]
    return code.text, (max(xs) - min(xs)) / MM / 10


def blank_margins_mm(image: Image.Image) -> float:
    """The narrowest white band between the page's edge and anything printed."""
    ink = np.asarray(image) < 250
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    height, width = ink.shape
    return float(min(cols[0], width - 1 - cols[-1], rows[0], height - 1 - rows[-1])) / MM


def assert_inside(path: Path, margin_mm: float = 10) -> None:
    """Every text and graphic object of the PDF lies within the page less the margin, and the code is
    vector: there is no bitmap to blur."""
    page = pdfium.PdfDocument(path)[0]
    width, height = page.get_size()
    margin = margin_mm / 25.4 * 72
    objects = list(page.get_objects())
    assert {o.type for o in objects} == {pdfium_raw.FPDF_PAGEOBJ_TEXT, pdfium_raw.FPDF_PAGEOBJ_PATH}
    for o in objects:
        left, bottom, right, top = o.get_bounds()
        assert margin <= left and right <= width - margin and margin <= bottom and top <= height - margin, o


def by_name(paths: list[Path]) -> dict[str, Path]:
    return {p.name.rsplit("_", 1)[1]: p for p in paths}


@pytest.mark.parametrize("size", ["A4", "A5"])
@pytest.mark.parametrize("which", ["report-to-police", "bot"])
@pytest.mark.parametrize("lang", list(TEXTS))
def test_printed_pdf_scans_and_stays_inside(
    posters: dict[tuple[str, str], list[Path]], lang: str, which: str, size: str
) -> None:
    path = by_name(posters[lang, which])[f"{size}.pdf"]
    image = pdf_image(path)
    text, cm = scanned(image)
    assert text == make_link(lang, None if which == "bot" else which).url
    assert cm >= (8.5 if size == "A4" else 4), cm
    assert blank_margins_mm(image) >= 10
    assert_inside(path)


@pytest.mark.parametrize("size", ["A4", "A5"])
@pytest.mark.parametrize("which", ["report-to-police", "bot"])
@pytest.mark.parametrize("lang", list(TEXTS))
def test_svg_needs_no_font_and_matches_the_pdf(
    posters: dict[tuple[str, str], list[Path]], lang: str, which: str, size: str
) -> None:
    files = by_name(posters[lang, which])
    markup = files[f"{size}.svg"].read_text(encoding="utf-8")
    assert "<text" not in markup and "font" not in markup
    image = svg_image(files[f"{size}.svg"])
    text, cm = scanned(image)
    assert text == make_link(lang, None if which == "bot" else which).url and cm >= 4
    assert blank_margins_mm(image) >= 10
    # The outlined words print as much ink as the PDF's real text: no line went missing.
    ink_svg, ink_pdf = (
        float((np.asarray(im) < 128).mean()) for im in (image, pdf_image(files[f"{size}.pdf"]))
    )
    assert ink_svg == pytest.approx(ink_pdf, rel=0.03)


@pytest.mark.parametrize("lang", list(TEXTS))
def test_poster_says_what_content_says_in_an_embedded_font(
    posters: dict[tuple[str, str], list[Path]], lang: str
) -> None:
    path = by_name(posters[lang, "report-to-police"])["A4.pdf"]
    text, t = pdf_text(path), TEXTS[lang]
    url = make_link(lang, "report-to-police").url
    for line in (t["report-to-police"], t["poster_scan"], t["poster_opens"], t["poster_numbers"], url[8:]):
        assert line in text
    for phone, name in zip(PHONES.values(), NAMES[lang], strict=True):
        assert f"{phone} — {name}" in text
    assert "https://" not in text
    objects = pdfium.PdfDocument(path)[0].get_objects()
    fonts = {o.get_font() for o in objects if o.type == pdfium_raw.FPDF_PAGEOBJ_TEXT}
    names = {font.get_base_name() for font in fonts}  # a subset each of the regular and the bold
    assert len(names) == 2 and all(re.fullmatch(r"[A-Z]{6}\+NotoSans\w*", n) for n in names), names
    assert all(font.is_embedded for font in fonts)


@pytest.mark.parametrize("lang", list(TEXTS))
def test_safety_plan_poster_does_not_name_its_topic(
    posters: dict[tuple[str, str], list[Path]], tmp_path: Path, lang: str
) -> None:
    files = by_name(write_posters(K, make_link(lang, "safety-plan"), tmp_path))
    text = pdf_text(files["A4.pdf"])
    assert TEXTS[lang]["safety-plan"] not in text
    assert TEXTS[lang]["bot_short_description"] in text
    # Its SVG words are the bare-bot poster's, all but the short link: no title hides in the outlines.
    words = [set(re.findall(r'<path d="([^"]+)"/>', svg.read_text(encoding="utf-8").split('<g fill="#000">')[1]))
             for svg in (files["A4.svg"], by_name(posters[lang, "bot"])["A4.svg"])]  # fmt: skip
    assert len(words[0] - words[1]) == 1


def test_very_long_title_and_org_name_wrap_inside_the_page(tmp_path: Path) -> None:
    org = "Қоғамдық бірлестік «Әйелдер мен балаларды қорғау орталығы» — Алматы облысы, Қонаев қаласы"
    link = make_link("kk", "report-to-police", LONG_TITLE)
    files = by_name(write_posters(K, link, tmp_path / "new", org=org))
    for size in ("A4", "A5"):
        text = pdf_text(files[f"{size}.pdf"])
        assert " ".join(LONG_TITLE.split()) in text and org in text
        assert_inside(files[f"{size}.pdf"])
        for image in (pdf_image(files[f"{size}.pdf"]), svg_image(files[f"{size}.svg"])):
            url, cm = scanned(image)
            assert url == link.url and cm >= 4
            assert blank_margins_mm(image) >= 10


def test_four_files_named_by_language_card_and_size(posters: dict[tuple[str, str], list[Path]]) -> None:
    names = ["ru_bot_A4.pdf", "ru_bot_A4.svg", "ru_bot_A5.pdf", "ru_bot_A5.svg"]
    assert sorted(p.name for p in posters["ru", "bot"]) == names
    assert all(p.stat().st_size > 0 for p in posters["ru", "bot"])


def test_shipped_content_makes_a_poster(tmp_path: Path) -> None:
    """The real strings fit too; skipped only while content is mid-edit (CI validates it first)."""
    from bot.validation import load

    try:
        k = load()
    except ContentError:
        pytest.skip("the shipped content does not validate right now")
    card = "report-to-police" if "report-to-police" in k.card_ids else None
    title = k.card(card, "kk").title if card else k.text("kk", "bot_short_description")
    link = Link("kk", card, title, make_link("kk", card).url)
    for path in write_posters(k, link, tmp_path):
        if path.suffix == ".pdf":
            assert_inside(path)
            assert scanned(pdf_image(path))[0] == link.url
