"""`tthc-bot cases …`: the staff's terminal commands for cases (import a file, change a status, show one).

Status changes go through `set_status`, so the chats following a case are notified as when staff
change it anywhere else. A mistake a user can fix is one line on stderr: exit 1 for a refused
change or a bad file (nothing written), exit 2 for a malformed argument.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import STATUSES, CaseError, CaseNotFound, Problem, describe, parse_status
from bot.replies.dates import DateError, to_date
from bot.settings import Settings, get_settings
from knowledge.codes import display_code, normalize_code
from knowledge.loader import KnowledgeBase, require_knowledge

if TYPE_CHECKING:
    from bot.staff.status import StatusChanged

T = TypeVar("T")

cases_app = typer.Typer(
    help="Cases (hồ sơ): import a CSV/XLSX file, change a status, show a case.", no_args_is_help=True
)


def _settings() -> Settings:
    return get_settings()


def _knowledge() -> KnowledgeBase:
    return require_knowledge(_settings().knowledge_path)


def _stop(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from bot.storage.db import make_engine, session_scope

    async def go() -> T:
        engine = make_engine(_settings())
        try:
            async with session_scope(engine) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@cases_app.command("import")
def import_cases(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or Windows-1258, ',' or ';') or XLSX (first sheet).")],
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Write the good rows, report the bad ones.")
    ] = False,
) -> None:
    """Create or update cases from a file (an idempotent upsert; columns in docs/cases-import.md).

    Any bad row: every error is listed as `file:row:column: message` and nothing is written (exit 1),
    unless --skip-bad-rows."""
    from bot.staff.importing import import_file
    from bot.storage.db import make_engine

    if not file.is_file():
        _stop(f"{file}: no such file", 2)
    s, kb = _settings(), _knowledge()

    async def go():  # type: ignore[no-untyped-def]
        engine = make_engine(s)
        try:
            return await import_file(engine, file, kb=kb, settings=s, skip_bad_rows=skip_bad_rows)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(go())
    except IntegrityError:
        _stop(
            f"{file}: another process created or changed the same cases meanwhile; nothing written, "
            "run the import again",
            1,
        )
    for err in report.errors:
        typer.echo(str(err))
    if not report.written:
        rows = len({e.row for e in report.errors})
        hint = "" if skip_bad_rows or report.fatal else " (fix them, or use --skip-bad-rows to write the good rows)"
        typer.echo(f"{len(report.errors)} error(s) in {rows} row(s) of {file}; nothing written{hint}", err=True)
        raise typer.Exit(1)
    typer.echo(report.summary())


OPTIONS = {"status": "STATUS", "new_date": "--new-date", "note": "--note", "missing": "--missing"}


def _text(value: str | None) -> str | None:
    """The option as stored: NFC, trimmed; None when not given or blank."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).strip() or None


def _documents(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [item.strip() for item in unicodedata.normalize("NFC", text).split(";") if item.strip()]


@cases_app.command("set-status")
def set_status_cmd(
    code: Annotated[str, typer.Argument(help="Receipt code, any separators.")],
    status: Annotated[str, typer.Argument(help=f"{', '.join(STATUSES)} (or the Vietnamese label).")],
    note: Annotated[str | None, typer.Option(help="Note shown to the citizen (the reason, for rejected).")] = None,
    new_date: Annotated[
        str | None,
        typer.Option("--new-date", help="New appointment date (dd/mm/yyyy or yyyy-mm-dd); needed for overdue."),
    ] = None,
    missing: Annotated[str | None, typer.Option(help="Documents to supplement, separated by ';'.")] = None,
) -> None:
    """Move a case to a new status; the chats following it are notified."""
    from bot.staff.status import change_case_status

    target = parse_status(status)
    if target is None:
        _stop(f"STATUS: {describe(Problem('status', 'unknown_status', status))}", 2)
    try:
        day = to_date(new_date) if new_date is not None else None
    except DateError as exc:
        _stop(f"--new-date: {exc}", 2)
    s, kb = _settings(), _knowledge()

    async def work(session: AsyncSession) -> StatusChanged:
        return await change_case_status(
            session, code, status=target, kb=kb, settings=s, note=_text(note), new_date=day, missing=_documents(missing)
        )

    try:
        done = _in_session(work)
    except CaseNotFound as exc:
        _stop(str(exc), 1)
    except CaseError as exc:
        problem = exc.problems[0]
        if problem.code == "required":  # a malformed command: an option is missing
            _stop(f"{OPTIONS[problem.field]}: {describe(problem, OPTIONS)}", 2)
        _stop(f"{display_code(normalize_code(code) or code)}: {describe(problem, OPTIONS)}", 1)
    typer.echo(f"{done.case.display_code}: {done.previous} -> {target}; {done.queued} notification(s) queued")


@cases_app.command("show")
def show(code: Annotated[str, typer.Argument(help="Receipt code, any separators.")]) -> None:
    """A case as staff see it: every detail (the full name; of the phone only the last 4 digits) and its history."""
    from bot.cases.rules import STATUSES, get_case, history
    from bot.replies.case_view import due_date, procedure_name
    from bot.replies.dates import vn_date
    from bot.storage.db import make_engine, session_scope
    from bot.storage.models import Subscription

    s, kb = _settings(), _knowledge()
    tz = s.tz

    def when(value: dt.datetime | None) -> str:
        return f"{value.astimezone(tz):%d/%m/%Y %H:%M}" if value else "-"

    async def go() -> list[str] | None:
        engine = make_engine(s)
        try:
            async with session_scope(engine) as session:
                case = await get_case(session, code)
                if case is None:
                    return None
                followers = (
                    await session.exec(
                        select(func.count())
                        .select_from(Subscription)
                        .where(Subscription.case_id == case.id, Subscription.active.is_(True))  # type: ignore[attr-defined]  # a column, not a bool
                    )
                ).one()
                fee = f"{case.fee:,} đồng".replace(",", ".") if case.fee is not None else "-"
                lines = [
                    f"Hồ sơ {case.display_code}",
                    f"  procedure:        {case.procedure_id} ({procedure_name(case, kb)})",
                    f"  agency:           {case.agency}",
                    f"  office:           {case.office or '-'}",
                    f"  applicant:        {case.applicant_name}",
                    f"  phone:            {'******' + case.phone_last4 if case.phone_last4 else '-'}",
                    f"  birth year:       {case.birth_year or '-'}",
                    f"  received:         {when(case.received_at)}",
                    f"  appointment:      {vn_date(case.appointment_date)}",
                    f"  new appointment:  {vn_date(case.new_appointment_date) if case.new_appointment_date else '-'}",
                    f"  due:              {vn_date(due_date(case))}",
                    f"  channel / return: {case.channel} / {case.return_method}",
                    f"  fee:              {fee}",
                    f"  status:           {case.status} ({STATUSES[case.status]})",
                    f"  note:             {case.status_note or '-'}",
                    f"  missing:          {'; '.join(case.missing_documents) or '-'}",
                    f"  closed:           {when(case.closed_at)}",
                    f"  followers:        {followers}",
                    f"  created/updated:  {when(case.created_at)} / {when(case.updated_at)}",
                    "History:",
                ]
                for event in await history(session, case):
                    note = f" — {event.note}" if event.note else ""
                    lines.append(f"  {when(event.at)}  {event.status:<16} ({event.source}){note}")
                return lines
        finally:
            await engine.dispose()

    lines = asyncio.run(go())
    if lines is None:
        _stop(f"no case with code {code!r}", 1)
    typer.echo("\n".join(lines or []))
