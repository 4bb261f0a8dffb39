"""The notification outbox: rows written in the same transaction as the change that causes them.

`enqueue` is idempotent on the dedupe key (case, event, chat), so replaying an import or a
status change never queues a message twice. `claim` hands out due rows under a lease: on
PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several bot processes never claim the same row;
a process killed mid-batch leaves rows whose lease expires and that are claimed again (at
most that batch is sent twice).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Outbox, utcnow

LEASE = dt.timedelta(seconds=120)


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    case_id: int | None = None,
    due_at: dt.datetime | None = None,
    urgent: bool = False,
) -> bool:
    """Queue one message; False when a message with this key already exists."""
    existing = (await session.exec(select(Outbox.id).where(col(Outbox.dedupe_key) == dedupe_key))).first()
    if existing is not None:
        return False
    row = Outbox(
        dedupe_key=dedupe_key,
        chat_id=chat_id,
        kind=kind,
        payload=payload,
        case_id=case_id,
        due_at=due_at or utcnow(),
        urgent=urgent,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another process queued the same key first
        return False
    return True


async def claim(
    session: AsyncSession,
    *,
    limit: int,
    now: dt.datetime | None = None,
    urgent_only: bool = False,
    lease: dt.timedelta = LEASE,
) -> list[Outbox]:
    """Take up to `limit` due messages (pending, or sending with an expired lease) under a new lease.
    In quiet hours only urgent ones (what the citizen just asked for)."""
    now = now or utcnow()
    status, lease_until = col(Outbox.status), col(Outbox.lease_until)
    stmt = select(Outbox).where(col(Outbox.due_at) <= now)
    if urgent_only:
        stmt = stmt.where(col(Outbox.urgent) == true())
    stmt = (
        stmt.where(or_(status == "pending", (status == "sending") & (lease_until < now)))
        .order_by(col(Outbox.urgent).desc(), col(Outbox.due_at), col(Outbox.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list((await session.exec(stmt)).all())
    if rows:  # one UPDATE for the batch (the loaded rows are updated in place by the ORM)
        await session.exec(
            update(Outbox)
            .where(col(Outbox.id).in_([r.id for r in rows]))
            .values(status="sending", lease_until=now + lease)
        )
    return rows


async def mark_sent(session: AsyncSession, ids: list[int], now: dt.datetime | None = None) -> None:
    """The batch's delivered rows, in one UPDATE, their lease ended."""
    if ids:
        await session.exec(
            update(Outbox)
            .where(col(Outbox.id).in_(ids))
            .values(status="sent", sent_at=now or utcnow(), lease_until=None)
        )


async def reschedule(session: AsyncSession, row_id: int, *, due_at: dt.datetime, error: str, attempts: int) -> None:
    """Back to pending until `due_at` (a retry or a deferral), with why and how many tries so far."""
    await session.exec(
        update(Outbox)
        .where(col(Outbox.id) == row_id)
        .values(status="pending", due_at=due_at, last_error=error[:300], attempts=attempts, lease_until=None)
    )


async def release(session: AsyncSession, ids: list[int], *, lease_until: dt.datetime, due_at: dt.datetime) -> None:
    """Give back claimed rows that were not tried (no attempt counted), but only while they are still under
    this lease: once it has expired another process may have claimed them, and their state is its own."""
    if ids:
        await session.exec(
            update(Outbox)
            .where(
                col(Outbox.id).in_(ids),
                col(Outbox.status) == "sending",
                col(Outbox.lease_until) == lease_until,
            )
            .values(status="pending", due_at=due_at, lease_until=None)
        )


async def mark_failed(session: AsyncSession, row_id: int, *, error: str, status: str = "failed") -> None:
    """Never sent: `failed` (refused, or the retry policy gave up) or `dropped` (the chat blocked the bot); the
    row stays, with its error, for staff to see."""
    await session.exec(
        update(Outbox).where(col(Outbox.id) == row_id).values(status=status, last_error=error[:300], lease_until=None)
    )


async def counts(session: AsyncSession) -> dict[str, int]:
    """How many rows are in each status (tests, benchmarks, the staff statistics)."""
    rows = (await session.exec(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
    return {status: n for status, n in rows}
