"""Sending HTML messages to Telegram: the bot's replies and the dispatcher's notifications.

`LeanBot` is PTB's `ExtBot` with two calls that do not turn Telegram's answer into a `Message`: the bot never
reads the message it sent, and parsing it back (entities, keyboard) was about 15% of the bot's CPU per
question (docs/benchmarks.md, Bot throughput). Its errors are PTB's own (BadRequest, Forbidden, RetryAfter, ...);
`core_error` is the one place that turns them into the core's (bot.notify.errors), so both senders here, the
dispatcher's `TelegramSender` and the reply path's `send_reply`, follow bot.notify.retry's policy.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.notify.errors import Blocked, Rejected, RetryLater, SendError, Transient
from bot.notify.retry import REPLY_RETRY, RetryPolicy, retrying
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


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's retry_after in seconds. PTB 22 gives an int, or a timedelta with PTB_TIMEDELTA set, and warns
    that the int is deprecated; both are read, so the warning says nothing here."""
    with warnings.catch_warnings():  # synchronous: no other task runs while the filter is changed
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry = exc.retry_after
    return retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)


def core_error(exc: TelegramError) -> SendError:
    """PTB's error as the core's: what to do about it (wait, drop and unfollow, give up, try again)."""
    if isinstance(exc, RetryAfter):
        return RetryLater(retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return Blocked(exc.message)
    if isinstance(exc, ChatMigrated):  # a group became a supergroup: this chat id is gone for good
        return Blocked(f"chat migrated to {exc.new_chat_id}")
    if isinstance(exc, BadRequest):  # a NetworkError subclass in PTB, so tested before it
        gone = any(g in exc.message.lower() for g in _GONE)
        return Blocked(exc.message) if gone else Rejected(exc.message)
    if isinstance(exc, NetworkError):  # TimedOut is a NetworkError; 5xx arrive as NetworkError too
        return Transient(type(exc).__name__)
    return Transient(f"{type(exc).__name__}: {exc.message}")  # InvalidToken, Conflict ...: may pass; try again


async def _send_html(bot: LeanBot, chat_id: int, text: str, rows: list[list[Button]] | None) -> None:
    """One try, failing with the core's error; PTB's stays attached as its cause."""
    try:
        await bot.send_html(chat_id, text, rows)
    except TelegramError as exc:
        raise core_error(exc) from exc


class TelegramSender:
    """The dispatcher's channel: sends one outbox message and maps PTB's errors to the core's."""

    def __init__(self, bot: LeanBot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str, buttons: list[list[dict[str, Any]]]) -> None:
        """One try: the outbox row's buttons as inline keyboard rows; a failure is raised as the core's error."""
        rows = [[Button(b["text"], b.get("data"), b.get("url")) for b in row] for row in buttons]
        await _send_html(self.bot, chat_id, text, rows)


async def send_reply(
    bot: LeanBot,
    chat_id: int,
    text: str,
    rows: list[list[Button]] | None = None,
    *,
    policy: RetryPolicy = REPLY_RETRY,
) -> None:
    """Send a reply the citizen is waiting for, retried as `policy` says (by default: a 429 of 10 s or less waited
    out, a network error retried after 0.5 s and 1 s, three tries at most, a refusal not retried).

    When it gives up it raises PTB's own error of the last try (RetryAfter, NetworkError, BadRequest, ...), as
    the reply path always did: its callers and PTB's error handler keep seeing Telegram's errors."""
    try:
        await retrying(lambda: _send_html(bot, chat_id, text, rows), policy)
        return
    except SendError as exc:
        failed = exc
    cause = failed.__cause__  # raised outside the except block, so PTB's error keeps its own cause and context
    raise cause if isinstance(cause, TelegramError) else failed
