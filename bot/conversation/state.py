"""Per-chat state (what the bot is waiting for, verified cases) and document checklists, in the database
so that they survive restarts.

Most messages are questions from chats that wait for nothing, and reading their state was the largest
database cost per question (docs/benchmarks.md, Bot throughput). So the states this process has read or
written are kept in memory, for a few minutes: a question from such a chat needs no database round trip
at all. This is sound because exactly one process handles a given chat (one poller, or the workers of
`handlers/workers.py`, which route by chat id); the expiry bounds how long a row changed by another process (the
nightly retention purge) goes unseen.
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import ChatState, Checklist, utcnow

_PENDING = "chat_states"  # session.info key: states saved in this unit of work, cached once it commits


class ChatStates:
    def __init__(self, *, size: int = 50_000, ttl: float = 300.0) -> None:
        self.size, self.ttl = size, ttl
        self._cache: OrderedDict[int, tuple[float, dict[str, Any]]] = OrderedDict()

    async def load(self, session: AsyncSession, chat_id: int) -> dict[str, Any]:
        hit = self._cache.get(chat_id)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return copy.deepcopy(hit[1])
        pending = session.info.get(_PENDING, {})
        if chat_id in pending:
            return copy.deepcopy(pending[chat_id])
        row = await session.get(ChatState, chat_id)
        state = dict(row.state) if row else {}
        self._put(chat_id, state)
        return copy.deepcopy(state)

    async def save(self, session: AsyncSession, chat_id: int, state: dict[str, Any]) -> None:
        self.forget(chat_id)  # until the write commits, the database is the truth
        session.info.setdefault(_PENDING, {})[chat_id] = copy.deepcopy(state)
        row = await session.get(ChatState, chat_id)
        if row is None:
            session.add(ChatState(chat_id=chat_id, state=state))
        else:
            row.state = state
            row.updated_at = utcnow()
            session.add(row)

    def committed(self, session: AsyncSession) -> None:
        """Call after the session's transaction committed: its saved states are now what the database holds."""
        for chat_id, state in session.info.pop(_PENDING, {}).items():
            self._put(chat_id, state)

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)

    def _put(self, chat_id: int, state: dict[str, Any]) -> None:
        self._cache[chat_id] = (time.monotonic(), state)
        self._cache.move_to_end(chat_id)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)


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
