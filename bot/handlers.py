"""Telegram handlers: each turns an update into a core call and sends the reply it gets back.

They are the edge: no sentence is written here, only which reply fits which update. The rules
that apply to every update run around them (see `app.build`): the per-person limit before (for
text, inside `question`, after the emergency check), remembering ids for erasing after. The reply
always goes first; what is stored about it comes after, best effort.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import cast

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, ExtBot

from bot import replies
from bot.content import Knowledge
from bot.delivery import URGENT
from bot.language import FALLBACK_LANG, negotiate
from bot.links import parse_payload
from bot.messages import render_card
from bot.replies import Reply
from bot.state import State

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # the most Telegram delivers in one message
BATCH = 100  # deleteMessages takes at most 100 ids
KEEP_UNMATCHED = 500  # characters of an unanswered question kept (only with BOT_KEEP_UNMATCHED=1)
URGENT_CHECK = 1024  # characters the triage reads to put an update first (the answer reads them all)


def state(context: ContextTypes.DEFAULT_TYPE) -> State:
    value: State = context.bot_data["state"]
    return value


def knowledge(context: ContextTypes.DEFAULT_TYPE) -> Knowledge:
    return state(context).core.knowledge


def private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in reply.buttons]
    )


def language_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    if user is None:
        return FALLBACK_LANG
    saved = state(context).store.language(user.id) if private(update) else None
    return negotiate(saved, user.language_code)


def urgent(update: object, st: State) -> bool:
    """Whether an update is a private text the triage flags as an emergency: it is then handled
    before everything queued and its reply skips the send queue (see `delivery`)."""
    if not isinstance(update, Update) or not private(update):
        return False
    message = update.effective_message
    if message is None or not message.text or message.text.startswith("/"):
        return False
    return bool(st.core.understander.triage.assess(message.text[:URGENT_CHECK]).kinds)


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> list[Message]:
    """Send every part, buttons under the last (an emergency's ahead of every other reply); then,
    best effort, remember the ids for erasing."""
    chat = update.effective_chat
    if chat is None:
        return []
    bot = cast("ExtBot[str]", context.bot)  # a delivery.Bot: its rate limiter takes URGENT
    queue = URGENT if reply.kind in ("emergency", "error") else None
    sent: list[Message] = []
    try:
        for n, part in enumerate(reply.parts):
            last = n == len(reply.parts) - 1
            sent.append(
                await bot.send_message(
                    chat.id,
                    part,
                    reply_markup=keyboard(reply) if last else None,
                    protect_content=reply.protect,
                    rate_limit_args=queue,
                )
            )
    except Forbidden:
        log.info("chat unreachable (blocked or left); skipped")
    if private(update):
        state(context).store.remember(chat.id, [m.message_id for m in sent])
    return sent


async def remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After the reply: the id of every message in a private chat, so "Erase this chat" reaches it."""
    message = update.effective_message
    if message is not None and private(update):
        state(context).store.remember(message.chat_id, [message.message_id])


def _written(update: Update) -> float:
    """When the person wrote it (or edited it, or pressed the button), which the limit counts by."""
    message = update.effective_message
    if update.callback_query is not None or message is None or not message.date:
        return time.time()
    return (message.edit_date or message.date).timestamp()


async def limit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pre-handler for commands, buttons and anything but text: one gentle "slow down", then
    silence, for a person past the limit; a dropped button press is still answered so its
    spinner stops, and a dropped message is still remembered for erasing."""
    user = update.effective_user
    if user is None or user.id in state(context).admins:
        return
    verdict = state(context).limiter.check(user.id, _written(update))
    if verdict == "go":
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    if verdict == "warn":
        await send(update, context, replies.slow_reply(knowledge(context), language_of(update, context)))
    await remember(update, context)
    raise ApplicationHandlerStop


def _count(
    context: ContextTypes.DEFAULT_TYPE, reply: Reply, outcome: str | None = None, campaign: str = ""
) -> None:
    state(context).store.count(reply.card, reply.lang, outcome or reply.kind, campaign)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, with a deep-link payload opening a card in a language."""
    k, lang = knowledge(context), language_of(update, context)
    asked = parse_payload(context.args[0] if context.args else "", k.card_ids)
    lang = asked.lang or lang
    reply = replies.card_reply(k, asked.card, lang) if asked.card else replies.start_reply(k, lang)
    log.info("start lang=%s card=%s link=%s", lang, asked.card, bool(context.args))
    await send(update, context, reply)
    if asked.lang and update.effective_user and private(update):
        state(context).store.set_language(update.effective_user.id, asked.lang)
    _count(context, reply, "link" if context.args else "start", asked.campaign)


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/topics, /helplines, /language, /help, /privacy and any unknown command (the help)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    name = message.text.split()[0][1:].split("@")[0].casefold()
    if name == "forget":
        await erase(update, context)
        raise ApplicationHandlerStop  # nothing of this chat is remembered after it
    await send(update, context, replies.command(knowledge(context), name, language_of(update, context)))


async def erase(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete both sides of the chat that Telegram still allows, forget the person, leave one neutral line."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or not private(update):
        return
    lang = language_of(update, context)
    store = state(context).store
    ids = sorted({*store.erasable(chat.id), *([update.message.message_id] if update.message else [])})
    for i in range(0, len(ids), BATCH):
        try:
            await context.bot.delete_messages(chat.id, ids[i : i + BATCH])
        except BadRequest as e:
            log.warning("deleteMessages refused a batch: %s", e.message)
    store.forget(user.id, chat.id)
    log.info("erased chat: %d message ids", len(ids))
    await context.bot.send_message(chat.id, replies.forget_reply(knowledge(context), lang).parts[0])


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat (an edited one too): read it first, so an emergency is answered
    whatever the per-person limit says; everything else counts towards the limit."""
    message, user = update.effective_message, update.effective_user
    if message is None or not message.text or user is None:
        return
    st, chosen = state(context), language_of(update, context)
    began = time.perf_counter()
    core = st.core
    reply = await asyncio.to_thread(
        replies.answer, core.knowledge, core.understander, message.text[:MAX_TEXT], chosen
    )
    took = (time.perf_counter() - began) * 1000
    if reply.kind != "emergency" and user.id not in st.admins:
        verdict = st.limiter.check(user.id, _written(update))
        if verdict != "go":
            if verdict == "warn":
                await send(update, context, replies.slow_reply(core.knowledge, chosen))
            return
    u = reply.understanding
    log.info(
        "question lang=%s kind=%s cards=%s score=%s ms=%.1f",
        reply.lang,
        reply.kind,
        ",".join(reply.cards) or "-",
        u.score if u else None,
        took,
    )
    await send(update, context, reply)
    _count(context, reply)
    if reply.kind in ("fallback", "off_topic"):
        st.keep_question(message.text[:KEEP_UNMATCHED])


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files, locations: the bot reads text only."""
    await send(update, context, replies.not_text_reply(knowledge(context), language_of(update, context)))


def _offered(update: Update, action: str) -> bool:
    """Whether the pressed button is one the bot put under that very message (not forged data)."""
    query = update.callback_query
    message = query.message if query else None
    markup = getattr(message, "reply_markup", None)
    rows = markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else ()
    return any(b.callback_data == action for row in rows for b in row)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed inline button: the reply carries what else to do (language, report, erase)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if not query.data or query.message is None:
        return
    reply = replies.press(knowledge(context), query.data, language_of(update, context))
    chat = update.effective_chat
    if reply.effect is not None and reply.effect[0] == "erase":
        await erase(update, context)
        return
    await send(update, context, reply)
    match reply.effect:
        case ("set_language", lang) if update.effective_user and private(update):
            state(context).store.set_language(update.effective_user.id, lang)
        case ("report_number", contact) if chat and _offered(update, query.data):
            if state(context).first_report(dt.date.today().isoformat(), chat.id, contact):
                state(context).store.dead_number(contact)
                log.info("number reported as not answering: %s", contact)
    if reply.kind == "card":
        _count(context, reply, "button")


async def inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot query: matching cards to share; an empty query lists the helplines and the topics."""
    query = update.inline_query
    if query is None:
        return
    st = state(context)
    if st.inline_limiter.check(query.from_user.id, time.time()) != "go":
        return
    k, chosen = st.core.knowledge, negotiate(None, query.from_user.language_code)
    text = query.query.strip()[:256]
    if text:
        lang, ids = await asyncio.to_thread(st.core.understander.search, text, chosen)
    else:
        lang = chosen
        firsts = {c.category: c.id for c in sorted(k.languages[lang].cards.values(), key=lambda c: c.id)}
        ids = ["helplines", *[cid for cid in firsts.values() if cid != "helplines"]][:10]
    results = [_article(k, cid, lang) for cid in ids[:10]]
    await query.answer(results, cache_time=300, is_personal=True)  # results follow the person's language


def _article(k: Knowledge, card_id: str, lang: str) -> InlineQueryResultArticle:
    card = k.card(card_id, lang)
    return InlineQueryResultArticle(
        id=f"{lang}:{card_id}",
        title=card.title,
        description=card.summary,
        input_message_content=InputTextMessageContent(render_card(k, card)),
    )


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the fault (never the text) and apologise to the person in their language."""
    log.error("error while handling an update: %s", type(context.error).__name__, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat and isinstance(context.error, Exception):
        try:
            lang = language_of(update, context)
            await send(update, context, replies.error_reply(knowledge(context), lang))
        except (TelegramError, OverflowError, OSError):
            log.warning("could not send the apology")
