"""Follows, the transactional outbox and the dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.cases.rules import NewCase, create_case, get_case
from bot.notify import outbox, subscriptions
from bot.notify.compose import reminder_time
from bot.notify.dispatcher import Blocked, Dispatcher, RateLimiter, RetryLater, Stats, Transient, in_quiet_hours
from bot.notify.retry import RetryPolicy
from bot.staff.status import set_status
from bot.storage.db import session_scope
from bot.storage.models import Outbox, Subscription

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = dt.datetime(2026, 11, 25, 5, tzinfo=dt.UTC)  # 12:00 in Hà Nội: outside quiet hours
CODE = "000.00.15.H57-261120-0007"


class RecordingSender:
    """A channel that records what it was asked to send and can fail on demand."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.fail: dict[int, Exception] = {}

    async def send(self, chat_id: int, text: str, buttons: list) -> None:  # type: ignore[type-arg]
        if chat_id in self.fail:
            raise self.fail.pop(chat_id)
        self.sent.append((chat_id, text))


async def _case(session, settings, *, due: dt.date = dt.date(2026, 12, 7)):  # type: ignore[no-untyped-def]
    return await create_case(
        session=session,
        secret=settings.secret_key.get_secret_value(),
        new=NewCase(
            code=CODE,
            procedure_id="cu-tru.dang-ky-thuong-tru",
            agency="Công an xã Phú Thượng",
            office="Bộ phận Một cửa xã Phú Thượng",
            applicant_name="Lê Văn Cường",
            phone="0987654321",
            received_at=dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC),
            appointment_date=due,
        ),
    )


def test_reminder_is_at_8_on_the_previous_working_day(settings) -> None:  # type: ignore[no-untyped-def]
    monday = dt.date(2026, 11, 30)
    assert reminder_time(monday, settings).astimezone(VN) == dt.datetime(2026, 11, 27, 8, tzinfo=VN)  # Friday
    after_tet = dt.date(2026, 2, 23)  # first working day after Tết Bính Ngọ
    assert reminder_time(after_tet, settings).astimezone(VN).date() == dt.date(2026, 2, 13)
    assert in_quiet_hours(dt.datetime(2026, 11, 25, 15, tzinfo=dt.UTC), VN)  # 22:00 in Hà Nội
    assert not in_quiet_hours(dt.datetime(2026, 11, 25, 3, tzinfo=dt.UTC), VN)


async def test_status_changes_notify_followers_once(settings, kb, engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        case = await _case(s, settings)
        assert await subscriptions.follow(s, chat_id=42, case=case, kb=kb, settings=settings)
        assert not await subscriptions.follow(s, chat_id=42, case=case, kb=kb, settings=settings)
    async with session_scope(engine) as s:
        case = await get_case(s, CODE)
        await set_status(s, case=case, status="in_progress", kb=kb, settings=settings)
        await set_status(
            s, case=case, status="need_supplement", kb=kb, settings=settings, missing=["Giấy xác nhận chỗ ở hợp pháp"]
        )
        await set_status(
            s,
            case=case,
            status="overdue",
            kb=kb,
            settings=settings,
            new_date=dt.date(2026, 12, 14),
            note="Cần xác minh thêm",
        )
        await set_status(s, case=case, status="ready_for_pickup", kb=kb, settings=settings)
        await set_status(
            s, case=case, status="returned", kb=kb, settings=settings, at=dt.datetime(2026, 12, 1, 3, tzinfo=dt.UTC)
        )
    async with session_scope(engine) as s:
        rows = (await s.exec(select(Outbox).order_by(Outbox.id))).all()
    kinds = [r.kind for r in rows]
    assert kinds.count("followed") == 1
    for status in ("in_progress", "need_supplement", "overdue", "ready_for_pickup", "returned"):
        assert kinds.count(f"status:{status}") == 1, kinds
    texts = {r.kind: r.payload["text"] for r in rows}
    assert "Giấy xác nhận chỗ ở hợp pháp" in texts["status:need_supplement"]
    assert "14/12/2026" in texts["status:overdue"] and "xin lỗi" in texts["status:overdue"]
    assert (
        "Bộ phận Một cửa xã Phú Thượng" in texts["status:ready_for_pickup"]
        and "căn cước" in texts["status:ready_for_pickup"]
    )
    survey = next(r for r in rows if r.kind == "survey")
    assert survey.due_at == dt.datetime(2026, 12, 1, 4, tzinfo=dt.UTC)  # an hour after `returned`
    reminders = [r for r in rows if r.kind == "reminder"]
    assert reminders and all(r.status == "cancelled" for r in reminders)  # closed before the appointment
    assert "0987654321" not in str([r.payload for r in rows])


async def test_enqueue_is_idempotent(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        assert await outbox.enqueue(s, dedupe_key="k1", chat_id=1, kind="x", payload={"text": "a"})
        assert not await outbox.enqueue(s, dedupe_key="k1", chat_id=1, kind="x", payload={"text": "a"})
    async with session_scope(engine) as s:
        assert not await outbox.enqueue(s, dedupe_key="k1", chat_id=1, kind="x", payload={"text": "a"})
        assert len((await s.exec(select(Outbox))).all()) == 1


async def _queue(engine, n: int, *, chats: int = 1, urgent: bool = False, due=NOON) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        for i in range(n):
            await outbox.enqueue(
                s,
                dedupe_key=f"m{i}",
                chat_id=1000 + i % chats,
                kind="test",
                payload={"text": f"tin {i}"},
                urgent=urgent,
                due_at=due,
            )


async def test_dispatcher_sends_everything_and_handles_failures(settings, engine) -> None:  # type: ignore[no-untyped-def]
    noon = NOON
    await _queue(engine, 30, chats=30, due=noon)
    async with session_scope(engine) as s:
        case = await _case(s, settings)
        s.add(Subscription(chat_id=1003, case_id=case.id))  # type: ignore[arg-type]
    sender = RecordingSender()
    sender.fail = {1001: RetryLater(5), 1002: ConnectionError("reset"), 1003: Blocked("bot was blocked by the user")}
    d = Dispatcher(engine, sender, tz=VN, batch=100)
    first = await d.run_once(now=noon)
    assert (first.sent, first.retried, first.blocked) == (27, 2, 1)
    second = await d.run_once(now=noon + dt.timedelta(minutes=10))
    assert second.sent == 2
    async with session_scope(engine) as s:
        state = await outbox.counts(s)
        sub = (await s.exec(select(Subscription).where(Subscription.chat_id == 1003))).one()
    assert state == {"sent": 29, "dropped": 1} and sub.active is False
    assert sorted(c for c, _ in sender.sent) == sorted(set(range(1000, 1030)) - {1003})


async def test_quiet_hours_hold_all_but_urgent_messages(engine) -> None:  # type: ignore[no-untyped-def]
    night = dt.datetime(2026, 11, 25, 16, tzinfo=dt.UTC)  # 23:00 local
    await _queue(engine, 3, chats=3, due=night - dt.timedelta(minutes=1))
    async with session_scope(engine) as s:
        await outbox.enqueue(
            s,
            dedupe_key="urgent",
            chat_id=7,
            kind="followed",
            payload={"text": "ok"},
            urgent=True,
            due_at=night - dt.timedelta(minutes=1),
        )
    sender = RecordingSender()
    d = Dispatcher(engine, sender, tz=VN)
    assert (await d.run_once(now=night)).sent == 1 and sender.sent == [(7, "ok")]
    morning = dt.datetime(2026, 11, 26, 0, 5, tzinfo=dt.UTC)  # 07:05 local
    assert (await d.run_once(now=morning)).sent == 3


async def test_rate_limits_space_messages_per_chat(engine) -> None:  # type: ignore[no-untyped-def]
    await _queue(engine, 4, chats=1)
    limiter = RateLimiter(clock=lambda: 0.0)  # time stands still: the chat's second message is not due yet
    sender = RecordingSender()
    d = Dispatcher(engine, sender, tz=VN, limiter=limiter)
    stats = await d.run_once(now=NOON)
    assert stats.sent == 1 and stats.deferred == 3  # one a second to the same chat


async def test_rate_limits_on_the_event_loops_clock(engine) -> None:  # type: ignore[no-untyped-def]
    """The production limiter (no clock given; intervals shortened): a chat's second message waits its interval
    through the outbox, and the starts are spaced by the overall rate."""
    await _queue(engine, 5, chats=3)  # chats 1000, 1001, 1002, 1000, 1001
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    class TimedSender(RecordingSender):
        async def send(self, chat_id: int, text: str, buttons: list) -> None:  # type: ignore[type-arg]
            starts.append(loop.time())
            await super().send(chat_id, text, buttons)

    sender = TimedSender()
    d = Dispatcher(engine, sender, tz=VN, limiter=RateLimiter(per_second=100, per_chat_interval=0.5))
    stats = await d.run_once(now=NOON)
    assert (stats.sent, stats.deferred) == (3, 2) and [c for c, _ in sender.sent] == [1000, 1001, 1002]
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 1 / 100 - 1e-6
    async with session_scope(engine) as s:
        waiting = (await s.exec(select(Outbox).where(Outbox.status == "pending"))).all()
    later = NOON + dt.timedelta(seconds=0.5)
    assert {(r.chat_id, r.due_at) for r in waiting} == {(1000, later), (1001, later)}
    await asyncio.sleep(0.5)
    assert (await d.run_once(now=later)).sent == 2


async def test_a_429_pauses_all_sending_until_retry_after(engine) -> None:  # type: ignore[no-untyped-def]
    await _queue(engine, 3, chats=3)
    clock = {"t": 1_000.0}
    sender = RecordingSender()
    sender.fail = {1000: RetryLater(3)}
    d = Dispatcher(engine, sender, tz=VN, limiter=RateLimiter(clock=lambda: clock["t"]))
    stats = await d.run_once(now=NOON)
    assert (stats.retried, stats.deferred, stats.sent) == (1, 2, 0)  # the others were given back, not tried
    clock["t"] += 2.5
    assert await d.run_once(now=NOON + dt.timedelta(seconds=2.5)) == Stats()  # paused: nothing even claimed
    assert sender.sent == []
    clock["t"] += 0.5
    assert (await d.run_once(now=NOON + dt.timedelta(seconds=3))).sent == 3
    async with session_scope(engine) as s:
        rows = {r.chat_id: r for r in (await s.exec(select(Outbox))).all()}
    assert rows[1000].attempts == 1 and rows[1001].attempts == 0 and rows[1002].attempts == 0


async def test_a_transient_failure_is_retried_by_the_policy_then_given_up(engine) -> None:  # type: ignore[no-untyped-def]
    await _queue(engine, 1)
    sender = RecordingSender()
    d = Dispatcher(engine, sender, tz=VN, retry=RetryPolicy(attempts=3, base=2, cap=3))
    now = NOON
    for wait in (2, 3):  # 2 s, then 4 s capped at 3 s
        sender.fail = {1000: Transient("NetworkError")}
        assert (await d.run_once(now=now)).retried == 1
        assert (await d.run_once(now=now + dt.timedelta(seconds=wait - 0.5))) == Stats()
        now += dt.timedelta(seconds=wait)
    sender.fail = {1000: Transient("NetworkError")}
    assert (await d.run_once(now=now)).failed == 1  # the third try was the last
    async with session_scope(engine) as s:
        [row] = (await s.exec(select(Outbox))).all()
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "gave up: Transient")


@pytest.mark.parametrize("n", [250])
async def test_a_crash_mid_batch_loses_nothing(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    await _queue(engine, n, chats=50)
    sender = RecordingSender()
    d = Dispatcher(engine, sender, tz=VN, batch=100)
    now = NOON
    async with session_scope(engine) as s:  # a process claims a batch and dies before marking it
        lost = await outbox.claim(s, limit=100, now=now)
        assert len(lost) == 100
    await d.drain(now=now)  # the lease has not expired yet: other rows go out first
    late = now + outbox.LEASE + dt.timedelta(seconds=1)
    while (await d.run_once(now=late)).sent:
        pass
    async with session_scope(engine) as s:
        assert await outbox.counts(s) == {"sent": n}
    assert len({text for _, text in sender.sent}) == n


async def test_a_new_appointment_date_replaces_the_reminder(settings, kb, engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        case = await _case(s, settings, due=dt.date(2099, 3, 16))  # a Monday, far ahead
        await subscriptions.follow(s, chat_id=43, case=case, kb=kb, settings=settings)
        await set_status(
            s, case=case, status="overdue", kb=kb, settings=settings, new_date=dt.date(2099, 3, 23), note="Chờ xác minh"
        )
    async with session_scope(engine) as s:
        reminders = (await s.exec(select(Outbox).where(Outbox.kind == "reminder").order_by(Outbox.id))).all()
    assert [(r.status, r.due_at.astimezone(VN).date()) for r in reminders] == [
        ("cancelled", dt.date(2099, 3, 13)),
        ("pending", dt.date(2099, 3, 20)),
    ]  # Fridays before each date
    assert "23/03/2099" in reminders[1].payload["text"]
