"""Notifications are personal data too (chat id, case, text with the receipt code): `/xoadulieu` deletes them, sent
or not, and the retention purge deletes finished ones after RETENTION_OUTBOX_DAYS, without ever letting a message be
queued twice."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from bot.cases.rules import NewCase, create_case, get_case
from bot.conversation.core import Conversation
from bot.notify import outbox, subscriptions
from bot.privacy import retention
from bot.privacy.erasure import erase_chat
from bot.replies.events import Event
from bot.services import Services
from bot.settings import Settings
from bot.staff.status import set_status
from bot.storage.db import session_scope
from bot.storage.models import Outbox, utcnow

CODE = "000.00.12.H01-261101-0555"
SECRET = "test-secret-for-the-suite-only-0123456789"


async def _case(engine, *, code: str = CODE, days: int = 20):  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return await create_case(
            session=s,
            secret=SECRET,
            new=NewCase(
                code=code,
                procedure_id="cu-tru.dang-ky-tam-tru",
                agency="Công an xã",
                applicant_name="Trần Thị Bình",
                phone="0912 345 678",
                received_at=utcnow() - dt.timedelta(days=1),
                appointment_date=(utcnow() + dt.timedelta(days=days)).date(),
            ),
        )


async def _rows(engine, chat_id: int) -> list[Outbox]:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return list((await s.exec(select(Outbox).where(col(Outbox.chat_id) == chat_id).order_by(Outbox.id))).all())


async def _send_due(engine, by: dt.datetime | None = None) -> None:  # type: ignore[no-untyped-def]
    """What the dispatcher does with the messages due `by` then: they go out, their rows are marked sent."""
    async with session_scope(engine) as s:
        due = select(Outbox).where(Outbox.status == "pending", col(Outbox.due_at) <= (by or utcnow()))
        await outbox.mark_sent(s, [r.id for r in (await s.exec(due)).all() if r.id is not None])


async def test_erase_my_data_deletes_sent_notifications_too(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    await _case(engine)
    conv = Conversation(Services(settings, kb, matcher, engine))
    async with session_scope(engine) as s:
        case = await get_case(s, CODE)
        assert case is not None
        for chat in (21, 22):
            await subscriptions.follow(s, chat_id=chat, case=case, kb=kb, settings=settings)
        await set_status(s, case=case, status="in_progress", kb=kb, settings=settings)
    await _send_due(engine)  # the confirmations and the status message went out: rows 'sent'
    async with session_scope(engine) as s:
        case = await get_case(s, CODE)
        assert case is not None
        await set_status(
            s, case=case, status="need_supplement", missing=["Tờ khai CT01"], kb=kb, settings=settings
        )  # queued, not sent yet
        now = utcnow()
        for status, extra in (
            ("failed", {}),
            ("cancelled", {}),
            ("dropped", {}),
            ("sending", {"lease_until": now - dt.timedelta(minutes=5)}),  # its process died: it would go out again
            ("sending", {"lease_until": now + dt.timedelta(minutes=2)}),  # being sent right now
        ):
            s.add(
                Outbox(
                    dedupe_key=f"test:{status}:{extra}",
                    chat_id=21,
                    case_id=case.id,
                    kind="status:in_progress",
                    payload={"text": f"Hồ sơ {CODE}"},
                    status=status,
                    **extra,
                )
            )
    before = await _rows(engine, 21)
    assert {r.status for r in before} == {"sent", "pending", "failed", "cancelled", "dropped", "sending"}
    sent_before = sum(r.status in {"sent", "failed", "cancelled", "dropped"} for r in before)

    [ask] = await conv.handle(Event(21, "command", command="xoadulieu"))
    [done] = await conv.handle(Event(21, "callback", callback=ask.buttons[0][0].data))

    [left] = await _rows(engine, 21)  # only the message on its way at this very moment
    assert left.status == "sending" and left.lease_until is not None and left.lease_until > utcnow()
    pending = sum(r.status == "pending" for r in before) + 1  # and the one whose lease had run out
    assert f"{pending} thông báo chưa gửi" in done.text and "1 hồ sơ theo dõi" in done.text
    other = await _rows(engine, 22)  # another chat's messages are its own
    assert other and {r.status for r in other} == {"sent", "pending"}
    assert sent_before >= 4


async def test_erased_counts_keep_their_field_names(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        for status in ("pending", "sent", "failed"):
            s.add(Outbox(dedupe_key=f"k:{status}", chat_id=7, kind="followed", payload={"text": "x"}, status=status))
    async with session_scope(engine) as s:
        done = await erase_chat(s, 7)
    assert (done.follows, done.checklists, done.feedback_links, done.pending_messages, done.sent_messages) == (
        0,
        0,
        0,
        1,
        2,
    )
    assert not await _rows(engine, 7)


async def test_retention_deletes_finished_notifications_after_the_setting(engine) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=10)
    rows = [
        ("sent-old", "sent", {"sent_at": old, "created_at": old}),
        ("sent-recent", "sent", {"sent_at": recent, "created_at": old}),  # queued long ago, sent lately: kept
        ("failed-old", "failed", {"created_at": old}),
        ("dropped-old", "dropped", {"created_at": old}),
        ("cancelled-old", "cancelled", {"created_at": old}),
        ("pending-old", "pending", {"created_at": old}),  # never purged: not sent yet
        ("sending-old", "sending", {"created_at": old, "lease_until": now + dt.timedelta(minutes=1)}),
    ]
    async with session_scope(engine) as s:
        for key, status, extra in rows:
            s.add(Outbox(dedupe_key=key, chat_id=9, kind="followed", payload={"text": CODE}, status=status, **extra))
    async with session_scope(engine) as s:  # the call handlers/app.py makes today: RETENTION_OUTBOX_DAYS's default
        done = await retention.purge(s, chat_days=90, gaps_days=180, closed_days=30, now=now)
    assert done.messages == 4 and retention.OUTBOX_DAYS == Settings(_env_file=None).retention_outbox_days == 30  # type: ignore[call-arg]
    assert [r.dedupe_key for r in await _rows(engine, 9)] == ["sent-recent", "pending-old", "sending-old"]
    async with session_scope(engine) as s:
        done = await retention.purge(s, chat_days=90, gaps_days=180, closed_days=30, outbox_days=5, now=now)
    assert done.messages == 1
    assert [r.dedupe_key for r in await _rows(engine, 9)] == ["pending-old", "sending-old"]


async def test_deleted_notifications_are_not_queued_again(settings, kb, engine) -> None:  # type: ignore[no-untyped-def]
    """The dedupe keys of deleted rows name things that do not happen twice: a case event (queued when it is made),
    the survey of a returned (closed) case, a reminder whose time has passed."""
    await _case(engine, code=CODE, days=1)
    await _case(engine, code="000.00.12.H01-261101-0556", days=20)
    async with session_scope(engine) as s:
        closing, open_case = await get_case(s, CODE), await get_case(s, "000.00.12.H01-261101-0556")
        assert closing is not None and open_case is not None
        for case in (closing, open_case):
            await subscriptions.follow(s, chat_id=31, case=case, kb=kb, settings=settings)
            await set_status(s, case=case, status="in_progress", kb=kb, settings=settings)
        await set_status(s, case=closing, status="ready_for_pickup", kb=kb, settings=settings)
        await set_status(s, case=closing, status="returned", kb=kb, settings=settings)
    await _send_due(engine, by=utcnow() + dt.timedelta(hours=2))  # the survey is due an hour after the return
    before = await _rows(engine, 31)
    keys = {r.dedupe_key for r in before if r.status != "pending"}
    assert {k.split(":")[0] for k in keys} >= {"follow", "event", "survey"}
    [waiting] = [r for r in before if r.status == "pending"]  # the open case's reminder, due in 19 days

    later = utcnow() + dt.timedelta(days=31)
    async with session_scope(engine) as s:
        done = await retention.purge(s, chat_days=90, gaps_days=180, closed_days=30, now=later)
    assert done.messages == len(keys) and done.follows == 1  # the closed case's follow ended too
    assert [r.dedupe_key for r in await _rows(engine, 31)] == [waiting.dedupe_key]  # not sent yet: kept

    async with session_scope(engine) as s:
        closing, open_case = await get_case(s, CODE), await get_case(s, "000.00.12.H01-261101-0556")
        assert closing is not None and open_case is not None
        # the citizen follows the returned case again: a confirmation only (no survey, no reminder, no old status)
        assert await subscriptions.follow(s, chat_id=31, case=closing, kb=kb, settings=settings)
        # the open case moves on: its new event only
        assert await set_status(s, case=open_case, status="ready_for_pickup", kb=kb, settings=settings) == 1
    again = [r for r in await _rows(engine, 31) if r.id != waiting.id]
    assert sorted(r.kind for r in again) == ["followed", "status:ready_for_pickup"]
    assert not {r.dedupe_key for r in again} & keys
