"""The login lockout: after LIMIT failed logins within WINDOW, the account and the address both wait.

Counted in the database (`loginattempt`), so several processes and a restart share the count. The account counts
its failures since its last successful login; the address counts all of its failures, whatever the usernames, so
one address cannot try many accounts. While either waits, no password is checked and the attempt is not counted
(waiting does not grow). The wait ends when fewer than LIMIT failures are left within the last WINDOW, i.e. WINDOW
after the oldest of the last LIMIT failures; one more failure then starts it again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, delete, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import LoginAttempt

LIMIT = 5
WINDOW = dt.timedelta(minutes=15)
KEEP = dt.timedelta(days=1)


def username_key(username: str) -> str:
    """A username as attempts are counted: trimmed, lowercase, at most 100 characters."""
    return username.strip().lower()[:100]


async def _until(session: AsyncSession, where: list[ColumnElement[bool]], now: dt.datetime) -> dt.datetime | None:
    stmt = (
        select(LoginAttempt.at)
        .where(*where, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) > now - WINDOW)
        .order_by(col(LoginAttempt.at).desc())
        .limit(LIMIT)
    )
    failures = list((await session.exec(stmt)).all())
    if len(failures) < LIMIT:
        return None
    return failures[-1] + WINDOW


async def locked_until(session: AsyncSession, username: str, address: str, now: dt.datetime) -> dt.datetime | None:
    """When the account or the address may try again, or None when both may now."""
    key = username_key(username)
    last_success = (
        await session.exec(
            select(LoginAttempt.at)
            .where(col(LoginAttempt.username) == key, col(LoginAttempt.success) == true())
            .order_by(col(LoginAttempt.at).desc())
            .limit(1)
        )
    ).first()
    account_where = [col(LoginAttempt.username) == key]
    if last_success is not None:
        account_where.append(col(LoginAttempt.at) > last_success)
    waits = [
        w
        for w in (
            await _until(session, account_where, now),
            await _until(session, [col(LoginAttempt.address) == address[:64]], now),
        )
        if w is not None
    ]
    return max(waits) if waits else None


async def note(session: AsyncSession, username: str, address: str, *, success: bool, now: dt.datetime) -> None:
    """Count one attempt; attempts older than a day are removed on the way (they count for nothing any more)."""
    await session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - KEEP))
    session.add(LoginAttempt(username=username_key(username), address=address[:64], success=success, at=now))
    await session.flush()
