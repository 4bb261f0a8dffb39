"""Staff accounts: add, list, disable and enable, change a role or a password, and sign in with the lockout.

Usernames are lowercase letters, digits, '.', '_' and '-' (3–50), compared after folding to lowercase. Accounts are
disabled, never deleted: the audit log and feedback assignments keep naming them. Every change is written to the
audit log by the function that makes it, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import audit, passwords, sessions, throttle
from bot.accounts.roles import ROLES, check_role
from bot.storage.models import StaffAccount, utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,49}$")


class AccountError(ValueError):
    """An account operation was refused; the message says why, in Vietnamese."""


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError(
            f"tên đăng nhập {username!r} không hợp lệ: dùng 3–50 chữ cái không dấu, chữ số, '.', '_' hoặc '-'"
        )
    return name


async def find(session: AsyncSession, username: str) -> StaffAccount | None:
    key = username.strip().lower()
    return (await session.exec(select(StaffAccount).where(col(StaffAccount.username) == key))).first()


async def get(session: AsyncSession, staff_id: int) -> StaffAccount | None:
    return await session.get(StaffAccount, staff_id)


async def list_accounts(session: AsyncSession, *, active_only: bool = False) -> list[StaffAccount]:
    stmt = select(StaffAccount).order_by(col(StaffAccount.username))
    if active_only:
        stmt = stmt.where(col(StaffAccount.active).is_(True))
    return list((await session.exec(stmt)).all())


async def _existing(session: AsyncSession, username: str) -> StaffAccount:
    account = await find(session, username)
    if account is None:
        raise AccountError(f"không có tài khoản {username!r}")
    return account


async def add(session: AsyncSession, username: str, role: str, password: str, *, by: audit.Actor) -> StaffAccount:
    """A new active account; AccountError for a bad or taken username, a bad role or a weak password."""
    name = check_username(username)
    try:
        check_role(role)
        passwords.check_policy(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    if await find(session, name) is not None:
        raise AccountError(f"tài khoản {name!r} đã có")
    account = StaffAccount(username=name, role=role, password_hash=passwords.hash_password(password))
    session.add(account)
    await session.flush()
    await audit.record(session, by, "account.add", f"account:{name}", after={"username": name, "role": role})
    return account


async def set_active(session: AsyncSession, username: str, active: bool, *, by: audit.Actor) -> StaffAccount:
    """Disable (every session of it ends at once) or enable an account; idempotent."""
    account = await _existing(session, username)
    if account.active != active:
        if not active and by.id is not None and by.id == account.id:
            raise AccountError("không thể tự khóa tài khoản của mình")
        before = account.active
        account.active, account.updated_at = active, utcnow()
        session.add(account)
        if not active:
            assert account.id is not None
            await sessions.end_all(session, account.id)
        action = "account.enable" if active else "account.disable"
        await audit.record(
            session, by, action, f"account:{account.username}", before={"active": before}, after={"active": active}
        )
    return account


async def set_role(session: AsyncSession, username: str, role: str, *, by: audit.Actor) -> StaffAccount:
    account = await _existing(session, username)
    try:
        check_role(role)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    if account.role != role:
        if by.id is not None and by.id == account.id:
            raise AccountError("không thể tự đổi vai trò của mình")
        before = account.role
        account.role, account.updated_at = role, utcnow()
        session.add(account)
        await audit.record(
            session, by, "account.role", f"account:{account.username}", before={"role": before}, after={"role": role}
        )
    return account


async def set_password(session: AsyncSession, username: str, password: str, *, by: audit.Actor) -> StaffAccount:
    """A new password (its hash only is stored; the audit log says that it changed, not what to)."""
    account = await _existing(session, username)
    try:
        passwords.check_policy(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    account.password_hash, account.updated_at = passwords.hash_password(password), utcnow()
    session.add(account)
    assert account.id is not None
    await sessions.end_all(session, account.id)
    await audit.record(session, by, "account.password", f"account:{account.username}")
    return account


@dataclass(frozen=True)
class SignIn:
    """What a login attempt came to: `ok` with the account and the new session's token, `locked` until a time
    (no password was checked), or `refused` (unknown username, wrong password or disabled account: one answer)."""

    outcome: Literal["ok", "locked", "refused"]
    account: StaffAccount | None = None
    token: str | None = None
    until: dt.datetime | None = None


async def sign_in(
    session: AsyncSession, username: str, password: str, *, address: str, now: dt.datetime | None = None
) -> SignIn:
    """Check the lockout, then the password (in the same time for an unknown account), count the attempt, and on
    success start a session. The caller commits in every case, so that failures are counted."""
    now = now or utcnow()
    until = await throttle.locked_until(session, username, address, now)
    if until is not None:
        return SignIn("locked", until=until)
    account = await find(session, username) if username.strip() else None
    matches = passwords.verify(account.password_hash if account else None, password)
    ok = matches and account is not None and account.active and account.role in ROLES
    await throttle.note(session, username, address, success=ok, now=now)
    if not ok or account is None:
        return SignIn("refused")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.last_login_at = now
    session.add(account)
    return SignIn("ok", account=account, token=await sessions.start(session, account, now=now))
