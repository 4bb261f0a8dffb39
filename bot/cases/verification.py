"""Proof of case ownership, with attempt limits counted in the database.

"No such code" and "wrong digits" give the same answer and take the same path, so codes cannot be enumerated;
failures are limited per chat and, escalating, per code across all chats: per 15 minutes, per day, per week, and
after `code_lock` failures since the last success the code is locked until staff unlock it (`unlock`: `tthc-bot
cases unlock CODE`, `POST /api/v1/cases/{code}/unlock`). The owner keeps a way in that strangers' failures cannot
close: the signed QR code on the appointment slip (`bot/cases/qr.py`), which needs no digits.

The limits are derived from one figure, TARGET: the chance an attacker may have of finding a code's answer before
the code locks, i.e. the expected number of right guesses in the `code_lock` failures allowed, `code_lock / values`.
Four phone digits have 10,000 values, a birth year about 100 plausible ones, so the same target gives a birth year
limits a hundred times tighter. The figures, and what they mean for a brute force, are in docs/security.md.

A code that collects failures from several chats or on several days, or locks, raises an alert for staff: a
WARNING in the log (no chat id, no code, no digits) and a `verificationalert` row (`open_alerts`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import get_case
from bot.privacy.hashing import same_secret
from bot.storage.models import Case, CodeGuard, VerificationAlert, VerificationAttempt, utcnow
from knowledge.codes import display_code, normalize_code

log = logging.getLogger("bot.verification")

TARGET = 0.03  # an attacker's chance of finding one code's answer before the code locks
VALUES = {"phone_last4": 10_000, "birth_year": 100}  # how many answers are plausible
WINDOW = dt.timedelta(minutes=15)
DAY = dt.timedelta(days=1)
WEEK_DAYS = 7
MAX_FAILURES = 5  # per chat per 15 minutes, whatever the method


@dataclass(frozen=True)
class Limits:
    values: int
    code_burst: int  # failures per code per 15 minutes, all chats together
    code_daily: int  # ... per 24 hours
    code_weekly: int  # ... over the last 7 days
    code_lock: int  # ... since the last success or staff unlock: then locked until staff unlock it
    chat_burst: int  # failures per chat per 15 minutes, all codes together
    chat_daily: int  # ... per 24 hours
    alert_chats: int  # distinct chats failing on a code within 7 days that alert staff
    alert_days: int  # distinct days with failures on a code within 7 days that alert staff


def derive(values: int, target: float = TARGET) -> Limits:
    """The limits for answers with `values` plausible values: `code_lock` = target x values (at least 3), spread so
    that a code cannot reach its lock in less than four weeks when it is large enough (weekly = lock / 4, daily =
    weekly / 5, at most 5 per 15 minutes), and a chat spends at most a fifteenth of a lock a day over all codes."""
    lock = max(3, round(values * target))
    weekly = max(2, lock // 4)
    daily = max(2, weekly // 5)
    return Limits(
        values=values,
        code_burst=min(MAX_FAILURES, daily),
        code_daily=daily,
        code_weekly=weekly,
        code_lock=lock,
        chat_burst=MAX_FAILURES,
        chat_daily=max(daily, lock // 15),
        alert_chats=min(3, weekly),
        alert_days=min(3, weekly),
    )


LIMITS = {method: derive(n) for method, n in VALUES.items()}


@dataclass(frozen=True)
class Block:
    """Why no attempt may be made now: `until` when it may, None when the code is locked until staff unlock it."""

    until: dt.datetime | None

    @property
    def locked(self) -> bool:
        return self.until is None


def code_key(code: str) -> str:
    """How attempts and guards name a code: a hash of its normalized form (any spelling gives the same key)."""
    return hashlib.sha256((normalize_code(code) or code.upper()).encode()).hexdigest()[:32]


def _chat_mark(chat_id: int) -> str:
    return hashlib.sha256(f"chat:{chat_id}".encode()).hexdigest()[:12]


def _recent(days: dict[str, int], now: dt.datetime) -> dict[str, int]:
    first = (now - dt.timedelta(days=WEEK_DAYS - 1)).date().isoformat()
    return {day: n for day, n in days.items() if day >= first}


async def _sliding(
    session: AsyncSession, scope: str, key: str, limit: int, window: dt.timedelta, now: dt.datetime
) -> dt.datetime | None:
    """When the failures of the last `window` drop below `limit` again, or None when they are below it now."""
    q = (
        select(VerificationAttempt.at)
        .where(
            VerificationAttempt.scope == scope,
            VerificationAttempt.key == key,
            col(VerificationAttempt.success).is_(False),
            VerificationAttempt.at >= now - window,
        )
        .order_by(col(VerificationAttempt.at))
    )
    times = list((await session.exec(q)).all())
    return times[len(times) - limit] + window if len(times) >= limit else None


def _weekly(guard: CodeGuard, limit: int, now: dt.datetime) -> dt.datetime | None:
    """When the failures of the last seven days drop below `limit`, or None when they are below it now."""
    days = _recent(guard.days or {}, now)
    total = sum(days.values())
    until = None
    for day in sorted(days):
        if total < limit:
            break
        total -= days[day]
        until = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC) + dt.timedelta(days=WEEK_DAYS)
    return until


async def _code_block(session: AsyncSession, guard: CodeGuard | None, limits: Limits, now: dt.datetime) -> Block | None:
    if guard is None:
        return None
    if guard.locked_at is not None:
        return Block(None)
    waits = [
        await _sliding(session, "code", guard.code_key, limits.code_burst, WINDOW, now),
        await _sliding(session, "code", guard.code_key, limits.code_daily, DAY, now),
        _weekly(guard, limits.code_weekly, now),
    ]
    later = max((w for w in waits if w is not None), default=None)
    return Block(later) if later is not None else None


async def _guard(session: AsyncSession, key: str, *, lock: bool = False) -> CodeGuard | None:
    stmt = select(CodeGuard).where(CodeGuard.code_key == key)
    return (await session.exec(stmt.with_for_update() if lock else stmt)).first()


async def block(
    session: AsyncSession,
    *,
    chat_id: int,
    code: str | None,
    verify_by: str = "phone_last4",
    now: dt.datetime | None = None,
) -> Block | None:
    """Whether this chat (or this code) may try now: None when it may, else when it may again (or never, until
    staff unlock the code)."""
    now = now or utcnow()
    limits = LIMITS[verify_by]
    waits = [
        await _sliding(session, "chat", str(chat_id), limits.chat_burst, WINDOW, now),
        await _sliding(session, "chat", str(chat_id), limits.chat_daily, DAY, now),
    ]
    if code:
        by_code = await _code_block(session, await _guard(session, code_key(code)), limits, now)
        if by_code is not None and by_code.locked:
            return by_code
        waits.append(by_code.until if by_code else None)
    later = max((w for w in waits if w is not None), default=None)
    return Block(later) if later is not None else None


async def verify(
    session: AsyncSession,
    *,
    chat_id: int,
    code: str,
    answer: str,
    verify_by: str,
    now: dt.datetime | None = None,
) -> Case | None:
    """The case when `answer` proves ownership; None otherwise (and the failure is counted). The code's limits are
    checked again with its guard row locked, so attempts made at the same moment from many chats cannot pass them."""
    now = now or utcnow()
    limits = LIMITS[verify_by]
    key = code_key(code)
    case = await get_case(session, code)
    guard = await _locked_guard(session, key, case)
    if guard.case_id is None and case is not None:  # the case was created after attempts on its code
        guard.case_id = case.id
    if await _code_block(session, guard, limits, now) is not None:
        return None  # never compared, so not counted
    expected = None
    if case is not None:
        expected = (
            case.phone_last4 if verify_by == "phone_last4" else (str(case.birth_year) if case.birth_year else None)
        )
    ok = same_secret(answer.strip(), expected if expected is not None else "\x00" * 4)
    ok = ok and case is not None
    session.add(VerificationAttempt(scope="chat", key=str(chat_id), success=ok, at=now))
    session.add(VerificationAttempt(scope="code", key=key, success=ok, at=now))
    if ok:
        guard.failures = 0
    else:
        _count_failure(guard, chat_id, limits, now)
        await _raise_alerts(session, guard, limits)
    guard.updated_at = now
    session.add(guard)
    return case if ok else None


async def _locked_guard(session: AsyncSession, key: str, case: Case | None) -> CodeGuard:
    """The code's guard row, created on its first attempt, locked until the transaction ends."""
    guard = await _guard(session, key, lock=True)
    if guard is None:
        try:
            async with session.begin_nested():
                session.add(CodeGuard(code_key=key, case_id=case.id if case else None))
        except IntegrityError:  # created meanwhile by another chat's attempt (same key): read it below
            pass
        guard = await _guard(session, key, lock=True)
    assert guard is not None  # created above, or by the attempt that raced it
    return guard


def _count_failure(guard: CodeGuard, chat_id: int, limits: Limits, now: dt.datetime) -> None:
    today = now.date().isoformat()
    days = _recent(guard.days or {}, now)
    guard.days = {**days, today: days.get(today, 0) + 1}  # new objects: JSON columns see assignments only
    guard.chats = {mark: day for mark, day in (guard.chats or {}).items() if day in days} | {_chat_mark(chat_id): today}
    guard.failures += 1
    if guard.failures >= limits.code_lock and guard.locked_at is None:
        guard.locked_at = now


async def _raise_alerts(session: AsyncSession, guard: CodeGuard, limits: Limits) -> None:
    """An alert for each reason newly met since the last unlock: several chats, several days, the lock."""
    chats, days = len(guard.chats or {}), len(guard.days or {})
    reasons = [
        reason
        for reason, met in (
            ("several_chats", chats >= limits.alert_chats),
            ("several_days", days >= limits.alert_days),
            ("locked", guard.locked_at is not None),
        )
        if met and reason not in (guard.alerted or [])
    ]
    if not reasons:
        return
    guard.alerted = [*(guard.alerted or []), *reasons]
    for reason in reasons:
        log.warning(
            "verification alert: %s on %s; %d failures since the last success or unlock, %d chats and %d days "
            "with failures in 7 days",
            reason,
            f"case id {guard.case_id}" if guard.case_id else "an unknown code",
            guard.failures,
            chats,
            days,
        )
        if guard.case_id is not None:  # staff can act on a case; unknown codes are in the log only
            session.add(
                VerificationAlert(
                    case_id=guard.case_id,
                    code_key=guard.code_key,
                    reason=reason,
                    failures=guard.failures,
                    chats=chats,
                    days=days,
                )
            )


@dataclass(frozen=True)
class Unlocked:
    code: str
    was_locked: bool
    failures_cleared: int
    alerts_resolved: int


async def unlock(session: AsyncSession, code: str, *, by: str, now: dt.datetime | None = None) -> Unlocked | None:
    """Staff lift a case's lock and forget the failures counted against its code (the owner may try the digits
    again at once), resolving its open alerts; None when there is no such case."""
    now = now or utcnow()
    case = await get_case(session, code)
    if case is None:
        return None
    key = code_key(case.code)
    guard = await _guard(session, key, lock=True)
    was_locked, cleared = (guard.locked_at is not None, guard.failures) if guard else (False, 0)
    if guard is not None:
        guard.failures, guard.locked_at, guard.days, guard.chats, guard.alerted = 0, None, {}, {}, []
        guard.updated_at = now
        session.add(guard)
    await session.exec(
        delete(VerificationAttempt).where(
            col(VerificationAttempt.scope) == "code",
            col(VerificationAttempt.key) == key,
            col(VerificationAttempt.success).is_(False),
        )
    )
    resolved: Any = await session.exec(  # an UPDATE: a cursor result, whose rowcount is what was resolved
        update(VerificationAlert)
        .where(col(VerificationAlert.code_key) == key, col(VerificationAlert.resolved_at).is_(None))
        .values(resolved_at=now, resolved_by=by[:40])
    )
    return Unlocked(display_code(case.code), was_locked, cleared, resolved.rowcount or 0)


async def open_alerts(session: AsyncSession, limit: int = 100) -> list[tuple[VerificationAlert, Case]]:
    """Alerts staff have not dealt with (no unlock since), newest first, with their case: what the console shows."""
    stmt = (
        select(VerificationAlert, Case)
        .join(Case, col(Case.id) == col(VerificationAlert.case_id))
        .where(col(VerificationAlert.resolved_at).is_(None))
        .order_by(col(VerificationAlert.created_at).desc(), col(VerificationAlert.id).desc())
        .limit(limit)
    )
    return [(alert, case) for alert, case in (await session.exec(stmt)).all()]
