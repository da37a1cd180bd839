"""The Telegram bot end to end: real HTTP on loopback, PTB's own network stack, the Bot API stand-in."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botapi import FakeBotAPI
from conftest import ADMIN, Runner, buttons, replies_to

from bot.config import Settings
from bot.validation import load

K = load()


def texts(api: FakeBotAPI, chat: int) -> list[str]:
    return api.sent_texts(chat)


@pytest.mark.parametrize(("code", "lang"), [("kk", "kk"), ("ru-RU", "ru"), ("en", "en"), ("de", "ru")])
async def test_start_greets_in_telegram_language(
    api: FakeBotAPI, run_bot: Runner, code: str, lang: str
) -> None:
    async with run_bot():
        api.command(1, "/start", language_code=code)
        (reply,) = await replies_to(api, 1)
    assert K.text(lang, "start").split("\n")[0].replace("<b>", "").replace("</b>", "") in texts(api, 1)[0]
    assert {"lang:kk", "lang:ru", "lang:en", "topics", "helplines", "forget"} == set(buttons(reply))


async def test_commands_and_descriptions_registered_per_language(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        await api.wait_for("setMyShortDescription", 4)
    commands = {c.get("language_code"): c["commands"] for c in api.calls_to("setMyCommands")}
    assert set(commands) == {"kk", "ru", "en", None}
    assert {c["command"] for c in commands["kk"]} >= {
        "start",
        "topics",
        "helplines",
        "language",
        "forget",
        "privacy",
    }
    assert commands["kk"][0]["description"] == K.text("kk", "cmd_start")
    descriptions = {c.get("language_code"): c["description"] for c in api.calls_to("setMyDescription")}
    assert descriptions["en"] == K.text("en", "bot_description")


@pytest.mark.parametrize(
    ("question", "card", "lang"),
    [
        ("побои теперь уголовка?", "battery", "ru"),
        ("is beating now a crime", "battery", "en"),
        ("ұрып-соғу қылмыс па", "battery", "kk"),
    ],
)
async def test_question_answered_in_its_language(
    api: FakeBotAPI, run_bot: Runner, question: str, card: str, lang: str
) -> None:
    async with run_bot():
        api.text_message(2, question, language_code="ru")
        (reply,) = await replies_to(api, 2)
    text = texts(api, 2)[0]
    assert text.startswith(K.card(card, lang).title)
    assert "102" in text and "112" in text  # whom to call, with numbers
    assert "forget" in buttons(reply)
    assert reply["parse_mode"] == "HTML"
    assert "expandable_blockquote" in api.entity_types(2)[0]  # the card's details start collapsed


async def test_danger_now_gets_numbers_first(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.text_message(3, "помогите он меня сейчас убьет")
        await replies_to(api, 3)
    first = texts(api, 3)[0]
    assert first.startswith("📞 112")
    assert first.index("112") < first.index("102")


async def test_self_harm_gets_crisis_numbers(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.text_message(4, "i want to kill myself", language_code="en")
        await replies_to(api, 4)
    assert texts(api, 4)[0].startswith("📞 112")
    assert "111" in texts(api, 4)[0]


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_not_text_gets_a_clear_answer_with_helplines(
    api: FakeBotAPI, run_bot: Runner, kind: str
) -> None:
    async with run_bot():
        getattr(api, kind)(5, language_code="en")
        await replies_to(api, 5)
    assert K.text("en", "not_text").split(".")[0] in texts(api, 5)[0]
    assert "112" in texts(api, 5)[0]


async def test_an_edited_question_is_answered_as_a_question(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.text_message(6, "hello", language_code="en")
        await replies_to(api, 6)
        api.edited_message(6, "is beating a crime now", language_code="en")
        await replies_to(api, 6, 2)
    assert texts(api, 6)[1].startswith(K.card("battery", "en").title)


async def test_four_thousand_characters_of_noise(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.text_message(7, ("ыва олд 😀 <b>&amp; " * 300)[:4000])
        await replies_to(api, 7)
        api.text_message(7, "что такое побои")
        await replies_to(api, 7, 2)
    assert K.card("battery", "ru").title in texts(api, 7)[1]


@pytest.mark.parametrize(
    ("payload", "lang", "card"),
    [
        ("kk_battery", "kk", "battery"),
        ("battery", "ru", "battery"),
        ("en", "en", None),
        ("ru_police__ngo-poster-1", "ru", "police"),
        ("nonsense<>", "ru", None),
    ],
)
async def test_deep_link(api: FakeBotAPI, run_bot: Runner, payload: str, lang: str, card: str | None) -> None:
    async with run_bot():
        api.command(8, "/start", payload=payload, language_code="ru")
        await replies_to(api, 8)
    expected = (
        K.card(card, lang).title if card else K.text(lang, "start").split("\n")[0].split("</b>")[-1].strip()
    )
    assert expected in texts(api, 8)[0]


async def test_language_choice_survives_a_restart(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.command(9, "/start", language_code="ru")
        await replies_to(api, 9)
        api.callback(9, "lang:kk")
        await replies_to(api, 9, 2)
        await api.wait_for("answerCallbackQuery")
    assert texts(api, 9)[1].startswith(K.text("kk", "language_set"))
    since = len(api.calls)
    async with run_bot():
        api.command(9, "/helplines", language_code="ru")
        await replies_to(api, 9, since=since)
    assert texts(api, 9)[-1].startswith(K.text("kk", "helplines_title"))


async def test_button_opens_a_card_and_a_topic(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.command(10, "/topics", language_code="en")
        (menu,) = await replies_to(api, 10)
        assert "cat:contacts" in buttons(menu)
        api.callback(10, "cat:contacts", language_code="en")
        (category,) = (await replies_to(api, 10, 2))[1:]
        assert "card:police" in buttons(category)
        api.callback(10, "card:police", language_code="en")
        await replies_to(api, 10, 3)
    assert texts(api, 10)[2].startswith(K.card("police", "en").title)


async def test_safety_plan_is_protected(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.command(11, "/start", payload="en_safety-plan", language_code="en")
        (reply,) = await replies_to(api, 11)
    assert reply["protect_content"] is True


async def test_inline_query(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.inline_query(12, "beating crime", language_code="en")
        api.inline_query(12, "", language_code="kk")
        answers = await api.wait_for("answerInlineQuery", 2)
    ids = [r["id"] for r in answers[0]["results"]]
    assert ids[0] == "en:battery" and len(ids) <= 10
    empty = [r["id"] for r in answers[1]["results"]]
    assert empty[0] == "kk:helplines" and len(empty) > 1
    assert all(r["input_message_content"]["parse_mode"] == "HTML" for r in answers[0]["results"])


async def test_forget_deletes_both_sides_and_the_data(
    api: FakeBotAPI, run_bot: Runner, tmp_path: Path
) -> None:
    async with run_bot() as app:
        api.callback(13, "lang:en", message_id=1)
        await replies_to(api, 13)
        asked = api.text_message(13, "what is a protective order", language_code="en")
        await replies_to(api, 13, 2)
        mine = [m["message_id"] for m in api.sent]
        api.command(13, "/forget", language_code="en")
        (deleted,) = await api.wait_for("deleteMessages")
        await replies_to(api, 13, 3)
        store = app.bot_data["state"].store
        assert store.language(13) is None and store.erasable(13) == []
    ids = set(deleted["message_ids"])
    assert asked["message"]["message_id"] in ids and set(mine) <= ids
    assert texts(api, 13)[-1].startswith(K.text("en", "forget_done").split("\n")[0][:40])


async def test_retry_after_429_loses_nothing(api: FakeBotAPI, run_bot: Runner) -> None:
    api.fail_next("sendMessage", 429, retry_after=1)
    async with run_bot():
        api.text_message(14, "что такое побои")
        await api.wait_for("sendMessage", 2, timeout=10, predicate=lambda p: p["chat_id"] == 14)
    assert len(texts(api, 14)) == 1


async def test_blocked_user_is_skipped_others_served(api: FakeBotAPI, run_bot: Runner) -> None:
    api.fail_next("sendMessage", 403, chat_id=15, times=5)
    async with run_bot():
        api.text_message(15, "привет")
        api.text_message(16, "привет")
        await replies_to(api, 16)
        await api.wait_for("sendMessage", predicate=lambda p: p["chat_id"] == 15)
    assert texts(api, 15) == [] and len(texts(api, 16)) == 1


async def test_getupdates_500_is_retried(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        await api.wait_for("getUpdates")
        api.fail_next("getUpdates", 500)
        await asyncio.sleep(0.3)
        api.text_message(17, "спасибо")
        await replies_to(api, 17, timeout_hint := 1)
    assert timeout_hint and len(texts(api, 17)) == 1


async def test_too_many_messages_get_one_slow_down(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        for _ in range(25):
            api.text_message(18, "привет")
        await replies_to(api, 18, 21)
        await asyncio.sleep(0.5)
    sent = texts(api, 18)
    assert len(sent) == 21 and sent[-1] == K.text("ru", "slow_down")


async def test_groups_only_commands(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot() as app:
        api.group_message(19, -100500, "муж бьет меня")
        command = [{"type": "bot_command", "offset": 0, "length": 10}]
        api.text_message(19, "/helplines", chat_type="supergroup", chat_id=-100500, entities=command)
        await api.wait_for("sendMessage", predicate=lambda p: p["chat_id"] == -100500)
        await asyncio.sleep(0.3)
        assert app.bot_data["state"].store.erasable(-100500) == []
    assert len(texts(api, -100500)) == 1


async def test_stats_only_for_admins(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        for user in (20, 21, 22):
            api.text_message(user, "что такое побои")
            await replies_to(api, user)
        api.command(23, "/stats")
        await replies_to(api, 23)
        api.command(ADMIN, "/stats", language_code="en")
        await replies_to(api, ADMIN)
        await api.wait_for("sendPhoto")
    assert "battery" not in texts(api, 23)[0]
    (unknown,) = [p for p in api.calls_to("sendMessage") if p["chat_id"] == 23]
    assert texts(api, 23)[0].startswith(K.text("ru", "help")[:30])  # like any unknown command
    assert buttons(unknown).count("forget") <= 1
    admin = texts(api, ADMIN)[0]
    assert "battery" in admin and "<5" in admin and " 3" not in admin


async def test_broken_card_keeps_old_content_and_tells_admin(
    api: FakeBotAPI, run_bot: Runner, content_dir: Path
) -> None:
    card = content_dir / "ru/cards/battery.yaml"
    good = card.read_text(encoding="utf-8")
    async with run_bot() as app:
        api.command(ADMIN, "/start", language_code="en")
        await replies_to(api, ADMIN)
        card.write_text(good.replace("title:", "titel:", 1), encoding="utf-8")
        warning = await api.wait_for("sendMessage", 2, predicate=lambda p: p["chat_id"] == ADMIN)
        assert "battery.yaml" in str(warning[-1]["text"]) and "titel" in str(warning[-1]["text"])
        api.text_message(24, "что такое побои")
        await replies_to(api, 24)
        assert texts(api, 24)[0].startswith(K.card("battery", "ru").title)
        card.write_text(
            good.replace(K.card("battery", "ru").title, "Побои — новое название"), encoding="utf-8"
        )
        state = app.bot_data["state"]
        for _ in range(100):  # the reload builds a new reader in a worker thread
            await asyncio.sleep(0.1)
            if state.core.knowledge.card("battery", "ru").title == "Побои — новое название":
                break
        api.text_message(24, "что такое побои")
        await replies_to(api, 24, 2)
    assert texts(api, 24)[1].startswith("Побои — новое название")


async def test_no_message_text_in_logs(
    api: FakeBotAPI, run_bot: Runner, all_logs: pytest.LogCaptureFixture
) -> None:
    secret = "Айгерим Сарсенова из Караганды муж бьет"
    async with run_bot():
        api.text_message(25, secret)
        api.text_message(26, "is beating a crime", language_code="en")
        await replies_to(api, 25)
        await replies_to(api, 26)
    logged = "\n".join(r.getMessage() for r in all_logs.records)
    assert "question lang=" in logged
    for fragment in ("Айгерим", "Караганды", "beating a crime", "TEST-token-secret"):
        assert fragment not in logged


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_checks_the_secret(api: FakeBotAPI, run_bot: Runner) -> None:
    port = _free_port()
    settings = Settings(
        token="1:x", webhook_url="https://bot.example.org/hook", webhook_secret="s3cret", webhook_port=port
    )
    async with run_bot() as app:
        assert app.updater is not None
        await app.updater.stop()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
        )
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 27, "type": "private"},
                "from": {"id": 27, "is_bot": False, "first_name": "x"},
                "text": "привет",
            },
        }

        def post(secret: str) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/hook",
                data=json.dumps(update).encode(),
                method="POST",
                headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return int(response.status)
            except urllib.error.HTTPError as e:
                return e.code

        assert await asyncio.to_thread(post, "wrong") == 403
        await asyncio.sleep(0.3)
        assert texts(api, 27) == []
        assert await asyncio.to_thread(post, "s3cret") == 200
        await replies_to(api, 27)
        assert api.calls_to("setWebhook")[-1]["secret_token"] == "s3cret"


async def test_a_fault_is_logged_and_the_person_gets_an_apology(
    api: FakeBotAPI, run_bot: Runner, monkeypatch: pytest.MonkeyPatch, all_logs: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("matcher exploded")

    monkeypatch.setattr("bot.replies.answer", broken)
    async with run_bot():
        api.text_message(28, "что такое побои")
        await replies_to(api, 28)
        api.command(28, "/helplines")
        await replies_to(api, 28, 2)
    assert texts(api, 28)[0].startswith(K.text("ru", "error")[:40])
    assert "112" in texts(api, 28)[0]
    assert texts(api, 28)[1].startswith(K.text("ru", "helplines_title"))  # still serving
    assert any(r.exc_info and "matcher exploded" in str(r.exc_info[1]) for r in all_logs.records)


async def test_a_number_that_did_not_answer_is_counted(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot() as app:
        api.command(29, "/start", payload="ru_battery")
        (card,) = await replies_to(api, 29)
        assert "number:battery" in buttons(card)
        api.callback(29, "number:battery")
        (choice,) = (await replies_to(api, 29, 2))[1:]
        assert "number-failed:police-102:battery" in buttons(choice)
        api.callback(29, "number-failed:police-102:battery")
        (after,) = (await replies_to(api, 29, 3))[2:]
        api.callback(
            29,
            "number-failed:police-102:battery",
            message_id=choice.get("message_id"),
        )
        await replies_to(api, 29, 4)
        assert app.bot_data["state"].store.dead_numbers() == {"police-102": 1}  # once per chat and day
    thanks = texts(api, 29)[2]
    assert thanks.startswith(K.text("ru", "didnt_work_thanks")) and "112" in thanks  # the next number to try
    assert "card:battery" in buttons(after) and "helplines" in buttons(after)


async def test_long_message_says_it_was_read_from_the_beginning(api: FakeBotAPI, run_bot: Runner) -> None:
    async with run_bot():
        api.text_message(31, "Здравствуйте. " + "Я очень долго терплю и не знаю, что делать дальше. " * 40)
        await replies_to(api, 31)
    assert texts(api, 31)[0].startswith(K.text("ru", "too_long"))
