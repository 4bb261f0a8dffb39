"""Per-chat state (what the bot is waiting for, verified cases) and document checklists, in the database
so that they survive restarts and are shared by several bot processes."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import ChatState, Checklist, utcnow


async def load(session: AsyncSession, chat_id: int) -> dict[str, Any]:
    row = await session.get(ChatState, chat_id)
    return dict(row.state) if row else {}


async def save(session: AsyncSession, chat_id: int, state: dict[str, Any]) -> None:
    row = await session.get(ChatState, chat_id)
    if row is None:
        session.add(ChatState(chat_id=chat_id, state=state))
    else:
        row.state = state
        row.updated_at = utcnow()
        session.add(row)


async def checklist(session: AsyncSession, chat_id: int, procedure_id: str) -> set[int]:
    row = await session.get(Checklist, (chat_id, procedure_id))
    return set(row.checked) if row else set()


async def toggle(session: AsyncSession, chat_id: int, procedure_id: str, item: int) -> set[int]:
    row = await session.get(Checklist, (chat_id, procedure_id))
    if row is None:
        row = Checklist(chat_id=chat_id, procedure_id=procedure_id, checked=[])
    checked = set(row.checked) ^ {item}
    row.checked = sorted(checked)
    row.updated_at = utcnow()
    session.add(row)
    return checked
