"""Chats following cases. A chat may follow a case only after proving ownership (see verification)."""

from __future__ import annotations

from sqlalchemy import true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.notify.compose import on_follow
from bot.settings import Settings
from bot.storage.models import Case, Subscription, utcnow
from knowledge.loader import KnowledgeBase


async def follow(session: AsyncSession, *, chat_id: int, case: Case, kb: KnowledgeBase, settings: Settings) -> bool:
    """Follow `case`; False when the chat already followed it (nothing is queued again)."""
    if case.id is None:
        raise ValueError("only a stored case can be followed")
    sub = (
        await session.exec(
            select(Subscription).where(col(Subscription.chat_id) == chat_id, col(Subscription.case_id) == case.id)
        )
    ).first()
    if sub is not None and sub.active:
        return False
    if sub is None:
        sub = Subscription(chat_id=chat_id, case_id=case.id)
    sub.active = True
    session.add(sub)
    await session.flush()
    await on_follow(session, case, chat_id, kb, settings, now=utcnow())
    return True


async def followed(session: AsyncSession, chat_id: int) -> list[Case]:
    """The cases this chat follows, the most recently received first (/hosocuatoi)."""
    stmt = (
        select(Case)
        .join(Subscription, col(Subscription.case_id) == col(Case.id))
        .where(col(Subscription.chat_id) == chat_id, col(Subscription.active) == true())
        .order_by(col(Case.received_at).desc())
    )
    return list((await session.exec(stmt)).all())


async def unfollow(session: AsyncSession, *, chat_id: int, case_id: int | None = None) -> int:
    """Stop following one case, or all when `case_id` is None; returns how many follows ended."""
    stmt = select(Subscription).where(col(Subscription.chat_id) == chat_id, col(Subscription.active) == true())
    if case_id is not None:
        stmt = stmt.where(col(Subscription.case_id) == case_id)
    subs = list((await session.exec(stmt)).all())
    for sub in subs:
        sub.active = False
        session.add(sub)
    return len(subs)
