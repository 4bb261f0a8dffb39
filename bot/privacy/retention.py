"""Retention: personal traces are kept only as long as they serve the citizen.

Purges chat state and checklists idle for `chat_days`, unanswered-question logs older than `gaps_days`,
follows of cases closed more than `closed_days` ago, notifications that are done with (sent, failed, dropped or
cancelled) for more than `outbox_days`, and old verification attempts.

A notification row is deleted only once it is finished, and deleting it never lets the same message be queued again:
its dedupe key names a case event queued once, when the event is made, a survey (once per case and chat, a case is
returned only once) or a reminder (whose time is long past by then, and a past reminder is never queued); see
bot/privacy/erasure.py. Pending and in-flight rows are never touched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from bot.storage.models import (
    Case,
    ChatState,
    Checklist,
    Outbox,
    Subscription,
    UnansweredQuestion,
    VerificationAttempt,
    utcnow,
)

OUTBOX_DAYS: int = Settings.model_fields["retention_outbox_days"].default  # RETENTION_OUTBOX_DAYS's default
FINISHED = ("sent", "failed", "dropped", "cancelled")  # statuses no message leaves again


@dataclass(frozen=True)
class Purged:
    chat_states: int
    checklists: int
    gaps: int
    follows: int
    attempts: int
    messages: int = 0


async def purge(
    session: AsyncSession,
    *,
    chat_days: int,
    gaps_days: int,
    closed_days: int,
    outbox_days: int = OUTBOX_DAYS,
    now: dt.datetime | None = None,
) -> Purged:
    now = now or utcnow()
    day = dt.timedelta(days=1)

    async def rm(stmt: Any) -> int:
        result: Any = await session.exec(stmt)  # a DELETE: a cursor result, whose rowcount is what was removed
        return result.rowcount or 0

    closed = select(col(Case.id)).where(col(Case.closed_at).is_not(None), col(Case.closed_at) < now - closed_days * day)
    finished_at = func.coalesce(col(Outbox.sent_at), col(Outbox.created_at))  # failed, cancelled: when queued
    return Purged(
        chat_states=await rm(delete(ChatState).where(col(ChatState.updated_at) < now - chat_days * day)),
        checklists=await rm(delete(Checklist).where(col(Checklist.updated_at) < now - chat_days * day)),
        gaps=await rm(delete(UnansweredQuestion).where(col(UnansweredQuestion.created_at) < now - gaps_days * day)),
        follows=await rm(delete(Subscription).where(col(Subscription.case_id).in_(closed))),
        attempts=await rm(delete(VerificationAttempt).where(col(VerificationAttempt.at) < now - day)),
        messages=await rm(
            delete(Outbox).where(col(Outbox.status).in_(FINISHED), finished_at < now - outbox_days * day),
        ),
    )
