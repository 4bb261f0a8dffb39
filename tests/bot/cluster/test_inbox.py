"""The inbox of cluster mode on PostgreSQL: an update stored twice is handled once, a chat's updates go in order and to
one consumer at a time however many consumers claim, and a dead consumer's chats come back after its lease."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.cluster import inbox, lease
from bot.storage.db import session_scope

CLUSTER_TABLES = {"inboxupdate", "chatclaim", "clusterlease", "jobrun"}


@pytest.fixture(autouse=True)
def _postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("cluster mode runs on PostgreSQL only (CLUSTER=true refuses SQLite)")


def _message(update_id: int, chat: int) -> dict:  # type: ignore[type-arg]
    return {"update_id": update_id, "message": {"chat": {"id": chat}, "text": f"m{update_id}"}}


async def _store(engine, update_id: int, chat: int) -> bool:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return await inbox.store(s, update_id, chat, _message(update_id, chat))


async def _consume(engine, holder: str, seen: list[tuple[str, int, int]], *, lease_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """A consumer as handlers/cluster.py runs one, minus Telegram: claim chats, handle their updates in order."""
    while True:
        async with session_scope(engine) as s:
            chats = await inbox.claim_chats(s, holder, limit=2, lease=lease_s)
        if not chats:
            return
        for chat in chats:
            while True:
                async with session_scope(engine) as s:
                    item = await inbox.next_update(s, chat)
                if item is None:
                    async with session_scope(engine) as s:
                        if await inbox.release(s, chat, holder):
                            break
                    continue
                seen.append((holder, chat, item.update_id))
                await asyncio.sleep(0)  # let the other consumer run in between
                async with session_scope(engine) as s:
                    assert await inbox.mark_handled(s, item.update_id, chat, holder, [{"text": "ok"}], lease=lease_s)
                async with session_scope(engine) as s:
                    await inbox.mark_replied(s, item.update_id)


async def test_an_update_delivered_twice_is_stored_and_handled_once(engine) -> None:  # type: ignore[no-untyped-def]
    assert await _store(engine, 100, 7) is True
    assert await _store(engine, 100, 7) is False  # Telegram retried the webhook call
    seen: list[tuple[str, int, int]] = []
    await _consume(engine, "a", seen)
    assert await _store(engine, 100, 7) is False  # a retry after it was answered: still nothing new
    await _consume(engine, "a", seen)
    assert [u for _, _, u in seen] == [100]
    async with session_scope(engine) as s:
        assert await inbox.open_count(s) == 0


async def test_two_consumers_keep_each_chat_in_order_and_to_one_consumer(engine) -> None:  # type: ignore[no-untyped-def]
    uid = 1000
    for _round in range(5):
        for chat in range(1, 9):
            uid += 1
            await _store(engine, uid, chat)
    seen: list[tuple[str, int, int]] = []
    await asyncio.gather(_consume(engine, "a", seen), _consume(engine, "b", seen))
    assert len(seen) == 40 and len({u for _, _, u in seen}) == 40  # each once
    for chat in range(1, 9):
        ids = [u for _, c, u in seen if c == chat]
        assert ids == sorted(ids) and len(ids) == 5
    assert {h for h, _, _ in seen} == {"a", "b"}  # both did work


async def test_a_held_chat_is_not_claimed_until_its_lease_expires(engine) -> None:  # type: ignore[no-untyped-def]
    await _store(engine, 1, 42)
    async with session_scope(engine) as s:
        assert await inbox.claim_chats(s, "dead", limit=5, lease=1.0) == [42]
    async with session_scope(engine) as s:
        assert await inbox.claim_chats(s, "alive", limit=5, lease=30.0) == []  # the holder's lease still runs
    await asyncio.sleep(1.2)  # the holder was killed: it never renews
    async with session_scope(engine) as s:
        assert await inbox.claim_chats(s, "alive", limit=5, lease=30.0) == [42]
    async with session_scope(engine) as s:  # the dead one cannot mark anything any more (fenced)
        assert await inbox.mark_handled(s, 1, 42, "dead", [], lease=30.0) is False
        assert await inbox.mark_handled(s, 1, 42, "alive", [{"text": "x"}], lease=30.0) is True


async def test_handled_replies_survive_their_holder_and_are_not_handled_again(engine) -> None:  # type: ignore[no-untyped-def]
    await _store(engine, 5, 9)
    async with session_scope(engine) as s:
        await inbox.claim_chats(s, "a", limit=1, lease=1.0)
    async with session_scope(engine) as s:
        assert await inbox.mark_handled(s, 5, 9, "a", [{"text": "trả lời"}], lease=1.0)
    await asyncio.sleep(1.2)  # "a" died before sending
    async with session_scope(engine) as s:
        assert await inbox.claim_chats(s, "b", limit=1, lease=30.0) == [9]
        item = await inbox.next_update(s, 9)
    assert item is not None and item.handled and item.replies == [{"text": "trả lời"}]
    async with session_scope(engine) as s:  # a second handling is refused: only the stored replies are sent
        assert await inbox.mark_handled(s, 5, 9, "b", [{"text": "again"}], lease=30.0) is False


async def test_release_keeps_a_chat_with_a_new_update(engine) -> None:  # type: ignore[no-untyped-def]
    await _store(engine, 1, 3)
    async with session_scope(engine) as s:
        await inbox.claim_chats(s, "a", limit=1, lease=30.0)
    async with session_scope(engine) as s:
        assert await inbox.release(s, 3, "a") is False  # update 1 is not answered yet
        assert await inbox.renew(s, "a", [3, 4], lease=30.0) == {3}


async def test_the_leader_lease_fails_over_and_a_job_runs_once_per_due_time(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        assert await lease.acquire(s, "scheduler", "a", lease=1.0)
    async with session_scope(engine) as s:
        assert not await lease.acquire(s, "scheduler", "b", lease=1.0)
        assert await lease.acquire(s, "scheduler", "a", lease=1.0)  # renewed by its holder
    await asyncio.sleep(1.2)
    async with session_scope(engine) as s:
        assert await lease.acquire(s, "scheduler", "b", lease=5.0)
    due = dt.datetime(2026, 12, 6, 19, 30, tzinfo=dt.UTC)
    async with session_scope(engine) as s:
        assert await lease.claim_run(s, "retention", due, "a")
    async with session_scope(engine) as s:
        assert not await lease.claim_run(s, "retention", due, "b")
        assert await lease.claim_run(s, "retention", due + dt.timedelta(days=1), "b")


def test_due_times() -> None:
    from zoneinfo import ZoneInfo

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    at = dt.time(2, 30, tzinfo=vn)
    now = dt.datetime(2026, 12, 6, 1, 0, tzinfo=vn)  # before 02:30: yesterday's run is the latest due
    assert lease.latest_daily(now, at) == dt.datetime(2026, 12, 5, 2, 30, tzinfo=vn)
    assert lease.latest_daily(now.replace(hour=3), at) == dt.datetime(2026, 12, 6, 2, 30, tzinfo=vn)
    hour = dt.timedelta(hours=1)
    assert lease.latest_every(dt.datetime(2026, 1, 1, 5, 59, tzinfo=dt.UTC), hour) == dt.datetime(
        2026, 1, 1, 5, tzinfo=dt.UTC
    )


async def test_the_migration_matches_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
        assert (await conn.execute(text("SELECT count(*) FROM inboxupdate"))).scalar_one() == 0
    ours = [c for c in changes if CLUSTER_TABLES & set(str(c).replace("'", " ").replace(",", " ").split())]
    assert ours == []
