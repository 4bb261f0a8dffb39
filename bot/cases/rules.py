"""Cases (hồ sơ): creation, lookup by receipt code, and the rules of their status.

The status rules are ONE table, `RULES`: for every status its label, the statuses it may move to, what it needs
(a new appointment date, a reason, the missing documents) and whether it closes the case. ONE function,
`check_change`, checks a change against it and returns structured `Problem`s naming a logical field (`status`,
`new_date`, `note`, `missing`), so every edge words them for its own reader: the import names its columns, the
command line its options, the API its JSON fields, and `describe_vi` says it in Vietnamese. `change_status` applies a
change after that one check and writes the history row in the caller's transaction; `STATUSES`, `TRANSITIONS` and
`CLOSED` are views of the table for the modules that only need a label or a set.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.privacy.hashing import phone_hmac, phone_last4
from bot.storage.models import Case, CaseEvent, utcnow
from knowledge.codes import display_code, normalize_code
from knowledge.text import fold

ProblemCode = Literal["unknown_status", "not_allowed", "required"]


@dataclass(frozen=True)
class Requirement:
    """Something a status cannot go without: `field` must be given, or one of `or_fields`."""

    field: str
    what: str  # English, for staff: "the new appointment date"
    what_vi: str  # Vietnamese
    or_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusRule:
    label: str  # what a citizen reads
    allowed_next: frozenset[str]
    requires: tuple[Requirement, ...] = ()
    closed: bool = False  # nothing happens to the case after this


_NEW_DATE = Requirement("new_date", "the new appointment date", "ngày hẹn trả mới")
_REASON = Requirement("note", "a note giving the reason", "lý do")
_MISSING = Requirement(
    "missing", "the missing documents", "danh sách giấy tờ cần bổ sung (hoặc ghi chú)", or_fields=("note",)
)

RULES: dict[str, StatusRule] = {
    "received": StatusRule(
        "Đã tiếp nhận",
        frozenset({"in_progress", "need_supplement", "ready_for_pickup", "overdue", "rejected", "withdrawn"}),
    ),
    "in_progress": StatusRule(
        "Đang giải quyết", frozenset({"need_supplement", "ready_for_pickup", "overdue", "rejected", "withdrawn"})
    ),
    "need_supplement": StatusRule(
        "Cần bổ sung hồ sơ", frozenset({"in_progress", "overdue", "rejected", "withdrawn"}), requires=(_MISSING,)
    ),
    "ready_for_pickup": StatusRule("Đã có kết quả, chờ nhận", frozenset({"returned"})),
    "returned": StatusRule("Đã trả kết quả", frozenset(), closed=True),
    # overdue -> overdue sets yet another new date, and tells the followers so
    "overdue": StatusRule(
        "Quá hạn, đã hẹn lại ngày trả",
        frozenset({"in_progress", "need_supplement", "ready_for_pickup", "overdue", "rejected", "withdrawn"}),
        requires=(_NEW_DATE,),
    ),
    "rejected": StatusRule("Từ chối giải quyết", frozenset(), requires=(_REASON,), closed=True),
    "withdrawn": StatusRule("Đã rút hồ sơ", frozenset(), closed=True),
}

STATUSES: dict[str, str] = {name: rule.label for name, rule in RULES.items()}
TRANSITIONS: dict[str, set[str]] = {name: set(rule.allowed_next) for name, rule in RULES.items()}
CLOSED: set[str] = {name for name, rule in RULES.items() if rule.closed}
# how a requirement's other fields read when an edge does not name them itself
FIELD_NOUNS = {
    "status": "the status",
    "new_date": "the new appointment date",
    "note": "a note",
    "missing": "the missing documents",
}


@dataclass(frozen=True)
class Problem:
    """Why a status change is refused: `field` is the logical field at fault, `code` what is wrong with it."""

    field: str
    code: ProblemCode
    status: str  # the status asked for
    current: str | None = None  # the case's status, for `not_allowed`

    @property
    def requirement(self) -> Requirement | None:
        rule = RULES.get(self.status)
        return next((r for r in rule.requires if r.field == self.field), None) if rule else None

    @property
    def allowed(self) -> list[str]:
        return sorted(RULES[self.current].allowed_next) if self.current in RULES else []


class CaseError(ValueError):
    """A case operation was refused; the message says why in Vietnamese, `problems` in structure."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class CaseNotFound(LookupError):
    """No case has this receipt code (`malformed`: the text is not a receipt code at all)."""

    def __init__(self, code: str, *, malformed: bool) -> None:
        super().__init__(f"no case with code {code!r}")
        self.code = code
        self.malformed = malformed


def check_change(
    current: str | None,
    status: str,
    *,
    note: str | None = None,
    new_date: dt.date | None = None,
    missing: list[str] | None = None,
) -> list[Problem]:
    """Every reason the table refuses moving a case from `current` to `status` with these details, worst first;
    empty when the change is allowed. `current` None: a case being created, which may reach any status."""
    rule = RULES.get(status)
    if rule is None:
        return [Problem("status", "unknown_status", status, current)]
    problems = []
    if current is not None and status not in RULES[current].allowed_next:
        problems.append(Problem("status", "not_allowed", status, current))
    given = {"note": bool(note), "new_date": new_date is not None, "missing": bool(missing)}
    for need in rule.requires:
        if not any(given[f] for f in (need.field, *need.or_fields)):
            problems.append(Problem(need.field, "required", status, current))
    return problems


def describe(problem: Problem, names: Mapping[str, str] | None = None) -> str:
    """The problem in English for staff; `names` maps a logical field to what the edge calls it (a column, an
    option) where the message refers to another field than the one it is reported on."""
    if problem.code == "unknown_status":
        return f"{problem.status!r} is not a status; use one of: {', '.join(RULES)}"
    if problem.code == "not_allowed":
        allowed = ", ".join(problem.allowed) or "none (the case is closed)"
        return (
            f"a case in status {problem.current} cannot move to {problem.status}; "
            f"allowed from {problem.current}: {allowed}"
        )
    need = problem.requirement
    what = need.what if need else FIELD_NOUNS.get(problem.field, problem.field)
    others = [(names or FIELD_NOUNS).get(f, f) for f in (need.or_fields if need else ())]
    return f"status {problem.status} needs {what}" + (f" (or {' or '.join(others)})" if others else "")


def describe_vi(problem: Problem) -> str:
    """The problem in Vietnamese (the core's own wording, also the API's `message_vi`)."""
    if problem.code == "unknown_status":
        return f"trạng thái không hợp lệ: {problem.status!r}; dùng một trong: {', '.join(RULES)}"
    if problem.code == "not_allowed":
        allowed = ", ".join(problem.allowed) or "không có (hồ sơ đã kết thúc)"
        return f"không thể chuyển từ {problem.current} sang {problem.status}; được phép: {allowed}"
    need = problem.requirement
    return f"trạng thái {problem.status} cần {need.what_vi if need else problem.field}"


_SPACES = re.compile(r"\s+")
_STATUS_NAMES = {**{name: name for name in RULES}, **{fold(rule.label): name for name, rule in RULES.items()}}


def parse_status(text: str) -> str | None:
    """A status from its name or its Vietnamese label, however typed ('Đang giải quyết', 'in-progress');
    None when it is neither."""
    folded = _SPACES.sub(" ", fold(text)).strip()
    return _STATUS_NAMES.get(folded.replace(" ", "_").replace("-", "_")) or _STATUS_NAMES.get(folded)


@dataclass(frozen=True)
class NewCase:
    """A case as entered at the one-stop shop (the appointment slip), before it is stored."""

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


async def get_case(session: AsyncSession, code: str, *, lock: bool = False) -> Case | None:
    """The case with this receipt code in any spelling; `lock` holds it (FOR UPDATE on PostgreSQL) until the
    transaction ends, so nobody changes it between a check and a write."""
    key = normalize_code(code)
    if key is None:
        return None
    stmt = select(Case).where(Case.code == key)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def create_case(*, session: AsyncSession, new: NewCase, secret: str, source: str = "system") -> Case:
    """Store a new case in `received` with its first history row; the phone only as an HMAC and its last 4 digits.
    The case is flushed, so a duplicate code fails here (IntegrityError) rather than at commit."""
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
    assert case.id is not None  # the flush gave it one
    session.add(CaseEvent(case_id=case.id, status="received", source=source, at=new.received_at))
    return case


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
    """Move `case` to `status` when the table allows it (else CaseError, and nothing changed), with its history row."""
    problems = check_change(case.status, status, note=note, new_date=new_date, missing=missing)
    if problems:
        raise CaseError(describe_vi(problems[0]), tuple(problems))
    assert case.id is not None  # a stored case
    now = at or utcnow()
    case.status = status
    case.status_note = note
    if new_date:
        case.new_appointment_date = new_date
    if missing is not None:
        case.missing_documents = list(missing)
    case.updated_at = now
    if RULES[status].closed:
        case.closed_at = now
    session.add(case)
    event = CaseEvent(case_id=case.id, status=status, note=note, source=source, at=now)
    session.add(event)
    await session.flush()
    return event


async def history(session: AsyncSession, case: Case) -> list[CaseEvent]:
    """The case's status history, oldest first (by id when two changes share a time)."""
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.at), col(CaseEvent.id))
    return list((await session.exec(stmt)).all())
