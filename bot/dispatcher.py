"""Sends the outbox: claims due messages, respects Telegram's limits, retries, and never loses one.

The channel is behind `Sender`; it raises the errors below so this module stays free of Telegram.
Rows are marked sent once per batch: a process killed mid-batch re-sends at most that batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import outbox
from bot.db import DB_ERRORS, session_scope
from bot.models import Subscription, utcnow

log = logging.getLogger(__name__)

QUIET_START, QUIET_END = 21, 7


class SendError(Exception):
    """A message could not be delivered; the subclass says what to do."""


class RetryLater(SendError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Blocked(SendError):
    """The user blocked the bot or the chat no longer exists: stop following, drop the message."""


class Transient(SendError):
    """Network error, timeout or server error: try again later."""


class Rejected(SendError):
    """The channel refused this message for good (bad request)."""


class Sender(Protocol):
    async def send(self, chat_id: int, text: str, buttons: list[list[dict[str, Any]]]) -> None: ...


@dataclass
class Stats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    deferred: int = 0

    def add(self, other: "Stats") -> None:
        for f in ("sent", "retried", "failed", "blocked", "deferred"):
            setattr(self, f, getattr(self, f) + getattr(other, f))


@dataclass
class RateLimiter:
    """About 30 messages a second overall and one a second per chat (Telegram's limits)."""

    per_second: float = 30.0
    per_chat_interval: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _next: float = 0.0
    _last_chat: dict[int, float] = field(default_factory=dict)

    def chat_ready(self, chat_id: int) -> bool:
        last = self._last_chat.get(chat_id)
        return last is None or self.clock() - last >= self.per_chat_interval

    async def wait(self, chat_id: int) -> None:
        now = self.clock()
        if self._next > now:
            await self.sleep(self._next - now)
            now = self.clock()
        self._next = max(now, self._next) + 1.0 / self.per_second
        self._last_chat[chat_id] = now


def in_quiet_hours(now: dt.datetime, tz: dt.tzinfo) -> bool:
    hour = now.astimezone(tz).hour
    return hour >= QUIET_START or hour < QUIET_END


def backoff(attempts: int) -> float:
    return float(min(600, 2 ** attempts))


class Dispatcher:
    def __init__(self, engine: AsyncEngine, sender: Sender, *, tz: dt.tzinfo, batch: int = 100,
                 limiter: RateLimiter | None = None, concurrency: int = 16, max_attempts: int = 8) -> None:
        self.engine, self.sender, self.tz = engine, sender, tz
        self.batch, self.limiter, self.concurrency, self.max_attempts = batch, limiter, concurrency, max_attempts
        self.totals = Stats()

    async def run_once(self, now: dt.datetime | None = None) -> Stats:
        """Claim one batch, send it, record the outcome. Returns what happened."""
        now = now or utcnow()
        async with session_scope(self.engine) as session:
            rows = await outbox.claim(session, limit=self.batch, now=now,
                                      urgent_only=in_quiet_hours(now, self.tz))
            claimed = [(r.id, r.chat_id, r.payload, r.attempts) for r in rows]
        stats = Stats()
        if not claimed:
            return stats
        sent: list[int] = []
        later: list[tuple[int, dt.datetime, str, int]] = []
        dead: list[tuple[int, str, str]] = []
        blocked_chats: set[int] = set()
        if self.limiter is None:
            sem = asyncio.Semaphore(self.concurrency)

            async def one(item: tuple) -> None:  # type: ignore[type-arg]
                async with sem:
                    await self._send(item, now, sent, later, dead, blocked_chats, stats)

            await asyncio.gather(*(one(item) for item in claimed))
        else:
            for item in claimed:
                if item[1] in blocked_chats or not self.limiter.chat_ready(item[1]):
                    later.append((item[0], now + dt.timedelta(seconds=1), "per-chat limit", item[3]))
                    stats.deferred += 1
                    continue
                await self.limiter.wait(item[1])
                await self._send(item, now, sent, later, dead, blocked_chats, stats)
        async with session_scope(self.engine) as session:
            await outbox.mark_sent(session, sent)
            for row_id, due, error, attempts in later:
                await outbox.reschedule(session, row_id, due_at=due, error=error, attempts=attempts)
            for row_id, error, status in dead:
                await outbox.mark_failed(session, row_id, error=error, status=status)
            if blocked_chats:
                await session.exec(update(Subscription).where(Subscription.chat_id.in_(blocked_chats))  # type: ignore[attr-defined]
                                   .values(active=False))
        stats.sent = len(sent)
        self.totals.add(stats)
        return stats

    async def _send(self, item: tuple, now: dt.datetime, sent: list, later: list, dead: list,  # type: ignore[type-arg]
                    blocked_chats: set[int], stats: Stats) -> None:
        row_id, chat_id, payload, attempts = item
        try:
            await self.sender.send(chat_id, payload.get("text", ""), payload.get("buttons", []))
            sent.append(row_id)
        except RetryLater as exc:
            later.append((row_id, now + dt.timedelta(seconds=exc.seconds), str(exc), attempts + 1))
            stats.retried += 1
        except Blocked as exc:
            dead.append((row_id, f"blocked: {exc}", "dropped"))
            blocked_chats.add(chat_id)
            stats.blocked += 1
        except Rejected as exc:
            dead.append((row_id, f"rejected: {exc}", "failed"))
            stats.failed += 1
        except Exception as exc:  # noqa: BLE001 — anything else is treated as transient
            if attempts + 1 >= self.max_attempts:
                dead.append((row_id, f"gave up: {type(exc).__name__}", "failed"))
                stats.failed += 1
            else:
                later.append((row_id, now + dt.timedelta(seconds=backoff(attempts + 1)), type(exc).__name__, attempts + 1))
                stats.retried += 1
            log.warning("send failed (%s), outbox row %s attempt %s", type(exc).__name__, row_id, attempts + 1)

    async def tick(self) -> Stats:
        """One scheduled round; a database outage is logged and waited out, never raised into the scheduler."""
        try:
            return await self.run_once()
        except DB_ERRORS as exc:
            log.warning("dispatcher: database unavailable (%s); will retry", type(exc).__name__)
            return Stats()

    async def drain(self, *, now: dt.datetime | None = None, max_rounds: int = 1_000_000) -> Stats:
        """Send until nothing is due (benchmarks and tests)."""
        total = Stats()
        for _ in range(max_rounds):
            stats = await self.run_once(now)
            total.add(stats)
            if stats.sent + stats.retried + stats.failed + stats.blocked + stats.deferred == 0:
                break
        return total



