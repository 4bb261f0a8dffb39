"""Named leases and job runs: what must happen once however many instances run.

`acquire` takes or renews a lease (the scheduler's leadership, "scheduler"): one upsert that succeeds only for the
holder or on an expired lease, timed by the database's clock. A leader that dies stops renewing; another instance
takes over within one lease period.

`claim_run` records that a job ran for one due time (primary key job + due time), in the job's own transaction: two
leaders in a split second (a stalled one whose lease ran out, and its successor) still cannot both run it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CursorResult, TextClause, text
from sqlmodel.ext.asyncio.session import AsyncSession

_ACQUIRE = text(
    """
    INSERT INTO clusterlease (name, holder, lease_until) VALUES (:name, :holder, now() + make_interval(secs => :lease))
    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until
        WHERE clusterlease.holder = EXCLUDED.holder OR clusterlease.lease_until <= now()
    RETURNING holder
    """
)
_RELEASE = text("DELETE FROM clusterlease WHERE name = :name AND holder = :holder")
_RUN = text(
    "INSERT INTO jobrun (job, due_at, holder, ran_at) VALUES (:job, :due, :holder, now()) "
    "ON CONFLICT (job, due_at) DO NOTHING RETURNING job"
)


async def acquire(session: AsyncSession, name: str, holder: str, *, lease: float) -> bool:
    """True when `holder` holds the lease for the next `lease` seconds (taken now or renewed)."""
    return (await _run(session, _ACQUIRE, {"name": name, "holder": holder, "lease": lease})).first() is not None


async def release(session: AsyncSession, name: str, holder: str) -> None:
    await _run(session, _RELEASE, {"name": name, "holder": holder})


async def claim_run(session: AsyncSession, job: str, due: dt.datetime, holder: str) -> bool:
    """True for the first caller for this job and due time: run the job in this same transaction."""
    return (await _run(session, _RUN, {"job": job, "due": due, "holder": holder})).first() is not None


def latest_daily(now: dt.datetime, at: dt.time) -> dt.datetime:
    """The latest daily due time at `at` (with its tzinfo) not after `now`, in UTC."""
    local = now.astimezone(at.tzinfo)
    due = dt.datetime.combine(local.date(), at.replace(tzinfo=None), tzinfo=at.tzinfo)
    if due > local:
        due -= dt.timedelta(days=1)
    return due.astimezone(dt.UTC)


def latest_every(now: dt.datetime, period: dt.timedelta) -> dt.datetime:
    """The latest multiple of `period` since the epoch not after `now` (an hourly job's due time)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return epoch + ((now - epoch) // period) * period


async def _run(
    session: AsyncSession, stmt: TextClause, params: dict[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """A statement on the session's connection (in its transaction); SQLModel's `execute` is deprecated."""
    return await (await session.connection()).execute(stmt, params)
