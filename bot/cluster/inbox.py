"""The inbox of cluster mode: every update stored once, each chat answered by one instance at a time, in order.

- `store`: the webhook handler's insert; `update_id` is the primary key, so an update Telegram delivers again
  (a webhook call that timed out) is a no-op.
- `claim_chats`: an instance takes chats that have unanswered updates and that no live lease covers, under a lease
  (`chatclaim`, one row per chat, taken with an upsert that succeeds only on a free or expired row; SKIP-free,
  because the insert of a chat's claim row is the lock). A chat's updates are then handled by that instance alone,
  oldest `update_id` first.
- `mark_handled`: the replies of an update stored with it, in a transaction that also renews the chat's lease and
  succeeds only while this instance still holds it (a fence: an instance that stalled past its lease and lost the
  chat cannot mark anything). The replies are sent after that commit, then `mark_replied`. An instance that dies
  before `mark_handled` leaves the update to be handled again by the next holder; one that dies after it leaves
  the stored replies, which the next holder sends without handling the update again.
- `release`: the claim is given up when the chat has nothing left, atomically (a chat with a new update keeps it).

Times are the database's (`now()`): the instances' clocks never matter. PostgreSQL only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, TextClause, text
from sqlmodel.ext.asyncio.session import AsyncSession

_STORE = text(
    "INSERT INTO inboxupdate (update_id, chat_id, payload, received_at) "
    "VALUES (:uid, :chat, CAST(:payload AS json), now()) ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
)
_CLAIM = text(
    """
    WITH free AS (
        SELECT i.chat_id, min(i.update_id) AS first
        FROM inboxupdate i
        WHERE i.replied_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM chatclaim c WHERE c.chat_id = i.chat_id AND c.lease_until > now())
        GROUP BY i.chat_id
        ORDER BY first
        LIMIT :limit
    )
    INSERT INTO chatclaim (chat_id, holder, lease_until)
    SELECT chat_id, :holder, now() + make_interval(secs => :lease) FROM free
    ON CONFLICT (chat_id) DO UPDATE SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until
        WHERE chatclaim.lease_until <= now()
    RETURNING chat_id
    """
)
_NEXT = text(
    "SELECT update_id, payload, handled_at IS NOT NULL AS handled, replies FROM inboxupdate "
    "WHERE chat_id = :chat AND replied_at IS NULL ORDER BY update_id LIMIT 1"
)
_HANDLED = text(
    """
    WITH mine AS (
        UPDATE chatclaim SET lease_until = now() + make_interval(secs => :lease)
        WHERE chat_id = :chat AND holder = :holder RETURNING chat_id
    )
    UPDATE inboxupdate SET handled_at = now(), replies = CAST(:replies AS json), handled_by = :holder
    WHERE update_id = :uid AND handled_at IS NULL AND EXISTS (SELECT 1 FROM mine)
    RETURNING update_id
    """
)
_REPLIED = text("UPDATE inboxupdate SET replied_at = now() WHERE update_id = :uid AND replied_at IS NULL")
_RELEASE = text(
    "DELETE FROM chatclaim WHERE chat_id = :chat AND holder = :holder AND NOT EXISTS "
    "(SELECT 1 FROM inboxupdate WHERE chat_id = :chat AND replied_at IS NULL) RETURNING chat_id"
)
_HOLDS = text("SELECT 1 FROM chatclaim WHERE chat_id = :chat AND holder = :holder")
_RENEW = text(
    "UPDATE chatclaim SET lease_until = now() + make_interval(secs => :lease) "
    "WHERE holder = :holder AND chat_id = ANY(:chats) RETURNING chat_id"
)
_RELEASE_ALL = text("DELETE FROM chatclaim WHERE holder = :holder")
_PURGE = text("DELETE FROM inboxupdate WHERE replied_at < now() - make_interval(secs => :age)")
_OPEN = text("SELECT count(*) FROM inboxupdate WHERE replied_at IS NULL")


@dataclass(frozen=True)
class Pending:
    """The oldest unanswered update of a chat; `handled` with its `replies` stored when only the sending is left."""

    update_id: int
    payload: dict[str, Any]
    handled: bool
    replies: list[Any] | None


async def store(session: AsyncSession, update_id: int, chat_id: int, payload: dict[str, Any]) -> bool:
    """Keep one update; False when it was stored already (a redelivery)."""
    params = {"uid": update_id, "chat": chat_id, "payload": json.dumps(payload, ensure_ascii=False)}
    return (await _run(session, _STORE, params)).first() is not None


async def claim_chats(session: AsyncSession, holder: str, *, limit: int, lease: float) -> list[int]:
    """Up to `limit` chats with unanswered updates, oldest first, now held by `holder` for `lease` seconds."""
    if limit <= 0:
        return []
    rows = await _run(session, _CLAIM, {"limit": limit, "holder": holder, "lease": lease})
    return [r[0] for r in rows]


async def next_update(session: AsyncSession, chat_id: int) -> Pending | None:
    row = (await _run(session, _NEXT, {"chat": chat_id})).first()
    return None if row is None else Pending(row[0], row[1], bool(row[2]), row[3])


async def mark_handled(
    session: AsyncSession, update_id: int, chat_id: int, holder: str, replies: list[Any], *, lease: float
) -> bool:
    """Store the replies and renew the chat's lease; False (nothing written) when `holder` no longer holds the chat
    or the update was handled already."""
    params = {
        "uid": update_id,
        "chat": chat_id,
        "holder": holder,
        "lease": lease,
        "replies": json.dumps(replies, ensure_ascii=False),
    }
    return (await _run(session, _HANDLED, params)).first() is not None


async def holds(session: AsyncSession, chat_id: int, holder: str) -> bool:
    return (await _run(session, _HOLDS, {"chat": chat_id, "holder": holder})).first() is not None


async def mark_replied(session: AsyncSession, update_id: int) -> None:
    await _run(session, _REPLIED, {"uid": update_id})


async def release(session: AsyncSession, chat_id: int, holder: str) -> bool:
    """Give the chat up if it has nothing left to answer; False when it has (the caller goes on with it)."""
    return (await _run(session, _RELEASE, {"chat": chat_id, "holder": holder})).first() is not None


async def renew(session: AsyncSession, holder: str, chats: list[int], *, lease: float) -> set[int]:
    """Extend the leases of the chats still held; returns those (a chat missing from it was lost)."""
    if not chats:
        return set()
    rows = await _run(session, _RENEW, {"holder": holder, "chats": chats, "lease": lease})
    return {r[0] for r in rows}


async def release_all(session: AsyncSession, holder: str) -> None:
    """Every claim of `holder` given up (a draining instance, after its chats' current updates)."""
    await _run(session, _RELEASE_ALL, {"holder": holder})


async def purge(session: AsyncSession, *, older_than_seconds: float) -> int:
    """Answered updates older than this forgotten (long after Telegram stops retrying them)."""
    result = await _run(session, _PURGE, {"age": older_than_seconds})
    return int(getattr(result, "rowcount", 0) or 0)


async def open_count(session: AsyncSession) -> int:
    """Updates not answered yet (readiness, tests, the cluster test's end check)."""
    return int((await _run(session, _OPEN)).scalar_one())


async def _run(
    session: AsyncSession, stmt: TextClause, params: dict[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """A statement on the session's connection (in its transaction); SQLModel's `execute` is deprecated."""
    return await (await session.connection()).execute(stmt, params)
