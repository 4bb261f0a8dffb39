"""`tthc-bot cases …`: the staff's terminal commands for cases (import a file, change a status, show one, unlock the
verification of one).

The services come from the composition root (`cli/root.py`). A status change goes through the core's
`change_case_status`, checked once against the rules table, so the chats following a case are notified as when staff
change it anywhere else; its refusals are worded here with this command's options. A mistake a user can fix is one
line on stderr: exit 1 for a refused change or a bad file (nothing written), exit 2 for a malformed argument
(a status name, a date, a status missing what it needs).
"""

from __future__ import annotations

import datetime as dt
import html
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import STATUSES, CaseError, CaseNotFound, Problem, describe, parse_status
from bot.replies.dates import DateError, to_date, vn_date
from bot.services import Services
from bot.storage.db import session_scope
from cli import root
from knowledge.codes import display_code, normalize_code

if TYPE_CHECKING:
    from bot.staff.importing import ImportReport
    from bot.staff.status import StatusChanged

cases_app = typer.Typer(
    help="Cases (hồ sơ): import a CSV/XLSX file, change a status, show a case, unlock its verification.",
    no_args_is_help=True,
)
# the rules table's logical fields, as this command calls them
OPTIONS = {"status": "STATUS", "new_date": "--new-date", "note": "--note", "missing": "--missing"}


def _stop(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


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

    if not file.is_file():
        _stop(f"{file}: no such file", 2)

    async def work(services: Services) -> ImportReport:
        return await import_file(
            services.engine, file, kb=services.kb, settings=services.settings, skip_bad_rows=skip_bad_rows
        )

    try:
        report = root.run(work)
    except IntegrityError:
        _stop(f"{file}: another process created or changed the same cases meanwhile; nothing written, run it again", 1)
    for err in report.errors:
        typer.echo(str(err))
    if not report.written:
        rows = len({e.row for e in report.errors})
        hint = "" if skip_bad_rows or report.fatal else " (fix them, or use --skip-bad-rows to write the good rows)"
        typer.echo(f"{len(report.errors)} error(s) in {rows} row(s) of {file}; nothing written{hint}", err=True)
        raise typer.Exit(1)
    typer.echo(report.summary())


def _text(value: str | None) -> str | None:
    """An option as stored: NFC, trimmed; None when not given or blank."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).strip() or None


def _documents(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [item.strip() for item in unicodedata.normalize("NFC", text).split(";") if item.strip()]


def _refused(code: str, problem: Problem) -> NoReturn:
    """A refusal of the rules table in this command's terms: a missing option is a malformed command (exit 2),
    a transition the case's status does not allow a refused change (exit 1)."""
    if problem.code == "required":
        _stop(f"{OPTIONS[problem.field]}: {describe(problem, OPTIONS)}", 2)
    _stop(f"{display_code(normalize_code(code) or code)}: {describe(problem, OPTIONS)}", 1)


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

    async def work(services: Services) -> StatusChanged:
        async with session_scope(services.engine) as session:
            return await change_case_status(
                session,
                code,
                status=target,
                kb=services.kb,
                settings=services.settings,
                note=_text(note),
                new_date=day,
                missing=_documents(missing),
            )

    try:
        done = root.run(work)
    except CaseNotFound as exc:
        _stop(str(exc), 1)
    except CaseError as exc:
        _refused(code, exc.problems[0])
    typer.echo(f"{done.case.display_code}: {done.previous} -> {target}; {done.queued} notification(s) queued")


@cases_app.command("show")
def show(code: Annotated[str, typer.Argument(help="Receipt code, any separators.")]) -> None:
    """A case as staff see it: every detail (the full name; of the phone only the last 4 digits), what the citizen is
    told to do next, and its history."""
    from bot.cases.rules import get_case, history
    from bot.notify.compose import followers
    from bot.replies.case_view import due_date, next_step, procedure_name

    async def work(services: Services) -> list[str] | None:
        tz = services.settings.tz

        def when(value: dt.datetime | None) -> str:
            return f"{value.astimezone(tz):%d/%m/%Y %H:%M}" if value else "-"

        async with session_scope(services.engine) as session:
            case = await get_case(session, code)
            if case is None:
                return None
            new_date = case.new_appointment_date
            fields = {
                "procedure": f"{case.procedure_id} ({procedure_name(case, services.kb)})",
                "agency": case.agency,
                "office": case.office or "-",
                "applicant": case.applicant_name,
                "phone": "******" + case.phone_last4 if case.phone_last4 else "-",
                "birth year": case.birth_year or "-",
                "received": when(case.received_at),
                "appointment": vn_date(case.appointment_date),
                "new appointment": vn_date(new_date) if new_date else "-",
                "due": vn_date(due_date(case)),
                "channel / return": f"{case.channel} / {case.return_method}",
                "fee": f"{case.fee:,} đồng".replace(",", ".") if case.fee is not None else "-",
                "status": f"{case.status} ({STATUSES[case.status]})",
                "note": case.status_note or "-",
                "missing": "; ".join(case.missing_documents) or "-",
                "next step": html.unescape(next_step(case, services.settings)),
                "closed": when(case.closed_at),
                "followers": len(await followers(session, case)),
                "created/updated": f"{when(case.created_at)} / {when(case.updated_at)}",
            }
            lines = [f"Hồ sơ {case.display_code}", *(f"  {k + ':':<18}{v}" for k, v in fields.items()), "History:"]
            for event in await history(session, case):
                note = f" — {event.note}" if event.note else ""
                lines.append(f"  {when(event.at)}  {event.status:<16} ({event.source}){note}")
            return lines

    lines = root.run(work)
    if lines is None:
        _stop(f"no case with code {code!r}", 1)
    typer.echo("\n".join(lines))


@cases_app.command("unlock")
def unlock(code: Annotated[str, typer.Argument(help="Receipt code, any separators.")]) -> None:
    """Lift the lock that failed guesses of the phone digits (or birth year) put on a case: its failures are
    forgotten and its alerts resolved, so the owner may type the digits again at once. Make sure first that the
    citizen asking is the owner (the slip's QR code opens the case even while it is locked)."""
    from bot.cases.verification import Unlocked
    from bot.cases.verification import unlock as unlock_case

    async def work(session: AsyncSession) -> Unlocked | None:
        return await unlock_case(session, code, by="cli")

    done = root.run_in_session(work)
    if done is None:
        _stop(f"no case with code {code!r}", 1)
    state = "was locked" if done.was_locked else "was not locked"
    typer.echo(
        f"{done.code}: unlocked ({state}); {done.failures_cleared} failed attempt(s) forgotten, "
        f"{done.alerts_resolved} alert(s) resolved"
    )
