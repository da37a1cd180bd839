"""Wiring: the Application and its handlers, background work, polling or webhook.

`build` reads like a table of contents of what the bot does; tests build the same Application
and point it at a Bot API stand-in through TELEGRAM_BASE_URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
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

from bot import admin, handlers, logs
from bot.config import Settings
from bot.content import LANGS, Knowledge
from bot.delivery import Bot, Processor, RateLimiter, Request
from bot.language import FALLBACK_LANG
from bot.replies import COMMANDS
from bot.semantic import Embedder
from bot.state import Core, State, content_stamp
from bot.store import Store
from bot.webhook import WebhookUpdater

App = Application[
    ExtBot[Any],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
log = logging.getLogger(__name__)
REGISTER_TRIES = 5  # commands and descriptions: attempts (each with its own retries), a minute apart
REGISTER_PAUSE = 60.0


def configure_logging(level: str) -> None:
    """Plain lines on stderr at the level asked for, the libraries included (see `logs`)."""
    logs.configure(level)


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
    """The Application as in production: the bot and its delivery, state, pre-handlers, handlers.
    A `core` already built for this knowledge may be passed in (tests share one)."""
    logs.quiet(settings.log_level)
    st = State(
        core or Core.build(knowledge, embedder),
        Store.open(settings.data_dir / "bot.sqlite3"),
        content_dir,
        embedder,
        settings.admins,
        settings.keep_unmatched,
    )
    bot = Bot(
        settings.token,
        base_url=settings.base_url,
        request=Request(settings.retry_seconds),
        get_updates_request=Request(settings.retry_seconds, retries=0, connection_pool_size=1),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=RateLimiter(AIORateLimiter(overall_max_rate=settings.sends_per_second, max_retries=3)),
    )
    app: App = (
        Application.builder()
        .updater(WebhookUpdater(bot, asyncio.Queue()))
        .concurrent_updates(Processor(lambda update: handlers.urgent(update, st)))
        .post_init(_start)
        .post_stop(_stop)
        .build()
    )
    app.bot_data["state"] = st
    app.bot_data["settings"] = settings
    private = filters.ChatType.PRIVATE
    admins = filters.User(list(settings.admins)) if settings.admins else filters.User(user_id=[])
    forget = filters.Regex(r"^/forget(@\w+)?(\s|$)")

    # Before any reply (groups run in order; ApplicationHandlerStop ends an update): stop a person
    # past the limit, with one gentle "slow down". Text is limited inside `question`, after the
    # emergency check; /forget and admins are never stopped; a dropped button press is answered.
    commands_and_media = (filters.COMMAND & ~forget) | (private & ~filters.TEXT & ~filters.StatusUpdate.ALL)
    app.add_handler(MessageHandler(commands_and_media & ~admins, handlers.limit), group=-1)
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

    # After the reply: remember the ids of a private chat's messages, for "Erase this chat".
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, handlers.remember), group=1)
    app.add_error_handler(handlers.error)
    return app


async def register_in_background(app: App) -> None:
    """Register commands while the bot already answers: a Bot API fault here is retried, never fatal."""
    for attempt in range(1, REGISTER_TRIES + 1):
        try:
            await register(app)
            return
        except TelegramError as e:
            more = attempt < REGISTER_TRIES
            log.warning(
                "registering commands failed (%s)%s", type(e).__name__, "; trying again" if more else ""
            )
        if attempt < REGISTER_TRIES:
            await asyncio.sleep(REGISTER_PAUSE)


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
        except Exception as e:
            log.exception("content watcher: a check failed; it goes on")
            problems = [f"{st.content_dir}:1: the content check failed ({type(e).__name__}); see the log"]
        if problems:
            await admin.tell_admins(app, problems)


async def purge_regularly(app: App, interval: float) -> None:
    """Apply the retention limits while the bot runs (48 h for message ids, 30 days for texts)."""
    st: State = app.bot_data["state"]
    while True:
        await asyncio.sleep(interval)
        st.store.purge()


def run(settings: Settings, knowledge: Knowledge, content_dir: Path, embedder: Embedder | None) -> int:
    """Serve until SIGINT/SIGTERM: long polling, or the webhook server when WEBHOOK_URL is set. A
    Bot API that is down at start is waited for; only a refused token ends it."""
    logs.guard((settings.token, settings.webhook_secret))
    app = build(settings, knowledge, content_dir, embedder)
    try:
        if settings.webhook_url:
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=settings.webhook_path,
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=list(Update.ALL_TYPES),
                bootstrap_retries=-1,
            )
        else:
            app.run_polling(allowed_updates=list(Update.ALL_TYPES), bootstrap_retries=-1)
    except InvalidToken:
        log.error(
            "cannot start: the Bot API refused the token (HTTP 401 or 404); "
            "check TELEGRAM_BOT_TOKEN, and TELEGRAM_BASE_URL if you set it"
        )
        return 2
    return 0


async def _start(app: App) -> None:
    """After PTB's own start-up: register commands, watch content and apply retention, each in the
    background so the bot answers from the first moment."""
    settings: Settings = app.bot_data["settings"]
    work: list[Callable[[], Coroutine[Any, Any, None]]] = [
        lambda: register_in_background(app),
        lambda: watch_content(app, settings.reload_seconds),
        lambda: purge_regularly(app, settings.purge_seconds),
    ]
    app.bot_data["tasks"] = [asyncio.create_task(job()) for job in work]


async def _stop(app: App) -> None:
    """Stop the background work and close the store, so a clean stop logs nothing alarming."""
    tasks: list[asyncio.Task[None]] = app.bot_data.pop("tasks", [])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    st: State = app.bot_data["state"]
    st.store.close()
