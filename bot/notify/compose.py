"""What each case event tells the chats that follow the case, queued in the event's own transaction.

Every message is rendered when it is queued (it says what was true at that moment) and keyed by
case, event and chat, so an event processed twice queues nothing new.
"""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import true, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import CLOSED, STATUSES
from bot.cases.workdays import DEFAULT_FILE, previous_working_day
from bot.notify import outbox
from bot.replies.buttons import pack
from bot.replies.case_view import due_date, next_step, procedure_name
from bot.replies.dates import vn_date
from bot.settings import Settings
from bot.storage.models import Case, CaseEvent, Outbox, Subscription
from knowledge.loader import KnowledgeBase

REMINDER_HOUR = 8
SURVEY_DELAY = dt.timedelta(hours=1)

TITLES = {
    "received": "📥 Hồ sơ {code} đã được tiếp nhận.",
    "in_progress": "⚙️ Hồ sơ {code} đang được giải quyết.",
    "need_supplement": "📎 Hồ sơ {code} cần bổ sung giấy tờ.",
    "ready_for_pickup": "✅ Hồ sơ {code} đã có kết quả.",
    "returned": "🎉 Hồ sơ {code} đã trả kết quả.",
    "overdue": "⏰ Hồ sơ {code} bị chậm so với ngày hẹn.",
    "rejected": "❌ Hồ sơ {code} không được giải quyết.",
    "withdrawn": "↩️ Hồ sơ {code} đã được rút.",
}


def _status_text(case: Case, kb: KnowledgeBase, settings: Settings) -> str:
    code = html.escape(case.display_code)
    return (
        f"<b>{TITLES[case.status].format(code=code)}</b>\n"
        f"Thủ tục: {html.escape(procedure_name(case, kb))}\n"
        f"Trạng thái: {STATUSES[case.status]}\n{next_step(case, settings)}"
    )


async def followers(session: AsyncSession, case: Case) -> list[int]:
    """The chats to tell about this case: active follows only (an unfollowed or blocked chat hears nothing)."""
    stmt = select(Subscription.chat_id).where(col(Subscription.case_id) == case.id, col(Subscription.active) == true())
    return list((await session.exec(stmt)).all())


def reminder_time(day: dt.date, settings: Settings) -> dt.datetime:
    """08:00 local time on the working day before `day` (weekends and holidays skipped)."""
    before = previous_working_day(day, settings.holidays_file or DEFAULT_FILE)
    return dt.datetime.combine(before, dt.time(REMINDER_HOUR), tzinfo=settings.tz).astimezone(dt.UTC)


async def queue_reminder(
    session: AsyncSession, case: Case, chat_id: int, settings: Settings, *, now: dt.datetime
) -> bool:
    """Queue the appointment reminder (08:00 the working day before), cancelling one for an older date; False
    when there is nothing to remind of (closed case, or the time has passed) or it was queued already."""
    if case.status in CLOSED:
        return False
    day = due_date(case)
    at = reminder_time(day, settings)
    if at <= now:
        return False
    text = (
        f"🔔 <b>Nhắc lịch hẹn:</b> ngày {vn_date(day)} là ngày hẹn trả kết quả hồ sơ "
        f"{html.escape(case.display_code)}. {next_step(case, settings)}"
    )
    key = f"reminder:{case.id}:{day.isoformat()}:{chat_id}"
    # a new appointment date replaces the reminder for the old one
    await session.exec(
        update(Outbox)
        .where(
            col(Outbox.case_id) == case.id,
            col(Outbox.chat_id) == chat_id,
            col(Outbox.kind) == "reminder",
            col(Outbox.status) == "pending",
            col(Outbox.dedupe_key) != key,
        )
        .values(status="cancelled")
    )
    return await outbox.enqueue(
        session, dedupe_key=key, chat_id=chat_id, kind="reminder", payload={"text": text}, case_id=case.id, due_at=at
    )


def _survey_payload(case: Case, chat_id: int, settings: Settings) -> dict:
    secret = settings.secret_key.get_secret_value()
    return {
        "text": (
            "Anh/Chị vui lòng dành một phút đánh giá mức độ hài lòng về việc giải quyết hồ sơ "
            f"{html.escape(case.display_code)} ạ."
        ),
        "buttons": [[{"text": "⭐ Đánh giá", "data": pack(chat_id, secret, "sv", case.id)}]],
    }


async def on_follow(
    session: AsyncSession, case: Case, chat_id: int, kb: KnowledgeBase, settings: Settings, *, now: dt.datetime
) -> None:
    """A new follow: the confirmation with the case's state (urgent, so it goes out even in quiet hours: the
    citizen just asked) and the appointment reminder."""
    text = (
        f"🔔 Dạ, em đã ghi nhận: Anh/Chị sẽ nhận thông báo khi hồ sơ {html.escape(case.display_code)} "
        f"có thay đổi.\n{_status_text(case, kb, settings)}"
    )
    await outbox.enqueue(
        session,
        dedupe_key=f"follow:{case.id}:{chat_id}:{now.isoformat()}",
        chat_id=chat_id,
        kind="followed",
        payload={"text": text},
        case_id=case.id,
        urgent=True,
    )
    await queue_reminder(session, case, chat_id, settings, now=now)


async def on_status_change(
    session: AsyncSession, case: Case, event: CaseEvent, kb: KnowledgeBase, settings: Settings
) -> int:
    """Queue the status message (and reminder or survey) for every follower; returns messages queued."""
    queued = 0
    if case.status in CLOSED | {"ready_for_pickup"}:
        await session.exec(
            update(Outbox)
            .where(
                col(Outbox.case_id) == case.id,
                col(Outbox.kind) == "reminder",
                col(Outbox.status) == "pending",
            )
            .values(status="cancelled")
        )
    for chat_id in await followers(session, case):
        queued += await outbox.enqueue(
            session,
            dedupe_key=f"event:{event.id}:{chat_id}",
            chat_id=chat_id,
            kind=f"status:{case.status}",
            payload={"text": _status_text(case, kb, settings)},
            case_id=case.id,
        )
        if case.status == "overdue":
            await queue_reminder(session, case, chat_id, settings, now=event.at)
        if case.status == "returned":
            queued += await outbox.enqueue(
                session,
                dedupe_key=f"survey:{case.id}:{chat_id}",
                chat_id=chat_id,
                kind="survey",
                payload=_survey_payload(case, chat_id, settings),
                case_id=case.id,
                due_at=event.at + SURVEY_DELAY,
            )
    return queued
