"""Cases by receipt code: create, read, update, change status, history; the slip's signed link; unlocking a code.

A status change goes through the same core function as `tthc-bot cases set-status` (`change_case_status`): the case
is locked, checked once against the rules table, changed, and its followers' messages queued, in the request's
transaction. A refusal comes back as the table's structured problem and is worded here in the API's terms: 409 for a
transition the case's status does not allow, 422 naming the JSON field a status needs.

A key gets exactly what its scopes say: reading a case needs `read` (a write answers a key without it with the code
and status only), and changing the phone number or the birth year — what proves a case is the citizen's in the bot —
needs `pii` besides `write`. Error messages name a case by its printed code, never by what the client typed.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import EXAMPLE_CODE, CodePath, Reader, ServicesDep, SessionDep, Writer, requires_scope
from api.errors import ApiError, field_error, nothing_to_update, responses
from api.routes import PREFIX
from api.schemas import (
    CaseCreate,
    CasePublic,
    CaseRef,
    CaseUpdate,
    EventPublic,
    SlipLink,
    StatusChange,
    StatusChangeResult,
    UnlockResult,
)
from api.views import case_public, case_written, event_public
from bot.cases import verification
from bot.cases.qr import deep_link, slip_payload
from bot.cases.rules import CaseError, CaseNotFound, NewCase, Problem, create_case, describe, describe_vi, get_case
from bot.cases.rules import history as case_history
from bot.privacy.hashing import phone_hmac, phone_last4
from bot.services import Services
from bot.staff.status import change_case_status
from bot.storage.models import Case, utcnow
from knowledge.codes import display_code, normalize_code

router = APIRouter(prefix="/cases", tags=["cases"])

# the rules table's logical fields, as this API's JSON calls them
API_FIELDS = {"status": "status", "new_date": "new_date", "note": "note", "missing": "missing_documents"}
VERIFYING_FIELDS = ("phone", "birth_year")  # what the bot asks to prove a case is the citizen's


def not_found(code: str, *, malformed: bool) -> ApiError:
    key = normalize_code(code)
    if malformed or key is None:
        return ApiError(
            404,
            "case_not_found",
            f"The path does not hold a receipt code (e.g. {EXAMPLE_CODE}).",
            message_vi="Đường dẫn không chứa mã hồ sơ hợp lệ.",
        )
    printed = display_code(key)
    return ApiError(404, "case_not_found", f"No case with code {printed}.", message_vi=f"Không có hồ sơ mã {printed}.")


def status_refused(problem: Problem) -> ApiError:
    """A refusal of the rules table in the API's terms (the Vietnamese wording is the core's)."""
    if problem.code == "not_allowed":
        allowed = ", ".join(problem.allowed) or "none (the case is closed)"
        message = f"A case in status {problem.current!r} cannot move to {problem.status!r}; allowed: {allowed}."
        return ApiError(409, "invalid_transition", message, message_vi=describe_vi(problem))
    name, msg = API_FIELDS[problem.field], describe(problem, API_FIELDS)
    return ApiError(
        422,
        "status_requirements",
        f"{name}: {msg}",
        message_vi=describe_vi(problem),
        detail=[{"loc": ["body", name], "msg": msg, "type": "value_error"}],
    )


async def load_case(session: AsyncSession, code: str, *, lock: bool = False) -> Case:
    case = await get_case(session, code, lock=lock)
    if case is None:
        raise not_found(code, malformed=normalize_code(code) is None)
    return case


def check_procedure(services: Services, procedure_id: str) -> None:
    if services.kb.get(procedure_id) is None:
        raise field_error("procedure_id", "unknown procedure id; the ids are listed by `tthc-bot kb export`")


def check_appointment(services: Services, appointment: dt.date, received: dt.datetime) -> None:
    if appointment < received.astimezone(services.settings.tz).date():
        raise field_error("appointment_date", "is before the day the case was received")


@router.post(
    "",
    status_code=201,
    response_model=CasePublic | CaseRef,
    summary="Create a case",
    responses=responses(401, 403, 409, 413, 422, 429),
)
async def create(
    body: CaseCreate, principal: Writer, services: ServicesDep, session: SessionDep, response: Response
) -> CasePublic | CaseRef:
    """Create a case from its appointment slip; its history starts with `received`.
    409 when a case with the same code (in any spelling) exists. Needs `write`; the case comes back
    in full with `read`, else only its code and status."""
    check_procedure(services, body.procedure_id)
    received = body.received_at or utcnow()
    received = (received if received.tzinfo else received.replace(tzinfo=services.settings.tz)).astimezone(dt.UTC)
    check_appointment(services, body.appointment_date, received)
    printed = display_code(normalize_code(body.code) or "")
    duplicate = ApiError(
        409, "duplicate_case", f"A case with code {printed} already exists.", message_vi=f"Đã có hồ sơ mã {printed}."
    )
    if await get_case(session, body.code) is not None:
        raise duplicate
    new = NewCase(
        code=body.code,
        procedure_id=body.procedure_id,
        agency=body.agency,
        applicant_name=body.applicant_name,
        phone=body.phone,
        received_at=received,
        appointment_date=body.appointment_date,
        office=body.office,
        birth_year=body.birth_year,
        channel=body.channel,
        return_method=body.return_method,
        fee=body.fee,
    )
    try:
        case = await create_case(session=session, secret=services.secret, source=principal.source, new=new)
    except IntegrityError:  # created meanwhile by another request (the INSERT is flushed here)
        raise duplicate from None
    except CaseError as exc:
        raise field_error("code", str(exc)) from None
    response.headers["Location"] = f"{PREFIX}{router.prefix}/{case.code}"
    return case_written(case, services.kb, read=principal.read, pii=principal.pii)


@router.get("/{code}", response_model=CasePublic, summary="Read a case", responses=responses(401, 403, 404, 429))
async def read(code: CodePath, principal: Reader, services: ServicesDep, session: SessionDep) -> CasePublic:
    """A case by receipt code. Personal data masked unless the key has `pii`. Needs `read`."""
    return case_public(await load_case(session, code), services.kb, pii=principal.pii)


@router.patch(
    "/{code}",
    response_model=CasePublic | CaseRef,
    summary="Update a case",
    responses=responses(401, 403, 404, 413, 422, 429),
)
async def update(
    code: CodePath, body: CaseUpdate, principal: Writer, services: ServicesDep, session: SessionDep
) -> CasePublic | CaseRef:
    """Change a case's details (not its status: use POST .../status). Omitted fields are kept,
    `null` clears an optional field. Needs `write`, and `pii` too to change `phone` or `birth_year`
    (what a citizen gives the bot to prove the case is theirs: whoever sets them can open it)."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise nothing_to_update("Nothing to update: give at least one field.")
    if not principal.pii and any(field in changes for field in VERIFYING_FIELDS):
        raise requires_scope("pii", "Changing the phone number or the birth year")
    if "procedure_id" in changes:
        check_procedure(services, changes["procedure_id"])
    case = await load_case(session, code, lock=True)
    if "appointment_date" in changes:
        check_appointment(services, changes["appointment_date"], case.received_at)
    if "phone" in changes:
        phone = changes.pop("phone")
        case.phone_hmac = phone_hmac(phone, services.secret) if phone else None
        case.phone_last4 = phone_last4(phone) if phone else None
    for field, value in changes.items():
        setattr(case, field, value)
    case.updated_at = utcnow()
    session.add(case)
    await session.flush()
    return case_written(case, services.kb, read=principal.read, pii=principal.pii)


@router.post(
    "/{code}/status",
    response_model=StatusChangeResult,
    summary="Change a case's status",
    responses=responses(401, 403, 404, 409, 413, 422, 429),
)
async def change_status(
    code: CodePath, body: StatusChange, principal: Writer, services: ServicesDep, session: SessionDep
) -> StatusChangeResult:
    """Move a case to a new status with an optional note: writes the history row and queues the
    bot's message to every chat following the case, in one transaction. 404 for an unknown code,
    409 for a transition the case's current status does not allow, 422 when the status needs a
    `new_date` (overdue), a `note` (rejected) or `missing_documents` (need_supplement); in every
    refused case nothing is written. Needs `write`."""
    try:
        changed = await change_case_status(
            session,
            code,
            status=body.status,
            kb=services.kb,
            settings=services.settings,
            note=body.note,
            new_date=body.new_date,
            missing=body.missing_documents,
            source=principal.source,
        )
    except CaseNotFound as exc:
        raise not_found(code, malformed=exc.malformed) from None
    except CaseError as exc:
        raise status_refused(exc.problems[0]) from None
    return StatusChangeResult(
        case=case_written(changed.case, services.kb, read=principal.read, pii=principal.pii),
        event=event_public(changed.event),
    )


@router.get(
    "/{code}/history",
    response_model=list[EventPublic],
    summary="A case's status history",
    responses=responses(401, 403, 404, 429),
)
async def history(code: CodePath, principal: Reader, session: SessionDep) -> list[EventPublic]:
    """Every status the case went through, oldest first, with notes and who made the change. Needs `read`."""
    return [event_public(e) for e in await case_history(session, await load_case(session, code))]


@router.get(
    "/{code}/slip-link",
    response_model=SlipLink,
    summary="The appointment slip's signed link",
    responses=responses(401, 403, 404, 429),
)
async def slip_link(code: CodePath, principal: Writer, services: ServicesDep, session: SessionDep) -> SlipLink:
    """The deep link to print as a QR code on the appointment slip (as `tthc-bot qr CODE` prints
    it): it carries a token signed with the server's secret that opens the case in the bot
    without the phone digits, so that strangers' failed guesses never lock the citizen out. Print
    it on the citizen's slip only. Needs `write` (the one-stop software that prints the slip)."""
    case = await load_case(session, code)
    bot = services.settings.bot_username
    return SlipLink(
        code=case.display_code,
        link=deep_link(case.code, bot, services.secret),
        payload=slip_payload(case.code, services.secret),
    )


@router.post(
    "/{code}/unlock",
    response_model=UnlockResult,
    summary="Unlock a case's verification",
    responses=responses(401, 403, 404, 429),
)
async def unlock(code: CodePath, principal: Writer, session: SessionDep) -> UnlockResult:
    """Lift the lock that failed guesses of the phone digits (or birth year) put on a case's code,
    forget those failures and resolve the case's open alerts, after making sure the citizen asking
    is the owner. The slip's QR code opens the case even while it is locked. Needs `write`."""
    done = await verification.unlock(session, code, by=principal.source)
    if done is None:
        raise not_found(code, malformed=normalize_code(code) is None)
    return UnlockResult(
        code=done.code,
        was_locked=done.was_locked,
        failures_cleared=done.failures_cleared,
        alerts_resolved=done.alerts_resolved,
    )
