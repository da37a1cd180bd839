"""The pure parts a person or an NGO meets indirectly: links, payloads, replies, the store, figures."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import figures
from bot.content import CATEGORIES, LANGS, load
from bot.figures import parse_payload
from bot.handlers import keyboard
from bot.language import negotiate
from bot.replies import card_reply, category_reply, split, start_reply, topics_reply
from bot.store import ERASABLE_SECONDS, Store, scrub

K = load()
VIOLENT = re.compile(r"abuse|violence|harm|battery|beat|crime|harass|sentence|child|police|safety", re.I)


@pytest.mark.parametrize("campaign", ["", "ngo-almaty-2026"])
def test_every_link_round_trips_and_stays_neutral(campaign: str) -> None:
    links = figures.links(K, "zanhelp_bot", LANGS, campaign)
    assert len(links) == len(LANGS) * (1 + len(K.card_ids))
    for link in links:
        payload = link.url.split("?start=")[1]
        assert len(payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", payload)
        assert not VIOLENT.search(payload), payload
        assert parse_payload(payload, K.card_ids) == (link.lang, link.card, campaign)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("kk_battery", ("kk", "battery", "")),
        ("battery", (None, "battery", "")),
        ("en", ("en", None, "")),
        ("xx_battery", (None, None, "")),
        ("", (None, None, "")),
        ("ru__tag", ("ru", None, "tag")),
    ],
)
def test_hand_made_payloads(payload: str, expected: tuple[str | None, str | None, str]) -> None:
    assert parse_payload(payload, K.card_ids) == expected


def test_campaign_tag_must_be_neutral_and_short() -> None:
    with pytest.raises(ValueError):
        figures.payload("kk", "battery", "bad tag!")


def test_qr_codes_decode_to_their_links(tmp_path: Path) -> None:
    import zxingcpp
    from PIL import Image

    link = figures.links(K, "zanhelp_bot", ["kk"], "poster1")[3]
    png, svg = figures.write_qr(link, tmp_path)
    (decoded,) = zxingcpp.read_barcodes(Image.open(png))
    assert decoded.text == link.url
    assert link.url.replace("&", "&amp;") in svg.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("saved", "telegram", "lang"),
    [
        ("kk", "en", "kk"),
        (None, "kk-KZ", "kk"),
        (None, "en-GB", "en"),
        (None, "de", "ru"),
        (None, None, "ru"),
    ],
)
def test_language_negotiation(saved: str | None, telegram: str | None, lang: str) -> None:
    assert negotiate(saved, telegram) == lang


def test_split_keeps_paragraphs_and_limits() -> None:
    text = "\n\n".join(f"<b>{n}</b> " + "слово " * 150 for n in range(20))
    parts = split(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert "\n\n".join(parts) == text
    assert all(p.count("<b>") == p.count("</b>") for p in parts)


def test_every_keyboard_fits_telegram() -> None:
    replies = [start_reply(K, lang) for lang in LANGS] + [topics_reply(K, lang) for lang in LANGS]
    replies += [category_reply(K, lang, c) for lang in LANGS for c in CATEGORIES]
    replies += [card_reply(K, cid, lang) for lang in LANGS for cid in K.card_ids]
    for reply in replies:
        markup = keyboard(reply)
        assert markup is not None
        for row in markup.inline_keyboard:
            for button in row:
                assert button.callback_data and len(str(button.callback_data).encode()) <= 64
        assert all(len(p) <= 4096 for p in reply.parts)


def test_card_reply_has_numbers_sources_and_date() -> None:
    reply = card_reply(K, "battery", "ru")
    text = "\n".join(reply.parts)
    assert "<b>102</b>" in text and "https://" in text and "2026" in text
    assert K.text("ru", "disclaimer") in text


def test_store_keeps_only_erasable_ids_and_forgets(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.sqlite3")
    now = time.time()
    store.set_language(1, "kk")
    store.remember(1, [1, 2], at=now - ERASABLE_SECONDS - 10)
    store.remember(1, [3, 4], at=now)
    assert store.erasable(1, now) == [3, 4]
    store.purge(now)
    store.forget(1, 1)
    assert store.language(1) is None and store.erasable(1, now) == []
    store.close()
    reopened = Store(tmp_path / "bot.sqlite3")
    assert reopened.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_kept_questions_are_scrubbed() -> None:
    cleaned = scrub("звоните 8 701 123 45 67 или a.b@mail.kz @aigerim https://t.me/x муж")
    assert not re.search(r"\d|@|http", cleaned) and "муж" in cleaned


def test_stats_never_show_counts_under_five(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.sqlite3")
    for _ in range(3):
        store.count("battery", "ru", "card")
    for _ in range(7):
        store.count("police", "kk", "card", "poster1")
    store.dead_number("family-111")
    rows = figures.table(store.counts())
    assert ("battery", "ru", "card", "-", "<5") in rows and ("police", "kk", "card", "poster1", "7") in rows
    csv = figures.csv_text(rows)
    assert ",3\n" not in csv and "<5" in csv
    store.close()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "stats",
            "--data",
            str(tmp_path),
            "--csv",
            str(tmp_path / "s.csv"),
            "--since",
            dt.date.today().isoformat(),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "<5" in run.stdout and " 3\n" not in run.stdout and "family-111" in run.stdout
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == csv


def test_unmatched_questions_grouped() -> None:
    groups = figures.group_similar(
        ["как получить визу", "как получить визу?", "рецепт плова", "визу как получить"]
    )
    assert sorted(len(g) for g in groups) == [1, 3]


def test_terminal_chat_runs_the_same_conversation() -> None:
    lines = "\n".join(["что такое побои", "1", "/helplines", "хочу умереть"]) + "\n"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--lang", "ru"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert K.card("battery", "ru").title in run.stdout
    assert "[1] " in run.stdout and "112" in run.stdout and "<b>" not in run.stdout


def test_run_without_token_explains_in_one_line(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "BOT_DATA_DIR": str(tmp_path)},
    )
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in run.stderr
