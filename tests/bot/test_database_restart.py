"""PostgreSQL restarted under a running bot: questions still answered, lookups fail politely and recover,
the outbox loses nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.conversation.core import Conversation
from bot.notify import outbox
from bot.notify.dispatcher import Dispatcher
from bot.replies.events import Event
from bot.services import Services
from bot.staff import demo
from bot.storage.db import session_scope
from tests.bot.test_notifications import RecordingSender


def _pg(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
        timeout=60,
    )


async def _wait_up(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    for _ in range(60):
        try:
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
            return
        except Exception:  # noqa: BLE001
            await asyncio.sleep(0.5)
    raise AssertionError("PostgreSQL did not come back")


async def test_postgresql_restart(backend, settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgres":
        pytest.skip("this test restarts the PostgreSQL server")
    if not Path("/etc/postgresql").exists():
        pytest.fail("pg_ctlcluster is needed to restart PostgreSQL in this test")
    async with session_scope(engine) as s:
        cases = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=2, today=dt.date(2026, 11, 25)
        )
        for i in range(40):
            await outbox.enqueue(
                s, dedupe_key=f"r{i}", chat_id=500 + i, kind="t", payload={"text": f"tin {i}"}, urgent=True
            )
    conv = Conversation(Services(settings, kb, matcher, engine))
    sender = RecordingSender()
    dispatcher = Dispatcher(engine, sender, tz=ZoneInfo("Asia/Ho_Chi_Minh"), batch=10)
    assert (await dispatcher.tick()).sent == 10
    _pg("stop")
    try:
        [answer] = await conv.handle(Event(9, "text", text="đổi bằng lái xe cần giấy tờ gì"))
        assert "Đổi giấy phép lái xe" in answer.text
        [lookup] = await conv.handle(Event(9, "command", command="tracuu", args=cases[0].code))
        assert "tạm gián đoạn" in lookup.text
        assert (await dispatcher.tick()).sent == 0  # waits, does not crash
    finally:
        _pg("start")
    await _wait_up(engine)
    [ask] = await conv.handle(Event(9, "command", command="tracuu", args=cases[0].code))
    assert "4 số cuối" in ask.text
    [card] = await conv.handle(Event(9, "text", text=cases[0].phone_last4))
    assert cases[0].code in card.text
    await dispatcher.drain()
    assert sorted(c for c, _ in sender.sent) == list(range(500, 540))
    async with session_scope(engine) as s:
        assert await outbox.counts(s) == {"sent": 40}
