"""Wiring: the Application and its handlers, logging, content reload, polling or webhook.

`build` reads like a table of contents of what the bot does; tests build the same Application
and point it at a Bot API stand-in through TELEGRAM_BASE_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    InlineQueryHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot import admin, handlers
from bot.config import Settings, level_number
from bot.content import LANGS, Knowledge
from bot.language import FALLBACK_LANG
from bot.replies import COMMANDS
from bot.semantic import Embedder
from bot.state import Core, State, content_stamp
from bot.store import Store

App = Application[
    ExtBot[Any],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
log = logging.getLogger(__name__)
TICK = 0.1


def configure_logging(level: str) -> None:
    """Plain lines on stderr at the level asked for, the libraries included (see `quiet`)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    quiet(level)


def quiet(level: str = "INFO") -> None:
    """httpx at WARNING at least, because its request lines contain the token; PTB at INFO at least,
    because at DEBUG it logs whole updates, message texts and names included."""
    asked = level_number(level)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, asked))
    logging.getLogger("telegram").setLevel(max(logging.INFO, asked))


async def register(app: App) -> None:
    """Commands, description and short description in each language, from content."""
    st: State = app.bot_data["state"]
    k = st.core.knowledge
    for lang in (*LANGS, None):
        code = lang or FALLBACK_LANG
        commands = [BotCommand(c, k.text(code, f"cmd_{c}")) for c in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=lang)
        await app.bot.set_my_description(k.text(code, "bot_description"), language_code=lang)
        await app.bot.set_my_short_description(k.text(code, "bot_short_description"), language_code=lang)


def build(
    settings: Settings,
    knowledge: Knowledge,
    content_dir: Path,
    embedder: Embedder | None = None,
    core: Core | None = None,
) -> App:
    """The Application as in production: defaults, rate limiter, state, pre-handlers, handlers.
    A `core` already built for this knowledge may be passed in (tests share one)."""
    quiet(settings.log_level)
    app: App = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .defaults(
            Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        )
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(_start)
        .post_stop(_stop)
        .build()
    )
    store = Store(settings.data_dir / "bot.sqlite3")
    app.bot_data["state"] = State(
        core or Core.build(knowledge, embedder),
        store,
        content_dir,
        embedder,
        settings.admins,
        settings.keep_unmatched,
    )
    app.bot_data["reload_seconds"] = settings.reload_seconds
    private = filters.ChatType.PRIVATE
    admins = filters.User(list(settings.admins)) if settings.admins else filters.User(user_id=[])

    # Before any reply (groups run in order; ApplicationHandlerStop ends an update): remember the
    # ids of a private chat's messages for "Erase this chat"; then stop a person past the limit,
    # with one gentle "slow down". Text is limited inside `question`, after the emergency check;
    # /forget and admins are never stopped; a dropped button press is still answered.
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, handlers.remember), group=-2)
    app.add_handler(
        MessageHandler(filters.COMMAND & ~filters.Regex(r"^/forget(@\w+)?(\s|$)") & ~admins, handlers.limit),
        group=-1,
    )
    app.add_handler(CallbackQueryHandler(handlers.limit), group=-1)

    app.add_handler(CommandHandler("start", handlers.start))
    app.add_handler(CommandHandler("stats", admin.stats))
    app.add_handler(CommandHandler("reload", admin.reload))
    app.add_handler(CommandHandler(list(COMMANDS), handlers.command))
    app.add_handler(MessageHandler(private & filters.COMMAND, handlers.command))  # unknown: the help
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(handlers.inline))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.question))  # edits too
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text))
    app.add_error_handler(handlers.error)
    return app


async def watch_content(app: App, interval: float) -> None:
    """Poll the content folder while the bot runs; on a change, reload in a worker thread and tell
    the admins what failed. A broken file or folder is a reported problem; the watcher goes on."""
    st: State = app.bot_data["state"]
    stamp = content_stamp(st.content_dir)
    while True:
        await asyncio.sleep(interval)
        try:
            now = content_stamp(st.content_dir)
            if now == stamp:
                continue
            stamp = now
            problems = await asyncio.to_thread(st.reload)  # about a second of work: updates keep flowing
            if problems:
                await admin.tell_admins(app, problems)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("content watcher: a check failed; it goes on")


def run(settings: Settings, knowledge: Knowledge, content_dir: Path, embedder: Embedder | None) -> int:
    """Serve until SIGINT/SIGTERM: long polling, or PTB's webhook server when WEBHOOK_URL is set."""
    app = build(settings, knowledge, content_dir, embedder)
    if settings.webhook_url:
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=list(Update.ALL_TYPES),
        )
    else:
        app.run_polling(allowed_updates=list(Update.ALL_TYPES))
    return 0


async def _start(app: App) -> None:
    """After PTB's own start-up: register commands in every language and start watching content."""
    await register(app)
    app.bot_data["watcher"] = asyncio.create_task(watch_content(app, app.bot_data["reload_seconds"]))


async def _stop(app: App) -> None:
    """Stop the watcher and close the store, so a clean stop logs nothing alarming."""
    watcher = app.bot_data.pop("watcher", None)
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    st: State = app.bot_data["state"]
    st.store.close()
