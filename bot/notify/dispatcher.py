"""Sends the outbox: claims due messages, respects Telegram's limits, retries, and never loses one.

The channel is behind `Sender`; it raises the errors of bot.notify.errors so this module stays free of
Telegram. Telegram's limits are `bot.notify.limits.RateLimiter`'s; when a failed send is tried again is
`bot.notify.retry`'s policy (the row gets a new due time; nothing sleeps).
Rows are marked sent once per batch: a process killed mid-batch re-sends at most that batch.
Messages to one chat go out in the order they were queued: once one of them has to wait (per-chat
limit, 429, network error), the ones after it in that chat wait at least as long. A batch stops
starting new sends before its lease runs out, so another process never sends a row this one still
holds; the rows it did not try are given back at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.notify import outbox
from bot.notify.errors import Blocked, Rejected, RetryLater, SendError, Transient
from bot.notify.limits import RateLimiter
from bot.notify.retry import OUTBOX_RETRY, RetryPolicy
from bot.storage.db import DB_ERRORS, session_scope
from bot.storage.models import Outbox, Subscription, utcnow

# The errors and the limiter moved to their own modules; code that imports them from here keeps working.
__all__ = [
    "Blocked",
    "Dispatcher",
    "RateLimiter",
    "Rejected",
    "RetryLater",
    "SendError",
    "Sender",
    "Stats",
    "Transient",
    "in_quiet_hours",
]

log = logging.getLogger(__name__)

QUIET_START, QUIET_END = 21, 7
LEASE_USE = 0.75  # start no send after this share of the lease: the rest covers sends still in flight


class Sender(Protocol):
    """A channel: sends one message or raises an error of bot.notify.errors (anything else counts as Transient)."""

    async def send(self, chat_id: int, text: str, buttons: list[list[dict[str, Any]]]) -> None: ...


@dataclass
class Stats:
    """What one round (or all rounds, `Dispatcher.totals`) did with the rows it claimed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    deferred: int = 0

    def add(self, other: Stats) -> None:
        for f in ("sent", "retried", "failed", "blocked", "deferred"):
            setattr(self, f, getattr(self, f) + getattr(other, f))


def in_quiet_hours(now: dt.datetime, tz: dt.tzinfo) -> bool:
    """21:00-07:00 local time: only urgent messages (what the citizen just asked for) go out."""
    hour = now.astimezone(tz).hour
    return hour >= QUIET_START or hour < QUIET_END


class Item(NamedTuple):
    id: int
    chat_id: int
    payload: dict[str, Any]
    attempts: int


def _item(row: Outbox) -> Item:
    assert row.id is not None, "a claimed row was read from the database, so it has an id"
    return Item(row.id, row.chat_id, row.payload, row.attempts)


Kind = Literal["sent", "retry", "defer", "release", "blocked", "failed"]


@dataclass
class Outcome:
    """What became of one claimed row: sent, retry (a failed try, counted), defer (not tried, waits),
    release (not tried, given back now), blocked (dropped, chat unfollowed) or failed. `due` is set
    for retry and defer."""

    kind: Kind
    due: dt.datetime | None = None
    error: str = ""
    attempts: int = 0


class Dispatcher:
    """Sends due outbox rows through `sender`, one batch per `run_once`. With a `limiter`, Telegram's limits are
    kept (production); without, chats are sent to in parallel as fast as the channel answers (tests, local
    benchmarks). `retry` says when a failed row is tried again; `lease` how long a claimed batch is this
    process's alone."""

    def __init__(
        self,
        engine: AsyncEngine,
        sender: Sender,
        *,
        tz: dt.tzinfo,
        batch: int = 100,
        limiter: RateLimiter | None = None,
        concurrency: int = 16,
        retry: RetryPolicy = OUTBOX_RETRY,
        lease: dt.timedelta = outbox.LEASE,
    ) -> None:
        self.engine, self.sender, self.tz = engine, sender, tz
        self.batch, self.limiter, self.concurrency, self.retry = batch, limiter, concurrency, retry
        self.lease = lease
        self.totals = Stats()

    async def run_once(self, now: dt.datetime | None = None) -> Stats:
        """Claim one batch, send it, record the outcome. Returns what happened."""
        now = now or utcnow()
        if self.limiter is not None and self.limiter.paused():
            return Stats()  # Telegram asked for a pause (429): claim nothing until it is over
        async with session_scope(self.engine) as session:
            rows = await outbox.claim(
                session, limit=self.batch, now=now, urgent_only=in_quiet_hours(now, self.tz), lease=self.lease
            )
            claimed = [_item(r) for r in rows]
        if not claimed:
            return Stats()
        deadline = time.monotonic() + self.lease.total_seconds() * LEASE_USE
        results: dict[int, Outcome] = {}
        if self.limiter is None:
            await self._send_by_chat(claimed, now, deadline, results)
        else:
            await self._send_paced(claimed, now, deadline, results)
        stats = self._keep_order(claimed, results)
        await self._record(claimed, results, now, lease_until=now + self.lease)  # the lease `claim` wrote
        self.totals.add(stats)
        return stats

    async def _record(
        self, claimed: list[Item], results: dict[int, Outcome], now: dt.datetime, *, lease_until: dt.datetime
    ) -> None:
        """Write the batch's outcomes in one transaction: sent, rescheduled, dropped or failed, given back; the
        follows of chats that blocked the bot turned off."""
        sent = [i.id for i in claimed if results[i.id].kind == "sent"]
        released = [i.id for i in claimed if results[i.id].kind == "release"]
        blocked_chats = {i.chat_id for i in claimed if results[i.id].kind == "blocked"}
        async with session_scope(self.engine) as session:
            await outbox.mark_sent(session, sent)
            for item in claimed:
                out = results[item.id]
                if out.kind in ("retry", "defer"):
                    due = out.due or now  # always set for these two
                    await outbox.reschedule(session, item.id, due_at=due, error=out.error, attempts=out.attempts)
                elif out.kind in ("blocked", "failed"):
                    await outbox.mark_failed(
                        session, item.id, error=out.error, status="dropped" if out.kind == "blocked" else "failed"
                    )
            await outbox.release(session, released, lease_until=lease_until, due_at=now)
            if blocked_chats:
                await session.exec(
                    update(Subscription).where(col(Subscription.chat_id).in_(blocked_chats)).values(active=False)
                )

    @staticmethod
    def _after(first: Outcome, item: Item) -> Outcome:
        """A later message of a chat whose earlier message could not go out now."""
        if first.kind == "blocked":
            return Outcome("blocked", error="blocked: an earlier message to this chat was refused")
        return Outcome("defer", first.due, "waiting for an earlier message to this chat", item.attempts)

    async def _send_by_chat(
        self, claimed: list[Item], now: dt.datetime, deadline: float, results: dict[int, Outcome]
    ) -> None:
        """No rate limits (tests, benchmarks): chats in parallel, each chat's messages one after another."""
        chats: dict[int, list[Item]] = {}
        for item in claimed:
            chats.setdefault(item.chat_id, []).append(item)
        sem = asyncio.Semaphore(self.concurrency)

        async def one_chat(items: list[Item]) -> None:
            async with sem:
                stuck: Outcome | None = None
                for item in items:
                    if stuck is not None:
                        results[item.id] = self._after(stuck, item)
                    elif time.monotonic() > deadline:
                        results[item.id] = Outcome("release")
                    else:
                        results[item.id] = out = await self._send(item, now)
                        if out.kind in ("retry", "blocked"):
                            stuck = out

        await asyncio.gather(*(one_chat(items) for items in chats.values()))

    async def _send_paced(
        self, claimed: list[Item], now: dt.datetime, deadline: float, results: dict[int, Outcome]
    ) -> None:
        """Telegram's limits: starts spaced by the limiter, several requests in flight at once (so the
        round-trip time does not cap the rate), never two at once to the same chat. One loop, because
        every decision (wait, defer, give back) depends on what the sends already started have done."""
        limiter = self.limiter
        assert limiter is not None
        sem = asyncio.Semaphore(self.concurrency)
        in_flight: set[int] = set()
        stuck: dict[int, Outcome] = {}
        tasks: list[asyncio.Task[None]] = []

        async def one(item: Item) -> None:
            try:
                results[item.id] = out = await self._send(item, now)
                if out.kind in ("retry", "blocked"):
                    stuck[item.chat_id] = out
            finally:
                in_flight.discard(item.chat_id)
                sem.release()

        try:
            for item in claimed:
                chat = item.chat_id
                if chat in stuck:
                    results[item.id] = self._after(stuck[chat], item)
                    continue
                if limiter.paused() or time.monotonic() > deadline:
                    results[item.id] = Outcome("release")
                    continue
                if chat in in_flight or not limiter.chat_ready(chat):
                    due = now + dt.timedelta(seconds=limiter.per_chat_interval)
                    results[item.id] = stuck[chat] = Outcome("defer", due, "per-chat limit", item.attempts)
                    continue
                await limiter.wait()
                await sem.acquire()
                if chat in stuck or limiter.paused():  # a 429 or a refusal arrived while this one waited
                    sem.release()
                    results[item.id] = self._after(stuck[chat], item) if chat in stuck else Outcome("release")
                    continue
                await limiter.start(chat)
                in_flight.add(chat)
                tasks.append(asyncio.create_task(one(item)))
        except BaseException:  # cancelled (shutdown): no send of this round may outlive it
            for task in tasks:
                task.cancel()
            raise
        await asyncio.gather(*tasks)

    @staticmethod
    def _keep_order(claimed: list[Item], results: dict[int, Outcome]) -> Stats:
        """A message that waits never becomes due before an earlier one of the same chat; count outcomes."""
        stats = Stats()
        floor: dict[int, dt.datetime] = {}
        for item in claimed:
            out = results[item.id]
            if out.kind in ("retry", "defer") and out.due is not None:
                if item.chat_id in floor and out.due < floor[item.chat_id]:
                    out.due = floor[item.chat_id]
                floor[item.chat_id] = out.due
            field_name = {
                "sent": "sent",
                "retry": "retried",
                "defer": "deferred",
                "release": "deferred",
                "blocked": "blocked",
                "failed": "failed",
            }[out.kind]
            setattr(stats, field_name, getattr(stats, field_name) + 1)
        return stats

    async def _send(self, item: Item, now: dt.datetime) -> Outcome:
        """One try of one row; never raises for a failed send, the outcome says what to do with the row."""
        try:
            await self.sender.send(item.chat_id, item.payload.get("text", ""), item.payload.get("buttons", []))
        except Blocked as exc:
            return Outcome("blocked", error=f"blocked: {exc}")
        except Rejected as exc:
            return Outcome("failed", error=f"rejected: {exc}")
        except Exception as exc:  # RetryLater, Transient or anything unforeseen: the retry policy decides
            return self._failed_try(item, now, exc)
        return Outcome("sent")

    def _failed_try(self, item: Item, now: dt.datetime, exc: Exception) -> Outcome:
        """A try that may be repeated: a 429 pauses all sending; the policy gives the row its next due time, or
        gives up on it."""
        attempt = item.attempts + 1
        if isinstance(exc, RetryLater):
            if self.limiter is not None:
                self.limiter.pause(exc.seconds)
        else:
            log.warning("send failed (%s), outbox row %s attempt %s", type(exc).__name__, item.id, attempt)
        wait = self.retry.delay(attempt, exc)
        if wait is None:
            return Outcome("failed", error=f"gave up: {type(exc).__name__}")
        error = str(exc) if isinstance(exc, RetryLater) else type(exc).__name__
        return Outcome("retry", now + dt.timedelta(seconds=wait), error, attempt)

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
