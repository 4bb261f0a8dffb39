"""The real PTB Application from handlers.app.build_application, talking to the fake Bot API
server of tests/telegram_api.py, in polling or webhook mode, inside the test's event loop.

`bot` (a Harness) knows when the bot has finished with an update (an observer handler in a late
handler group marks it), so a test can say "send this, then look at everything the bot did about
it" without sleeping, and can tell "the bot said nothing" from "the bot has not answered yet".
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.services import Services
from bot.settings import Settings
from handlers.app import build_application
from handlers.run import ALLOWED_UPDATES
from tests.telegram_api import Call, FakeTelegram, free_port

TOKEN = "123:ABC"
WEBHOOK_SECRET = "tthc-webhook_secret-42"
WAIT = 10.0  # seconds: the longest any test waits for the bot
BACKGROUND = {"getupdates", "getme", "setwebhook", "deletewebhook", "setmycommands", "getwebhookinfo"}


@dataclass
class Outcome:
    """Everything the bot did about one update."""

    update: dict[str, Any]
    calls: list[Call]
    messages: list[dict[str, Any]]  # new bot messages in the chat, as they are now

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def edits(self) -> list[Call]:
        return [c for c in self.calls if c.method.lower() in {"editmessagetext", "editmessagereplymarkup"}]

    @property
    def answers(self) -> list[Call]:
        return self.of("answerCallbackQuery")

    @property
    def message(self) -> dict[str, Any]:
        assert len(self.messages) == 1, f"expected one new message, got {len(self.messages)}: {self.messages}"
        return self.messages[0]

    @property
    def silent(self) -> bool:
        return not self.calls


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def button(message: dict[str, Any], label: str) -> str:
    """The callback data of the first button whose text contains `label`."""
    found = [b for b in buttons(message) if label in b["text"]]
    assert found, f"no button {label!r} in {[b['text'] for b in buttons(message)]}"
    return found[0]["callback_data"]


class Harness:
    def __init__(self, server: FakeTelegram, app: Application, mode: str) -> None:
        self.server, self.app, self.mode = server, app, mode
        self.processed: Counter[int] = Counter()
        self._done: dict[int, asyncio.Event] = {}

    async def observe(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            self.processed[update.update_id] += 1
            self._done.setdefault(update.update_id, asyncio.Event()).set()

    async def run(self, chat_id: int, send: Awaitable[dict[str, Any]]) -> Outcome:
        """Send one update and wait until the bot has finished with it."""
        first_call = len(self.server.calls)
        known = set(self.server.bot_message_ids.get(chat_id, []))
        update = await send
        done = self._done.setdefault(update["update_id"], asyncio.Event())
        try:
            await asyncio.wait_for(done.wait(), WAIT)
        except TimeoutError:
            raise AssertionError(f"the bot did not finish update {update} within {WAIT} s") from None
        calls = [c for c in self.server.calls[first_call:] if c.method.lower() not in BACKGROUND]
        new = [m for m in self.server.bot_messages(chat_id) if m["message_id"] not in known]
        return Outcome(update, calls, new)

    def citizen(self, chat_id: int = 4001, user_id: int | None = None, chat_type: str = "private") -> Citizen:
        return Citizen(self, chat_id, user_id or (chat_id if chat_id > 0 else 4001), chat_type)


@dataclass
class Citizen:
    h: Harness
    chat_id: int
    user_id: int
    chat_type: str = "private"
    sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def server(self) -> FakeTelegram:
        return self.h.server

    async def say(self, text: str) -> Outcome:
        out = await self.h.run(self.chat_id, self.server.send_text(self.chat_id, self.user_id, text, self.chat_type))
        self.sent.append(out.update["message"])
        return out

    async def command(self, name: str, args: str = "", *, mention: bool | str = False) -> Outcome:
        return await self.h.run(
            self.chat_id,
            self.server.send_command(self.chat_id, self.user_id, name, args, self.chat_type, mention=mention),
        )

    async def press(self, message: dict[str, Any], data: str) -> Outcome:
        return await self.h.run(self.chat_id, self.server.press_button(self.chat_id, self.user_id, message, data))

    async def tap(self, message: dict[str, Any], label: str) -> Outcome:
        """Press the button whose text contains `label`."""
        return await self.press(message, button(message, label))

    async def sticker(self) -> Outcome:
        return await self.h.run(self.chat_id, self.server.send_sticker(self.chat_id, self.user_id, self.chat_type))

    async def photo(self, caption: str | None = None) -> Outcome:
        return await self.h.run(
            self.chat_id, self.server.send_photo(self.chat_id, self.user_id, caption, self.chat_type)
        )

    async def forward(self, text: str) -> Outcome:
        return await self.h.run(
            self.chat_id, self.server.send_forwarded(self.chat_id, self.user_id, text, chat_type=self.chat_type)
        )

    async def edit(self, message: dict[str, Any], text: str) -> Outcome:
        return await self.h.run(
            self.chat_id, self.server.edit_text(self.chat_id, self.user_id, message["message_id"], text)
        )


@pytest.fixture
def bot_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"telegram_bot_token": SecretStr(TOKEN), "webhook_secret": SecretStr(WEBHOOK_SECRET)}
    )


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def telegram_server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(
    mode: str, telegram_server: FakeTelegram, bot_settings: Settings, kb, matcher, engine
) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    """The bot running against the fake server, started and stopped as run_polling/run_webhook do."""
    server = telegram_server
    settings = bot_settings.model_copy(update={"telegram_api_url": server.url})
    app = build_application(Services(settings, kb, matcher, engine))
    harness = Harness(server, app, mode)
    app.add_handler(TypeHandler(Update, harness.observe), group=99)
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    if mode == "polling":
        await app.updater.start_polling(poll_interval=0.01, timeout=2, allowed_updates=ALLOWED_UPDATES)  # type: ignore[union-attr]
    else:
        port = free_port()
        await app.updater.start_webhook(  # type: ignore[union-attr]
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            secret_token=WEBHOOK_SECRET,
            allowed_updates=ALLOWED_UPDATES,
        )
    await app.start()
    try:
        yield harness
    finally:
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
    twice = [u for u, n in harness.processed.items() if n > 1]
    assert not twice, f"updates handled more than once: {twice}"
