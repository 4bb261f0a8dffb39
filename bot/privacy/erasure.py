"""`/xoadulieu`: a citizen erases what the bot keeps about their chat.

Follows, checklists and the chat state are deleted, feedback is unlinked from the chat (the text stays for the
agency, without the chat id), and every notification of the chat is deleted: those not sent yet and those sent,
failed or cancelled, which hold the chat id, the case and the text with its receipt code. Only a message the
dispatcher is sending at this very moment (claimed, its lease running) is left to it: it is already on its way,
and the dispatcher writes its outcome by row id; the row is deleted with the other old ones by the retention purge
(RETENTION_OUTBOX_DAYS).

Deleting a notification never lets it be queued again (bot/notify/compose.py): a status message is keyed by its
case event, which is queued once, in the transaction that creates the event; the survey by case and chat, and a
case is returned (closed) only once; a reminder by the appointment day, and a reminder whose time has passed is
never queued; and with the chat's follows gone, no event of its cases reaches it any more. So no tombstone is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import ChatState, Checklist, Feedback, Outbox, Subscription, utcnow


@dataclass(frozen=True)
class Erased:
    follows: int
    checklists: int
    feedback_links: int
    pending_messages: int  # notifications not sent yet, deleted
    sent_messages: int = 0  # notifications sent, failed, dropped or cancelled, deleted


async def erase_chat(session: AsyncSession, chat_id: int) -> Erased:
    async def n(stmt: Any) -> int:
        result: Any = await session.exec(stmt)  # a DELETE or UPDATE: a cursor result, whose rowcount is what changed
        return result.rowcount or 0

    chat, status, lease = col(Outbox.chat_id) == chat_id, col(Outbox.status), col(Outbox.lease_until)
    # not sent yet: pending, or claimed by a process that stopped before its lease ran out (it would be sent again)
    unsent = or_(status == "pending", (status == "sending") & or_(lease.is_(None), lease < utcnow()))
    result = Erased(
        follows=await n(delete(Subscription).where(col(Subscription.chat_id) == chat_id)),
        checklists=await n(delete(Checklist).where(col(Checklist.chat_id) == chat_id)),
        feedback_links=await n(update(Feedback).where(col(Feedback.chat_id) == chat_id).values(chat_id=None)),
        pending_messages=await n(delete(Outbox).where(chat, unsent)),
        sent_messages=await n(delete(Outbox).where(chat, status.not_in(["pending", "sending"]))),
    )
    await session.exec(delete(ChatState).where(col(ChatState.chat_id) == chat_id))
    return result
