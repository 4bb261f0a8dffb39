"""A status change as staff make it: the new status, its history row and the followers' notifications,
all in the caller's transaction (so either everything is written or nothing is)."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import change_status
from bot.notify.compose import on_status_change
from bot.settings import Settings
from bot.storage.models import Case, CaseEvent
from knowledge.loader import KnowledgeBase


async def set_status(
    session: AsyncSession,
    *,
    case: Case,
    status: str,
    kb: KnowledgeBase,
    settings: Settings,
    note: str | None = None,
    new_date: dt.date | None = None,
    missing: list[str] | None = None,
    source: str = "staff",
    at: dt.datetime | None = None,
) -> CaseEvent:
    event = await change_status(
        session=session, case=case, status=status, note=note, new_date=new_date, missing=missing, source=source, at=at
    )
    await on_status_change(session, case, event, kb, settings)
    return event
