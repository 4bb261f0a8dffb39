"""The chat state: its stored form (rows written by earlier versions must load) and its cache, which must
always answer what the database holds for that chat."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from bot.conversation.state import TOPIC_TTL, Awaiting, ChatState, ChatStates, Survey, Topic
from bot.storage import models
from bot.storage.db import session_scope

LEGACY_KEYS = {"await", "then", "code", "verified", "survey", "category", "text"}


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


# --- the stored form ------------------------------------------------------------------------


def test_a_full_state_survives_the_round_trip_with_the_old_keys() -> None:
    state = ChatState(
        awaiting=Awaiting.SURVEY_COMMENT,
        then="follow",
        code="000.00.15.H57-251120-0001",
        verified=[3, 4],
        survey=Survey(case=4, scores={"access": 5, "reception": 4}),
        category="can-bo",
        feedback_text="Cán bộ <b>chậm</b>",
    )
    stored = state.to_dict()
    assert set(stored) == LEGACY_KEYS and stored["await"] == "sv_comment" and stored["text"] == "Cán bộ <b>chậm</b>"
    assert ChatState.from_dict(stored) == state
    assert ChatState().to_dict() == {} and ChatState.from_dict({}) == ChatState()


# the dicts the previous version of the bot wrote, and what they mean now
OLD_ROWS: list[tuple[dict[str, Any], ChatState]] = [
    ({}, ChatState()),
    ({"verified": []}, ChatState()),
    ({"await": "code", "then": None, "verified": [7]}, ChatState(awaiting=Awaiting.CODE, verified=[7])),
    (
        {"await": "verify", "code": "000.00.15.H57-251120-0001", "then": "follow", "verified": []},
        ChatState(awaiting=Awaiting.VERIFY, code="000.00.15.H57-251120-0001", then="follow"),
    ),
    ({"await": "fb_text", "category": "can-bo"}, ChatState(awaiting=Awaiting.FEEDBACK_TEXT, category="can-bo")),
    (
        {"await": "fb_code", "category": "khac", "text": "góp ý"},
        ChatState(awaiting=Awaiting.FEEDBACK_CODE, category="khac", feedback_text="góp ý"),
    ),
    ({"survey": {"case": None, "scores": {}}}, ChatState(survey=Survey())),
    (
        {"survey": {"case": 5, "scores": {"access": 1}}, "await": "sv_comment"},
        ChatState(awaiting=Awaiting.SURVEY_COMMENT, survey=Survey(5, {"access": 1})),
    ),
]


@pytest.mark.parametrize(("row", "state"), OLD_ROWS)
def test_rows_written_by_the_previous_version_load(row: dict[str, Any], state: ChatState) -> None:
    assert ChatState.from_dict(row) == state
    # written back, the row means the same: only unset values (null, an empty list) are left out
    assert state.to_dict() == {k: v for k, v in row.items() if v not in (None, [])}


def test_values_this_version_does_not_know_read_as_unset() -> None:
    odd = {"await": "something-new", "then": "elsewhere", "verified": ["x", 2], "survey": {}, "extra": 1}
    assert ChatState.from_dict(odd) == ChatState(verified=[2])


def test_idle_keeps_the_verified_cases_and_the_thread() -> None:
    topic = Topic("cu-tru.dang-ky-tam-tru", "fee", 1_764_000_000)
    busy = ChatState(awaiting=Awaiting.VERIFY, code="x", then="follow", verified=[1, 2], category="khac", topic=topic)
    idle = busy.idle()
    assert idle == ChatState(verified=[1, 2], topic=topic) and idle.verified is not busy.verified


def test_the_topic_is_stored_as_ids_and_a_time_only() -> None:
    sure = Topic("ho-tich.dang-ky-khai-sinh", "fee", 1_764_000_000)
    unsure = Topic("dang-ky-xe.lan-dau", "documents", 1_764_000_100, sure=False)
    for topic in (sure, unsure):
        stored = ChatState(verified=[3], topic=topic).to_dict()
        assert set(stored) == {"verified", "topic"} and ChatState.from_dict(stored).topic == topic
    assert ChatState(topic=sure).to_dict()["topic"] == {
        "p": "ho-tich.dang-ky-khai-sinh",
        "f": "fee",
        "t": 1_764_000_000,
    }
    assert ChatState(topic=unsure).to_dict()["topic"]["s"] == 0
    for odd in ({"p": "x"}, {"p": "x", "f": "fee", "t": "soon"}, "x", {"p": "", "f": "fee", "t": 1}, {"t": True}):
        assert ChatState.from_dict({"topic": odd}).topic is None  # read as no topic, never an error


def test_a_topic_lapses_after_thirty_minutes_of_silence() -> None:
    topic = Topic("cu-tru.dang-ky-tam-tru", "fee", 1000)
    assert topic.fresh(1000 + TOPIC_TTL - 1) and not topic.fresh(1000 + TOPIC_TTL) and TOPIC_TTL == 30 * 60


async def test_an_old_row_in_the_database_loads(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as session:
        session.add(models.ChatState(chat_id=12, state={"await": "code", "then": "follow", "verified": [9]}))
    async with session_scope(engine) as session:
        loaded = await ChatStates().load(session, 12)
    assert loaded == ChatState(awaiting=Awaiting.CODE, then="follow", verified=[9])


# --- the cache -------------------------------------------------------------------------------


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
