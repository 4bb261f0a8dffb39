"""Sending HTML messages to Telegram: the bot's replies and the dispatcher's notifications.

`LeanBot` is PTB's `ExtBot` with two calls that do not turn Telegram's answer into a `Message`: the bot never
reads the message it sent, and parsing it back (entities, keyboard) was about 15% of the bot's CPU per
question (docs/benchmarks.md, Bot throughput). Errors are PTB's own (BadRequest, Forbidden, RetryAfter, ...).
"""

from __future__ import annotations

from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.notify.dispatcher import Blocked, Rejected, RetryLater, Transient
from bot.replies.events import Button
from handlers.transport import AiohttpRequest

_GONE = ("chat not found", "user is deactivated", "bot was kicked", "chat was deleted")


def keyboard(rows: list[list[Button]]) -> dict[str, Any] | None:
    """An inline keyboard in the Bot API's JSON shape."""
    if not rows:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.text, **({"url": b.url} if b.url else {"callback_data": b.data})} for b in row] for row in rows
        ]
    }


class LeanBot(ExtBot[None]):
    async def close_transports(self) -> None:
        """Close the HTTP sessions even when start-up failed: PTB shuts down only a bot whose `getMe` succeeded,
        and aiohttp complains about a session left open."""
        for request in (self._request[0], self._request[1]):
            await request.shutdown()

    async def send_html(self, chat_id: int, text: str, rows: list[list[Button]] | None = None) -> None:
        await self._post("sendMessage", _body(text, rows, chat_id=chat_id))

    async def edit_html(self, chat_id: int, message_id: int, text: str, rows: list[list[Button]] | None = None) -> None:
        await self._post("editMessageText", _body(text, rows, chat_id=chat_id, message_id=message_id))


def make_bot(token: str, api_url: str) -> LeanBot:
    """The bot as `tthc-bot run` builds it: Bot API at `api_url`, HTTP through aiohttp (handlers/transport.py)."""
    base = api_url.rstrip("/")
    return LeanBot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(1),
    )


def _body(text: str, rows: list[list[Button]] | None, **target: int) -> dict[str, Any]:
    body: dict[str, Any] = {**target, "text": text, "parse_mode": ParseMode.HTML}
    markup = keyboard(rows or [])
    if markup:
        body["reply_markup"] = markup
    return body


class TelegramSender:
    """The dispatcher's channel: sends one outbox message and maps PTB's errors to the core's."""

    def __init__(self, bot: LeanBot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str, buttons: list[list[dict[str, Any]]]) -> None:
        rows = [[Button(b["text"], b.get("data"), b.get("url")) for b in row] for row in buttons]
        try:
            await self.bot.send_html(chat_id, text, rows)
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
