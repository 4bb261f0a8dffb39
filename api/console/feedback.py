"""The feedback inbox: tickets sent with /gopy, their state, who answers them, and the reply, which reaches the
citizen's chat through the outbox and shows under the tracking number in the bot (bot/staff/feedback_desk.py).

Texts are shown as staff without the `pii` scope read them in the API (the stored masked copy): phone numbers, long
digit runs and e-mail addresses masked, receipt codes kept.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from api.console.auth import Officer, OfficerForm
from api.console.web import PREFIX, ConsoleRoute, Db, NotFound, redirect, render
from bot.accounts import users
from bot.feedback.tickets import CATEGORIES
from bot.privacy.masking import mask_text
from bot.staff import feedback_desk as desk
from bot.storage.models import Feedback

router = APIRouter(route_class=ConsoleRoute)
PER_PAGE = 20


def shown_text(fb: Feedback) -> str:
    """The masked copy stored with the text (bot/privacy/masking.py), or the text masked now for an older row."""
    return fb.text_masked if fb.text_masked is not None else mask_text(fb.text)


@router.get(f"{PREFIX}/feedback", include_in_schema=False)
async def inbox(
    request: Request,
    me: Officer,
    db: Db,
    state: Annotated[str, Query(max_length=20)] = "",
    mine: Annotated[str, Query(max_length=3)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    state = state if state in desk.STATE_LABELS else ""
    total, tickets = await desk.inbox(
        db,
        state=state or None,
        assignee_id=me.id if mine == "1" else None,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    rows = [
        {
            "no": t.feedback.tracking_no,
            "at": t.feedback.created_at,
            "category": CATEGORIES.get(t.feedback.category, t.feedback.category),
            "state": desk.STATE_LABELS.get(t.feedback.status, t.feedback.status),
            "assignee": t.assignee,
            "excerpt": shown_text(t.feedback)[:120],
        }
        for t in tickets
    ]
    context = {
        "title": "Góp ý của người dân",
        "section": "feedback",
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / PER_PAGE)),
        "state": state,
        "mine": mine == "1",
        "states": desk.STATE_LABELS,
    }
    return render(request, "feedback_list.html", context)


async def _ticket(db: Db, tracking_no: str, *, lock: bool = False) -> desk.Ticket:
    ticket = await desk.find(db, tracking_no, lock=lock)
    if ticket is None:
        raise NotFound(f"Không có góp ý mã {tracking_no}.")
    return ticket


async def _page(
    request: Request,
    db: Db,
    ticket: desk.Ticket,
    *,
    error: str | None = None,
    reply: str | None = None,
    status: int = 200,
) -> Response:
    fb = ticket.feedback
    context = {
        "title": f"Góp ý {fb.tracking_no}",
        "section": "feedback",
        "fb": fb,
        "text": shown_text(fb),
        "category": CATEGORIES.get(fb.category, fb.category),
        "state_label": desk.STATE_LABELS.get(fb.status, fb.status),
        "assignee": ticket.assignee,
        "accounts": await users.list_accounts(db, active_only=True),
        "states": desk.STATE_LABELS,
        "error": error,
        "reply": fb.reply if reply is None else reply,
        "done": request.query_params.get("done"),
        "queued": request.query_params.get("queued") == "1",
    }
    return render(request, "feedback.html", context, status=status)


@router.get(f"{PREFIX}/feedback/{{tracking_no}}", include_in_schema=False)
async def ticket_page(request: Request, tracking_no: str, me: Officer, db: Db) -> Response:
    return await _page(request, db, await _ticket(db, tracking_no))


def _back(ticket: desk.Ticket, done: str, extra: str = "") -> Response:
    return redirect(f"{PREFIX}/feedback/{ticket.feedback.tracking_no}?done={done}{extra}")


@router.post(f"{PREFIX}/feedback/{{tracking_no}}/assign", include_in_schema=False)
async def assign(
    request: Request, tracking_no: str, me: OfficerForm, db: Db, assignee: Annotated[str, Form(max_length=60)] = ""
) -> Response:
    ticket = await _ticket(db, tracking_no, lock=True)
    staff = await users.find(db, assignee) if assignee else None
    if assignee and staff is None:
        return await _page(request, db, ticket, error="Không có tài khoản này.", status=422)
    try:
        await desk.assign(db, ticket, staff, by=me.actor)
    except desk.DeskError as exc:
        return await _page(request, db, ticket, error=f"Chưa phân công được: {exc}.", status=422)
    return _back(ticket, "assign")


@router.post(f"{PREFIX}/feedback/{{tracking_no}}/state", include_in_schema=False)
async def change_state(
    request: Request, tracking_no: str, me: OfficerForm, db: Db, state: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    ticket = await _ticket(db, tracking_no, lock=True)
    try:
        await desk.set_state(db, ticket, state, by=me.actor)
    except desk.DeskError as exc:
        return await _page(request, db, ticket, error=f"Chưa đổi được tình trạng: {exc}.", status=422)
    return _back(ticket, "state")


@router.post(f"{PREFIX}/feedback/{{tracking_no}}/reply", include_in_schema=False)
async def reply(
    request: Request, tracking_no: str, me: OfficerForm, db: Db, text: Annotated[str, Form(max_length=4000)] = ""
) -> Response:
    ticket = await _ticket(db, tracking_no, lock=True)
    try:
        queued = await desk.reply(db, ticket, text, by=me.actor)
    except desk.DeskError as exc:
        return await _page(request, db, ticket, error=f"Chưa gửi được: {exc}.", reply=text, status=422)
    return _back(ticket, "reply", f"&queued={int(queued)}")
