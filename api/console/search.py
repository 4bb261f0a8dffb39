"""The case list's query: search, filters, sort and pages, and the overdue cases of the dashboard.

Search: a receipt code in any spelling (or a part of one: `261107-0003`), the last four digits of the phone, or
the applicant's name as the list shows it, masked ("Nguyễn V*** A"): the surname matches by its beginning, the
other words by their initial only, so a search tells nothing the list does not show.

Late ("quá hạn"): a case still being handled (not closed, result not ready) whose due date — the new appointment
date when one was set, else the original — is before today. Due this week: such a case due from Monday to Sunday of
this week (today's week, local time). Which statuses are closed comes from the rules table (bot/cases/rules.py).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import CLOSED, STATUSES
from bot.privacy.hashing import mask_name
from bot.storage.models import Case
from knowledge.codes import normalize_code
from knowledge.text import fold

PER_PAGE = 20
OPEN = frozenset(STATUSES) - CLOSED - {"ready_for_pickup"}


def _due() -> ColumnElement[dt.date]:
    """The due date: the new appointment date when one was set, else the original one."""
    return func.coalesce(col(Case.new_appointment_date), col(Case.appointment_date))


SORTS = {
    "received": col(Case.received_at),
    "code": col(Case.code),
    "due": _due(),
    "status": col(Case.status),
    "procedure": col(Case.procedure_id),
}
DUE_FILTERS = {"overdue": "Đã quá hạn", "week": "Đến hạn trong tuần này"}


@dataclass
class CaseQuery:
    q: str = ""
    status: str = ""
    procedure: str = ""
    due: str = ""
    sort: str = "received"
    order: str = "desc"
    page: int = 1

    def __post_init__(self) -> None:
        self.q = self.q.strip()[:100]
        self.status = self.status if self.status in STATUSES else ""
        self.due = self.due if self.due in DUE_FILTERS else ""
        self.sort = self.sort if self.sort in SORTS else "received"
        self.order = self.order if self.order in {"asc", "desc"} else "desc"
        self.page = max(1, self.page)


def name_matches(query: str, name: str) -> bool:
    """Whether every word of `query` matches a word of the masked name (see the module's docstring)."""
    shown = [w.rstrip("*") for w in fold(mask_name(name)).split()]
    words = fold(query).split()
    if not words or not shown:
        return False

    def one(word: str) -> bool:
        return any((w.startswith(word) if len(w) > 1 else word[0] == w) for w in shown if w)

    return all(one(w) for w in words)


def _week(today: dt.date) -> tuple[dt.date, dt.date]:
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def _filters(query: CaseQuery, today: dt.date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.status:
        where.append(col(Case.status) == query.status)
    if query.procedure:
        where.append(col(Case.procedure_id) == query.procedure)
    if query.due:
        where.append(col(Case.status).in_(sorted(OPEN)))
        if query.due == "overdue":
            where.append(_due() < today)
        else:
            first, last = _week(today)
            where.append(_due() >= first)
            where.append(_due() <= last)
    q = query.q
    if q and any(ch.isdigit() for ch in q):
        key = normalize_code(q)
        compact = re.sub(r"[^0-9A-Za-z]", "", q).upper()
        if key:
            where.append(col(Case.code) == key)
        elif compact.isdigit() and len(compact) == 4:
            where.append((col(Case.phone_last4) == compact) | col(Case.code).contains(compact))
        else:
            where.append(col(Case.code).contains(compact or q))
    return where


async def search(session: AsyncSession, query: CaseQuery, *, today: dt.date) -> tuple[int, list[Case]]:
    """The total and the page of cases `query` asks for."""
    where = _filters(query, today)
    q = query.q
    if q and not any(ch.isdigit() for ch in q):  # a name: matched in Python against the masked names
        rows = (await session.exec(select(Case.id, Case.applicant_name).where(*where))).all()
        ids = [i for i, name in rows if name_matches(q, name)]
        where.append(col(Case.id).in_(ids))
    total = (await session.exec(select(func.count()).select_from(Case).where(*where))).one()
    column = SORTS[query.sort]
    ties = col(Case.id)  # in the same direction, so that a sort is stable from page to page
    ordered = (column.asc(), ties.asc()) if query.order == "asc" else (column.desc(), ties.desc())
    stmt = select(Case).where(*where).order_by(*ordered)
    stmt = stmt.offset((query.page - 1) * PER_PAGE).limit(PER_PAGE)
    return total, list((await session.exec(stmt)).all())


async def overdue(session: AsyncSession, *, today: dt.date, limit: int | None = None) -> list[Case]:
    """Every late case (see the module's docstring), the latest due first."""
    stmt = select(Case).where(col(Case.status).in_(sorted(OPEN)), _due() < today).order_by(_due().asc(), col(Case.id))
    if limit:
        stmt = stmt.limit(limit)
    return list((await session.exec(stmt)).all())


def due_of(case: Case) -> dt.date:
    return case.new_appointment_date or case.appointment_date


def is_late(case: Case, today: dt.date) -> bool:
    return case.status in OPEN and due_of(case) < today


async def procedures_in_use(session: AsyncSession) -> list[str]:
    """The procedures that have cases, for the list's filter."""
    return sorted((await session.exec(select(Case.procedure_id).distinct())).all())
