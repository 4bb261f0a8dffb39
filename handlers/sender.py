"""The dispatcher's Telegram channel: sends one outbox message and maps PTB's errors to the core's."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.dispatcher import Blocked, Rejected, RetryLater, Transient

_GONE = ("chat not found", "user is deactivated", "bot was kicked", "chat was deleted")


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str, buttons: list[list[dict[str, Any]]]) -> None:
        markup = None
        if buttons:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b.get("data"), url=b.get("url"))
                                            for b in row] for row in buttons])
        try:
            await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except RetryAfter as exc:
            retry = exc.retry_after
            raise RetryLater(retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)) from None
        except Forbidden as exc:
            raise Blocked(exc.message) from None
        except ChatMigrated as exc:  # a group became a supergroup: this chat id is gone for good
            raise Blocked(f"chat migrated to {exc.new_chat_id}") from None
        except BadRequest as exc:
            if any(g in exc.message.lower() for g in _GONE):
                raise Blocked(exc.message) from None
            raise Rejected(exc.message) from None
        except (TimedOut, NetworkError) as exc:  # TimedOut is a NetworkError; 5xx arrive as NetworkError too
            raise Transient(type(exc).__name__) from None
