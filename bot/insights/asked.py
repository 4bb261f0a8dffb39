"""What citizens ask, for the console's "Câu hỏi của người dân" page and dashboard, over a chosen period.

Only questions the bot could not answer confidently are stored (`unansweredquestion`, written by
`bot/insights/gaps.py`: off-topic ones and procedure questions below the confidence threshold, redacted, without the
chat). So these figures are about those questions; how many questions were asked in all, and so the share answered
confidently, is not stored anywhere and cannot be computed from the database.

- `top_questions`: the most frequent stored questions (same text after redaction), with counts;
- `top_procedures`: the procedures those questions were about most, by the best match of each question (a
  low-confidence question keeps up to three candidate procedures, best first; off-topic ones keep none that count);
- `per_day`: how many were stored each local day, split into off-topic and low-confidence.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import UnansweredQuestion

INTENTS = {"out_of_scope": "Ngoài phạm vi", "procedure": "Chưa chắc chắn"}


@dataclass(frozen=True)
class Asked:
    text: str
    count: int
    intent: str
    last_seen: dt.datetime


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    out_of_scope: int
    low_confidence: int

    @property
    def total(self) -> int:
        return self.out_of_scope + self.low_confidence


def _period(start: dt.datetime | None, end: dt.datetime | None) -> list[ColumnElement[bool]]:
    at = col(UnansweredQuestion.created_at)
    return [c for c in ((at >= start) if start else None, (at < end) if end else None) if c is not None]


async def top_questions(
    session: AsyncSession, *, start: dt.datetime | None = None, end: dt.datetime | None = None, limit: int = 20
) -> list[Asked]:
    """The most frequent stored questions received in [start, end), most frequent first."""
    q = UnansweredQuestion
    last = func.max(q.created_at)
    stmt = (
        select(q.text, func.count(), func.max(q.intent), last)
        .where(*_period(start, end))
        .group_by(q.text)
        .order_by(func.count().desc(), last.desc(), q.text)
        .limit(limit)
    )
    return [Asked(text, n, intent, at) for text, n, intent, at in (await session.exec(stmt)).all()]


async def top_procedures(
    session: AsyncSession, *, start: dt.datetime | None = None, end: dt.datetime | None = None, limit: int = 20
) -> list[tuple[str, int]]:
    """(procedure id, questions) for the procedures the stored low-confidence questions were most about."""
    stmt = select(UnansweredQuestion.matched_ids).where(
        col(UnansweredQuestion.intent) == "procedure", *_period(start, end)
    )
    counts: Counter[str] = Counter()
    for ids in (await session.exec(stmt)).all():
        if ids:
            counts[str(ids[0])] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


async def per_day(session: AsyncSession, *, start: dt.date, end: dt.date, tz: ZoneInfo) -> list[DayCount]:
    """For every local day from `start` to `end` (inclusive, days without questions too), the questions stored."""
    first = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    stmt = select(UnansweredQuestion.created_at, UnansweredQuestion.intent).where(*_period(first, after))
    off: Counter[dt.date] = Counter()
    low: Counter[dt.date] = Counter()
    for at, intent in (await session.exec(stmt)).all():
        day = at.astimezone(tz).date()
        (off if intent == "out_of_scope" else low)[day] += 1
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [DayCount(d, off[d], low[d]) for d in days]
