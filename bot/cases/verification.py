"""Proof of case ownership, with attempt limits counted in the database.

"No such code" and "wrong digits" give the same answer and take the same path, so codes
cannot be enumerated; failures are limited per chat and per code across all chats.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import get_case
from bot.privacy.hashing import same_secret
from bot.storage.models import Case, VerificationAttempt, utcnow

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)


def _code_key(code: str) -> str:
    return hashlib.sha256(code.upper().encode()).hexdigest()[:32]


async def _failures(session: AsyncSession, scope: str, key: str, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    q = select(func.count(), func.min(VerificationAttempt.at)).where(
        VerificationAttempt.scope == scope,
        VerificationAttempt.key == key,
        col(VerificationAttempt.success).is_(False),
        VerificationAttempt.at >= now - WINDOW,
    )
    n, first = (await session.exec(q)).one()
    return n, first


async def blocked_until(
    session: AsyncSession, *, chat_id: int, code: str | None, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When this chat (or this code) may try again, or None when it may try now."""
    now = now or utcnow()
    keys = [("chat", str(chat_id))] + ([("code", _code_key(code))] if code else [])
    for scope, key in keys:
        n, first = await _failures(session, scope, key, now)
        if n >= MAX_FAILURES and first is not None:
            return first + WINDOW
    return None


async def verify(session: AsyncSession, *, chat_id: int, code: str, answer: str, verify_by: str) -> Case | None:
    """The case when `answer` proves ownership; None otherwise (and the failure is counted)."""
    case = await get_case(session, code)
    expected = None
    if case is not None:
        expected = (
            case.phone_last4 if verify_by == "phone_last4" else (str(case.birth_year) if case.birth_year else None)
        )
    ok = same_secret(answer.strip(), expected if expected is not None else "\x00" * 4)
    ok = ok and case is not None
    session.add(VerificationAttempt(scope="chat", key=str(chat_id), success=ok))
    session.add(VerificationAttempt(scope="code", key=_code_key(code), success=ok))
    return case if ok else None
