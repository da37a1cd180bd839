"""The pure parts a person or an NGO meets indirectly: links, replies and buttons, settings, the
store, figures, and the terminal chat."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import figures
from bot.config import SettingError, Settings
from bot.content import CATEGORIES, LANGS
from bot.handlers import keyboard
from bot.language import negotiate
from bot.links import Payload, links, parse_payload, payload
from bot.messages import split
from bot.replies import (
    COMMANDS,
    Reply,
    card_reply,
    category_reply,
    command,
    next_number_reply,
    numbers_reply,
    press,
    start_reply,
    topics_reply,
)
from bot.state import Limiter
from bot.store import ERASABLE_SECONDS, Store, scrub
from bot.validation import load

K = load()
VIOLENT = re.compile(r"abuse|violence|harm|battery|beat|crime|harass|sentence|child|police|safety", re.I)


@pytest.mark.parametrize("campaign", ["", "ngo-almaty-2026"])
def test_every_link_round_trips_and_stays_neutral(campaign: str) -> None:
    found = links(K, "zanhelp_bot", LANGS, campaign)
    assert len(found) == len(LANGS) * (1 + len(K.card_ids))
    for link in found:
        text = link.url.split("?start=")[1]
        assert len(text) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", text)
        assert not VIOLENT.search(text), text
        assert parse_payload(text, K.card_ids) == Payload(link.lang, link.card, campaign)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kk_battery", Payload("kk", "battery", "")),
        ("battery", Payload(None, "battery", "")),
        ("en", Payload("en", None, "")),
        ("xx_battery", Payload(None, None, "")),
        ("", Payload(None, None, "")),
        ("ru__tag", Payload("ru", None, "tag")),
        ("ru_battery__Айгерим_Сарсенова_87011234567", Payload("ru", "battery", "")),  # never stored
        ('ru_battery__=HYPERLINK("x")', Payload("ru", "battery", "")),
        ("ru_battery__87011234567", Payload("ru", "battery", "")),
    ],
)
def test_hand_made_and_free_text_payloads(text: str, expected: Payload) -> None:
    assert parse_payload(text, K.card_ids) == expected


def test_campaign_tag_must_be_neutral_and_short() -> None:
    with pytest.raises(ValueError):
        payload("kk", "battery", "bad tag!")


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


def _all_replies() -> list[Reply]:
    out = [start_reply(K, lang) for lang in LANGS] + [topics_reply(K, lang) for lang in LANGS]
    out += [category_reply(K, lang, c, page) for lang in LANGS for c in CATEGORIES for page in (0, 1)]
    out += [card_reply(K, cid, lang) for lang in LANGS for cid in K.card_ids]
    out += [numbers_reply(K, cid, lang) for lang in LANGS for cid in K.card_ids]
    out += [command(K, name, lang) for lang in LANGS for name in (*COMMANDS, "stats", "foo")]
    out += [next_number_reply(K, "police-102", "battery", lang) for lang in LANGS]
    return out


def test_no_reply_repeats_a_destination_or_shows_more_than_six_buttons() -> None:
    for reply in _all_replies():
        actions = [b.action for row in reply.buttons for b in row]
        assert len(actions) <= 6, (reply.kind, actions)
        assert len(actions) == len(set(actions)), (reply.kind, actions)
        markup = keyboard(reply)
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                assert button.callback_data and len(str(button.callback_data).encode()) <= 64
        assert all(len(p) <= 4096 for p in reply.parts)


def test_a_topic_with_many_cards_pages_through_them() -> None:
    biggest = max(
        CATEGORIES, key=lambda c: sum(card.category == c for card in K.languages["en"].cards.values())
    )
    seen: list[str] = []
    reply = category_reply(K, "en", biggest)
    while True:
        actions = [b.action for row in reply.buttons for b in row]
        seen += [a for a in actions if a.startswith("card:")]
        more = [a for a in actions if a.startswith(f"cat:{biggest}:")]
        if not more:
            break
        reply = press(K, more[0], "en")
    assert len(seen) == sum(c.category == biggest for c in K.languages["en"].cards.values())


def test_a_button_press_returns_what_to_do_as_data() -> None:
    assert press(K, "lang:kk", "ru").effect == ("set_language", "kk")
    assert press(K, "forget", "ru").effect == ("erase", "")
    assert press(K, "number-failed:police-102:battery", "ru").effect == ("report_number", "police-102")
    assert press(K, "card:../../etc/passwd", "ru").kind == "topics"  # unknown actions: the topics menu


def test_a_number_that_did_not_answer_leads_to_the_next() -> None:
    reply = next_number_reply(K, "emergency-112", "battery", "en")
    text = "\n".join(reply.parts)
    assert text.startswith(K.text("en", "didnt_work_thanks"))
    assert "<b>102</b>" in text and "<b>112</b>" not in text  # the next number, not the same one
    assert [b.action for row in reply.buttons for b in row if b.action.startswith("card:")] == [
        "card:battery"
    ]


def test_card_reply_has_numbers_sources_and_date() -> None:
    text = "\n".join(card_reply(K, "battery", "ru").parts)
    assert "<b>102</b>" in text and "https://" in text and "2026" in text
    assert K.text("ru", "disclaimer") in text


def test_limit_counts_by_when_messages_were_written() -> None:
    limiter = Limiter(per_minute=20)
    backlog = [limiter.check(1, 1000 + 12 * n) for n in range(25)]  # 5 a minute, delivered at once
    assert set(backlog) == {"go"}
    burst = [limiter.check(2, 5000 + n * 0.1) for n in range(25)]
    assert burst[:20] == ["go"] * 20 and burst[20] == "warn" and set(burst[21:]) == {"drop"}


def test_settings_name_the_bad_variable_and_hide_secrets() -> None:
    for env, name in (
        ({"WEBHOOK_PORT": "abc"}, "WEBHOOK_PORT"),
        ({"BOT_ADMIN_IDS": "12, x34"}, "BOT_ADMIN_IDS"),
        ({"BOT_LOG_LEVEL": "TRACE"}, "BOT_LOG_LEVEL"),
        ({"WEBHOOK_URL": "https://x.example/hook"}, "WEBHOOK_SECRET"),
    ):
        with pytest.raises(SettingError, match=name):
            Settings.from_env(env)
    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": "1:SECRET", "WEBHOOK_SECRET": "s3cr3t", "BOT_ADMIN_IDS": "5,6"}
    )
    assert settings.admins == {5, 6} and "SECRET" not in repr(settings) and "s3cr3t" not in repr(settings)


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
    args = ["--data", str(tmp_path), "--csv", str(tmp_path / "s.csv"), "--since", dt.date.today().isoformat()]
    run = subprocess.run([sys.executable, "-m", "bot", "stats", *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "<5" in run.stdout and " 3\n" not in run.stdout and "family-111" in run.stdout
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == csv


def test_stats_without_data_says_so(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--data", str(tmp_path)], capture_output=True, text=True
    )
    assert run.returncode == 0 and "no bot data yet" in run.stdout


def test_the_csv_export_cannot_carry_a_formula() -> None:
    import csv as csvlib

    text = figures.csv_text([("battery", "ru", "link", '=HYPERLINK("http://evil.example")', "<5")])
    (row,) = list(csvlib.reader(text.splitlines()))[1:]
    assert row[3].startswith("'=") and row[4] == "<5"


def test_unmatched_questions_grouped() -> None:
    groups = figures.group_similar(
        ["как получить визу", "как получить визу?", "рецепт плова", "визу как получить"]
    )
    assert sorted(len(g) for g in groups) == [1, 3]


def _chat(lines: list[str], lang: str = "ru") -> str:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--lang", lang],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_terminal_chat_runs_the_same_conversation() -> None:
    out = _chat(["что такое побои", "1", "/helplines", "хочу умереть", "9", "/quit"], lang="en")
    assert K.card("battery", "ru").title in out and "┃ " in out  # the collapsed block, marked
    assert "[1] " in out and "112" in out and "<b>" not in out
    assert K.text("en", "terminal_hint") in out  # the first screen says how to leave
    assert K.text("en", "terminal_choose", count=6).split("1")[0] in out  # 9 is not a choice: asked again
    assert out.rstrip().endswith(K.text("en", "terminal_bye"))  # /quit in the chosen language


def test_run_without_token_explains_in_one_line(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "BOT_DATA_DIR": str(tmp_path)},
    )
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in run.stderr


def test_a_bad_setting_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "1:x",
        "WEBHOOK_PORT": "abc",
        "BOT_DATA_DIR": str(tmp_path),
    }
    run = subprocess.run([sys.executable, "-m", "bot", "run"], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "WEBHOOK_PORT" in run.stderr
