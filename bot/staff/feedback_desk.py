"""The feedback inbox of the console: tickets sent with /gopy, who answers them, their state, and the reply.

A reply is stored on the ticket (the citizen reads it with `/gopy <số>`) and pushed to the citizen's chat through
the outbox, in the same transaction, with a dedupe key of the ticket and the reply's text: submitting the same reply
twice queues one message, a corrected reply queues another. A ticket whose chat was erased (/xoadulieu) keeps its
reply for a lookup by tracking number, and nothing is pushed. Every change is written to the audit log.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import audit
from bot.feedback.tickets import STATES, tracking_code
from bot.notify import outbox
from bot.storage.models import Feedback, FeedbackAssignment, StaffAccount, utcnow

# The stored states as the console names them (the citizen reads STATES' own labels in the bot).
STATE_LABELS = {"received": "Mới", "processing": "Đang xử lý", "answered": "Đã trả lời", "closed": "Đã đóng"}
MAX_REPLY = 2000
REPLY_KIND = "feedback_reply"


class DeskError(ValueError):
    """A change refused; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class Ticket:
    feedback: Feedback
    assignee: str | None  # the username of the staff member answering it


async def find(session: AsyncSession, tracking_no: str, *, lock: bool = False) -> Ticket | None:
    stmt = (
        select(Feedback, StaffAccount.username)
        .outerjoin(FeedbackAssignment, col(FeedbackAssignment.feedback_id) == col(Feedback.id))
        .outerjoin(StaffAccount, col(StaffAccount.id) == col(FeedbackAssignment.staff_id))
        .where(col(Feedback.tracking_no) == tracking_code(tracking_no))
    )
    if lock:
        stmt = stmt.with_for_update(of=Feedback)
    row = (await session.exec(stmt)).first()
    return Ticket(row[0], row[1]) if row else None


async def inbox(
    session: AsyncSession,
    *,
    state: str | None = None,
    assignee_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[int, list[Ticket]]:
    """The total and one page of tickets, newest first, optionally in one state or assigned to one account."""
    where = []
    if state:
        where.append(col(Feedback.status) == state)
    if assignee_id is not None:
        where.append(col(FeedbackAssignment.staff_id) == assignee_id)
    joined = select(Feedback, StaffAccount.username).outerjoin(
        FeedbackAssignment, col(FeedbackAssignment.feedback_id) == col(Feedback.id)
    )
    count = (
        select(func.count())
        .select_from(Feedback)
        .outerjoin(FeedbackAssignment, col(FeedbackAssignment.feedback_id) == col(Feedback.id))
    )
    total = (await session.exec(count.where(*where))).one()
    stmt = (
        joined.outerjoin(StaffAccount, col(StaffAccount.id) == col(FeedbackAssignment.staff_id))
        .where(*where)
        .order_by(col(Feedback.created_at).desc(), col(Feedback.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return total, [Ticket(fb, name) for fb, name in (await session.exec(stmt)).all()]


async def assign(session: AsyncSession, ticket: Ticket, staff: StaffAccount | None, *, by: audit.Actor) -> None:
    """Give the ticket to `staff` (None: to nobody); a new ticket goes to "processing" once someone has it."""
    fb = ticket.feedback
    assert fb.id is not None
    new = staff.username if staff else None
    if staff is not None and not staff.active:
        raise DeskError(f"tài khoản {staff.username} đã bị khóa")
    if new == ticket.assignee:
        return
    await session.exec(delete(FeedbackAssignment).where(col(FeedbackAssignment.feedback_id) == fb.id))
    if staff is not None:
        assert staff.id is not None
        session.add(FeedbackAssignment(feedback_id=fb.id, staff_id=staff.id, assigned_at=utcnow()))
    before_state = fb.status
    if staff is not None and fb.status == "received":
        fb.status = "processing"
        session.add(fb)
    await session.flush()
    await audit.record(
        session,
        by,
        "feedback.assign",
        f"feedback:{fb.tracking_no}",
        before={"assignee": ticket.assignee, "status": before_state},
        after={"assignee": new, "status": fb.status},
    )


async def set_state(session: AsyncSession, ticket: Ticket, state: str, *, by: audit.Actor) -> None:
    if state not in STATES:
        raise DeskError(f"tình trạng không hợp lệ: {state!r}")
    fb = ticket.feedback
    if fb.status == state:
        return
    before = fb.status
    fb.status = state
    session.add(fb)
    await session.flush()
    await audit.record(
        session, by, "feedback.state", f"feedback:{fb.tracking_no}", before={"status": before}, after={"status": state}
    )


def reply_text(tracking_no: str, reply: str) -> str:
    """The message the citizen receives (HTML, as every bot message)."""
    no = html.escape(tracking_no)
    return (
        f"✉️ <b>Trả lời góp ý {no}</b>\n{html.escape(reply)}\n\n"
        f"Anh/Chị có thể xem lại câu trả lời này bất cứ lúc nào bằng lệnh /gopy {no} ạ."
    )


async def reply(session: AsyncSession, ticket: Ticket, text: str, *, by: audit.Actor) -> bool:
    """Store the reply, mark the ticket answered and queue the message to the citizen's chat; returns whether a
    message was queued (False: the chat was erased, or the same reply was sent before)."""
    answer = text.strip()
    if not answer:
        raise DeskError("câu trả lời đang để trống")
    if len(answer) > MAX_REPLY:
        raise DeskError(f"câu trả lời dài quá {MAX_REPLY:,} ký tự".replace(",", "."))
    fb = ticket.feedback
    before = {"reply": fb.reply, "status": fb.status}
    fb.reply, fb.status = answer, "answered"
    session.add(fb)
    queued = False
    if fb.chat_id is not None:
        digest = hashlib.sha256(answer.encode()).hexdigest()[:16]
        queued = await outbox.enqueue(
            session,
            dedupe_key=f"feedback:{fb.id}:reply:{digest}",
            chat_id=fb.chat_id,
            kind=REPLY_KIND,
            payload={"text": reply_text(fb.tracking_no, answer)},
        )
    await session.flush()
    after = {"reply": answer, "status": fb.status, "message_queued": queued}
    await audit.record(session, by, "feedback.reply", f"feedback:{fb.tracking_no}", before=before, after=after)
    return queued
