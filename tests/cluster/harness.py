"""Bot instances in cluster mode as processes behind haproxy, on a fresh PostgreSQL database, against the fake Bot
API server; and the burst that tests/cluster/test_cluster.py checks and benchmarks/bench_cluster.py measures."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import ClientSession, ClientTimeout
from psycopg.types.json import Json
from sqlalchemy.engine import make_url

from bot.settings import Settings
from bot.storage.migrate import upgrade
from handlers.telegram import split_text
from tests.telegram_api import FakeTelegram, free_port, parse_html

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123:ABC"
SECRET = "cluster-webhook-secret-42"
KEY = "cluster-test-secret-key-0123456789abcdef"
PG_ADMIN = os.environ.get("DATABASE_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
START_WAIT = 150.0  # seconds: three processes load the knowledge base on two busy cores
QUESTIONS = [  # distinct procedures: each answer card names its own, so a chat's answers show their order
    "làm căn cước công dân cần giấy tờ gì",
    "làm hộ chiếu ở đâu",
    "đăng ký khai sinh cho con cần gì",
    "lệ phí cấp lý lịch tư pháp",
    "đăng ký kết hôn cần giấy tờ gì",
    "xin chào",
    "thủ tục đăng ký thường trú",
    "đổi giấy phép lái xe cần gì",
    "đăng ký hộ kinh doanh cần gì",
    "cảm ơn",
]


def _conninfo(url: str) -> str:
    u = make_url(url)
    return f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}"


def _admin(sql: str) -> None:
    with psycopg.connect(_conninfo(PG_ADMIN), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # a trusted literal of this harness


HAPROXY = """global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 10s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout 503
frontend webhook
  bind 127.0.0.1:{lb}
  default_backend bots
backend bots
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1
{servers}
"""


class Cluster:
    """`instances` bot processes (CLUSTER=true) behind haproxy; the fake Bot API server in this event loop."""

    def __init__(self, tmp: Path, *, instances: int = 3, env: dict[str, str] | None = None) -> None:
        self.tmp, self.count, self.extra = tmp, instances, env or {}
        self.db = f"tthc_cluster_{uuid.uuid4().hex[:10]}"
        self.url = make_url(PG_ADMIN).set(database=self.db, drivername="postgresql+psycopg").render_as_string(False)
        self.lb = free_port()
        self.ports = [free_port() for _ in range(instances)]
        self.procs: list[subprocess.Popen[bytes] | None] = []
        self.haproxy: subprocess.Popen[bytes] | None = None
        self.server = FakeTelegram(TOKEN)

    async def __aenter__(self) -> Cluster:
        _admin(f'CREATE DATABASE "{self.db}"')
        await asyncio.to_thread(upgrade, Settings(), url=self.url)  # migrations first, then the instances
        await self.server.start()
        cfg = self.tmp / "haproxy.cfg"
        servers = "\n".join(f"  server b{i} 127.0.0.1:{p} check" for i, p in enumerate(self.ports))
        cfg.write_text(HAPROXY.format(lb=self.lb, servers=servers))
        self.haproxy = subprocess.Popen(
            ["haproxy", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.procs = [self._start(i) for i in range(self.count)]
        await self.wait_ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for proc in [*self.procs, self.haproxy]:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
        await self.server.stop()
        with contextlib.suppress(psycopg.Error):
            _admin(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def _start(self, i: int) -> subprocess.Popen[bytes]:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "BOT_", "WEBHOOK_"))},
            "CLUSTER": "true",
            "CLUSTER_INSTANCE": f"bot{i}",
            "CLUSTER_LEASE_SECONDS": "10",
            "DATABASE_URL": self.url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": self.server.url,
            "WEBHOOK_URL": f"http://127.0.0.1:{self.lb}",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(self.ports[i]),
            "WEBHOOK_SECRET": SECRET,
            "SECRET_KEY": KEY,
            "DATA_DIR": str(self.tmp),
            "FLOOD_LIMIT": "1000000",
            "DISPATCH_RATE_LIMIT": "false",
            "DISPATCH_INTERVAL": "0.5",
            "DISPATCH_LEASE": "5",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **self.extra,
        }
        log = (self.tmp / f"bot{i}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run", "--webhook"], cwd=self.tmp, env=env, stdout=log, stderr=log
        )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + START_WAIT
        async with ClientSession(timeout=ClientTimeout(total=2)) as http:
            for i, port in enumerate(self.ports):
                while True:
                    proc = self.procs[i]
                    if proc is not None and proc.poll() is not None:
                        raise RuntimeError(f"instance {i} exited: {(self.tmp / f'bot{i}.log').read_text()[-2000:]}")
                    with contextlib.suppress(Exception):
                        async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                            if r.status == 200:
                                break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"instance {i} not ready in {START_WAIT} s")
                    await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # haproxy's checks see them up

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.procs[i] = None

    async def stop_all(self) -> list[int]:
        """SIGTERM to the running instances: each drains and exits; their exit codes."""
        running = [p for p in self.procs if p is not None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.to_thread(p.wait, 60) for p in running]
        self.procs = [None] * len(self.procs)
        return codes

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(_conninfo(self.url), autocommit=True, connect_timeout=5) as conn:
            return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]  # trusted literals of this harness


async def _post(http: ClientSession, url: str, update: dict[str, Any]) -> None:
    """Deliver one update as Telegram does: again until the webhook answers 200."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for attempt in itertools.count():
        try:
            async with http.post(url, json=update, headers=headers) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001, S110 — Telegram retries on any failure
            pass
        await asyncio.sleep(min(0.1 * (attempt + 1), 1.0))


def _queue_reminders(cluster: Cluster, n: int) -> list[int]:
    """`n` reminders in the outbox, for chats of their own: half due now, half a few seconds after the kill."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for k in range(n):
        due = now + dt.timedelta(seconds=0 if k % 2 == 0 else 12)
        rows.append((f"reminder:test:{k}", 900_000 + k, "reminder", Json({"text": f"🔔 Nhắc lịch hẹn số {k}"}), due))
    with psycopg.connect(_conninfo(cluster.url), autocommit=True) as conn:
        conn.cursor().executemany(
            "INSERT INTO outbox (dedupe_key, chat_id, kind, payload, due_at, urgent, status, attempts, created_at)"
            " VALUES (%s, %s, %s, %s, %s, true, 'pending', 0, now())",
            rows,
        )
    return [900_000 + k for k in range(n)]


async def _probe(cluster: Cluster, http: ClientSession, url: str) -> list[str]:
    """Each question once from a fresh chat (a warm-up through the balancer); the first lines of the answers."""
    server, first = cluster.server, []
    for q, text in enumerate(QUESTIONS):
        chat = 800_000 + q
        msg = server._user_message(chat, chat, "private", text=text)
        await _post(http, url, {"update_id": 1 + q, "message": msg})
        replies = await server.wait_for_bot_messages(chat, 1, timeout=60)
        first.append(replies[0]["text"].split("\n")[0])
    return first


async def burst(
    cluster: Cluster,
    *,
    chats: int,
    per_chat: int,
    kill_at: float | None = 0.5,
    redeliver: bool = True,
    reminders: int = 0,
    concurrency: int = 300,
) -> dict[str, Any]:
    """Send `per_chat` questions from each of `chats` chats at once; kill instance 1 after `kill_at` of them."""
    server, url = cluster.server, f"http://127.0.0.1:{cluster.lb}/telegram"
    rng = random.Random(7)
    async with ClientSession(timeout=ClientTimeout(total=10)) as http:
        expected_first = await _probe(cluster, http, url)
        reminder_chats = _queue_reminders(cluster, reminders)
        for c in reminder_chats:
            server.chat(c, c)
        ids = itertools.count(1_000)
        plan = {1 + c: [rng.randrange(len(QUESTIONS)) for _ in range(per_chat)] for c in range(chats)}
        updates: dict[int, list[dict[str, Any]]] = {}
        for chat, qs in plan.items():
            updates[chat] = [
                {"update_id": next(ids), "message": server._user_message(chat, chat, "private", text=QUESTIONS[q])}
                for q in qs
            ]
        total, sent = chats * per_chat, 0
        kill_info: dict[str, Any] = {}
        sem = asyncio.Semaphore(concurrency)
        sent_at: dict[int, float] = {}

        async def one_chat(chat: int) -> None:
            nonlocal sent
            async with sem:
                for u in updates[chat]:
                    sent_at[u["update_id"]] = time.monotonic()
                    await _post(http, url, u)
                    sent += 1
                    if kill_at is not None and not kill_info and sent >= total * kill_at:
                        kill_info["held"] = [
                            r[0] for r in cluster.query("SELECT chat_id FROM chatclaim WHERE holder = 'bot1'")
                        ]
                        kill_info["calls"] = len(server.calls)
                        cluster.kill(1)
                        kill_info["at"] = time.monotonic()

        started = time.monotonic()
        await asyncio.gather(*(one_chat(c) for c in plan))
        await _wait_answered(server, plan, reminder_chats, timeout=360)
        finished = time.monotonic()
        if redeliver:  # Telegram retries calls it thinks timed out: every update once more, all of them no-ops
            flat = [u for us in updates.values() for u in us]
            await asyncio.gather(*(_post(http, url, u) for u in rng.sample(flat, len(flat))))
        await asyncio.sleep(3)  # anything sent twice would show now
    return _report(cluster, plan, expected_first, reminder_chats, kill_info, started, finished, sent_at)


async def _wait_answered(
    server: FakeTelegram, plan: dict[int, list[int]], reminders: list[int], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(server.bot_message_ids.get(c, [])) >= len(qs) for c, qs in plan.items()) and all(
            server.bot_message_ids.get(c) for c in reminders
        ):
            return
        await asyncio.sleep(0.2)


def _report(  # type: ignore[no-untyped-def]
    cluster: Cluster, plan, expected_first, reminder_chats, kill_info, started, finished, sent_at
) -> dict[str, Any]:
    server = cluster.server
    # what each chat must have received: the replies stored with its updates, in update_id order (the inbox keeps
    # them); the fake server's messages of the chat must be exactly these, in this order
    stored: dict[int, list[str]] = {}
    for chat, replies in cluster.query(
        "SELECT chat_id, replies FROM inboxupdate WHERE chat_id < 800000 ORDER BY chat_id, update_id"
    ):
        for r in replies or []:
            stored.setdefault(chat, []).extend(
                _first_line(parse_html(part)[0]) for part in split_text(r["text"]) if r["text"]
            )
    unanswered, duplicates, violations, dup_chats = [], 0, 0, []
    for chat in plan:
        got = [_first_line(m["text"]) for m in server.bot_messages(chat)]
        want = stored.get(chat, [])
        if len(want) < len(plan[chat]) or len(got) < len(want):
            unanswered.append(chat)
        if len(got) > len(want):
            duplicates += len(got) - len(want)
            dup_chats.append(chat)
        violations += 0 if _dedup(got) == _dedup(want) else 1
    misordered = cluster.query(
        "SELECT count(*) FROM (SELECT lag(handled_at) OVER (PARTITION BY chat_id ORDER BY update_id) AS prev,"
        " handled_at FROM inboxupdate) t WHERE prev > handled_at"
    )[0][0]
    sends = [c for c in server.calls if c.method.lower() == "sendmessage"]
    by_chat: dict[int, list[float]] = {}
    for c in sends:
        by_chat.setdefault(int(c.params.get("chat_id", 0)), []).append(c.at)
    latencies = sorted(
        at - sent_at[uid]
        for chat, uids in cluster_updates(plan, sent_at).items()
        for uid, at in zip(uids, by_chat.get(chat, []), strict=False)
    )
    report: dict[str, Any] = {
        "instances": cluster.count,
        "messages": sum(len(q) for q in plan.values()),
        "chats": len(plan),
        "unanswered": unanswered,
        "duplicates": duplicates,
        "order_violations": violations,
        "handled_out_of_order": misordered,
        "duplicate_chats": dup_chats,
        "reminders": len(reminder_chats),
        "reminders_sent": sum(1 for c in reminder_chats if server.bot_message_ids.get(c)),
        "reminder_duplicates": sum(max(0, len(server.bot_message_ids.get(c, [])) - 1) for c in reminder_chats),
        "inbox_open": cluster.query("SELECT count(*) FROM inboxupdate WHERE replied_at IS NULL")[0][0],
        "outbox_open": cluster.query("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")[0][0],
        "throughput_msg_s": round(sum(len(q) for q in plan.values()) / (finished - started), 1),
        "p50_s": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "p99_s": round(latencies[int(len(latencies) * 0.99)], 3) if latencies else None,
    }
    if kill_info:
        after = [c for c in sends if c.at > kill_info["at"]]
        held = set(kill_info["held"])
        stranded = [c for c in after if int(c.params.get("chat_id", 0)) in held]
        report["killed_instance_held_chats"] = len(held)
        report["duplicates_outside_its_chats"] = len(set(dup_chats) - held)
        report["kill_to_first_answer_s"] = round(after[0].at - kill_info["at"], 3) if after else None
        report["kill_to_first_answer_in_its_chats_s"] = round(stranded[0].at - kill_info["at"], 3) if stranded else None
    return report


def cluster_updates(plan: dict[int, list[int]], sent_at: dict[int, float]) -> dict[int, list[int]]:
    """Each chat's update ids in order (update ids were handed out chat by chat, in plan order)."""
    out: dict[int, list[int]] = {}
    uid = 1_000
    for chat, qs in plan.items():
        out[chat] = list(range(uid, uid + len(qs)))
        uid += len(qs)
    return out


def _first_line(text: str) -> str:
    return text.split("\n")[0]


def _dedup(lines: list[str]) -> list[str]:
    """A sequence with a message repeated right after itself counted once (a resent reply is a duplicate, which
    is counted apart, not also an order violation)."""
    return [x for i, x in enumerate(lines) if i == 0 or lines[i - 1] != x]
