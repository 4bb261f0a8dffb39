"""Feedback (góp ý, phản ánh) sent through the bot: listing, and staff's answers, which the citizen reads with
`/gopy <tracking no>` in the bot (no message is pushed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlmodel import col, func, select

from api.deps import Limit, Offset, Reader, SessionDep, Writer
from api.errors import ApiError, field_error, nothing_to_update, responses
from api.schemas import FeedbackCategory, FeedbackPage, FeedbackPublic, FeedbackRef, FeedbackState, FeedbackUpdate
from api.views import feedback_public, feedback_written
from bot.feedback.tickets import tracking_code
from bot.storage.models import Feedback

router = APIRouter(prefix="/feedback", tags=["feedback"])


@router.get("", response_model=FeedbackPage, summary="List feedback", responses=responses(401, 403, 422, 429))
async def list_feedback(
    principal: Reader,
    session: SessionDep,
    status: Annotated[FeedbackState | None, Query()] = None,
    category: Annotated[FeedbackCategory | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> FeedbackPage:
    """Feedback sent through the bot, newest first, optionally by status and category. Phone
    numbers and e-mail addresses in the text and in staff's reply are masked and chat ids left out
    unless the key has `pii`. Needs `read`."""
    where = []
    if status:
        where.append(col(Feedback.status) == status)
    if category:
        where.append(col(Feedback.category) == category)
    total = (await session.exec(select(func.count()).select_from(Feedback).where(*where))).one()
    stmt = select(Feedback).where(*where).order_by(col(Feedback.created_at).desc(), col(Feedback.id).desc())
    rows = (await session.exec(stmt.offset(offset).limit(limit))).all()
    items = [feedback_public(f, pii=principal.pii) for f in rows]
    return FeedbackPage(total=total, limit=limit, offset=offset, items=items)


@router.patch(
    "/{tracking_no}",
    response_model=FeedbackPublic | FeedbackRef,
    summary="Answer feedback",
    responses=responses(401, 403, 404, 413, 422, 429),
)
async def answer_feedback(
    tracking_no: Annotated[str, Path(max_length=40, description="e.g. GY-1A2B3C")],
    body: FeedbackUpdate,
    principal: Writer,
    session: SessionDep,
) -> FeedbackPublic | FeedbackRef:
    """Set a feedback's status and/or reply; a reply without a status marks it `answered`. The
    citizen reads the reply with `/gopy <tracking no>` in the bot. Needs `write`; the feedback
    comes back in full with `read`, else only its tracking number and status."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise nothing_to_update("Nothing to update: give a status or a reply.")
    if changes.get("status", "x") is None:
        raise field_error("status", "cannot be null")
    stmt = select(Feedback).where(Feedback.tracking_no == tracking_code(tracking_no)).with_for_update()
    fb = (await session.exec(stmt)).first()
    if fb is None:  # the client's text is not echoed back
        raise ApiError(
            404, "feedback_not_found", "No feedback with this tracking number.", message_vi="Không có góp ý số này."
        )
    if "reply" in changes:
        fb.reply = changes["reply"]
    if "status" in changes:
        fb.status = changes["status"]
    elif changes.get("reply") and fb.status in {"received", "processing"}:
        fb.status = "answered"
    session.add(fb)
    await session.flush()
    return feedback_written(fb, read=principal.read, pii=principal.pii)
