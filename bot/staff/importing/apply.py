"""Writing the checked rows of an import file (`apply_rows`), and the whole import in one transaction (`import_file`).

Upsert rules (see docs/cases-import.md):

* a new code is created like `create_case` does, then walked to the file's status by the shortest chain of
  allowed transitions (`received -> ready_for_pickup -> returned` for `returned`; every other status is one step
  from `received`), one history row per step;
* an existing code gets the changed fields (an empty cell keeps the stored value; the phone only when given and
  different by HMAC) and, when its status differs, one `set_status` call, so the followers are notified like any
  other staff change; a change the rules table refuses is an error of that row, which then writes nothing;
* the same file imported twice changes nothing: no field, no history row, no outbox row.

A row's status change is checked against the rules table once: a new case's by `check_change` (its steps follow
allowed transitions by construction), an existing case's by `set_status` as it is written, or by `check_change`
alone when nothing will be written any more (an earlier row was bad), so that every error is still listed.

Speed (docs/benchmarks.md): rows are handled in chunks of 1,000. The stored cases of a chunk are read with one
query as plain rows, and only those that change are loaded as ORM objects (locked on PostgreSQL). New cases and
their history are written with two multi-row INSERTs per chunk instead of `create_case` and `set_status` per row: a
case that did not exist before this transaction has no followers and no queued messages, so `set_status` would
queue nothing for it; it gets exactly the fields and history rows that `create_case` followed by `set_status` would
write (tests/bot/test_imports.py compares both).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import RULES, CaseError, Problem, check_change, describe
from bot.privacy.hashing import phone_hmac, phone_last4
from bot.settings import Settings
from bot.staff.importing.rows import ImportRow, ParsedFile, RowError, read_file
from bot.staff.status import set_status
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent, utcnow
from knowledge.codes import display_code
from knowledge.loader import KnowledgeBase

CHUNK = 1000
SOURCE = "import"
# the rules table's logical fields, as the file's columns are called
COLUMN_OF = {"status": "status", "new_date": "new_appointment_date", "note": "note", "missing": "missing_documents"}
# Fields compared and updated as they are; the status and what goes with it are handled apart.
_PLAIN = (
    "procedure_id",
    "agency",
    "office",
    "applicant_name",
    "birth_year",
    "received_at",
    "appointment_date",
    "channel",
    "return_method",
    "fee",
)
# Fields that go with a status change, as (column, attribute): plain fields when the status stays.
_WITH_STATUS = (
    ("note", "status_note"),
    ("new_appointment_date", "new_appointment_date"),
    ("missing_documents", "missing_documents"),
)

CaseRows = tuple[dict[str, Any], list[dict[str, Any]]]  # a `case` row and its `caseevent` rows


@dataclass
class ImportReport:
    file: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    notifications: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    fatal: bool = False  # the file itself could not be read (encoding, header, format)
    encoding: str | None = None

    def summary(self) -> str:
        return (
            f"{self.file}: {self.read} row(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.status_changes} status change(s), "
            f"{self.notifications} notification(s) queued, {self.skipped} skipped"
        )


def status_path(current: str, target: str) -> list[str]:
    """The shortest chain of allowed transitions from `current` to `target` (without `current`)."""
    if current == target:
        return []
    queue: deque[tuple[str, list[str]]] = deque([(current, [])])
    seen = {current}
    while queue:
        status, path = queue.popleft()
        for nxt in sorted(RULES[status].allowed_next):
            if nxt == target:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, [*path, nxt]))
    raise ValueError(f"{target} cannot be reached from {current}")


def _problem(problem: Problem) -> tuple[str, str]:
    """(column, message) of a refusal of the rules table, in the file's terms."""
    return COLUMN_OF[problem.field], describe(problem)


def _check(current: str | None, row: ImportRow) -> tuple[str, str] | None:
    """The first thing the rules table refuses in the row's status change (`current` None: a new case)."""
    v = row.values
    target = v.get("status", "received")
    problems = check_change(
        current, target, note=v.get("note"), new_date=v.get("new_appointment_date"), missing=v.get("missing_documents")
    )
    return _problem(problems[0]) if problems else None


def new_case_rows(row: ImportRow, secret: str, now: dt.datetime) -> CaseRows:
    """The `case` row and its `caseevent` rows (without `case_id`) that `create_case` followed by
    `set_status` along `status_path("received", status)` would write, as plain column values."""
    v = row.values
    target = v.get("status", "received")
    events = [{"status": "received", "note": None, "source": SOURCE, "at": v["received_at"]}]
    for step in status_path("received", target):
        events.append({"status": step, "note": v.get("note") if step == target else None, "source": SOURCE, "at": now})
    case = {
        "code": row.key,
        "display_code": display_code(row.key),
        "procedure_id": v["procedure_id"],
        "agency": v["agency"],
        "office": v.get("office"),
        "applicant_name": v["applicant_name"],
        "phone_hmac": phone_hmac(v["phone"], secret),
        "phone_last4": phone_last4(v["phone"]),
        "birth_year": v.get("birth_year"),
        "received_at": v["received_at"],
        "appointment_date": v["appointment_date"],
        "new_appointment_date": v.get("new_appointment_date"),
        "channel": v.get("channel", "truc-tiep"),
        "return_method": v.get("return_method", "truc-tiep"),
        "status": target,
        "status_note": v.get("note"),
        "missing_documents": list(v.get("missing_documents", [])),
        "fee": v.get("fee"),
        "closed_at": now if RULES[target].closed else None,
        "created_at": now,
        "updated_at": now,
    }
    return case, events


async def _insert_new(session: AsyncSession, fresh: list[CaseRows]) -> None:
    """Insert new cases and their history with two multi-row INSERTs (no per-row ORM objects)."""
    cases, events = Case.__table__, CaseEvent.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ untyped
    conn = await session.connection()
    await conn.execute(insert(cases), [c for c, _ in fresh])
    # the ids in a second query: PostgreSQL plans a multi-row INSERT … RETURNING of 1,000 rows slowly
    codes = [c["code"] for c, _ in fresh]
    ids = dict((await conn.execute(select(cases.c.code, cases.c.id).where(cases.c.code.in_(codes)))).all())
    await conn.execute(insert(events), [{**e, "case_id": ids[c["code"]]} for c, evs in fresh for e in evs])


@dataclass
class _Plan:
    changes: dict[str, Any]  # attribute -> new value, without the status
    moves: bool  # a `set_status` call is needed


def _plan(case: Any, row: ImportRow, secret: str) -> _Plan:
    """What `row` changes in a stored case (an ORM `Case` or a plain `case` row: same attributes).
    An empty cell keeps the stored value; the phone counts as changed only when its HMAC differs."""
    v = row.values
    target = v.get("status")
    reschedule = (
        target == case.status == "overdue"
        and "new_appointment_date" in v
        and v["new_appointment_date"] != case.new_appointment_date
    )
    moves = target is not None and (target != case.status or reschedule)
    changes = {name: v[name] for name in _PLAIN if name in v and getattr(case, name) != v[name]}
    if "phone" in v:
        digest = phone_hmac(v["phone"], secret)
        if digest != case.phone_hmac:
            changes["phone_hmac"], changes["phone_last4"] = digest, phone_last4(v["phone"])
    if not moves:  # then the note, the new date and the missing documents are plain fields
        changes |= {attr: v[name] for name, attr in _WITH_STATUS if name in v and getattr(case, attr) != v[name]}
    return _Plan(changes, moves)


class _Upsert:
    """One `apply_rows` call: the report, and whether rows are still being written."""

    def __init__(
        self,
        session: AsyncSession,
        parsed: ParsedFile,
        *,
        kb: KnowledgeBase,
        settings: Settings,
        skip_bad_rows: bool,
        now: dt.datetime,
    ) -> None:
        self.session, self.parsed, self.kb, self.settings = session, parsed, kb, settings
        self.skip_bad_rows, self.now = skip_bad_rows, now
        self.secret = settings.secret_key.get_secret_value()
        self.report = ImportReport(
            file=parsed.file, read=parsed.read, errors=list(parsed.errors), encoding=parsed.encoding
        )
        self.writing = skip_bad_rows or not parsed.errors
        self.lock = session.get_bind().dialect.name == "postgresql"

    def bad(self, row: ImportRow, problem: tuple[str, str]) -> None:
        self.report.errors.append(RowError(row.line, row.col(problem[0]), problem[1], self.parsed.file))
        self.writing = self.writing and self.skip_bad_rows

    async def chunk(self, rows: list[ImportRow]) -> None:
        """Sort a chunk's rows into new cases, changed cases and unchanged ones, then write them."""
        table = Case.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ untyped
        conn = await self.session.connection()
        stored = {r.code: r for r in await conn.execute(select(table).where(table.c.code.in_([r.key for r in rows])))}
        fresh: list[CaseRows] = []
        changing: dict[int, tuple[ImportRow, Any]] = {}
        for row in rows:
            current = stored.get(row.key)
            if current is None:
                problem = _check(None, row)
                if problem:
                    self.bad(row, problem)
                elif self.writing:
                    fresh.append(new_case_rows(row, self.secret, self.now))
                    self.report.created += 1
                    self.report.status_changes += len(fresh[-1][1]) - 1
            elif (plan := _plan(current, row, self.secret)).changes or plan.moves:
                changing[current.id] = (row, current)
            else:
                self.report.unchanged += 1
        if changing:
            await self.update(changing)
        if fresh and self.writing:
            await _insert_new(self.session, fresh)

    async def update(self, changing: dict[int, tuple[ImportRow, Any]]) -> None:
        """Load (and lock) the cases that change, and change them; only check them once nothing is written."""
        if not self.writing:
            for row, stored in changing.values():
                problem = _check(stored.status, row) if _plan(stored, row, self.secret).moves else None
                if problem:
                    self.bad(row, problem)
            return
        stmt = select(Case).where(col(Case.id).in_(list(changing)))
        if self.lock:
            stmt = stmt.with_for_update()  # nobody changes these cases between our reading and our write
        for case in (await self.session.exec(stmt.order_by(col(Case.id)))).all():
            row = changing[case.id or 0][0]
            if self.writing:
                await self.update_case(case, row)
            elif _plan(case, row, self.secret).moves and (problem := _check(case.status, row)):
                self.bad(row, problem)
        await self.session.flush()

    async def update_case(self, case: Case, row: ImportRow) -> None:
        plan = _plan(case, row, self.secret)  # again: another process may have changed it since the chunk was read
        if not (plan.changes or plan.moves):
            self.report.unchanged += 1
            return
        before = {attr: getattr(case, attr) for attr in (*plan.changes, "updated_at")}
        for attr, value in {**plan.changes, "updated_at": self.now}.items():
            setattr(case, attr, value)
        if plan.moves:
            v = row.values
            try:
                self.report.notifications += await set_status(
                    self.session,
                    case=case,
                    status=v["status"],
                    kb=self.kb,
                    settings=self.settings,
                    note=v.get("note"),
                    new_date=v.get("new_appointment_date"),
                    missing=v.get("missing_documents"),
                    source=SOURCE,
                    at=self.now,
                )
            except CaseError as exc:  # refused by the rules table: the row writes nothing of its own
                for attr, value in before.items():
                    setattr(case, attr, value)
                self.bad(row, _problem(exc.problems[0]))
                return
            self.report.status_changes += 1
        self.session.add(case)
        self.report.updated += 1


async def apply_rows(
    session: AsyncSession,
    parsed: ParsedFile,
    *,
    kb: KnowledgeBase,
    settings: Settings,
    skip_bad_rows: bool = False,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Upsert the valid rows of `parsed` in the caller's transaction.

    Without `skip_bad_rows`, writing stops at the first bad row (the remaining rows are still checked so that every
    error is listed) and the caller must roll back when `report.errors` is not empty."""
    run = _Upsert(session, parsed, kb=kb, settings=settings, skip_bad_rows=skip_bad_rows, now=now or utcnow())
    for start in range(0, len(parsed.rows), CHUNK):
        await run.chunk(parsed.rows[start : start + CHUNK])
    report = run.report
    report.skipped = len({e.row for e in report.errors}) if skip_bad_rows else 0
    report.errors.sort(key=lambda e: e.row)
    return report


class _RollBack(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


async def import_file(
    engine: AsyncEngine,
    path: Path,
    *,
    kb: KnowledgeBase,
    settings: Settings,
    skip_bad_rows: bool = False,
    name: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Read, check and upsert a whole file in one transaction; `report.written` says whether it was committed.
    The file is read in a worker thread, so a large file does not hold up the event loop.

    `dry_run`: everything is done as for real, then rolled back, so the report (rows created, updated, unchanged,
    status changes, notifications, every error) is exactly what importing the file now would do, and nothing is
    written (the console's preview before "apply")."""
    parsed = await asyncio.to_thread(read_file, path, kb=kb, settings=settings, name=name)
    if parsed.fatal:
        return ImportReport(file=parsed.file, errors=parsed.errors, fatal=True, encoding=parsed.encoding)
    try:
        async with session_scope(engine) as session:
            report = await apply_rows(session, parsed, kb=kb, settings=settings, skip_bad_rows=skip_bad_rows)
            if dry_run or (report.errors and not skip_bad_rows):
                raise _RollBack(report)
    except _RollBack as stop:
        stop.report.written = False
        return stop.report
    report.written = True
    return report
