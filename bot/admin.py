"""Admin commands (/stats, /reload) and messages to admins; to anyone else they do not exist."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot import figures, replies
from bot.handlers import State, guard, knowledge, language_of, private, send, state
from bot.language import negotiate
from bot.replies import Reply, split
from bot.store import shown

log = logging.getLogger(__name__)


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in state(context).admins and private(update)


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats for admins: the period's figures and a chart; anyone else gets the usual fallback."""
    if not _is_admin(update, context):
        await question_like_unknown(update, context)
        return
    st, lang = state(context), language_of(update, context)
    since = dt.date.today() - dt.timedelta(days=30)
    counts = st.store.counts(since)
    rows = figures.table(counts)
    lines = [f"<b>{st.core.knowledge.text(lang, 'stats_title', since=since.isoformat())}</b>"]
    lines += [html.escape(" · ".join(row)) for row in rows[:40]]
    dead = st.store.dead_numbers(since)
    lines += [html.escape(f"☎️ {cid}: {shown(n)}") for cid, n in dead.items()]
    await send(update, context, Reply(lang, "stats", split("\n".join(lines))))
    if update.effective_chat and counts:
        await context.bot.send_photo(update.effective_chat.id, figures.chart(counts, since))


async def question_like_unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What a non-admin sees for an admin command: the same as for any unknown command."""
    if await guard(update, context):
        lang = language_of(update, context)
        reply = replies.with_helplines(knowledge(context), lang, "fallback", "fallback")
        await send(
            update,
            context,
            Reply(
                lang,
                "fallback",
                reply.parts,
                (*replies.topics_reply(knowledge(context), lang).buttons, *reply.buttons),
            ),
        )


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload for admins: validate the content folder and swap it in, or report why not."""
    if not _is_admin(update, context):
        await question_like_unknown(update, context)
        return
    from bot.app import reload_content

    problems = await asyncio.to_thread(reload_content, context.application)
    lang = language_of(update, context)
    k = knowledge(context)
    if problems:
        text = (
            k.text(lang, "reload_failed", count=len(problems)) + "\n" + html.escape("\n".join(problems[:20]))
        )
    else:
        text = k.text(lang, "reload_ok", cards=len(k.card_ids))
    await send(update, context, Reply(lang, "reload", split(text)))


async def tell_admins(app: Application, problems: list[str]) -> None:  # type: ignore[type-arg]
    """Send the validator's messages to every admin, in their language; failures only logged."""
    st: State = app.bot_data["state"]
    for admin in st.admins:
        lang = negotiate(st.store.language(admin), None)
        text = st.core.knowledge.text(lang, "reload_failed", count=len(problems)) + "\n"
        text += html.escape("\n".join(problems[:20]))
        for part in split(text):
            try:
                await app.bot.send_message(admin, part, parse_mode=ParseMode.HTML)
            except TelegramError as e:
                log.warning("could not tell admin about content problems: %s", e.message)
