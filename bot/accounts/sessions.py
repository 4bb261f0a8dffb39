"""Console sessions, kept on the server: the cookie holds a random token, the `staffsession` row its SHA-256, the
account and the session's CSRF token.

Server-side rows rather than signed cookies, because a session must end when the server says so: at sign-out, when
an admin disables the account (every session of it ends at once), after IDLE without a request and after LIFETIME
in any case. A signed cookie stays valid until it expires, whatever happens on the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import StaffAccount, StaffSession

LIFETIME = dt.timedelta(hours=10)  # a working day, with its overtime
IDLE = dt.timedelta(hours=1)
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often
MAX_TOKEN = 100


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Current:
    """A valid session and its (active) account."""

    session: StaffSession
    account: StaffAccount

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    def csrf_ok(self, given: str | None) -> bool:
        """Whether a form carried this session's CSRF token (compared in constant time)."""
        return bool(given) and hmac.compare_digest(self.session.csrf_token.encode(), (given or "").encode())


async def start(session: AsyncSession, account: StaffAccount, *, now: dt.datetime) -> str:
    """A new session for `account`; returns the token for the cookie (not stored). Expired sessions are removed."""
    assert account.id is not None, "a stored account"
    await session.exec(delete(StaffSession).where(col(StaffSession.expires_at) < now))
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=_digest(token),
        staff_id=account.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(row)
    await session.flush()
    return token


async def resume(session: AsyncSession, token: str | None, *, now: dt.datetime) -> Current | None:
    """The session of a cookie's token, when it exists, has not expired or idled out, and its account is active."""
    if not token or len(token) > MAX_TOKEN:
        return None
    stmt = (
        select(StaffSession, StaffAccount)
        .join(StaffAccount, col(StaffAccount.id) == col(StaffSession.staff_id))
        .where(col(StaffSession.token_hash) == _digest(token))
    )
    found = (await session.exec(stmt)).first()
    if found is None:
        return None
    row, account = found
    if row.expires_at <= now or row.last_seen_at + IDLE <= now or not account.active:
        await session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return Current(row, account)


async def end(session: AsyncSession, token: str | None) -> None:
    """Sign out: the session's row is deleted (nothing happens for an unknown token)."""
    if token and len(token) <= MAX_TOKEN:
        await session.exec(delete(StaffSession).where(col(StaffSession.token_hash) == _digest(token)))


async def end_all(session: AsyncSession, staff_id: int) -> None:
    """Every session of an account ends (it was disabled)."""
    await session.exec(delete(StaffSession).where(col(StaffSession.staff_id) == staff_id))
