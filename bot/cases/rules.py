"""Cases (hồ sơ): creation, lookup by receipt code and status changes with their history.

Status changes go through `change_status`, which enforces the allowed transitions and writes
the history row in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.privacy.hashing import phone_hmac, phone_last4
from bot.storage.models import Case, CaseEvent, utcnow
from knowledge.codes import display_code, normalize_code

STATUSES: dict[str, str] = {
    "received": "Đã tiếp nhận",
    "in_progress": "Đang giải quyết",
    "need_supplement": "Cần bổ sung hồ sơ",
    "ready_for_pickup": "Đã có kết quả, chờ nhận",
    "returned": "Đã trả kết quả",
    "overdue": "Quá hạn, đã hẹn lại ngày trả",
    "rejected": "Từ chối giải quyết",
    "withdrawn": "Đã rút hồ sơ",
}

TRANSITIONS: dict[str, set[str]] = {
    "received": {"in_progress", "need_supplement", "rejected", "withdrawn", "overdue", "ready_for_pickup"},
    "in_progress": {"need_supplement", "ready_for_pickup", "overdue", "rejected", "withdrawn"},
    "need_supplement": {"in_progress", "rejected", "withdrawn", "overdue"},
    "overdue": {"in_progress", "need_supplement", "ready_for_pickup", "rejected", "withdrawn", "overdue"},
    "ready_for_pickup": {"returned"},
    "returned": set(),
    "rejected": set(),
    "withdrawn": set(),
}

CLOSED = {"returned", "rejected", "withdrawn"}


class CaseError(ValueError):
    """A case operation was refused; the message says why, in plain words."""


@dataclass(frozen=True)
class NewCase:
    code: str
    procedure_id: str
    agency: str
    applicant_name: str
    phone: str | None
    received_at: dt.datetime
    appointment_date: dt.date
    office: str | None = None
    birth_year: int | None = None
    channel: str = "truc-tiep"
    return_method: str = "truc-tiep"
    fee: int | None = None


async def get_case(session: AsyncSession, code: str) -> Case | None:
    key = normalize_code(code)
    if key is None:
        return None
    return (await session.exec(select(Case).where(Case.code == key))).first()


async def create_case(*, session: AsyncSession, new: NewCase, secret: str, source: str = "system") -> Case:
    key = normalize_code(new.code)
    if key is None:
        raise CaseError(f"mã hồ sơ không đúng định dạng: {new.code!r}")
    case = Case(
        code=key,
        display_code=display_code(key),
        procedure_id=new.procedure_id,
        agency=new.agency,
        office=new.office,
        applicant_name=new.applicant_name,
        phone_hmac=phone_hmac(new.phone, secret) if new.phone else None,
        phone_last4=phone_last4(new.phone) if new.phone else None,
        birth_year=new.birth_year,
        received_at=new.received_at,
        appointment_date=new.appointment_date,
        channel=new.channel,
        return_method=new.return_method,
        fee=new.fee,
    )
    session.add(case)
    await session.flush()
    session.add(CaseEvent(case_id=case.id, status="received", source=source, at=new.received_at))
    return case


def check_transition(current: str, new: str) -> None:
    if new not in STATUSES:
        raise CaseError(f"trạng thái không hợp lệ: {new!r}; dùng một trong: {', '.join(STATUSES)}")
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "không có (hồ sơ đã kết thúc)"
        raise CaseError(f"không thể chuyển từ {current} sang {new}; được phép: {allowed}")


async def change_status(
    *,
    session: AsyncSession,
    case: Case,
    status: str,
    note: str | None = None,
    new_date: dt.date | None = None,
    missing: list[str] | None = None,
    source: str = "system",
    at: dt.datetime | None = None,
) -> CaseEvent:
    check_transition(case.status, status)
    if status == "overdue" and new_date is None:
        raise CaseError("trạng thái overdue cần ngày hẹn trả mới (new_date)")
    if status == "rejected" and not note:
        raise CaseError("trạng thái rejected cần lý do (note)")
    if status == "need_supplement" and not (missing or note):
        raise CaseError("trạng thái need_supplement cần danh sách giấy tờ cần bổ sung")
    now = at or utcnow()
    case.status = status
    case.status_note = note
    if new_date:
        case.new_appointment_date = new_date
    if missing is not None:
        case.missing_documents = list(missing)
    case.updated_at = now
    if status in CLOSED:
        case.closed_at = now
    session.add(case)
    event = CaseEvent(case_id=case.id, status=status, note=note, source=source, at=now)
    session.add(event)
    await session.flush()
    return event


async def history(session: AsyncSession, case: Case) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
    return list((await session.exec(stmt)).all())
