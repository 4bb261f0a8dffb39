"""The chat-state cache: what it answers must always be what the database holds for that chat."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from bot.conversation.state import Awaiting, ChatState, ChatStates, Survey
from bot.storage import models
from bot.storage.db import session_scope


class Queries:
    """Counts the statements the engine runs, to tell a cache hit from a database read."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


async def _saved(states: ChatStates, engine, chat_id: int, state: ChatState) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as session:
        await states.save(session, chat_id, state)
    states.committed(session)


async def test_a_saved_state_is_read_back_without_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    states = ChatStates()
    await _saved(states, engine, 7, ChatState(awaiting=Awaiting.CODE))
    queries = Queries(engine)
    async with session_scope(engine) as session:
        assert await states.load(session, 7) == ChatState(awaiting=Awaiting.CODE)
    assert queries.count == 0
    async with session_scope(engine) as session:  # and the database holds the same, in the stored form
        assert (await session.get(models.ChatState, 7)).state == {"await": "code"}  # type: ignore[union-attr]


async def test_an_idle_chat_is_read_once(engine) -> None:  # type: ignore[no-untyped-def]
    states, queries = ChatStates(), Queries(engine)
    for _ in range(3):
        async with session_scope(engine) as session:
            assert await states.load(session, 8) == ChatState()
        states.committed(session)
    assert queries.count == 1


async def test_a_rolled_back_save_leaves_no_trace(engine) -> None:  # type: ignore[no-untyped-def]
    states = ChatStates()
    await _saved(states, engine, 9, ChatState(awaiting=Awaiting.VERIFY))
    with pytest.raises(RuntimeError):
        async with session_scope(engine) as session:
            await states.save(session, 9, ChatState(awaiting=Awaiting.FEEDBACK_TEXT))
            assert (await states.load(session, 9)).awaiting == Awaiting.FEEDBACK_TEXT  # its own write, inside
            raise RuntimeError("the reply failed")
    async with session_scope(engine) as session:
        assert await states.load(session, 9) == ChatState(awaiting=Awaiting.VERIFY)


async def test_a_copy_is_returned_so_callers_cannot_change_the_cache(engine) -> None:  # type: ignore[no-untyped-def]
    states = ChatStates()
    await _saved(states, engine, 10, ChatState(verified=[1], survey=Survey(None, {"access": 2})))
    async with session_scope(engine) as session:
        loaded = await states.load(session, 10)
        loaded.verified.append(2)
        loaded.survey.scores["reception"] = 3  # type: ignore[union-attr]
        assert await states.load(session, 10) == ChatState(verified=[1], survey=Survey(None, {"access": 2}))


async def test_a_saved_state_cannot_be_changed_through_the_callers_copy(engine) -> None:  # type: ignore[no-untyped-def]
    states, state = ChatStates(), ChatState(verified=[1])
    await _saved(states, engine, 13, state)
    state.verified.append(2)
    async with session_scope(engine) as session:
        assert await states.load(session, 13) == ChatState(verified=[1])


async def test_entries_expire_and_the_cache_is_bounded(engine) -> None:  # type: ignore[no-untyped-def]
    states = ChatStates(size=2, ttl=0.0)
    await _saved(states, engine, 11, ChatState(awaiting=Awaiting.CODE))
    async with engine.begin() as conn:  # another process changed the row (the retention purge)
        await conn.execute(models.ChatState.__table__.delete())  # type: ignore[attr-defined]
    async with session_scope(engine) as session:
        assert await states.load(session, 11) == ChatState()
    bounded = ChatStates(size=2)
    for chat in (1, 2, 3):
        await _saved(bounded, engine, chat, ChatState(verified=[chat]))
    assert list(bounded._cache) == [2, 3]
