"""The Bot API stand-in itself, driven by a real PTB Bot: answers, recording, violations, faults, updates."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import telegram
from botapi import FakeBotAPI, api_fixture  # noqa: F401  (api_fixture provides the `api` fixture)
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

TOKEN = "123456:TEST-token"
USER = 4242
LONG_DATA = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="é" * 33)]])  # 66 bytes, 33 chars


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=f"{api.url}/bot") as bot:
        yield bot


async def test_get_me(api: FakeBotAPI, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.username == "test_help_bot"
    assert me.is_bot and me.can_join_groups and me.supports_inline_queries
    assert api.calls_to("getMe")  # Bot.initialize() called it too


async def test_send_message_is_recorded(api: FakeBotAPI, bot: telegram.Bot) -> None:
    first = await bot.send_message(USER, "<b>Сәлем</b> &amp; hi", parse_mode="HTML")
    api.text_message(USER, "a user's reply")  # takes the next message id of the chat
    second = await bot.send_message(USER, "again")
    assert first.text == "Сәлем & hi" and first.from_user and first.from_user.is_bot
    assert (first.message_id, second.message_id) == (1, 3)
    assert api.calls_to("sendMessage")[0] == {
        "chat_id": USER,
        "text": "<b>Сәлем</b> &amp; hi",
        "parse_mode": "HTML",
    }
    assert api.sent_texts(USER) == ["Сәлем & hi", "again"]


async def test_uploads_are_parsed_from_multipart(api: FakeBotAPI, bot: telegram.Bot) -> None:
    message = await bot.send_photo(USER, b"\x89PNG fake", caption="Фото <i>QR</i>", parse_mode="HTML")
    assert message.caption == "Фото QR" and message.photo
    params = api.calls_to("sendPhoto")[0]
    assert params["caption"] == "Фото <i>QR</i>" and params["photo"]["size"] == 9


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"text": "hi", "api_kwargs": {"colour": "red"}}, "unknown parameter 'colour'"),
        ({"text": "x" * 5000}, "text is too long: 5000 characters"),
        ({"text": "<b>bold <i>both</b></i>", "parse_mode": "HTML"}, "unmatched end tag </b>"),
        ({"text": "<b>never closed", "parse_mode": "HTML"}, "can't find end tag"),
        ({"text": "<div>block</div>", "parse_mode": "HTML"}, 'unsupported start tag "div"'),
        ({"text": "1 < 2", "parse_mode": "HTML"}, "unescaped '<'"),
        ({"text": "ok", "reply_markup": LONG_DATA}, "BUTTON_DATA_INVALID"),
    ],
)
async def test_violations_are_reported_and_refused(
    api: FakeBotAPI, bot: telegram.Bot, kwargs: dict[str, object], problem: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(USER, **kwargs)  # type: ignore[arg-type]
    assert problem.lower() in str(refused.value).lower()
    assert len(api.violations) == 1 and problem in api.violations[0], api.violations
    api.violations.clear()  # expected here; any violation left fails the test at teardown


async def test_html_within_limits_passes(api: FakeBotAPI, bot: telegram.Bot) -> None:
    text = '<b>1 &lt; 2</b> <a href="https://adilet.zan.kz">law</a> <span class="tg-spoiler">s</span> '
    text += "<blockquote expandable>" + "x" * 4000 + "</blockquote>"  # 4000+ chars only once tags are gone
    await bot.send_message(USER, text, parse_mode="HTML")
    assert api.violations == []


async def test_unknown_method_and_missing_parameter(api: FakeBotAPI, bot: telegram.Bot) -> None:
    await bot.do_api_request("SENDMESSAGE", api_kwargs={"chat_id": USER, "text": "case-insensitive"})
    with pytest.raises(telegram.error.EndPointNotFound):
        await bot.do_api_request("sendMesage", api_kwargs={"chat_id": USER, "text": "typo"})
    with pytest.raises(BadRequest):
        await bot.do_api_request("sendmessage", api_kwargs={"chat_id": USER})
    assert api.violations == [
        "sendMesage: unknown method 'sendMesage'",
        "sendMessage: missing required parameter 'text'",
    ]
    api.violations.clear()


async def test_list_limits(api: FakeBotAPI, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest):
        await bot.delete_messages(USER, list(range(1, 102)))
    assert api.violations == ["deleteMessages: message_ids must hold 1-100 items"]
    api.violations.clear()


async def test_fail_next_429_surfaces_as_retry_after(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter, match="Retry in 7 seconds"):
        await bot.send_message(USER, "flood")
    await bot.send_message(USER, "fine again")
    assert len(api.calls_to("sendMessage")) == 2 and api.sent_texts(USER) == ["fine again"]


async def test_fail_next_only_for_one_chat(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", 403, chat_id=USER)
    await bot.send_message(USER + 1, "another user")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "blocked")


async def test_get_updates_returns_pushed_update(api: FakeBotAPI, bot: telegram.Bot) -> None:
    pushed = api.command(USER, "/start", payload="qr_kk", language_code="kk")
    updates = await bot.get_updates(timeout=5)
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    message = updates[0].message
    assert message and message.text == "/start qr_kk" and message.from_user
    assert message.from_user.language_code == "kk"
    assert message.parse_entities(["bot_command"]) and message.chat.type == "private"
    started = time.monotonic()
    assert await bot.get_updates(offset=pushed["update_id"] + 1, timeout=30) == ()
    assert time.monotonic() - started < 2  # long polls are capped at 1 s


async def test_application_round_trip(api: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
        await update.message.reply_text(f"Hi {context.args}", reply_markup=keyboard)

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("More")

    app = Application.builder().token(TOKEN).base_url(f"{api.url}/bot").build()
    app.add_handlers([CommandHandler("start", start), CallbackQueryHandler(more)])
    async with app:
        await app.start()
        assert app.updater
        await app.updater.start_polling(drop_pending_updates=True)
        api.command(USER, "/start", "deep")
        await api.wait_for("sendMessage")
        api.callback(USER, "more")
        edit = (await api.wait_for("editMessageText"))[0]
        await app.updater.stop()
        await app.stop()
    assert api.sent_texts(USER) == ["Hi ['deep']"]
    assert edit == {"chat_id": USER, "message_id": 2, "text": "More"}
    assert api.messages[(USER, 2)]["text"] == "More" and "reply_markup" not in api.messages[(USER, 2)]
