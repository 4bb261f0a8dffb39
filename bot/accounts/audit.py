"""The audit log: every change made in the console (and by `tthc-bot staff`) with who made it, when, what, and the
values before and after. Written in the transaction of the change, so a change is never without its entry.

Values are stored as JSON: dates and times as ISO text. Passwords and tokens are never written here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import AuditEntry, utcnow

CLI = "cli"  # the actor of changes made with `tthc-bot staff`

ACTIONS: dict[str, str] = {
    "case.status": "Đổi trạng thái hồ sơ",
    "case.import": "Nhập hồ sơ từ tệp",
    "feedback.assign": "Phân công góp ý",
    "feedback.state": "Đổi tình trạng góp ý",
    "feedback.reply": "Trả lời góp ý",
    "account.add": "Thêm tài khoản",
    "account.disable": "Khóa tài khoản",
    "account.enable": "Mở lại tài khoản",
    "account.role": "Đổi vai trò",
    "account.password": "Đặt lại mật khẩu",
    "apikey.create": "Tạo khóa API",
    "apikey.revoke": "Thu hồi khóa API",
}


@dataclass(frozen=True)
class Actor:
    """Who makes a change: an account (id and username) or the command line, from an address."""

    name: str
    id: int | None = None
    address: str | None = None


def _plain(value: Any) -> Any:
    """A value as JSON can hold it."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id,
        actor=actor.name[:60],
        action=action,
        target=target[:200],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        address=actor.address[:64] if actor.address else None,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    session: AsyncSession,
    *,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AuditEntry]]:
    """The total and one page of entries, newest first, optionally of one action or one actor."""
    where = []
    if action:
        where.append(col(AuditEntry.action) == action)
    if actor:
        where.append(col(AuditEntry.actor) == actor)
    total = (await session.exec(select(func.count()).select_from(AuditEntry).where(*where))).one()
    stmt = select(AuditEntry).where(*where).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    rows = (await session.exec(stmt.offset(offset).limit(limit))).all()
    return total, list(rows)
