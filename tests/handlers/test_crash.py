"""Crash safety, tested: kill -9 the bot process in the middle of sending 10,000 notifications, start it
again: every notification is delivered, and the duplicates are at most the batch that was in flight.

The bot is a real subprocess (`python -m cli.main run`, long polling) talking to the fake Bot API server
of tests/telegram_api.py, which runs in this test's event loop on a free 127.0.0.1 port; the database is
the migrated SQLite file or PostgreSQL database of the `settings` fixture. Telegram's limits are off
(DISPATCH_RATE_LIMIT=false: at 30 messages a second, 10,000 take five and a half minutes) and the lease is
short (DISPATCH_LEASE), so the batch the killed process held is claimed again after seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from bot.storage.models import Outbox, utcnow
from tests.telegram_api import FakeTelegram

TOKEN = "123:ABC"
N = 10_000
CHATS = 1_000
FIRST_CHAT = 700_000_000
BATCH = 100
LEASE = 4.0  # seconds
KILL_AFTER = 3_000  # delivered messages before the kill
TIMEOUT = 240.0  # seconds, for everything to be delivered after the restart
ROOT = Path(__file__).resolve().parents[2]


def text(i: int) -> str:
    return f"🔔 Thông báo số <b>{i:05d}</b>"


def plain(i: int) -> str:
    return f"🔔 Thông báo số {i:05d}"


async def fill_outbox(engine: AsyncEngine) -> None:
    """10,000 urgent rows (quiet hours do not hold them) for 1,000 chats, in one bulk insert."""
    due = utcnow() - dt.timedelta(minutes=1)
    rows = [
        {
            "dedupe_key": f"crash:{i}",
            "chat_id": FIRST_CHAT + i % CHATS,
            "case_id": None,
            "kind": "test",
            "payload": {"text": text(i)},
            "due_at": due,
            "urgent": True,
            "status": "pending",
            "attempts": 0,
            "created_at": due,
        }
        for i in range(N)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(Outbox), rows)


async def outbox_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
    return {status: n for status, n in rows}


def delivered(server: FakeTelegram) -> Counter[str]:
    """Texts of the messages the server accepted (a request cut off by the kill is not a message)."""
    return Counter(server.messages[chat][mid]["text"] for chat, ids in server.bot_message_ids.items() for mid in ids)


class Bot:
    """`python -m cli.main run` in a subprocess, its output in a log file."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "run"],
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"the bot exited with code {self.proc.returncode}:\n{self.tail()}")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


async def wait_until(
    predicate: Callable[[], object], bot: Bot, timeout: float, what: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        bot.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n--- bot log ---\n{bot.tail()}")
        await asyncio.sleep(interval)


async def test_kill_9_mid_batch_then_restart_delivers_everything(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    started = time.monotonic()
    await fill_outbox(engine)
    assert await outbox_counts(engine) == {"pending": N}
    async with FakeTelegram(TOKEN) as server:
        for i in range(CHATS):
            server.chat(FIRST_CHAT + i, FIRST_CHAT + i)  # the citizens have talked to the bot before
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": server.url,
            "SECRET_KEY": settings.secret_key.get_secret_value(),
            "DATABASE_URL": str(settings.database_url),
            "DATA_DIR": str(tmp_path / "data"),
            "DISPATCH_INTERVAL": "0.05",
            "DISPATCH_BATCH": str(BATCH),
            "DISPATCH_RATE_LIMIT": "false",
            "DISPATCH_LEASE": str(LEASE),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        bot = Bot(env, tmp_path, tmp_path / "bot.log")
        bot.start()
        try:
            await wait_until(
                lambda: len(server.calls_of("sendMessage")) >= KILL_AFTER,
                bot,
                60,
                f"{KILL_AFTER} messages from the first bot process",
            )
            in_flight = 0  # kill -9 half-way through a batch: claimed, partly delivered, not yet marked sent
            deadline = time.monotonic() + 30
            while in_flight == 0 and time.monotonic() < deadline:
                bot.check_alive()
                in_flight = (await outbox_counts(engine)).get("sending", 0)
            claimed_at = len(server.calls_of("sendMessage"))
            while len(server.calls_of("sendMessage")) < claimed_at + BATCH // 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
            bot.kill()
            at_kill = await outbox_counts(engine)
            got_before = sum(delivered(server).values())
            assert 0 < at_kill.get("sending", 0) <= BATCH, at_kill  # killed with one batch claimed, not marked
            assert KILL_AFTER <= got_before < N

            bot.start()
            wanted = {plain(i) for i in range(N)}
            await wait_until(
                lambda: wanted <= delivered(server).keys(),
                bot,
                TIMEOUT,
                "every notification after the restart",
                interval=0.25,
            )
            box: dict[str, int] = {}

            async def settle() -> None:  # the last batch is marked sent just after its messages arrive
                nonlocal box
                for _ in range(100):
                    box = await outbox_counts(engine)
                    if box == {"sent": N}:
                        return
                    await asyncio.sleep(0.1)

            await settle()
        finally:
            bot.stop()
        got = delivered(server)
    assert box == {"sent": N}
    assert set(got) == wanted  # nothing lost, nothing invented
    duplicates = sum(got.values()) - N
    assert duplicates <= at_kill["sending"] <= BATCH, (duplicates, at_kill)
    twice = [t for t, n in got.items() if n > 1]
    assert all(n == 2 for n in got.values() if n > 1) and len(twice) == duplicates
    print(
        f"\n[{settings.database_url.split(':')[0]}] killed with {at_kill['sending']} rows in flight after "
        f"{got_before} messages; {duplicates} duplicates; {time.monotonic() - started:.1f} s in all"
    )
