"""Retention: personal traces are kept only as long as they serve the citizen.

Purges chat state and checklists idle for `chat_days`, unanswered-question logs older than `gaps_days`,
follows of cases closed more than `closed_days` ago, and old verification attempts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
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

    async def rm(stmt) -> int:  # type: ignore[no-untyped-def]
        return (await session.exec(stmt)).rowcount or 0  # type: ignore[union-attr]

    closed = select(Case.id).where(Case.closed_at.is_not(None), Case.closed_at < now - closed_days * day)  # type: ignore[union-attr]
    return Purged(
        chat_states=await rm(delete(ChatState).where(ChatState.updated_at < now - chat_days * day)),
        checklists=await rm(delete(Checklist).where(Checklist.updated_at < now - chat_days * day)),
        gaps=await rm(delete(UnansweredQuestion).where(UnansweredQuestion.created_at < now - gaps_days * day)),
        follows=await rm(delete(Subscription).where(Subscription.case_id.in_(closed))),  # type: ignore[attr-defined]
        attempts=await rm(delete(VerificationAttempt).where(VerificationAttempt.at < now - day)),
    )
