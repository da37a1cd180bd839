"""Admin commands (/stats, /reload) and messages to admins; to anyone else they are unknown commands.

The admin texts are interface strings too; only the figures are written here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot import figures
from bot.handlers import command, language_of, private, send, state
from bot.language import negotiate
from bot.messages import split
from bot.replies import Reply
from bot.state import State
from bot.store import shown

log = logging.getLogger(__name__)


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in state(context).admins and private(update)


def _problems(st: State, lang: str, problems: list[str]) -> str:
    """The reload report, written once for /reload and for the watcher."""
    head = st.core.knowledge.text(lang, "reload_failed", count=len(problems))
    return head + "\n" + html.escape("\n".join(problems[:20]))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats for admins: the period's figures and a chart."""
    if not _is_admin(update, context):
        await command(update, context)
        return
    st, lang = state(context), language_of(update, context)
    since = dt.date.today() - dt.timedelta(days=30)
    counts = st.store.counts(since)
    lines = [f"<b>{st.core.knowledge.text(lang, 'stats_title', since=since.isoformat())}</b>"]
    lines += [html.escape(" · ".join(row)) for row in figures.table(counts)[:40]]
    lines += [html.escape(f"☎️ {cid}: {shown(n)}") for cid, n in st.store.dead_numbers(since).items()]
    await send(update, context, Reply(lang=lang, kind="help", parts=split("\n".join(lines))))
    if update.effective_chat and counts:
        await context.bot.send_photo(update.effective_chat.id, figures.chart(counts))


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload for admins: validate the content folder and swap it in, or report why not."""
    if not _is_admin(update, context):
        await command(update, context)
        return
    st = state(context)
    problems = await asyncio.to_thread(st.reload)
    lang = language_of(update, context)
    k = st.core.knowledge
    text = _problems(st, lang, problems) if problems else k.text(lang, "reload_ok", cards=len(k.card_ids))
    await send(update, context, Reply(lang=lang, kind="help", parts=split(text)))


async def tell_admins(app: Application, problems: list[str]) -> None:  # type: ignore[type-arg]
    """Send the validator's messages to every admin, in their language; failures only logged."""
    st: State = app.bot_data["state"]
    for admin in st.admins:
        lang = negotiate(st.store.language(admin), None)
        for part in split(_problems(st, lang, problems)):
            try:
                await app.bot.send_message(admin, part)
            except TelegramError as e:
                log.warning("could not tell admin about content problems: %s", e.message)
