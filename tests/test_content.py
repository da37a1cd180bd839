"""The loader and the validator, as an editor meets them: one test per kind of mistake."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

import pytest

from bot.content import DEFAULT_CONTENT, LANGS, ContentError
from bot.messages import VISIBLE, render_card, visible
from bot.reading import read
from bot.validation import coverage, load, validate

CATALOGUE = Path(__file__).resolve().parents[2] / "shared" / "content-catalogue.md"
SMALL = ("battery", "helplines", "about", "police", "report-to-police", "child-abuse", "helping-someone")


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A small copy of the shipped content: a few cards, all the shared files."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT, root, ignore=shutil.ignore_patterns("*.md"))
    for lang in LANGS:
        for card in (root / lang / "cards").glob("*.yaml"):
            if card.stem not in SMALL:
                card.unlink()
    keep = set(SMALL)
    for card in root.glob("*/cards/*.yaml"):  # related cards outside the small set would not resolve
        text = card.read_text(encoding="utf-8")
        related = "related: [" + ", ".join(sorted(keep - {card.stem})[:2]) + "]"
        text = re.sub(r"^related: \[.*\]$", related, text, flags=re.M)
        card.write_text(text, encoding="utf-8")
    return root


def problems(root: Path) -> list[str]:
    return [str(p) for p in validate(read(root))]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line
    )


def test_shipped_content_is_valid() -> None:
    assert problems(DEFAULT_CONTENT) == []


def test_every_catalogue_card_exists_in_every_language() -> None:
    if not CATALOGUE.exists():
        pytest.skip("shared/content-catalogue.md is not beside the project")
    ids = set(re.findall(r"^\| `([a-z0-9-]+)` \|", CATALOGUE.read_text(encoding="utf-8"), flags=re.M))
    assert len(ids) == 29
    knowledge = load()
    for lang in LANGS:
        assert ids <= set(knowledge.languages[lang].cards), lang


def test_small_fixture_is_valid(content: Path) -> None:
    assert problems(content) == []


def test_broken_yaml_names_file_and_line(content: Path) -> None:
    card = content / "en/cards/battery.yaml"
    edit(card, "category: penalties", "category: [penalties")
    found = problems(content)
    assert any(
        p.startswith(f"{card}:{line_of(card, 'category')}:") and "list opened with '['" in p for p in found
    ), found


def test_misspelt_key_suggests_the_right_one(content: Path) -> None:
    card = content / "ru/cards/police.yaml"
    edit(card, "summary:", "sumary:")
    found = problems(content)
    assert any(
        f"{card}:{line_of(card, 'sumary:')}: unknown key 'sumary': did you mean 'summary'?" in p
        for p in found
    )


def test_missing_title(content: Path) -> None:
    card = content / "kk/cards/about.yaml"
    text = card.read_text(encoding="utf-8")
    card.write_text(re.sub(r"^title: .*\n", "", text, flags=re.M), encoding="utf-8")
    assert any(p.startswith(f"{card}:") and "'title' is missing" in p for p in problems(content))


def test_wrong_type(content: Path) -> None:
    card = content / "en/cards/police.yaml"
    edit(card, "reviewed: ", "reviewed: last week #")
    found = [p for p in problems(content) if p.startswith(f"{card}:")]
    assert any("'reviewed' must be a date like 2026-01-31; 'last week' is not" in p for p in found), found
    assert not any(" str" in p for p in found)  # no Python words at an editor


def test_every_problem_of_a_file_at_once(content: Path) -> None:
    """A bad date no longer hides a misspelt category in the same file."""
    card = content / "en/cards/police.yaml"
    text = card.read_text(encoding="utf-8")
    text = re.sub(r"^reviewed: .*$", "reviewed: 2026-13-01", text, flags=re.M)
    card.write_text(re.sub(r"^category: .*$", "category: protecton", text, flags=re.M), encoding="utf-8")
    found = [p for p in problems(content) if p.startswith(f"{card}:")]
    assert any("'reviewed' must be a date" in p for p in found), found
    assert any("unknown category 'protecton': did you mean 'protection'?" in p for p in found), found


def test_unclosed_quote_is_reported_where_it_is(content: Path) -> None:
    card = content / "en/cards/police.yaml"
    text = card.read_text(encoding="utf-8")
    card.write_text(re.sub(r"^title: (.*)$", r'title: "\1', text, count=1, flags=re.M), encoding="utf-8")
    found = [p for p in problems(content) if p.startswith(f"{card}:")]
    assert found == [
        f"{card}:{line_of(card, 'title:')}: a text on this line opens a quote (\" or ') that is not closed: add the closing quote"
    ]


def test_colon_inside_a_text_gets_plain_words(content: Path) -> None:
    card = content / "ru/cards/police.yaml"
    text = card.read_text(encoding="utf-8")
    card.write_text(
        re.sub(r"^title: (.*)$", r"title: Внимание: \1", text, count=1, flags=re.M), encoding="utf-8"
    )
    found = [p for p in problems(content) if p.startswith(f"{card}:")]
    assert any(
        p.startswith(f"{card}:{line_of(card, 'title:')}:") and "put the whole text in double quotes" in p
        for p in found
    ), found


@pytest.mark.parametrize("phone", ["1O2", "10", "8701123456", "+7 701 123 45 6"])
def test_a_number_that_cannot_be_dialled(content: Path, phone: str) -> None:
    path = content / "contacts.yaml"
    edit(path, 'phone: "102"', f'phone: "{phone}"')
    line = line_of(path, f'phone: "{phone}"')
    assert any(
        p.startswith(f"{path}:{line}:") and "is not a Kazakhstan number" in p for p in problems(content)
    )


@pytest.mark.parametrize("phone", ["1414", "+7 701 123 45 67", "8-701-123-45-67", "87011234567"])
def test_plausible_numbers_pass(content: Path, phone: str) -> None:
    edit(content / "contacts.yaml", 'phone: "102"', f'phone: "{phone}"')
    assert not any("Kazakhstan number" in p for p in problems(content))


def test_first_screen_over_700_characters(content: Path) -> None:
    card = content / "en/cards/battery.yaml"
    edit(
        card, "body: |\n", "body: |\n  " + "A long sentence a frightened person will not read. " * 12 + "\n\n"
    )
    assert any(
        p.startswith(f"{card}:") and "the first screen is" in p and f"over {VISIBLE}" in p
        for p in problems(content)
    )


def test_details_fold_away_and_sources_go_with_them() -> None:
    k = load()
    for lang in LANGS:
        for card in k.languages[lang].cards.values():
            html = render_card(k, card)
            shown = visible(html)
            assert len(shown) <= VISIBLE, (card.path, len(shown))
            assert "<blockquote expandable>" in html and card.sources[0].title not in shown
            last = html.split("</blockquote>")[-1]  # the reply ends with whom to call
            assert all(html_escape(k.languages[lang].contacts[c].name) in last for c in card.contacts)


def test_a_number_written_twice_in_a_card(content: Path) -> None:
    card = content / "ru/cards/police.yaml"
    edit(card, "body: |\n", "body: |\n  Звоните 102.\n\n")
    assert any(p.startswith(f"{card}:") and "102 shows more than once" in p for p in problems(content))


def test_at_most_three_steps_on_the_first_screen(content: Path) -> None:
    card = content / "kk/cards/police.yaml"
    edit(card, "body: |\n", "body: |\n  • бір\n  • екі\n  • үш\n  • төрт\n\n")
    assert any(p.startswith(f"{card}:") and "steps; keep 3" in p for p in problems(content))


def test_id_differs_from_file_name(content: Path) -> None:
    card = content / "en/cards/about.yaml"
    edit(card, "id: about", "id: abuot")
    assert any(p.startswith(f"{card}:1:") and "differs from the file name" in p for p in problems(content))


def test_duplicate_id(content: Path) -> None:
    copy = content / "en/cards/about-copy.yaml"
    shutil.copy(content / "en/cards/about.yaml", copy)
    assert any("is also used by" in p for p in problems(content))


def test_card_missing_in_a_language(content: Path) -> None:
    (content / "kk/cards/police.yaml").unlink()
    found = problems(content)
    assert any(
        p.startswith(f"{content / 'kk/cards/police.yaml'}:1: card 'police' is missing in 'kk'") for p in found
    )


def test_unknown_contact_and_card(content: Path) -> None:
    card = content / "ru/cards/battery.yaml"
    edit(card, "contacts: [", "contacts: [police-1020, ")
    edit(card, "related: [", "related: [batery, ")
    found = problems(content)
    assert any(
        "'contacts' names 'police-1020'" in p and p.startswith(f"{card}:{line_of(card, 'contacts:')}:")
        for p in found
    )
    assert any("'related' names 'batery'" in p for p in found)


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<p>hello</p>", "<p> is not allowed"),
        ("<b>bold", "never closed"),
        ("<b><i>x</b></i>", "not open here"),
        ("Tom & Jerry", "bare '&'"),
        ('<a href="x" onclick="y">z</a>', "not allowed; remove the attribute"),
    ],
)
def test_html_outside_telegram_subset(content: Path, html: str, message: str) -> None:
    card = content / "en/cards/helplines.yaml"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("body: |\n", f"body: |\n  {html}\n", 1), encoding="utf-8")
    assert any(p.startswith(f"{card}:") and message in p for p in problems(content))


def test_message_over_telegram_limit(content: Path) -> None:
    card = content / "en/cards/helplines.yaml"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("body: |\n", "body: |\n  " + "word " * 900 + "\n", 1), encoding="utf-8")
    assert any("over Telegram's 4,096" in p for p in problems(content))


def test_url_must_be_https(content: Path) -> None:
    card = content / "en/cards/battery.yaml"
    edit(card, "url: https://", "url: http://")
    assert any(p.startswith(f"{card}:") and "must start with https://" in p for p in problems(content))


def test_reviewed_in_the_future(content: Path) -> None:
    card = content / "kk/cards/helplines.yaml"
    text = card.read_text(encoding="utf-8")
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    card.write_text(re.sub(r"^reviewed: .*$", f"reviewed: {future}", text, flags=re.M), encoding="utf-8")
    assert any(p.startswith(f"{card}:") and "in the future" in p for p in problems(content))


def test_same_question_in_two_cards(content: Path) -> None:
    battery = load(content).card("battery", "en")
    police = content / "en/cards/police.yaml"
    edit(police, "questions:\n", f"questions:\n  - {battery.questions[0].upper()}!\n")
    found = problems(content)
    assert any(
        p.startswith(f"{police}:{line_of(police, battery.questions[0].upper())}:") and "also in" in p
        for p in found
    )


def test_load_applies_nothing_when_broken(content: Path) -> None:
    edit(content / "en/contacts.yaml", "name: Police", "nam: Police")
    with pytest.raises(ContentError) as raised:
        load(content)
    assert raised.value.problems


def test_coverage_marks_missing_and_stale(content: Path) -> None:
    (content / "ru/cards/police.yaml").unlink()
    card = content / "kk/cards/about.yaml"
    text = card.read_text(encoding="utf-8")
    card.write_text(re.sub(r"^reviewed: .*$", "reviewed: 2025-01-01", text, flags=re.M), encoding="utf-8")
    rows = dict(coverage(read(content)))
    assert rows["police"]["ru"] == "missing"
    assert rows["about"]["kk"] == "stale"
    assert rows["battery"] == {"kk": "ok", "ru": "ok", "en": "ok"}


def test_validate_command_reports_every_mistake_without_traceback(content: Path) -> None:
    """The editor's view: broken YAML, a missing title, an unknown contact, a missing translation."""
    edit(content / "en/cards/battery.yaml", "category: penalties", "category: [penalties")
    text = (content / "ru/cards/about.yaml").read_text(encoding="utf-8")
    (content / "ru/cards/about.yaml").write_text(
        re.sub(r"^title: .*\n", "", text, flags=re.M), encoding="utf-8"
    )
    edit(content / "kk/cards/police.yaml", "contacts: [", "contacts: [nobody, ")
    (content / "en/cards/helplines.yaml").unlink()
    run = subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(content)], capture_output=True, text=True
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1
    assert "Traceback" not in out
    for expected in (
        f"{content / 'en/cards/battery.yaml'}:{line_of(content / 'en/cards/battery.yaml', 'category')}: a list opened",
        f"{content / 'ru/cards/about.yaml'}:1: 'title' is missing",
        f"{content / 'kk/cards/police.yaml'}:{line_of(content / 'kk/cards/police.yaml', 'contacts:')}: 'contacts'",
        f"{content / 'en/cards/helplines.yaml'}:1: card 'helplines' is missing in 'en'",
    ):
        assert expected in out, out
    ok = subprocess.run([sys.executable, "-m", "bot", "validate"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: ")


def test_interface_string_misspelt_or_unused(content: Path) -> None:
    path = content / "kk/interface.yaml"
    edit(path, "forget_button:", "forget_buton:")
    found = problems(content)
    assert any(p.startswith(f"{path}:{line_of(path, 'forget_buton')}:") and "not used" in p for p in found)
    assert any(p.startswith(f"{path}:1:") and "'forget_button' is missing" in p for p in found)


def test_yes_no_words_need_quotes(content: Path) -> None:
    path = content / "en/cards/police.yaml"
    edit(path, "keywords:\n", "keywords:\n  - no\n")
    assert any(
        p.startswith(f"{path}:") and "reads as yes/no: put it in quotes" in p for p in problems(content)
    )


def test_tabs_empty_files_and_other_encodings(content: Path) -> None:
    (content / "en/cards/empty.yaml").write_text("", encoding="utf-8")
    (content / "ru/cards/tabs.yaml").write_text("id: tabs\n\ttitle: x\n", encoding="utf-8")
    (content / "kk/cards/latin1.yaml").write_bytes("title: ұрып".encode("utf-16"))
    found = problems(content)
    assert f"{content / 'en/cards/empty.yaml'}:1: the file must be a set of 'key: value' lines" in found
    assert any(p.startswith(f"{content / 'ru/cards/tabs.yaml'}:2:") and "not tabs" in p for p in found)
    assert f"{content / 'kk/cards/latin1.yaml'}:1: the file is not UTF-8 text; save it as UTF-8" in found
