"""Retention: personal traces are kept only as long as they serve the citizen.

Purges chat state and checklists idle for `chat_days`, unanswered-question logs older than `gaps_days`,
follows of cases closed more than `closed_days` ago, and old verification attempts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Case, ChatState, Checklist, Subscription, UnansweredQuestion, VerificationAttempt, utcnow


@dataclass(frozen=True)
class Purged:
    chat_states: int
    checklists: int
    gaps: int
    follows: int
    attempts: int


async def purge(
    session: AsyncSession, *, chat_days: int, gaps_days: int, closed_days: int, now: dt.datetime | None = None
) -> Purged:
    now = now or utcnow()
    day = dt.timedelta(days=1)

    async def rm(stmt: Any) -> int:
        result: Any = await session.exec(stmt)  # a DELETE: a cursor result, whose rowcount is what was removed
        return result.rowcount or 0

    closed = select(col(Case.id)).where(col(Case.closed_at).is_not(None), col(Case.closed_at) < now - closed_days * day)
    return Purged(
        chat_states=await rm(delete(ChatState).where(col(ChatState.updated_at) < now - chat_days * day)),
        checklists=await rm(delete(Checklist).where(col(Checklist.updated_at) < now - chat_days * day)),
        gaps=await rm(delete(UnansweredQuestion).where(col(UnansweredQuestion.created_at) < now - gaps_days * day)),
        follows=await rm(delete(Subscription).where(col(Subscription.case_id).in_(closed))),
        attempts=await rm(delete(VerificationAttempt).where(col(VerificationAttempt.at) < now - day)),
    )
