"""The PTB application: the handler that feeds the conversation core, and the jobs that run once per bot.

The dispatcher of notifications lives in the application's typed `bot_data` (`BotData`), reached from a job as
`context.bot_data.dispatcher`; no string keys.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.conversation.core import Conversation
from bot.conversation.flood import FloodGuard
from bot.notify.dispatcher import Dispatcher
from bot.notify.limits import RateLimiter
from bot.privacy import retention
from bot.services import Services
from bot.settings import Settings
from bot.storage.db import DB_ERRORS, session_scope
from handlers.ordering import PerChatUpdateProcessor
from handlers.sender import TelegramSender, make_bot
from handlers.telegram import send_replies, to_event

log = logging.getLogger(__name__)
COMMANDS = [
    ("start", "Bắt đầu, menu chính"),
    ("help", "Hướng dẫn sử dụng"),
    ("linhvuc", "Thủ tục theo lĩnh vực"),
    ("tracuu", "Tra cứu hồ sơ"),
    ("theodoi", "Nhận thông báo về hồ sơ"),
    ("hosocuatoi", "Hồ sơ đang theo dõi"),
    ("huytheodoi", "Dừng nhận thông báo"),
    ("gopy", "Gửi góp ý, phản ánh"),
    ("danhgia", "Đánh giá mức độ hài lòng"),
    ("xoadulieu", "Xóa dữ liệu của tôi"),
    ("huy", "Dừng thao tác đang làm"),
]


@dataclass
class BotData:
    """What the application holds for its jobs, typed (PTB's `bot_data`)."""

    dispatcher: Dispatcher | None = None


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """PTB's callback context with our `bot_data` type."""


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)
App = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, Any]


def build_application(services: Services) -> App:
    """The bot in one process: it receives updates, answers them and runs the scheduled jobs."""
    app = new_application(services.settings)
    conversation = answer_updates(app, services)
    schedule_jobs(app, services)

    async def post_shutdown(application: App) -> None:
        await conversation.close()
        await services.close()

    app.post_shutdown = post_shutdown
    return app


def new_application(settings: Settings, *, receives: bool = True) -> App:
    """PTB's Application on our bot; without `receives`, no updater and no job queue (a worker of
    handlers/workers.py is handed its updates)."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    builder = (
        Application.builder()
        .bot(make_bot(token, settings.telegram_api_url))
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(PerChatUpdateProcessor(settings.update_concurrency))
    )
    if not receives:
        builder = builder.updater(None).job_queue(None)  # type: ignore[arg-type]  # None is PTB's documented 'no job queue'
    return builder.build()  # type: ignore[return-value]  # the builder's generics cannot follow .bot()/.context_types()


def answer_updates(app: App, services: Services) -> Conversation:
    """Every update goes to the conversation core; its replies go back through the Bot API."""
    settings = services.settings
    conversation = Conversation(
        services,
        flood=FloodGuard(
            limit=settings.flood_limit, silence=settings.flood_silence, button_limit=settings.flood_button_limit
        ),
    )

    async def on_update(update: Update, context: Context) -> None:
        event = to_event(update, context.bot.username)
        if event is None:
            if update.callback_query:  # stop the spinner of a button we do not handle
                await update.callback_query.answer()
            return
        await send_replies(update, context.bot, await conversation.handle(event))  # type: ignore[arg-type]  # make_bot builds a LeanBot

    async def on_error(update: object, context: Context) -> None:
        log.error("unhandled error while sending a reply: %s", type(context.error).__name__)

    app.add_handler(CallbackQueryHandler(on_update))
    app.add_handler(MessageHandler(filters.ALL, on_update))
    app.add_error_handler(on_error)
    return conversation


def schedule_jobs(app: App, services: Services) -> None:
    """What runs once per bot, however many processes answer: the command list, the notification dispatcher
    and the nightly retention purge."""
    settings, engine = services.settings, services.engine

    async def dispatch(context: Context) -> None:
        if context.bot_data.dispatcher is not None:
            await context.bot_data.dispatcher.tick()

    async def purge(context: Context) -> None:
        try:
            async with session_scope(engine) as session:
                done = await retention.purge(
                    session,
                    chat_days=settings.retention_chat_days,
                    gaps_days=settings.retention_gaps_days,
                    closed_days=settings.retention_closed_days,
                    outbox_days=settings.retention_outbox_days,
                )
            log.info("retention purge: %s", done)
        except DB_ERRORS as exc:
            log.warning("retention purge skipped: database unavailable (%s)", type(exc).__name__)

    async def post_init(application: App) -> None:
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        application.bot_data.dispatcher = Dispatcher(
            engine,
            TelegramSender(application.bot),  # type: ignore[arg-type]  # make_bot builds a LeanBot
            tz=settings.tz,
            batch=settings.dispatch_batch,
            limiter=RateLimiter() if settings.dispatch_rate_limit else None,
            lease=dt.timedelta(seconds=settings.dispatch_lease),
        )
        jobs = application.job_queue
        if jobs is not None:  # job names are fixed, so a restart never schedules a job twice
            for job in jobs.get_jobs_by_name("outbox") + jobs.get_jobs_by_name("retention"):
                job.schedule_removal()
            jobs.run_repeating(dispatch, interval=settings.dispatch_interval, first=1, name="outbox")
            jobs.run_daily(purge, time=dt.time(2, 30, tzinfo=settings.tz), name="retention")

    app.post_init = post_init


def use_uvloop() -> None:
    """uvloop runs the same asyncio code with less CPU per request; where it is missing, asyncio's loop does."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def freeze_startup_objects() -> None:
    """The knowledge base, the matcher's index and the libraries are built once and live forever: moved out of
    the collector's reach, they are not scanned again by every full collection (66 ms each, and a p99 spike)."""
    gc.collect()
    gc.freeze()
