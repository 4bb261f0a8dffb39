"""Cases by receipt code: create, read, update, change status, history.

A status change goes through the same core function as `tthc-bot cases set-status` (`change_case_status`): the case
is locked, checked once against the rules table, changed, and its followers' messages queued, in the request's
transaction. A refusal comes back as the table's structured problem and is worded here in the API's terms: 409 for a
transition the case's status does not allow, 422 naming the JSON field a status needs.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import EXAMPLE_CODE, CodePath, Reader, ServicesDep, SessionDep, Writer
from api.errors import ApiError, field_error, nothing_to_update, responses
from api.routes import PREFIX
from api.schemas import CaseCreate, CasePublic, CaseUpdate, EventPublic, StatusChange, StatusChangeResult
from api.views import case_public, event_public
from bot.cases.rules import CaseError, CaseNotFound, NewCase, Problem, create_case, describe, describe_vi, get_case
from bot.cases.rules import history as case_history
from bot.privacy.hashing import phone_hmac, phone_last4
from bot.services import Services
from bot.staff.status import change_case_status
from bot.storage.models import Case, utcnow
from knowledge.codes import normalize_code

router = APIRouter(prefix="/cases", tags=["cases"])

# the rules table's logical fields, as this API's JSON calls them
API_FIELDS = {"status": "status", "new_date": "new_date", "note": "note", "missing": "missing_documents"}


def not_found(code: str, *, malformed: bool) -> ApiError:
    if malformed:
        return ApiError(
            404,
            "case_not_found",
            f"{code!r} is not a receipt code (e.g. {EXAMPLE_CODE}).",
            message_vi=f"{code!r} không phải là mã hồ sơ.",
        )
    return ApiError(404, "case_not_found", f"No case with code {code!r}.", message_vi=f"Không có hồ sơ mã {code!r}.")


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
        raise field_error("procedure_id", f"unknown procedure {procedure_id!r}; see `tthc-bot kb export`")


def check_appointment(services: Services, appointment: dt.date, received: dt.datetime) -> None:
    if appointment < received.astimezone(services.settings.tz).date():
        raise field_error("appointment_date", "is before the day the case was received")


@router.post(
    "",
    status_code=201,
    response_model=CasePublic,
    summary="Create a case",
    responses=responses(401, 403, 409, 413, 422, 429),
)
async def create(
    body: CaseCreate, principal: Writer, services: ServicesDep, session: SessionDep, response: Response
) -> CasePublic:
    """Create a case from its appointment slip; its history starts with `received`.
    409 when a case with the same code (in any spelling) exists. Needs `write`."""
    check_procedure(services, body.procedure_id)
    received = body.received_at or utcnow()
    received = (received if received.tzinfo else received.replace(tzinfo=services.settings.tz)).astimezone(dt.UTC)
    check_appointment(services, body.appointment_date, received)
    duplicate = ApiError(
        409,
        "duplicate_case",
        f"A case with code {body.code!r} already exists.",
        message_vi=f"Đã có hồ sơ mã {body.code!r}.",
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
    return case_public(case, services.kb, pii=principal.pii)


@router.get("/{code}", response_model=CasePublic, summary="Read a case", responses=responses(401, 403, 404, 429))
async def read(code: CodePath, principal: Reader, services: ServicesDep, session: SessionDep) -> CasePublic:
    """A case by receipt code. Personal data masked unless the key has `pii`. Needs `read`."""
    return case_public(await load_case(session, code), services.kb, pii=principal.pii)


@router.patch(
    "/{code}",
    response_model=CasePublic,
    summary="Update a case",
    responses=responses(401, 403, 404, 413, 422, 429),
)
async def update(
    code: CodePath, body: CaseUpdate, principal: Writer, services: ServicesDep, session: SessionDep
) -> CasePublic:
    """Change a case's details (not its status: use POST .../status). Omitted fields are kept,
    `null` clears an optional field. Needs `write`."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise nothing_to_update("Nothing to update: give at least one field.")
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
    return case_public(case, services.kb, pii=principal.pii)


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
        case=case_public(changed.case, services.kb, pii=principal.pii), event=event_public(changed.event)
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
