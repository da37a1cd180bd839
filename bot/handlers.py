"""Telegram handlers: each turns an update into a core call and sends the reply it gets back.

They are the edge: no sentence is written here, only which reply fits which update.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import replies
from bot.content import Knowledge
from bot.figures import parse_payload
from bot.language import FALLBACK_LANG, negotiate
from bot.matching import Matcher
from bot.replies import Reply
from bot.store import Store

log = logging.getLogger(__name__)


MAX_TEXT = 4096  # the most Telegram delivers; a longer paste is matched on its beginning
PER_MINUTE = 20
BATCH = 100  # deleteMessages takes at most 100 ids


@dataclass(frozen=True)
class Core:
    """One content version and its index, swapped as a whole on reload."""

    knowledge: Knowledge
    matcher: Matcher


@dataclass
class State:
    core: Core
    store: Store
    admins: frozenset[int] = frozenset()
    keep_unmatched: bool = False
    rate: dict[int, tuple[int, int]] = field(default_factory=dict)


def state(context: ContextTypes.DEFAULT_TYPE) -> State:
    value: State = context.bot_data["state"]
    return value


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


def private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> list[Message]:
    """Send every part, buttons under the last; remember ids in private chats so they can be erased."""
    chat = update.effective_chat
    if chat is None:
        return []
    sent: list[Message] = []
    try:
        for n, part in enumerate(reply.parts):
            last = n == len(reply.parts) - 1
            sent.append(
                await context.bot.send_message(
                    chat.id,
                    part,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(reply) if last else None,
                    protect_content=reply.protect,
                    disable_web_page_preview=True,
                )
            )
    except Forbidden:
        log.info("chat unreachable (blocked or left); skipped")
    if private(update):
        state(context).store.remember(chat.id, [m.message_id for m in sent])
    return sent


def _incoming(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and private(update):
        state(context).store.remember(message.chat_id, [message.message_id])


def _throttled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool | None:
    """True to drop the update, None to send one gentle 'slow down', False to go on."""
    user = update.effective_user
    if user is None:
        return False
    st, minute = state(context), int(time.time() // 60)
    start, count = st.rate.get(user.id, (minute, 0))
    count = count + 1 if start == minute else 1
    st.rate[user.id] = (minute, count)
    if len(st.rate) > 10_000:
        st.rate = {u: v for u, v in st.rate.items() if v[0] == minute}
    if count <= PER_MINUTE:
        return False
    return None if count == PER_MINUTE + 1 else True


async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Record the incoming message and apply the per-person limit; False when the update is dropped."""
    _incoming(update, context)
    throttled = _throttled(update, context)
    if throttled is None:
        lang = language_of(update, context)
        await send(update, context, Reply(lang, "slow", (knowledge(context).text(lang, "slow_down"),)))
    return throttled is False


def knowledge(context: ContextTypes.DEFAULT_TYPE) -> Knowledge:
    return state(context).core.knowledge


def _count(
    context: ContextTypes.DEFAULT_TYPE, reply: Reply, outcome: str | None = None, campaign: str = ""
) -> None:
    state(context).store.count(reply.card, reply.lang, outcome or reply.kind, campaign)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, with a deep-link payload opening a card in a language."""
    if not await guard(update, context):
        return
    k, lang = knowledge(context), language_of(update, context)
    payload_lang, card, campaign = parse_payload(
        context.args[0] if context.args else "", knowledge(context).card_ids
    )
    if payload_lang and update.effective_user and private(update):
        state(context).store.set_language(update.effective_user.id, payload_lang)
    lang = payload_lang or lang
    reply = replies.card_reply(k, card, lang) if card else replies.start_reply(k, lang)
    _count(context, reply, "link" if context.args else "start", campaign)
    log.info("start lang=%s card=%s link=%s", lang, card, bool(context.args))
    await send(update, context, reply)


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/topics: categories as buttons."""
    if await guard(update, context):
        await send(update, context, replies.topics_reply(knowledge(context), language_of(update, context)))


async def helplines(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/helplines: the main numbers."""
    if await guard(update, context):
        await send(update, context, replies.helplines_reply(knowledge(context), language_of(update, context)))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: the three languages in their own names."""
    if await guard(update, context):
        await send(update, context, replies.language_reply(knowledge(context), language_of(update, context)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask, and the commands."""
    if await guard(update, context):
        lang = language_of(update, context)
        await send(update, context, Reply(lang, "help", (knowledge(context).text(lang, "help"),)))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: the about card."""
    if await guard(update, context):
        await send(
            update, context, replies.card_reply(knowledge(context), "about", language_of(update, context))
        )


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: erase the chat and everything stored about the person."""
    _incoming(update, context)
    await erase(update, context)


async def erase(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete both sides of the chat that Telegram still allows, forget the person, leave one neutral line."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or not private(update):
        return
    lang = language_of(update, context)
    store = state(context).store
    ids = store.erasable(chat.id)
    for i in range(0, len(ids), BATCH):
        try:
            await context.bot.delete_messages(chat.id, ids[i : i + BATCH])
        except BadRequest as e:
            log.warning("deleteMessages refused a batch: %s", e.message)
    store.forget(user.id, chat.id)
    log.info("erased chat: %d message ids", len(ids))
    await context.bot.send_message(
        chat.id, knowledge(context).text(lang, "forget_done"), parse_mode=ParseMode.HTML
    )


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat: emergency, small talk, a card, suggestions or the fallback."""
    message = update.effective_message
    if message is None or not message.text or not await guard(update, context):
        return
    st, chosen = state(context), language_of(update, context)
    began = time.perf_counter()
    reply = replies.answer(st.core.knowledge, st.core.matcher, message.text[:MAX_TEXT], chosen)
    took = (time.perf_counter() - began) * 1000
    m = reply.match
    log.info(
        "question lang=%s kind=%s card=%s score=%s ms=%.2f",
        reply.lang,
        reply.kind,
        reply.card,
        m.score if m else None,
        took,
    )
    _count(context, reply)
    if st.keep_unmatched and reply.kind == "fallback":
        st.store.keep_unmatched(message.text[:500])
    await send(update, context, reply)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files, locations, edits: the bot reads text only."""
    if await guard(update, context):
        lang = language_of(update, context)
        await send(update, context, replies.with_helplines(knowledge(context), lang, "not_text", "not_text"))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed inline button: a language, a topic, a card, the helplines, erase, or a dead number."""
    query = update.callback_query
    if query is None or not query.data:
        return
    await query.answer()
    if _throttled(update, context) is not False:
        return
    st, action = state(context), query.data
    verb, _, arg = action.partition(":")
    if verb == "forget":
        await erase(update, context)
        return
    reply = replies.press(knowledge(context), action, language_of(update, context))
    if verb == "lang" and reply.kind == "language" and update.effective_user:
        st.store.set_language(update.effective_user.id, arg)
    elif verb == "nr" and reply.kind == "dead":
        st.store.dead_number(arg)
        log.info("number reported as not answering: %s", arg)
    elif reply.kind == "card":
        _count(context, reply, "button")
    await send(update, context, reply)


async def inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot query: matching cards to share; an empty query lists the helplines and the topics."""
    query = update.inline_query
    if query is None:
        return
    st = state(context)
    k, chosen = st.core.knowledge, negotiate(None, query.from_user.language_code)
    text = query.query.strip()
    if text:
        lang, ids = st.core.matcher.search(text, chosen, limit=10)
    else:
        lang = chosen
        firsts = {c.category: c.id for c in sorted(k.languages[lang].cards.values(), key=lambda c: c.id)}
        ids = ["helplines", *[cid for cid in firsts.values() if cid != "helplines"]][:10]
    results = [_article(k, cid, lang) for cid in ids]
    await query.answer(results, cache_time=300, is_personal=True)  # results follow the person's language


def _article(k: Knowledge, card_id: str, lang: str) -> InlineQueryResultArticle:
    card = k.card(card_id, lang)
    return InlineQueryResultArticle(
        id=f"{lang}:{card_id}",
        title=card.title,
        description=card.summary,
        input_message_content=InputTextMessageContent(
            replies.render_card(k, card), parse_mode=ParseMode.HTML, link_preview_options=None
        ),
    )


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the fault (never the text) and apologise to the person in their language."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat and isinstance(context.error, Exception):
        lang = language_of(update, context)
        try:
            await send(update, context, replies.with_helplines(knowledge(context), lang, "error", "error"))
        except TelegramError:
            log.warning("could not send the apology")
