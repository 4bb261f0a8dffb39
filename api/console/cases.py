"""Cases: the list (search, filters, sort, pages), a case with its history, and the status change form.

A status change calls the core's `change_case_status`, exactly as `tthc-bot cases set-status` and the API do: the
case is locked, checked once against the rules table, changed, and its followers' messages queued in the outbox,
in this request's transaction, with the audit entry. The rules table's refusals are worded here for the form: each
problem is shown next to the field it is about.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from api.console.auth import Me, Officer, OfficerForm
from api.console.search import DUE_FILTERS, PER_PAGE, CaseQuery, due_of, is_late, procedures_in_use, search
from api.console.web import PREFIX, ConsoleRoute, Db, NotFound, redirect, render, services_of
from bot.accounts import audit
from bot.cases.rules import RULES, STATUSES, CaseError, CaseNotFound, Problem, get_case, history
from bot.notify.compose import followers
from bot.privacy.hashing import mask_name
from bot.replies.dates import DateError, to_date
from bot.services import Services
from bot.staff.status import change_case_status
from bot.storage.models import Case
from knowledge.codes import display_code, normalize_code

router = APIRouter(route_class=ConsoleRoute)
FORM_FIELDS = {"status": "status", "new_date": "new_date", "note": "note", "missing": "missing"}
FIELD_NAMES = {
    "status": "Trạng thái mới",
    "new_date": "Ngày hẹn trả mới",
    "note": "Ghi chú",
    "missing": "Giấy tờ cần bổ sung",
}


def today(services: Services) -> dt.date:
    return dt.datetime.now(services.settings.tz).date()


def procedure_name(services: Services, procedure_id: str) -> str:
    proc = services.kb.get(procedure_id)
    return proc.name if proc else procedure_id


def case_row(services: Services, case: Case, day: dt.date) -> dict[str, object]:
    """A case as lists show it: the applicant's name masked."""
    return {
        "code": case.display_code,
        "procedure": procedure_name(services, case.procedure_id),
        "name": mask_name(case.applicant_name),
        "received": case.received_at,
        "due": due_of(case),
        "status": case.status,
        "status_label": STATUSES.get(case.status, case.status),
        "late": is_late(case, day),
        "days_late": (day - due_of(case)).days if is_late(case, day) else 0,
    }


@router.get(f"{PREFIX}/cases", include_in_schema=False)
async def case_list(
    request: Request,
    me: Officer,
    db: Db,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[str, Query(max_length=30)] = "",
    procedure: Annotated[str, Query(max_length=100)] = "",
    due: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=20)] = "received",
    order: Annotated[str, Query(max_length=4)] = "desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    services = services_of(request)
    query = CaseQuery(q, status, procedure, due, sort, order, page)
    day = today(services)
    total, rows = await search(db, query, today=day)
    procedures = [(p, procedure_name(services, p)) for p in await procedures_in_use(db)]
    context = {
        "title": "Hồ sơ",
        "section": "cases",
        "query": query,
        "total": total,
        "pages": max(1, math.ceil(total / PER_PAGE)),
        "rows": [case_row(services, c, day) for c in rows],
        "statuses": STATUSES,
        "procedures": sorted(procedures, key=lambda p: p[1]),
        "due_filters": DUE_FILTERS,
    }
    return render(request, "cases.html", context)


async def _case(db: Db, code: str) -> Case:
    case = await get_case(db, code)
    if case is None:
        raise NotFound(f"Không có hồ sơ mã {code}.")
    return case


async def _case_page(
    request: Request,
    db: Db,
    case: Case,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    events = await history(db, case)
    nexts = sorted(RULES[case.status].allowed_next, key=list(RULES).index)
    needs = {s: [r.what_vi for r in RULES[s].requires] for s in nexts}
    context = {
        "title": f"Hồ sơ {case.display_code}",
        "section": "cases",
        "case": case,
        "procedure": procedure_name(services, case.procedure_id),
        "status_label": STATUSES.get(case.status, case.status),
        "due": due_of(case),
        "late": is_late(case, today(services)),
        "events": [(e, STATUSES.get(e.status, e.status)) for e in events],
        "followers": len(await followers(db, case)),
        "next_statuses": [(s, STATUSES[s]) for s in nexts],
        "needs": needs,
        "errors": errors or {},
        "values": values or {},
        "done": request.query_params.get("done"),
        "queued": request.query_params.get("queued", ""),
    }
    return render(request, "case.html", context, status=status)


@router.get(f"{PREFIX}/cases/{{code}}", include_in_schema=False)
async def case_page(request: Request, code: str, me: Officer, db: Db) -> Response:
    return await _case_page(request, db, await _case(db, code))


def _wording(problem: Problem) -> str:
    """A refusal of the rules table in the form's words (the rule itself is the table's)."""
    target = STATUSES.get(problem.status, problem.status)
    if problem.code == "unknown_status":
        return "Vui lòng chọn một trạng thái trong danh sách."
    if problem.code == "not_allowed":
        current = STATUSES.get(problem.current or "", problem.current or "")
        allowed = ", ".join(STATUSES[s] for s in problem.allowed) or "không có (hồ sơ đã kết thúc)"
        return f"Hồ sơ đang ở trạng thái «{current}», không chuyển sang «{target}» được. Được phép: {allowed}."
    need = problem.requirement
    return f"Trạng thái «{target}» cần {need.what_vi if need else FIELD_NAMES[problem.field].lower()}."


def _lines(text: str) -> list[str] | None:
    items = [i.strip() for part in text.splitlines() for i in part.split(";")]
    return [i for i in items if i] or None


@router.post(f"{PREFIX}/cases/{{code}}/status", include_in_schema=False)
async def change_status(
    request: Request,
    code: str,
    me: OfficerForm,
    db: Db,
    status: Annotated[str, Form(max_length=30)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    new_date: Annotated[str, Form(max_length=30)] = "",
    missing: Annotated[str, Form(max_length=9000)] = "",
) -> Response:
    services = services_of(request)
    values = {"status": status, "note": note, "new_date": new_date, "missing": missing}
    note_text = unicodedata.normalize("NFC", note).strip() or None
    day: dt.date | None = None
    if new_date.strip():
        try:
            day = to_date(new_date.strip())
        except DateError:
            message = "Ngày hẹn trả mới cần theo dạng ngày/tháng/năm, ví dụ 05/12/2026."
            return await _case_page(
                request, db, await _case(db, code), errors={"new_date": message}, values=values, status=422
            )
    missing_docs = _lines(unicodedata.normalize("NFC", missing))
    before = await get_case(db, code, lock=True)  # held until the change is written: the snapshot stays true
    if before is None:
        raise NotFound(f"Không có hồ sơ mã {code}.")
    snapshot = {"status": before.status, "note": before.status_note, "new_date": before.new_appointment_date}
    try:
        changed = await change_case_status(
            db,
            code,
            status=status,
            kb=services.kb,
            settings=services.settings,
            note=note_text,
            new_date=day,
            missing=missing_docs,
            source=me.source,
        )
    except CaseNotFound:
        raise NotFound(f"Không có hồ sơ mã {code}.") from None
    except CaseError as exc:
        errors: dict[str, str] = {}
        for problem in exc.problems:
            errors.setdefault(FORM_FIELDS[problem.field], _wording(problem))
        return await _case_page(request, db, await _case(db, code), errors=errors, values=values, status=422)
    after = {"status": changed.case.status, "note": note_text, "new_date": day, "missing": missing_docs}
    await _audit(db, me, changed.case, snapshot, after | {"messages_queued": changed.queued})
    key = normalize_code(changed.case.code) or changed.case.code
    return redirect(f"{PREFIX}/cases/{display_code(key)}?done=status&queued={changed.queued}")


async def _audit(db: Db, me: Me, case: Case, before: dict[str, Any], after: dict[str, Any]) -> None:
    await audit.record(db, me.actor, "case.status", f"case:{case.display_code}", before=before, after=after)
