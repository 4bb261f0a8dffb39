"""Notification throughput: draining the outbox through the real Dispatcher + TelegramSender (PTB's Bot) to
the fake Bot API server of tests/telegram_api.py, beside baselines in the same run.

The fake server runs in a subprocess (as Telegram is another machine; `--inproc` puts it in this process)
and accepts every chat. For each backend (SQLite file, and a throw-away PostgreSQL database), on a freshly
migrated database filled with one bulk insert:

* limits off (`DISPATCH_RATE_LIMIT=false`, no RateLimiter): --count messages (default 10,000) to --chats
  chats (default 1,000), batches of --batch (default 100, the production default), --concurrency requests
  in flight (default 4,16: the bot uses 4 with limits off, 16 with limits on): the dispatcher's ceiling;
* limits on (RateLimiter: 30/s overall, 1/s per chat): --limited-count messages (default 900) to as many
  chats, once as the server answers and once with --latency-ms (default 100 ms, about the round trip from
  Việt Nam to Telegram's servers) added to each sendMessage: how close to 30 msg/s it gets; the last run
  allows one request in flight, as the dispatcher did before it overlapped paced requests.

Baselines, same messages, same Bot object, no database: a plain `for` loop of `await bot.send_message(...)`,
and the same with 4 and 16 requests in flight (asyncio.gather under a semaphore); with limits on, the ideal
time is count / 30 s.

Every run checks that the server received each message exactly once. The dispatcher's clock (`now`) is a
working day at noon in Hà Nội plus the elapsed time, so quiet hours never hold anything.
Run: .venv/bin/python benchmarks/bench_notifications.py [--count 10000] [--backends sqlite,postgres]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import Application  # noqa: E402

from bot.notify.dispatcher import Dispatcher, RateLimiter  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.db import make_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.models import Outbox  # noqa: E402
from handlers.sender import TelegramSender, make_bot  # noqa: E402
from tests.telegram_api import FakeTelegram  # noqa: E402

TOKEN = "123:ABC"
NOON = dt.datetime(2026, 11, 25, 5, tzinfo=dt.UTC)  # 12:00 in Hà Nội, a Wednesday
PG_DEFAULT = os.environ.get("DATABASE_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FIRST_CHAT = 500_000_000


class BenchTelegram(FakeTelegram):
    """The fake server, where every chat exists, with an optional delay per sendMessage and two extra
    methods for the benchmark: benchStats (what arrived) and benchReset."""

    latency = 0.0

    def _chat(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p.get("chat_id") or 0)
        if chat_id and chat_id not in self.chats:
            self.chat(chat_id, chat_id)
        return super()._chat(p)

    async def _m_sendmessage(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.latency:
            await asyncio.sleep(self.latency)
        return await super()._m_sendmessage(p)

    async def _m_benchstats(self, p: dict[str, Any]) -> dict[str, int]:
        texts = [self.messages[c][m]["text"] for c, ids in self.bot_message_ids.items() for m in ids]
        return {"messages": len(texts), "distinct": len(set(texts))}

    async def _m_benchreset(self, p: dict[str, Any]) -> bool:
        self.calls.clear()
        self.messages.clear()
        self.bot_message_ids.clear()
        self.latency = float(p.get("latency") or 0)
        return True


async def serve() -> None:
    async with BenchTelegram(TOKEN) as server:
        print(f"PORT {server.port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


class Server:
    """The fake server, in a subprocess or in this process."""

    def __init__(self, inproc: bool) -> None:
        self.inproc, self.proc, self.local = inproc, None, None
        self.url = ""

    async def start(self) -> None:
        if self.inproc:
            self.local = await BenchTelegram(TOKEN).start()
            self.url = self.local.url
            return
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        line = await asyncio.get_running_loop().run_in_executor(None, self.proc.stdout.readline)  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    async def call(self, method: str, **params: Any) -> Any:
        async with httpx.AsyncClient() as client:
            resp = await client.post(f"{self.url}/bot{TOKEN}/{method}", json=params)
            return resp.json()["result"]

    async def stop(self) -> None:
        if self.local:
            await self.local.stop()
        if self.proc:
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait(timeout=10)


def message(i: int) -> str:
    """A status notification as the bot renders it (about 300 characters of Telegram HTML)."""
    return (
        f"<b>⚙️ Hồ sơ 000.00.15.H57-261120-{i:05d} đang được giải quyết.</b>\n"
        "Thủ tục: Đăng ký thường trú\nTrạng thái: Đang giải quyết\n"
        "Hồ sơ đang được giải quyết; Anh/Chị chưa cần làm gì thêm."
    )


# --- databases ---------------------------------------------------------------------------------


def create_database(backend: str, pg_admin: str, tmp: Path) -> tuple[str, str | None]:
    """A migrated database: (async URL, PostgreSQL database name to drop or None)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        upgrade(Settings(_env_file=None), url=url)  # type: ignore[call-arg]
        return url, None
    name = f"tthc_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(pg_admin)
    with psycopg.connect(
        host=admin.host or "127.0.0.1",
        port=admin.port or 5432,
        user=admin.username or "postgres",
        password=admin.password,
        dbname=admin.database or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    upgrade(Settings(_env_file=None), url=url)  # type: ignore[call-arg]
    return url, name


def drop_database(pg_admin: str, name: str) -> None:
    admin = make_url(pg_admin)
    with psycopg.connect(
        host=admin.host or "127.0.0.1",
        port=admin.port or 5432,
        user=admin.username or "postgres",
        password=admin.password,
        dbname=admin.database or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def refill(engine: Any, n: int, chats: int) -> None:
    due = NOON - dt.timedelta(minutes=1)
    rows = [
        {
            "dedupe_key": f"bench:{i}",
            "chat_id": FIRST_CHAT + i % chats,
            "case_id": None,
            "kind": "status:in_progress",
            "payload": {"text": message(i)},
            "due_at": due,
            "urgent": False,
            "status": "pending",
            "attempts": 0,
            "created_at": due,
        }
        for i in range(n)
    ]
    async with engine.begin() as conn:
        await conn.execute(Outbox.__table__.delete())  # type: ignore[attr-defined]
        for start in range(0, n, 5000):
            await conn.execute(insert(Outbox), rows[start : start + 5000])


async def statuses(engine: Any) -> dict[str, int]:
    async with engine.connect() as conn:
        return dict((await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all())  # type: ignore[arg-type]


# --- runs ----------------------------------------------------------------------------------------


class Timer:
    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


async def plain_loop(bot: Any, n: int, chats: int, in_flight: int) -> Timer:
    """Baseline: the same messages straight through bot.send_message, no database."""
    with Timer() as t:
        if in_flight == 1:
            for i in range(n):
                await bot.send_message(FIRST_CHAT + i % chats, message(i), parse_mode=ParseMode.HTML)
        else:
            sem = asyncio.Semaphore(in_flight)

            async def one(i: int) -> None:
                async with sem:
                    await bot.send_message(FIRST_CHAT + i % chats, message(i), parse_mode=ParseMode.HTML)

            await asyncio.gather(*(one(i) for i in range(n)))
    return t


async def dispatch(
    engine: Any, bot: Any, n: int, *, batch: int, limited: bool, timeout: float, concurrency: int = 16
) -> Timer:
    """Drain the outbox as the scheduled job would, back to back: run_once until all n are sent."""
    d = Dispatcher(
        engine,
        TelegramSender(bot),
        tz=Settings(_env_file=None).tz,
        batch=batch,  # type: ignore[call-arg]
        limiter=RateLimiter() if limited else None,
        concurrency=concurrency,
    )
    with Timer() as t:
        start = time.monotonic()
        while d.totals.sent < n:
            if time.monotonic() - start > timeout:
                raise SystemExit(f"timed out: {d.totals}")
            stats = await d.run_once(now=NOON + dt.timedelta(seconds=time.monotonic() - start))
            if stats.sent + stats.retried + stats.failed + stats.blocked + stats.deferred == 0:
                await asyncio.sleep(0.01)
    if d.totals.retried or d.totals.failed or d.totals.blocked:
        raise SystemExit(f"unexpected failures: {d.totals}")
    return t


async def check(server: Server, n: int) -> None:
    got = await server.call("benchStats")
    if got != {"messages": n, "distinct": n}:
        raise SystemExit(f"the server received {got}, expected {n} distinct messages once each")


def row(what: str, backend: str, n: int, t: Timer, ideal: float | None = None) -> str:
    rate = n / t.wall
    extra = f"{100 * ideal / t.wall:.0f} %" if ideal else ""  # ideal: the seconds the messages take at 30 msg/s
    return f"| {what} | {backend} | {n:,} | {t.wall:.1f} s | {rate:,.0f} | {1000 * t.cpu / n:.2f} ms | {extra} |"


async def main(args: argparse.Namespace) -> None:
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; fake server "
        f"{'in this process' if args.inproc else 'in a subprocess'}"
    )
    server = Server(args.inproc)
    await server.start()
    app = Application.builder().bot(make_bot(TOKEN, server.url)).build()  # the bot as `tthc-bot run` builds it
    bot = app.bot
    await bot.initialize()
    lines = [
        "| run | database | messages | time | msg/s | CPU of this process per message | of 30 msg/s |",
        "|---|---|---|---|---|---|---|",
    ]
    tmp = Path(tempfile.mkdtemp(prefix="bench-notif-"))
    try:
        for in_flight in (1, 4, 16):
            await server.call("benchReset")
            t = await plain_loop(bot, args.count, args.chats, in_flight)
            await check(server, args.count)
            lines.append(row(f"baseline: bot.send_message loop, {in_flight} in flight", "none", args.count, t))
            print(lines[-1], flush=True)
        for backend in args.backends.split(","):
            url, pg_name = await asyncio.to_thread(create_database, backend, args.pg, tmp)  # Alembic runs its own loop
            engine = make_engine(Settings(_env_file=None), url=url)  # type: ignore[call-arg]
            try:
                for conc in args.concurrency:
                    await refill(engine, args.count, args.chats)
                    await server.call("benchReset")
                    t = await dispatch(
                        engine, bot, args.count, batch=args.batch, limited=False, timeout=900, concurrency=conc
                    )
                    await check(server, args.count)
                    assert await statuses(engine) == {"sent": args.count}
                    lines.append(
                        row(f"Dispatcher, limits off, batch {args.batch}, {conc} in flight", backend, args.count, t)
                    )
                    print(lines[-1], flush=True)
                runs = [(0.0, 16), (args.latency_ms / 1000, 16), (args.latency_ms / 1000, 1)]
                for latency, conc in runs if args.limited_count > 0 else []:
                    n = args.limited_count
                    await refill(engine, n, n)
                    await server.call("benchReset", latency=latency)
                    t = await dispatch(engine, bot, n, batch=args.batch, limited=True, timeout=900, concurrency=conc)
                    await check(server, n)
                    label = f"Dispatcher, limits on, {conc} in flight at most" + (
                        f", +{latency * 1000:.0f} ms per request" if latency else ""
                    )
                    lines.append(row(label, backend, n, t, ideal=n / 30))
                    print(lines[-1], flush=True)
            finally:
                await engine.dispose()
                if pg_name:
                    drop_database(args.pg, pg_name)
    finally:
        await bot.shutdown()
        await server.stop()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--limited-count", type=int, default=900)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument(
        "--concurrency",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[4, 16],
        help="requests in flight with limits off, comma-separated (the bot uses 4)",
    )
    parser.add_argument("--inproc", action="store_true", help="run the fake server in this process")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    asyncio.run(serve() if ns.serve else main(ns))
