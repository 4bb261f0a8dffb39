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
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage import models
from bot.storage.models import utcnow

_PENDING = "chat_states"  # session.info key: states saved in this unit of work, cached once it commits
Then = Literal["follow"]  # what to do once a case is verified, besides showing it


class Awaiting(StrEnum):
    """The answer the bot asked for. The values are stored in the database: never change them."""

    CODE = "code"  # a receipt code
    VERIFY = "verify"  # the digits proving the case is the citizen's (phone or birth year)
    FEEDBACK_TEXT = "fb_text"
    FEEDBACK_CODE = "fb_code"  # the case code a feedback is about (or a skip)
    SURVEY_COMMENT = "sv_comment"


@dataclass
class Survey:
    """A survey under way: the case it is about (None from /danhgia) and the scores given so far, in order."""

    case: int | None = None
    scores: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Topic:
    """What the chat's last answer was about: a procedure (its curated id) and the facet shown, and when (Unix
    seconds). Follow-ups that name no procedure are answered for it; it lapses after TOPIC_TTL of silence.
    After a pick-list it is the likeliest procedure offered, not yet confirmed. Only ids and a time are kept, never
    what the citizen typed."""

    procedure: str
    facet: str
    at: int
    sure: bool = True  # false when it is the first of a pick-list the citizen has not answered

    def fresh(self, now: float) -> bool:
        return 0 <= now - self.at < TOPIC_TTL

    def to_dict(self) -> dict[str, Any]:
        return {"p": self.procedure, "f": self.facet, "t": self.at, **({} if self.sure else {"s": 0})}

    @classmethod
    def from_dict(cls, data: Any) -> Topic | None:
        if not isinstance(data, dict):
            return None
        p, f, t = data.get("p"), data.get("f"), data.get("t")
        if isinstance(p, str) and p and isinstance(f, str) and f and isinstance(t, int) and not isinstance(t, bool):
            return cls(p, f, t, data.get("s") != 0)
        return None


TOPIC_TTL = 30 * 60  # seconds of silence after which a follow-up no longer refers to the last answer


@dataclass
class ChatState:
    """One chat's state. Stored as a JSON dict whose keys predate this class ("await", "text"), so rows
    written by earlier versions still load; unset fields are left out of the dict."""

    awaiting: Awaiting | None = None
    then: Then | None = None
    code: str | None = None  # the case code being verified
    verified: list[int] = field(default_factory=list)  # case ids this chat proved, the last ten
    survey: Survey | None = None
    category: str | None = None  # the feedback category picked
    feedback_text: str | None = None
    topic: Topic | None = None  # the thread of the conversation (stored under "topic")

    def idle(self) -> ChatState:
        """The state once a flow ends: nothing awaited, but the cases already verified stay verified and the
        thread of the conversation goes on."""
        return ChatState(verified=list(self.verified), topic=self.topic)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "await": self.awaiting.value if self.awaiting else None,
            "then": self.then,
            "code": self.code,
            "verified": list(self.verified) or None,
            "survey": {"case": self.survey.case, "scores": dict(self.survey.scores)} if self.survey else None,
            "category": self.category,
            "text": self.feedback_text,
            "topic": self.topic.to_dict() if self.topic else None,
        }
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatState:
        """Lenient: a value this version does not know (an old or hand-edited row) reads as unset."""
        waiting = data.get("await")
        survey = data.get("survey")
        return cls(
            awaiting=Awaiting(waiting) if isinstance(waiting, str) and waiting in _AWAITING else None,
            then="follow" if data.get("then") == "follow" else None,
            code=data.get("code") or None,
            verified=[x for x in data.get("verified") or [] if isinstance(x, int)],
            survey=_survey(survey) if isinstance(survey, dict) and survey else None,
            category=data.get("category"),
            feedback_text=data.get("text"),
            topic=Topic.from_dict(data.get("topic")),
        )


_AWAITING = frozenset(a.value for a in Awaiting)


def _survey(data: Mapping[str, Any]) -> Survey:
    return Survey(data.get("case"), dict(data.get("scores") or {}))


class ChatStates:
    def __init__(self, *, size: int = 50_000, ttl: float = 300.0) -> None:
        self.size, self.ttl = size, ttl
        self._cache: OrderedDict[int, tuple[float, ChatState]] = OrderedDict()

    async def load(self, session: AsyncSession, chat_id: int) -> ChatState:
        """A copy: the caller may change it freely, the cache changes only through `save`."""
        hit = self._cache.get(chat_id)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return copy.deepcopy(hit[1])
        pending = session.info.get(_PENDING, {})
        if chat_id in pending:
            return copy.deepcopy(pending[chat_id])
        row = await session.get(models.ChatState, chat_id)
        state = ChatState.from_dict(row.state) if row else ChatState()
        self._put(chat_id, state)
        return copy.deepcopy(state)

    async def save(self, session: AsyncSession, chat_id: int, state: ChatState) -> None:
        self.forget(chat_id)  # until the write commits, the database is the truth
        session.info.setdefault(_PENDING, {})[chat_id] = copy.deepcopy(state)
        row = await session.get(models.ChatState, chat_id)
        if row is None:
            session.add(models.ChatState(chat_id=chat_id, state=state.to_dict()))
        else:
            row.state = state.to_dict()
            row.updated_at = utcnow()
            session.add(row)

    def committed(self, session: AsyncSession) -> None:
        """Call after the session's transaction committed: its saved states are now what the database holds."""
        for chat_id, state in session.info.pop(_PENDING, {}).items():
            self._put(chat_id, state)

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)

    def _put(self, chat_id: int, state: ChatState) -> None:
        self._cache[chat_id] = (time.monotonic(), state)
        self._cache.move_to_end(chat_id)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)


async def checklist(session: AsyncSession, chat_id: int, procedure_id: str) -> set[int]:
    row = await session.get(models.Checklist, (chat_id, procedure_id))
    return set(row.checked) if row else set()


async def toggle(session: AsyncSession, chat_id: int, procedure_id: str, item: int) -> set[int]:
    row = await session.get(models.Checklist, (chat_id, procedure_id))
    if row is None:
        row = models.Checklist(chat_id=chat_id, procedure_id=procedure_id, checked=[])
    checked = set(row.checked) ^ {item}
    row.checked = sorted(checked)
    row.updated_at = utcnow()
    session.add(row)
    return checked
