"""Figures for the staff API: cases by status, on-time rate per procedure and agency, satisfaction.

Definitions (also in docs/api.md):

- cases by status count cases *received* in the period;
- the on-time rate looks at cases *closed with a result* in the period (status `returned` or
  `rejected`; withdrawn cases had nothing to deliver and are left out). A case is on time when its
  result was ready — the first `ready_for_pickup` event, else the closing time — on or before its
  due date (the new appointment date when one was set, else the original one), both read as local
  dates in TIMEZONE. `on_time_original` counts against the original appointment date only, which
  is what a rescheduled case does not meet;
- satisfaction averages each criterion over the survey responses given in the period;
- feedback counts by status the feedback received in the period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import CLOSED, STATUSES
from bot.feedback.survey import CRITERIA
from bot.feedback.tickets import STATES
from bot.storage.models import Case, CaseEvent, Feedback, SurveyResponse, utcnow
from knowledge.loader import KnowledgeBase

FINISHED = ("returned", "rejected")


def _bounds(
    since: dt.date | None, until: dt.date | None, tz: ZoneInfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    start = dt.datetime.combine(since, dt.time(), tzinfo=tz).astimezone(dt.UTC) if since else None
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC) if until else None
    return start, end


def _within(column: Any, start: dt.datetime | None, end: dt.datetime | None) -> list[Any]:
    clauses = []
    if start is not None:
        clauses.append(column >= start)
    if end is not None:
        clauses.append(column < end)
    return clauses


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite through an aggregate, should the type be lost
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _Tally:
    def __init__(self) -> None:
        self.finished = self.on_time = self.on_time_original = 0

    def add(self, on_time: bool, on_time_original: bool) -> None:
        self.finished += 1
        self.on_time += on_time
        self.on_time_original += on_time_original

    def as_dict(self) -> dict[str, Any]:
        return {
            "finished": self.finished,
            "on_time": self.on_time,
            "late": self.finished - self.on_time,
            "rate": _rate(self.on_time, self.finished),
            "on_time_original": self.on_time_original,
            "rate_original": _rate(self.on_time_original, self.finished),
        }


async def case_counts(session: AsyncSession, start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    stmt = select(Case.status, func.count()).where(*_within(Case.received_at, start, end)).group_by(Case.status)
    by_status = {s: 0 for s in STATUSES}
    for status, n in (await session.exec(stmt)).all():
        by_status[status] = by_status.get(status, 0) + n
    total = sum(by_status.values())
    closed = sum(n for s, n in by_status.items() if s in CLOSED)
    return {"total": total, "open": total - closed, "closed": closed, "by_status": by_status}


async def on_time(
    session: AsyncSession, kb: KnowledgeBase, tz: ZoneInfo, start: dt.datetime | None, end: dt.datetime | None
) -> dict[str, Any]:
    ready = (
        select(col(CaseEvent.case_id), func.min(CaseEvent.at).label("ready_at"))
        .where(CaseEvent.status == "ready_for_pickup")
        .group_by(col(CaseEvent.case_id))
        .subquery()
    )
    stmt = (
        sa.select(  # SQLModel's select is typed for at most four columns
            col(Case.procedure_id),
            col(Case.agency),
            col(Case.status),
            col(Case.appointment_date),
            col(Case.new_appointment_date),
            col(Case.closed_at),
            ready.c.ready_at,
        )
        .outerjoin(ready, ready.c.case_id == col(Case.id))
        .where(
            col(Case.status).in_(FINISHED),
            col(Case.closed_at).is_not(None),
            *_within(Case.closed_at, start, end),
        )
    )
    overall = _Tally()
    per_procedure: dict[str, _Tally] = defaultdict(_Tally)
    per_agency: dict[str, _Tally] = defaultdict(_Tally)
    rows = (await (await session.connection()).execute(stmt)).all()  # a Core select: SQLModel's exec has no overload
    for procedure_id, agency, status, appointment, new_appointment, closed_at, ready_at in rows:
        done = _aware(ready_at) if status == "returned" and ready_at is not None else _aware(closed_at)
        assert done is not None
        day = done.astimezone(tz).date()
        ok, ok_original = day <= (new_appointment or appointment), day <= appointment
        for tally in (overall, per_procedure[procedure_id], per_agency[agency]):
            tally.add(ok, ok_original)

    def name(pid: str) -> str:
        proc = kb.get(pid)
        return proc.name if proc else pid

    return {
        "overall": overall.as_dict(),
        "by_procedure": [
            {"procedure_id": pid, "procedure_name": name(pid)} | t.as_dict() for pid, t in sorted(per_procedure.items())
        ],
        "by_agency": [{"agency": agency} | t.as_dict() for agency, t in sorted(per_agency.items())],
    }


async def satisfaction(session: AsyncSession, start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    stmt = select(SurveyResponse.scores).where(*_within(SurveyResponse.created_at, start, end))
    rows = list((await session.exec(stmt)).all())
    sums: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for scores in rows:
        for key, _label in CRITERIA:
            value = (scores or {}).get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
                sums[key] += value
                counts[key] += 1
    all_n = sum(counts.values())
    return {
        "responses": len(rows),
        "overall_average": round(sum(sums.values()) / all_n, 2) if all_n else None,
        "criteria": [
            {
                "key": key,
                "label": label,
                "responses": counts[key],
                "average": round(sums[key] / counts[key], 2) if counts[key] else None,
            }
            for key, label in CRITERIA
        ],
    }


async def feedback_counts(session: AsyncSession, start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    stmt = (
        select(Feedback.status, func.count()).where(*_within(Feedback.created_at, start, end)).group_by(Feedback.status)
    )
    by_status = {s: 0 for s in STATES}
    for status, n in (await session.exec(stmt)).all():
        by_status[status] = by_status.get(status, 0) + n
    return {"total": sum(by_status.values()), "by_status": by_status}


async def compute(
    session: AsyncSession,
    *,
    kb: KnowledgeBase,
    tz: ZoneInfo,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    start, end = _bounds(since, until, tz)
    return {
        "generated_at": utcnow(),
        "since": since,
        "until": until,
        "cases": await case_counts(session, start, end),
        "on_time": await on_time(session, kb, tz, start, end),
        "satisfaction": await satisfaction(session, start, end),
        "feedback": await feedback_counts(session, start, end),
    }
