"""Notifications end to end: a citizen follows a demo case through the real PTB application (long polling,
tests/handlers/conftest.py) and receives, through the bot's own Dispatcher and TelegramSender and the fake
Bot API server, what staff changes cause: every assertion is on what the server received.

Time: the follow confirmation goes out through the scheduled job (it is urgent, so even now in quiet hours);
after that the test takes the dispatcher over (`SimClock`) and calls it with explicit `now` values of a
simulated calendar, its rate limiter on the same simulated clock, so quiet hours, the reminder at 08:00 the
working day before the appointment, the survey an hour after `returned`, a 429's retry_after and the backoff
after a 5xx are all checked to the second without sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.cases.rules import get_case
from bot.cases.workdays import is_working_day
from bot.feedback import survey
from bot.notify.dispatcher import Dispatcher, RateLimiter, Stats
from bot.replies import messages as m
from bot.settings import Settings
from bot.staff import demo
from bot.staff.status import set_status
from bot.storage.db import session_scope
from bot.storage.models import Outbox, Subscription, SurveyResponse
from tests.handlers.conftest import Harness, button, buttons

pytestmark = pytest.mark.parametrize("mode", ["polling"])
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def bot_settings(bot_settings: Settings) -> Settings:
    return bot_settings.model_copy(update={"dispatch_interval": 0.2})


class SimClock:
    """Takes the bot's Dispatcher over from the scheduled job: the job's ticks do nothing any more, and
    `at(when)` runs the same Dispatcher (same TelegramSender, same bot) at a simulated time until nothing
    more is due, with Telegram's limits measured on the simulated clock."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.real: Dispatcher = h.app.bot_data.dispatcher
        self.now = dt.datetime.now(dt.UTC)
        self.lock = asyncio.Lock()
        self.paused = False

    async def tick(self) -> Stats:  # what the scheduled job calls
        if self.paused:
            return Stats()
        async with self.lock:
            return await self.real.tick()

    @classmethod
    def install(cls, h: Harness) -> SimClock:
        """Before anything is queued: from now on the job's rounds go through this object's lock."""
        clock = cls(h)
        h.app.bot_data.dispatcher = clock
        return clock

    async def take_over(self) -> None:
        self.paused = True
        async with self.lock:  # a round of the job that is under way ends first (its rows marked sent)
            pass
        self.real.limiter = RateLimiter(clock=lambda: self.now.timestamp())

    async def at(self, when: dt.datetime) -> Stats:
        assert when.tzinfo is not None and when >= self.now, "the simulated clock only moves forward"
        self.now = when
        async with self.lock:
            return await self.real.drain(now=when.astimezone(dt.UTC))


def local(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=VN)


def appointment_day(settings: Settings) -> dt.date:
    """A Wednesday at least two weeks ahead whose Tuesday, and the next week's, are working days."""
    day = dt.datetime.now(VN).date() + dt.timedelta(days=14)
    while not (day.weekday() == 2 and all(is_working_day(day + dt.timedelta(days=k)) for k in (-1, 0, 5, 6, 7))):
        day += dt.timedelta(days=1)
    return day


class Inbox:
    """The bot's messages in one chat, as the server has them, read a few at a time."""

    def __init__(self, h: Harness, chat_id: int) -> None:
        self.h, self.chat_id, self.seen = h, chat_id, len(h.server.bot_messages(chat_id))

    def new(self) -> list[dict]:  # type: ignore[type-arg]
        msgs = self.h.server.bot_messages(self.chat_id)
        out, self.seen = msgs[self.seen :], len(msgs)
        return out

    def one(self) -> dict:  # type: ignore[type-arg]
        got = self.new()
        assert len(got) == 1, f"expected one new message in chat {self.chat_id}, got {[g['text'][:60] for g in got]}"
        return got[0]

    def none(self) -> None:
        got = self.new()
        assert not got, f"expected no message in chat {self.chat_id}, got {[g['text'][:60] for g in got]}"


async def seed(settings: Settings, kb, engine) -> list[demo.DemoCase]:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return await demo.seed(session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=8)


async def look_up_and_follow(h: Harness, chat_id: int, case: demo.DemoCase) -> None:
    """/tracuu CODE, the last four phone digits, then the follow button under the case card."""
    citizen = h.citizen(chat_id)
    asked = await citizen.command("tracuu", case.code)
    assert "4 số cuối" in asked.message["text"]
    card = (await citizen.say(case.phone_last4)).message
    assert f"Hồ sơ {case.code}" in card["text"]
    pressed = await citizen.tap(card, m.FOLLOW_BUTTON)
    assert [a.params.get("text") for a in pressed.answers] == [m.FOLLOWED_TOAST] and not pressed.messages


async def staff(engine, settings: Settings, kb, code: str, status: str, at: dt.datetime, **kw) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        case = await get_case(s, code)
        assert case is not None
        await set_status(s, case=case, status=status, kb=kb, settings=settings, at=at.astimezone(dt.UTC), **kw)


async def outbox_rows(engine, chat_id: int | None = None) -> list[Outbox]:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        stmt = select(Outbox).order_by(Outbox.id)
        if chat_id is not None:
            stmt = stmt.where(Outbox.chat_id == chat_id)
        return list((await s.exec(stmt)).all())


def sent_to(h: Harness, chat_id: int, since: int = 0) -> list:  # type: ignore[type-arg]
    return [c for c in h.server.calls_of("sendMessage", since) if int(c.params["chat_id"]) == chat_id]


async def test_a_followed_case_tells_the_citizen_everything_in_order(
    bot: Harness,
    bot_settings: Settings,
    kb,  # type: ignore[no-untyped-def]
    engine,
) -> None:
    settings = bot_settings
    cases = await seed(settings, kb, engine)
    demo_case = next(c for c in cases if c.status == "received")
    due = appointment_day(settings)  # staff set the appointment two weeks ahead
    async with session_scope(engine) as s:
        case = await get_case(s, demo_case.code)
        case.appointment_date = due  # type: ignore[union-attr]
        s.add(case)
        office = case.office or case.agency  # type: ignore[union-attr]
    chat = 5101
    inbox = Inbox(bot, chat)
    clock = SimClock.install(bot)
    await look_up_and_follow(bot, chat, demo_case)
    inbox.new()  # the lookup prompt and the case card

    # The confirmation is urgent: the scheduled job sends it at once, quiet hours or not.
    await bot.server.wait_until(lambda: len(bot.server.bot_messages(chat)) > inbox.seen, 10, "the follow confirmation")
    followed = inbox.one()
    assert followed["text"].startswith(f"🔔 Dạ, em đã ghi nhận: Anh/Chị sẽ nhận thông báo khi hồ sơ {demo_case.code}")
    assert "Trạng thái: Đã tiếp nhận" in followed["text"]
    reminders = [r for r in await outbox_rows(engine, chat) if r.kind == "reminder"]
    assert [r.due_at.astimezone(VN) for r in reminders] == [local(due - dt.timedelta(days=1), 8)]  # Tuesday 08:00
    await clock.take_over()
    first_call = len(bot.server.calls)

    week_before = due - dt.timedelta(days=7)  # a Wednesday
    # in_progress late on Tuesday evening: held by quiet hours until 07:00
    await staff(engine, settings, kb, demo_case.code, "in_progress", local(week_before - dt.timedelta(days=1), 22, 30))
    await clock.at(local(week_before - dt.timedelta(days=1), 22, 31))
    await clock.at(local(week_before, 6, 59, 59))
    inbox.none()
    await clock.at(local(week_before, 7))
    msg = inbox.one()
    assert msg["text"].startswith(f"⚙️ Hồ sơ {demo_case.code} đang được giải quyết.")
    assert "Anh/Chị chưa cần làm gì thêm" in msg["text"]
    assert msg["entities"][0]["type"] == "bold"

    missing = ["Giấy xác nhận thông tin về cư trú", "Bản sao giấy khai sinh"]
    await staff(engine, settings, kb, demo_case.code, "need_supplement", local(week_before, 9), missing=missing)
    await clock.at(local(week_before, 9, 0, 5))
    msg = inbox.one()
    assert msg["text"].startswith(f"📎 Hồ sơ {demo_case.code} cần bổ sung giấy tờ.")
    assert all(doc in msg["text"] for doc in missing)
    assert f"Nộp bổ sung tại: {office} ({settings.office_hours})" in msg["text"]

    # The appointment reminder: 08:00 on the working day before the appointment, not a second earlier.
    await clock.at(local(due - dt.timedelta(days=1), 7, 59, 59))
    inbox.none()
    await clock.at(local(due - dt.timedelta(days=1), 8))
    msg = inbox.one()
    assert msg["text"].startswith(
        f"🔔 Nhắc lịch hẹn: ngày {due:%d/%m/%Y} là ngày hẹn trả kết quả hồ sơ {demo_case.code}."
    )

    new_date = due + dt.timedelta(days=7)
    await staff(
        engine, settings, kb, demo_case.code, "overdue", local(due, 16), new_date=new_date, note="Cần xác minh thêm"
    )
    await clock.at(local(due, 16, 0, 5))
    msg = inbox.one()
    assert msg["text"].startswith(f"⏰ Hồ sơ {demo_case.code} bị chậm so với ngày hẹn.")
    assert "thành thật xin lỗi" in msg["text"] and f"ngày hẹn trả mới là {new_date:%d/%m/%Y}" in msg["text"]

    ready_day = new_date - dt.timedelta(days=2)  # Monday: ready before the new date, so its reminder is dropped
    await staff(engine, settings, kb, demo_case.code, "ready_for_pickup", local(ready_day, 10))
    await clock.at(local(ready_day, 10, 0, 5))
    msg = inbox.one()
    assert msg["text"].startswith(f"✅ Hồ sơ {demo_case.code} đã có kết quả.")
    assert f"mang giấy biên nhận và thẻ căn cước đến {office} để nhận ({settings.office_hours})" in msg["text"]

    await staff(engine, settings, kb, demo_case.code, "returned", local(ready_day, 15))
    await clock.at(local(ready_day, 15, 0, 5))
    msg = inbox.one()
    assert msg["text"].startswith(f"🎉 Hồ sơ {demo_case.code} đã trả kết quả.")
    await clock.at(local(ready_day, 15, 59, 59))
    inbox.none()
    await clock.at(local(ready_day, 16))  # an hour after `returned`
    survey_msg = inbox.one()
    assert survey_msg["text"].startswith("Anh/Chị vui lòng dành một phút đánh giá mức độ hài lòng")
    assert demo_case.code in survey_msg["text"] and [b["text"] for b in buttons(survey_msg)] == ["⭐ Đánh giá"]
    await clock.at(local(new_date - dt.timedelta(days=1), 8))  # the new date's reminder was cancelled
    await clock.at(local(new_date + dt.timedelta(days=30), 12))
    inbox.none()

    notifications = [c for c in bot.server.calls_of("sendMessage", first_call) if int(c.params["chat_id"]) == chat]
    expected = [
        "<b>⚙️ Hồ sơ",
        "<b>📎 Hồ sơ",
        "🔔 <b>Nhắc lịch hẹn:</b>",
        "<b>⏰ Hồ sơ",
        "<b>✅ Hồ sơ",
        "<b>🎉 Hồ sơ",
        "Anh/Chị vui lòng",
    ]
    assert len(notifications) == len(expected)
    assert all(c.params["text"].startswith(e) for c, e in zip(notifications, expected, strict=False))
    assert all(c.status == 200 and c.params["parse_mode"] == "HTML" for c in notifications)
    rows = await outbox_rows(engine, chat)
    assert {(r.kind, r.status) for r in rows} == {
        ("followed", "sent"),
        ("reminder", "sent"),
        ("reminder", "cancelled"),
        ("status:in_progress", "sent"),
        ("status:need_supplement", "sent"),
        ("status:overdue", "sent"),
        ("status:ready_for_pickup", "sent"),
        ("status:returned", "sent"),
        ("survey", "sent"),
    }
    assert len(rows) == 9 and all(r.attempts == 0 and r.lease_until is None for r in rows)

    # The survey button walks the six criteria in one message, then asks for a comment.
    citizen = bot.citizen(chat)
    started = await citizen.tap(survey_msg, "Đánh giá")
    question = started.message
    assert f"cho hồ sơ {demo_case.code}" in question["text"] and "Tiêu chí 1/6" in question["text"]
    scores = [5, 4, 5, 3, 4, 5]
    for i, score in enumerate(scores):
        current = bot.server.bot_messages(chat)[-1]
        assert current["message_id"] == question["message_id"]
        assert f"Tiêu chí {i + 1}/6: {survey.CRITERIA[i][1]}" in current["text"]
        assert [b["text"] for b in buttons(current)] == ["1", "2", "3", "4", "5"]
        pressed = await citizen.press(current, button(current, str(score)))
        assert not pressed.messages and len(pressed.edits) == 1
    asked = bot.server.bot_messages(chat)[-1]
    assert asked["text"] == m.SURVEY_ASK_COMMENT and [b["text"] for b in buttons(asked)] == [m.SKIP]
    done = await citizen.say("Cán bộ hướng dẫn rất tận tình")
    assert done.message["text"].startswith("Dạ, em cảm ơn Anh/Chị đã đánh giá")
    async with session_scope(engine) as s:
        [response] = (await s.exec(select(SurveyResponse))).all()
        case = await get_case(s, demo_case.code)
    assert response.scores == dict(zip(survey.KEYS, scores, strict=False)) and response.case_id == case.id  # type: ignore[union-attr]
    assert response.comment == "Cán bộ hướng dẫn rất tận tình" and response.procedure_id == demo_case.procedure_id


async def test_blocked_429_5xx_and_refused_messages_lose_nothing(
    bot: Harness,
    bot_settings: Settings,
    kb,  # type: ignore[no-untyped-def]
    engine,
) -> None:
    settings = bot_settings
    cases = await seed(settings, kb, engine)
    first, second = (
        next(c for c in cases if c.status == "received"),
        next(c for c in cases if c.status == "in_progress"),
    )
    blocker, patient, other = 5201, 5202, 5203  # blocker and patient follow the first case, other the second
    clock = SimClock.install(bot)
    await look_up_and_follow(bot, blocker, first)
    await look_up_and_follow(bot, patient, first)
    await look_up_and_follow(bot, other, second)
    await clock.take_over()
    day = dt.datetime.now(VN).date() + dt.timedelta(days=40)
    while not is_working_day(day) or not is_working_day(day + dt.timedelta(days=7)):
        day += dt.timedelta(days=1)
    for second_ in range(4):  # follow confirmations the job had not sent yet, due reminders (one a second)
        await clock.at(local(day, 7, 30, second_))
    assert {r.status for r in await outbox_rows(engine)} == {"sent"}
    inbox = {chat: Inbox(bot, chat) for chat in (blocker, patient, other)}

    # The blocker blocks the bot: 403, that message is dropped and the follow is turned off.
    bot.server.blocked.add(blocker)
    await staff(engine, settings, kb, first.code, "need_supplement", local(day, 8), missing=["Tờ khai CT01"])
    mark = len(bot.server.calls)
    stats = await clock.at(local(day, 8, 0, 1))
    assert (stats.sent, stats.blocked) == (1, 1)
    assert sorted(c.status for c in bot.server.calls_of("sendMessage", mark)) == [200, 403]
    assert inbox[patient].one()["text"].startswith(f"📎 Hồ sơ {first.code} cần bổ sung giấy tờ.")
    inbox[blocker].none()
    async with session_scope(engine) as s:
        subs = {sub.chat_id: sub.active for sub in (await s.exec(select(Subscription))).all()}
    assert subs == {blocker: False, patient: True, other: True}

    # 429 with retry_after=3 on the first of two messages now due: that one waits 3 s, and so does every
    # other message (Telegram asked the bot, not the chat, to slow down); then both go out, once.
    await staff(engine, settings, kb, second.code, "need_supplement", local(day, 9), missing=["Tờ khai CT01"])
    await staff(engine, settings, kb, first.code, "in_progress", local(day, 9))
    bot.server.fail_next("sendMessage", 429, retry_after=3)
    t = local(day, 9, 0, 1)
    mark = len(bot.server.calls)
    stats = await clock.at(t)
    [throttled] = bot.server.calls_of("sendMessage", mark)
    assert throttled.status == 429 and (stats.retried, stats.deferred, stats.sent) == (1, 1, 0)
    rows = {
        r.chat_id: r
        for r in await outbox_rows(engine)
        if r.kind in ("status:in_progress", "status:need_supplement") and r.status != "sent" and r.chat_id != blocker
    }
    assert set(rows) == {patient, other}
    throttled_chat = int(throttled.params["chat_id"])
    assert rows[throttled_chat].due_at == t.astimezone(dt.UTC) + dt.timedelta(seconds=3)
    assert rows[throttled_chat].attempts == 1
    assert rows[({patient, other} - {throttled_chat}).pop()].attempts == 0  # not tried: no attempt counted
    await clock.at(t + dt.timedelta(seconds=2.9))
    assert len(bot.server.calls_of("sendMessage", mark)) == 1
    await clock.at(t + dt.timedelta(seconds=3))
    assert [c.status for c in bot.server.calls_of("sendMessage", mark)] == [429, 200, 200]
    assert inbox[patient].one()["text"].startswith(f"⚙️ Hồ sơ {first.code}")
    assert inbox[other].one()["text"].startswith(f"📎 Hồ sơ {second.code}")
    inbox[blocker].none()

    # A 500, then a 502: retried after 2 s, then after 4 s more (exponential backoff), then delivered once;
    # the message queued behind it for the same chat never overtakes it.
    bot.server.fail_next("sendMessage", 500)
    bot.server.fail_next("sendMessage", 502)
    await staff(engine, settings, kb, second.code, "in_progress", local(day, 10))
    await staff(engine, settings, kb, second.code, "ready_for_pickup", local(day, 10))
    t = local(day, 10, 0, 1)
    mark = len(bot.server.calls)
    await clock.at(t)
    await clock.at(t + dt.timedelta(seconds=1.9))
    assert [c.status for c in bot.server.calls_of("sendMessage", mark)] == [500]
    await clock.at(t + dt.timedelta(seconds=2))
    await clock.at(t + dt.timedelta(seconds=5.9))
    assert [c.status for c in bot.server.calls_of("sendMessage", mark)] == [500, 502]
    await clock.at(t + dt.timedelta(seconds=6))
    await clock.at(t + dt.timedelta(seconds=7))
    calls = bot.server.calls_of("sendMessage", mark)
    assert [c.status for c in calls] == [500, 502, 200, 200]
    assert [c.params["text"].split(" ")[0] for c in calls] == ["<b>⚙️"] * 3 + ["<b>✅"]
    assert [msg["text"].split(" ")[0] for msg in inbox[other].new()] == ["⚙️", "✅"]
    [row] = [r for r in await outbox_rows(engine, other) if r.kind == "status:in_progress"]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "Transient")

    # A message Telegram refuses for good (400) is marked failed, not retried; the next one to the same chat
    # waits a second (one message a second per chat) and goes out.
    bot.server.fail_next("sendMessage", 400, description="Bad Request: message is too long")
    await staff(engine, settings, kb, first.code, "overdue", local(day, 11), new_date=day + dt.timedelta(days=7))
    await staff(engine, settings, kb, first.code, "ready_for_pickup", local(day, 11, 30))
    mark = len(bot.server.calls)
    await clock.at(local(day, 11, 31))
    assert [c.status for c in bot.server.calls_of("sendMessage", mark)] == [400]
    await clock.at(local(day, 11, 31, 1))
    assert [c.status for c in bot.server.calls_of("sendMessage", mark)] == [400, 200]
    assert inbox[patient].one()["text"].startswith(f"✅ Hồ sơ {first.code} đã có kết quả.")

    # Nothing lost: long after, every row is sent, or dropped, failed or cancelled for its reason.
    await clock.at(local(day + dt.timedelta(days=60), 12))
    for chat in inbox:
        inbox[chat].none()
    rows = await outbox_rows(engine)
    states = {(r.chat_id, r.kind): r.status for r in rows if r.kind != "reminder"}
    assert states == {
        (blocker, "followed"): "sent",
        (blocker, "status:need_supplement"): "dropped",
        (patient, "followed"): "sent",
        (patient, "status:need_supplement"): "sent",
        (patient, "status:in_progress"): "sent",
        (patient, "status:overdue"): "failed",
        (patient, "status:ready_for_pickup"): "sent",
        (other, "followed"): "sent",
        (other, "status:need_supplement"): "sent",
        (other, "status:in_progress"): "sent",
        (other, "status:ready_for_pickup"): "sent",
    }
    reminders = [r for r in rows if r.kind == "reminder"]
    assert [(r.chat_id, r.status) for r in reminders if r.status != "sent"] == [(patient, "cancelled")]  # new date
    # (the reminders of the first appointments, if any, went out during the warm-up, before the block)
    [failed] = [r for r in rows if r.status == "failed"]
    assert failed.last_error == "rejected: Message is too long" and failed.attempts == 0
    [dropped] = [r for r in rows if r.status == "dropped"]
    assert dropped.last_error.startswith("blocked: Forbidden: bot was blocked by the user")  # type: ignore[union-attr]
    assert all(r.lease_until is None for r in rows)
    delivered = [c for c in bot.server.calls_of("sendMessage") if c.status == 200]
    assert len(delivered) == sum(r.status == "sent" for r in rows) + 3 * 2  # + each citizen's prompt and case card
