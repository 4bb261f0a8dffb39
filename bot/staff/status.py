"""A status change as staff make it: the new status, its history row and the followers' notifications, all in the
caller's transaction (so either everything is written or nothing is).

The change is checked once, by `change_status` against the rules table; a refusal is a `CaseError` whose `problems`
each edge words for its reader (the command line, the API, the import).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import CaseNotFound, change_status, get_case
from bot.notify.compose import on_status_change
from bot.settings import Settings
from bot.storage.models import Case, CaseEvent
from knowledge.codes import normalize_code
from knowledge.loader import KnowledgeBase


@dataclass(frozen=True)
class StatusChanged:
    """What a status change did: the case (now in its new status), its history row, the status it left and the
    number of messages queued for the chats that follow it."""

    case: Case
    event: CaseEvent
    previous: str
    queued: int


async def _change(
    session: AsyncSession,
    case: Case,
    *,
    status: str,
    kb: KnowledgeBase,
    settings: Settings,
    note: str | None,
    new_date: dt.date | None,
    missing: list[str] | None,
    source: str,
    at: dt.datetime | None,
) -> StatusChanged:
    previous = case.status
    event = await change_status(
        session=session, case=case, status=status, note=note, new_date=new_date, missing=missing, source=source, at=at
    )
    queued = await on_status_change(session, case, event, kb, settings)
    return StatusChanged(case, event, previous, queued)


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
) -> int:
    """Change the status of a case the caller holds and notify its followers; returns the messages queued."""
    changed = await _change(
        session,
        case,
        status=status,
        kb=kb,
        settings=settings,
        note=note,
        new_date=new_date,
        missing=missing,
        source=source,
        at=at,
    )
    return changed.queued


async def change_case_status(
    session: AsyncSession,
    code: str,
    *,
    status: str,
    kb: KnowledgeBase,
    settings: Settings,
    note: str | None = None,
    new_date: dt.date | None = None,
    missing: list[str] | None = None,
    source: str = "staff",
) -> StatusChanged:
    """The whole staff action by receipt code: lock the case (nobody changes its status between the check and the
    change), change it and notify. CaseNotFound for an unknown code, CaseError when the rules refuse."""
    case = await get_case(session, code, lock=True)
    if case is None:
        raise CaseNotFound(code, malformed=normalize_code(code) is None)
    return await _change(
        session,
        case,
        status=status,
        kb=kb,
        settings=settings,
        note=note,
        new_date=new_date,
        missing=missing,
        source=source,
        at=None,
    )
