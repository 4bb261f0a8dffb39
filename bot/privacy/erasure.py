"""`/xoadulieu`: a citizen erases what the bot keeps about their chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import ChatState, Checklist, Feedback, Outbox, Subscription


@dataclass(frozen=True)
class Erased:
    follows: int
    checklists: int
    feedback_links: int
    pending_messages: int


async def erase_chat(session: AsyncSession, chat_id: int) -> Erased:
    async def n(stmt: Any) -> int:
        result: Any = await session.exec(stmt)  # a DELETE or UPDATE: a cursor result, whose rowcount is what changed
        return result.rowcount or 0

    result = Erased(
        follows=await n(delete(Subscription).where(col(Subscription.chat_id) == chat_id)),
        checklists=await n(delete(Checklist).where(col(Checklist.chat_id) == chat_id)),
        feedback_links=await n(update(Feedback).where(col(Feedback.chat_id) == chat_id).values(chat_id=None)),
        pending_messages=await n(
            update(Outbox)
            .where(col(Outbox.chat_id) == chat_id, col(Outbox.status) == "pending")
            .values(status="cancelled", payload={})
        ),
    )
    await session.exec(delete(ChatState).where(col(ChatState.chat_id) == chat_id))
    return result
