"""Telegram adapter: PTB updates -> core events, core replies -> Bot API calls. Nothing else."""

from __future__ import annotations

import logging

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.conversation import Conversation
from bot.events import Event, Reply
from bot.services import Services, build_services
from bot.settings import Settings

log = logging.getLogger(__name__)
LIMIT = 4096
COMMANDS = [
    ("start", "Bắt đầu, menu chính"), ("help", "Hướng dẫn sử dụng"), ("linhvuc", "Thủ tục theo lĩnh vực"),
    ("tracuu", "Tra cứu hồ sơ"), ("huy", "Dừng thao tác đang làm"),
]


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Split at line boundaries so no message exceeds Telegram's limit."""
    parts, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) + 1 > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        parts.append(current)
    return parts or [""]


def to_event(update: Update) -> Event | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or (user is not None and user.is_bot):
        return None
    group = chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    uid = user.id if user else None
    if update.callback_query:
        return Event(chat.id, "callback", callback=update.callback_query.data or "", user_id=uid, is_group=group)
    msg = update.effective_message
    if msg is None or update.edited_message:
        return Event(chat.id, "unsupported", user_id=uid, is_group=group)
    text = msg.text or ""
    if text.startswith("/"):
        cmd, _, args = text[1:].partition(" ")
        return Event(chat.id, "command", text=text, command=cmd.split("@")[0], args=args.strip(), user_id=uid, is_group=group)
    if not text or msg.forward_origin:
        return None if group else Event(chat.id, "unsupported", user_id=uid, is_group=group)
    return Event(chat.id, "text", text=text, user_id=uid, is_group=group)


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data, url=b.url) for b in row] for row in reply.buttons]
    )


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, replies: list[Reply]) -> None:
    query = update.callback_query
    toast = next((r.toast for r in replies if r.toast), None)
    if query:
        await query.answer(toast)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    for reply in replies:
        if not reply.text:
            continue
        if reply.edit and query and query.message and len(reply.text) <= LIMIT:
            try:
                await query.edit_message_text(reply.text, parse_mode=ParseMode.HTML, reply_markup=_markup(reply))
                continue
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    continue
        chunks = split_text(reply.text)
        for i, chunk in enumerate(chunks):
            await context.bot.send_message(chat_id, chunk, parse_mode=ParseMode.HTML,
                                           reply_markup=_markup(reply) if i == len(chunks) - 1 else None)


def build_application(settings: Settings, services: Services | None = None) -> Application:
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    base = settings.telegram_api_url.rstrip("/")
    services = services or build_services(settings)
    conversation = Conversation(services)
    app = (Application.builder().token(token).base_url(f"{base}/bot").base_file_url(f"{base}/file/bot").build())

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_event(update)
        if event is None:
            return
        if event.is_group and event.kind == "text":
            return
        await _send(update, context, await conversation.handle(event))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("unhandled error while sending a reply: %s", type(context.error).__name__)

    async def post_init(application: Application) -> None:
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])

    async def post_shutdown(application: Application) -> None:
        await services.close()

    app.add_handler(CallbackQueryHandler(on_update))
    app.add_handler(MessageHandler(filters.ALL, on_update))
    app.add_error_handler(on_error)
    app.post_init = post_init
    app.post_shutdown = post_shutdown
    return app


def run_bot(settings: Settings, *, webhook: bool = False) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = build_application(settings)
    if not webhook:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    if not settings.webhook_url or not settings.webhook_secret:
        raise SystemExit("error: WEBHOOK_URL and WEBHOOK_SECRET must be set for --webhook")
    app.run_webhook(listen=settings.webhook_listen, port=settings.webhook_port, url_path="telegram",
                    webhook_url=f"{settings.webhook_url.rstrip('/')}/telegram",
                    secret_token=settings.webhook_secret.get_secret_value(), allowed_updates=Update.ALL_TYPES)
