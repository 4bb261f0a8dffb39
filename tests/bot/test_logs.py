"""Logs of a whole conversation carry no personal data (planted here on purpose)."""

from __future__ import annotations

import datetime as dt
import io
import logging

from bot.cases.rules import NewCase, create_case
from bot.conversation.core import Conversation
from bot.privacy.logs import JsonFormatter, ScrubFilter, scrub
from bot.replies.events import Event
from bot.services import Services
from bot.storage.db import session_scope

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
