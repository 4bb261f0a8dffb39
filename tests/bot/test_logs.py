"""Logs of a whole conversation carry no personal data (planted here on purpose), at INFO and at DEBUG."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import TypeHandler

from bot.cases.rules import NewCase, create_case
from bot.conversation.core import Conversation
from bot.privacy.logs import QUIET, JsonFormatter, ScrubFilter, scrub, setup_logging
from bot.replies.events import Event
from bot.services import Services
from bot.storage.db import session_scope
from handlers.app import build_application
from handlers.run import ALLOWED_UPDATES
from tests.telegram_api import FakeTelegram

NAME, PHONE, CODE = "Phạm Thị Nguyệt Ánh", "0903 111 222", "000.00.12.H01-261101-0777"
QUESTION = "con tôi Phạm Thị Nguyệt Ánh sđt 0903111222 muốn làm căn cước"


async def test_conversation_logs_hold_no_personal_data(settings, kb, matcher, engine, caplog) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.INFO)
    try:
        async with session_scope(engine) as s:
            await create_case(
                session=s,
                secret="x",
                new=NewCase(
                    code=CODE,
                    procedure_id="can-cuoc.cap-the",
                    agency="Công an xã",
                    applicant_name=NAME,
                    phone=PHONE,
                    received_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                    appointment_date=dt.date(2026, 11, 8),
                ),
            )

        class Exploding:
            def understand(self, text: str) -> None:
                raise ValueError(f"boom on {text}")

        conv = Conversation(Services(settings, kb, matcher, engine))
        for ev in [
            Event(77, "command", command="start"),
            Event(77, "text", text=QUESTION),
            Event(77, "command", command="tracuu", args=CODE),
            Event(77, "text", text="1222"),
            Event(77, "text", text="0000"),
            Event(77, "command", command="gopy"),
            Event(77, "unsupported"),
        ]:
            await conv.handle(ev)
        broken = Conversation(Services(settings, kb, Exploding(), engine))  # type: ignore[arg-type]
        [err] = await broken.handle(Event(77, "text", text=QUESTION))
        assert "mã lỗi" in err.text
    finally:
        root.removeHandler(handler)
    written = stream.getvalue()
    assert "ValueError" in written and "understand" in written  # the error was logged with its stack ...
    for planted in (PHONE, PHONE.replace(" ", ""), CODE, "Nguyệt Ánh", "0903111222"):
        assert planted not in written, planted  # ... but nothing personal reached the log
    own = [r for r in caplog.records if r.name.startswith("bot") and r.levelno >= logging.INFO]
    assert own and not any(NAME in r.getMessage() or CODE in r.getMessage() for r in own)


def test_scrub_masks_phones_codes_and_tokens() -> None:
    out = scrub(
        "gọi 0903 111 222 / +84903111222 mã 000.00.12.H01-261101-0777 bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    )
    assert "0903" not in out and "84903" not in out and "H01" not in out and "AAHdq" not in out


def test_scrub_masks_email_addresses() -> None:
    out = scrub("feedback from nguyetanh.pham@example.vn (cc: <an_le@mail.gov.vn>)")
    assert "nguyetanh" not in out and "an_le" not in out and out.count("<email>") == 2


@pytest.mark.parametrize(
    "line",
    [
        "retention purge: Purged(chat_states=0, checklists=2, gaps=3, follows=1, attempts=12, messages=4)",
        "send failed (Transient), outbox row 1234567 attempt 3",
        "dispatcher: database unavailable (OperationalError); will retry",
        "database unreachable: postgresql+psycopg://postgres@127.0.0.1:5432/tthc",
        'Running job "outbox (trigger: interval[0:00:02], next run at: 2026-12-05 08:00:02 +07)"',
        "handled update 1234 in 12.5 ms for chat 3f9a0c2b7d1e",
        "@property user@localhost a@b",
    ],
)
def test_scrub_leaves_ordinary_log_lines_alone(line: str) -> None:
    assert scrub(line) == line


# --- LOG_LEVEL=DEBUG ------------------------------------------------------------------------------------------

FIRST, LAST, EMAIL = "Nguyệt Ánh", "Phạm Thị", "nguyetanh.pham@example.vn"
DIGITS = PHONE.replace(" ", "")[-4:]  # what the citizen types to prove the case is theirs
PLANTED = (NAME, FIRST, LAST, EMAIL, PHONE, PHONE.replace(" ", ""), DIGITS, CODE)


class NamedTelegram(FakeTelegram):
    """The fake Bot API server, its citizen carrying the planted name (Telegram sends it with every update)."""

    def user(self, user_id: int, first_name: str | None = None) -> dict[str, Any]:
        return {**super().user(user_id, first_name or FIRST), "last_name": LAST}


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """The logging of `tthc-bot run` with LOG_LEVEL=DEBUG (setup_logging), written to a buffer; undone after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {n: lg.level for n, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    stream = io.StringIO()
    setup_logging("DEBUG")
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))


async def test_debug_logs_of_a_telegram_conversation_hold_no_personal_data(  # type: ignore[no-untyped-def]
    settings, kb, matcher, engine, debug_logs
) -> None:
    async with session_scope(engine) as s:
        await create_case(
            session=s,
            secret=settings.secret_key.get_secret_value(),
            new=NewCase(
                code=CODE,
                procedure_id="can-cuoc.cap-the",
                agency="Công an xã",
                applicant_name=NAME,
                phone=PHONE,
                received_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                appointment_date=dt.date(2026, 11, 8),
            ),
        )
    async with NamedTelegram("123:ABC") as server:
        bot_settings = settings.model_copy(
            update={"telegram_bot_token": SecretStr("123:ABC"), "telegram_api_url": server.url}
        )
        app = build_application(Services(bot_settings, kb, matcher, engine))
        done: dict[int, asyncio.Event] = {}

        async def observe(update: object, context: object) -> None:
            if isinstance(update, Update):
                done.setdefault(update.update_id, asyncio.Event()).set()

        async def step(sent: Any) -> None:
            update = await sent
            await asyncio.wait_for(done.setdefault(update["update_id"], asyncio.Event()).wait(), 10)

        def last_buttons() -> list[str]:
            markup = server.bot_messages(77)[-1].get("reply_markup", {})
            return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]

        app.add_handler(TypeHandler(Update, observe), group=99)
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.01, timeout=2, allowed_updates=ALLOWED_UPDATES)  # type: ignore[union-attr]
        await app.start()
        try:
            await step(server.send_command(77, 77, "start"))
            await step(server.send_text(77, 77, f"{QUESTION}, mail {EMAIL}"))
            await step(server.send_command(77, 77, "tracuu", CODE))
            await step(server.send_text(77, 77, DIGITS))
            await step(server.send_command(77, 77, "gopy"))
            await step(server.press_button(77, 77, server.bot_messages(77)[-1], last_buttons()[0]))
            await step(server.send_text(77, 77, f"Tôi là {NAME}, liên hệ {EMAIL} hoặc {PHONE}"))
            await step(server.press_button(77, 77, server.bot_messages(77)[-1], last_buttons()[0]))
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
            await app.shutdown()
            if app.post_shutdown:
                await app.post_shutdown(app)
    assert any("Người nộp" in m.get("text", "") for m in server.bot_messages(77))  # the lookup was answered
    assert any("GY-" in m.get("text", "") for m in server.bot_messages(77))  # and the feedback taken
    logging.getLogger("bot.privacy").debug("debug lines of our own are kept")

    lines = [json.loads(line) for line in debug_logs.getvalue().splitlines()]
    assert any(r["level"] == "DEBUG" and r["logger"] == "bot.privacy" for r in lines)  # DEBUG is on
    for planted in PLANTED:
        leaks = [r for r in lines if planted in json.dumps(r, ensure_ascii=False)]
        assert not leaks, (planted, leaks[:3])
    for r in lines:  # the libraries that log payloads stayed at their level
        quiet = [lowest for name, (lowest, _why) in QUIET.items() if r["logger"].split(".")[0] == name.split(".")[0]]
        assert not quiet or logging.getLevelName(r["level"]) >= min(quiet), r


def test_every_quieted_library_says_why() -> None:
    assert {"telegram", "sqlalchemy", "aiosqlite", "httpx", "httpcore", "aiohttp"} <= QUIET.keys()
    assert all(level >= logging.INFO and len(why) > 20 for level, why in QUIET.values())
