"""Knowledge-base gaps: questions the bot could not answer confidently.

Only the normalized question text is kept, with anything that looks like personal data
(phone numbers, receipt codes, e-mail addresses, long digit runs) replaced, and no chat id,
so staff can see what citizens ask without seeing who asked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.db import DB_ERRORS, session_scope
from bot.storage.models import UnansweredQuestion, utcnow
from knowledge.codes import CODE_RE
from knowledge.matcher import Understanding
from knowledge.text import clean

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\d[\d .\-]{5,}\d")


def redact(text: str) -> str:
    text = CODE_RE.sub("<mã hồ sơ>", text)
    text = _EMAIL.sub("<email>", text)
    text = _DIGITS.sub("<số>", text)
    return clean(text, limit=300).lower()


def is_gap(u: Understanding) -> bool:
    return u.intent == "out_of_scope" or (u.intent == "procedure" and not u.confident)


def _row(u: Understanding, source: str, matched: list[str] | None = None) -> dict[str, Any] | None:
    if not is_gap(u) or not u.query.strip():
        return None
    ids = matched if matched is not None else [m.id for m in u.matches[:3]]
    return {"text": redact(u.query), "intent": u.intent, "matched_ids": ids, "source": source, "created_at": utcnow()}


async def record(session: AsyncSession, u: Understanding, *, source: str, matched: list[str] | None = None) -> bool:
    row = _row(u, source, matched)
    if row:
        session.add(UnansweredQuestion(**row))
    return row is not None


class GapLog:
    """The bot's gaps, written in the background, a batch every few seconds.

    A reply never waits for this write: it was one database write for every fifth question, and with several
    bot processes on SQLite, concurrent small writes wait for each other's locks (docs/benchmarks.md, Bot
    throughput). Rows are kept in memory until written (at most `limit`; a database outage of hours drops
    the oldest), and `flush()` writes them now (at shutdown, before staff read them).
    """

    def __init__(self, engine: AsyncEngine, *, interval: float = 2.0, limit: int = 10_000) -> None:
        self.engine, self.interval, self.limit = engine, interval, limit
        self._rows: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None

    def add(self, u: Understanding, *, source: str) -> None:
        row = _row(u, source)
        if row is None:
            return
        self._rows.append(row)
        if len(self._rows) > self.limit:
            del self._rows[0]
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and self._rows:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._flush_later)

    def _flush_later(self) -> None:
        self._flushing = asyncio.get_running_loop().create_task(self.flush())  # kept: a task nobody holds may vanish

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            async with session_scope(self.engine) as session:
                session.add_all([UnansweredQuestion(**r) for r in rows])
        except DB_ERRORS as exc:
            log.warning(
                "%d unanswered question(s) not written yet: database unavailable (%s)", len(rows), type(exc).__name__
            )
            self._rows = (rows + self._rows)[-self.limit :]
            self._schedule()


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
