"""Knowledge-base gaps: questions the bot could not answer confidently.

Only the normalized question text is kept, with anything that looks like personal data
(phone numbers, receipt codes, e-mail addresses, long digit runs) replaced, and no chat id,
so staff can see what citizens ask without seeing who asked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import UnansweredQuestion
from knowledge.codes import CODE_RE
from knowledge.matcher import Understanding
from knowledge.text import clean

_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\d[\d .\-]{5,}\d")


def redact(text: str) -> str:
    text = CODE_RE.sub("<mã hồ sơ>", text)
    text = _EMAIL.sub("<email>", text)
    text = _DIGITS.sub("<số>", text)
    return clean(text, limit=300).lower()


def is_gap(u: Understanding) -> bool:
    return u.intent == "out_of_scope" or (u.intent == "procedure" and not u.confident)


async def record(session: AsyncSession, u: Understanding, *, source: str, matched: list[str] | None = None) -> bool:
    if not is_gap(u) or not u.query.strip():
        return False
    ids = matched if matched is not None else [m.id for m in u.matches[:3]]
    session.add(UnansweredQuestion(text=redact(u.query), intent=u.intent, matched_ids=ids, source=source))
    return True


@dataclass(frozen=True)
class Gap:
    text: str
    count: int
    intent: str
    last_seen: dt.datetime


async def top_gaps(session: AsyncSession, *, since: dt.datetime | None = None, limit: int = 20) -> list[Gap]:
    q = UnansweredQuestion
    stmt = select(q.text, func.count(), func.max(q.intent), func.max(q.created_at)).group_by(q.text)
    if since:
        stmt = stmt.where(q.created_at >= since)
    stmt = stmt.order_by(func.count().desc(), func.max(q.created_at).desc()).limit(limit)
    rows = (await session.exec(stmt)).all()
    return [Gap(text, n, intent, last) for text, n, intent, last in rows]
