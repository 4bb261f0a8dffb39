"""Telegram adapter: PTB updates -> core events, core replies -> Bot API calls. Nothing else."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import logging
import re
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.conversation.core import Conversation
from bot.conversation.flood import FloodGuard
from bot.notify.dispatcher import Dispatcher, RateLimiter
from bot.privacy import retention
from bot.privacy.logs import setup_logging
from bot.replies.events import Event, Reply
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage.db import DB_ERRORS, session_scope
from handlers.ordering import PerChatUpdateProcessor
from handlers.sender import LeanBot, TelegramSender, make_bot

log = logging.getLogger(__name__)
LIMIT = 4096
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]  # all the bot handles
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
RETRIES = 2


_ATOM = re.compile(r"<[^<>]+>|&#?\w+;|.", re.S)  # a tag, an HTML entity, or one character
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z][\w-]*)")
_TAGS = re.compile(r"<[^<>]+>")


def _units(s: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), so emoji count double."""
    return len(s.encode("utf-16-le")) // 2


def _after(stack: list[tuple[str, str]], atom: str) -> list[tuple[str, str]]:
    m = _TAG_NAME.match(atom) if atom.startswith("<") else None
    if not m:
        return stack
    closing, name = m.group(1), m.group(2).lower()
    if not closing:
        return [*stack, (name, atom)]
    for k in range(len(stack) - 1, -1, -1):
        if stack[k][0] == name:
            return stack[:k] + stack[k + 1 :]
    return stack


def _closers(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` units, in order, none empty.

    Cuts at a line break when it can, else at a space, else anywhere; never inside a tag or an
    entity; tags open at a cut are closed at the end of one part and reopened at the next.
    """
    if _units(text) <= limit:
        return [text]
    atoms = _ATOM.findall(text)
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    i = 0
    while i < len(atoms):
        while i < len(atoms) and atoms[i] in ("\n", " "):
            i += 1  # a part does not start with the break it was cut at
        if i == len(atoms):
            break
        head = "".join(tag for _, tag in stack)
        size, cur, j = _units(head), stack, i
        cuts: dict[str, tuple[int, list[tuple[str, str]], int]] = {}
        while j < len(atoms):
            nxt = _after(cur, atoms[j])
            if size + _units(atoms[j]) + _units(_closers(nxt)) > limit and j > i:
                break
            size, cur, j = size + _units(atoms[j]), nxt, j + 1
            if atoms[j - 1] in ("\n", " "):
                cuts[atoms[j - 1]] = (j, cur, size)
        if j < len(atoms):  # prefer a line break in the second half, then a space, then any line break
            line, space = cuts.get("\n"), cuts.get(" ")
            cut = line if line and (line[2] >= limit // 2 or not space) else space
            if cut:
                j, cur = cut[0], cut[1]
        body = "".join(atoms[i:j]).rstrip()
        if _TAGS.sub("", body).strip():
            parts.append(head + body + _closers(cur))
        stack, i = cur, j
    return parts or [text[:limit]]


def to_event(update: Update, bot_username: str | None = None) -> Event | None:
    """The core event for an update, or None when the bot should stay silent.

    Silent for: channels, other bots, commands addressed to another bot (/start@other_bot), and
    in groups for anything but commands and button presses. An edited text in a private chat is
    answered as a new question (the citizen corrected a typo); other edits are ignored, because
    the original message was already answered. Stickers, photos, forwarded messages and the like
    in a private chat become "unsupported" (one polite line).
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == ChatType.CHANNEL or (user is not None and user.is_bot):
        return None
    group = chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    uid = user.id if user else None
    if update.callback_query:
        return Event(chat.id, "callback", callback=update.callback_query.data or "", user_id=uid, is_group=group)
    msg = update.effective_message
    if msg is None:
        return None
    text = msg.text or ""
    if update.edited_message or update.edited_channel_post or update.edited_business_message:
        if group or not text or text.startswith("/") or msg.forward_origin:
            return None
        return Event(chat.id, "text", text=text, user_id=uid, is_group=group)
    if not text or msg.forward_origin:
        return None if group else Event(chat.id, "unsupported", user_id=uid, is_group=group)
    if text.startswith("/") and text[1:2].strip():
        head, *rest = text[1:].split(maxsplit=1)
        cmd, _, addressee = head.partition("@")
        if addressee and bot_username and addressee.lower() != bot_username.lower():
            return None
        return Event(
            chat.id,
            "command",
            text=text,
            command=cmd,
            args=rest[0].strip() if rest else "",
            user_id=uid,
            is_group=group,
        )
    if group:
        return None
    return Event(chat.id, "text", text=text, user_id=uid, is_group=group)


async def _send(update: Update, bot: LeanBot, replies: list[Reply]) -> None:
    query = update.callback_query
    toast = next((r.toast for r in replies if r.toast), None)
    if query:
        try:
            await query.answer(toast)
        except BadRequest as exc:  # too old or already answered: the reply itself still matters
            log.info("could not answer a button press: %s", exc)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    for reply in replies:
        if not reply.text:
            continue
        if reply.edit and query and query.message and _units(reply.text) <= LIMIT:
            try:
                await bot.edit_html(chat_id, query.message.message_id, reply.text, reply.buttons)
                continue
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    continue
        chunks = split_text(reply.text)
        for i, chunk in enumerate(chunks):
            buttons = reply.buttons if i == len(chunks) - 1 else None  # the keyboard goes under the last part
            await _with_retry(functools.partial(bot.send_html, chat_id, chunk, buttons))


async def _with_retry(call: Callable[[], Awaitable[object]]) -> None:
    """A reply the citizen is waiting for: wait out a short 429, retry a network error, then give up."""
    for attempt in range(RETRIES + 1):
        try:
            await call()
            return
        except RetryAfter as exc:
            wait = (
                exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else float(exc.retry_after)
            )
            if attempt == RETRIES or wait > 10:
                raise
            await asyncio.sleep(wait)
        except (TimedOut, NetworkError):
            if attempt == RETRIES:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))


def build_application(settings: Settings, services: Services | None = None) -> Application:
    """The bot in one process: it receives updates, answers them and runs the scheduled jobs."""
    services = services or build_services(settings)
    app = new_application(settings)
    conversation = answer_updates(app, settings, services)
    schedule_jobs(app, settings, services.engine)

    async def post_shutdown(application: Application) -> None:
        await conversation.close()
        await services.close()

    app.post_shutdown = post_shutdown
    return app


def new_application(settings: Settings, *, receives: bool = True) -> Application:
    """PTB's Application on our bot; without `receives`, no updater and no job queue (a worker of
    handlers/workers.py is handed its updates)."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    builder = (
        Application.builder()
        .bot(make_bot(token, settings.telegram_api_url))
        .concurrent_updates(PerChatUpdateProcessor(settings.update_concurrency))
    )
    if not receives:
        builder = builder.updater(None).job_queue(None)
    return builder.build()


def answer_updates(app: Application, settings: Settings, services: Services) -> Conversation:
    conversation = Conversation(services, flood=FloodGuard(limit=settings.flood_limit, silence=settings.flood_silence))

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_event(update, context.bot.username)
        if event is None:
            if update.callback_query:  # stop the spinner of a button we do not handle
                await update.callback_query.answer()
            return
        await _send(update, context.bot, await conversation.handle(event))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("unhandled error while sending a reply: %s", type(context.error).__name__)

    app.add_handler(CallbackQueryHandler(on_update))
    app.add_handler(MessageHandler(filters.ALL, on_update))
    app.add_error_handler(on_error)
    return conversation


def schedule_jobs(app: Application, settings: Settings, engine: AsyncEngine) -> None:
    """What runs once per bot, however many processes answer: the command list, the notification dispatcher
    and the nightly retention purge."""

    async def dispatch(context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot_data["dispatcher"].tick()

    async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            async with session_scope(engine) as session:
                done = await retention.purge(
                    session,
                    chat_days=settings.retention_chat_days,
                    gaps_days=settings.retention_gaps_days,
                    closed_days=settings.retention_closed_days,
                )
            log.info("retention purge: %s", done)
        except DB_ERRORS as exc:
            log.warning("retention purge skipped: database unavailable (%s)", type(exc).__name__)

    async def post_init(application: Application) -> None:
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        application.bot_data["dispatcher"] = Dispatcher(
            engine,
            TelegramSender(application.bot),
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


def run_bot(settings: Settings, *, webhook: bool = False, workers: int | None = None) -> None:
    """`tthc-bot run`: problems an operator can fix end the process with one line naming the setting."""
    from handlers.workers import build_front

    setup_logging(settings.log_level)
    if not settings.telegram_bot_token:
        raise SystemExit(
            "error: TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env "
            "(or use `tthc-bot chat` to try the bot in the terminal)"
        )
    if settings.uses_dev_secret:
        log.warning(
            "SECRET_KEY is not set: using the development secret; set a long random SECRET_KEY in .env "
            "before serving citizens (it protects phone numbers and buttons)"
        )
    if webhook and (not settings.webhook_url or not settings.webhook_secret):
        raise SystemExit("error: WEBHOOK_URL and WEBHOOK_SECRET must be set for --webhook")
    use_uvloop()
    count = workers or settings.bot_workers
    app = build_application(settings) if count == 1 else build_front(settings, count)
    freeze_startup_objects()
    try:
        if not webhook:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
            return
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=f"{settings.webhook_url.rstrip('/')}/telegram",  # type: ignore[union-attr]
            secret_token=settings.webhook_secret.get_secret_value(),  # type: ignore[union-attr]
            allowed_updates=ALLOWED_UPDATES,
        )
    except (InvalidToken, NetworkError) as exc:  # only at start-up: once running, PTB retries network errors itself
        asyncio.run(app.bot.close_transports())  # type: ignore[attr-defined]
        if isinstance(exc, InvalidToken):
            raise SystemExit(
                f"error: TELEGRAM_BOT_TOKEN was refused by the Bot API at {settings.telegram_api_url}; "
                "check the token from @BotFather"
            ) from None
        raise SystemExit(
            f"error: cannot reach the Bot API at {settings.telegram_api_url} ({exc.message}); "
            "check TELEGRAM_API_URL and the network"
        ) from None
