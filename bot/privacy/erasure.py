"""`/xoadulieu`: a citizen erases what the bot keeps about their chat."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import ChatState, Checklist, Feedback, Outbox, Subscription


@dataclass(frozen=True)
class Erased:
    follows: int
    checklists: int
    feedback_links: int
    pending_messages: int


async def erase_chat(session: AsyncSession, chat_id: int) -> Erased:
    async def n(stmt) -> int:  # type: ignore[no-untyped-def]
        return (await session.exec(stmt)).rowcount or 0  # type: ignore[union-attr]

    result = Erased(
        follows=await n(delete(Subscription).where(Subscription.chat_id == chat_id)),
        checklists=await n(delete(Checklist).where(Checklist.chat_id == chat_id)),
        feedback_links=await n(update(Feedback).where(Feedback.chat_id == chat_id).values(chat_id=None)),
        pending_messages=await n(
            update(Outbox)
            .where(Outbox.chat_id == chat_id, Outbox.status == "pending")
            .values(status="cancelled", payload={})
        ),
    )
    await session.exec(delete(ChatState).where(ChatState.chat_id == chat_id))
    return result
