"""The core behind the console, apart from the accounts: the feedback desk (assignment, state, the reply pushed
through the outbox), what citizens ask (bot/insights/asked.py), the import's dry run, and migration 0004 matching the
models; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func
from sqlmodel import SQLModel, select

from bot.accounts import audit, users
from bot.feedback import tickets
from bot.insights import asked
from bot.staff import feedback_desk as desk
from bot.staff.importing import import_file
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Case, Outbox, UnansweredQuestion, utcnow

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BY = audit.Actor("canbo", None, "127.0.0.1")
CONSOLE_TABLES = {"staffaccount", "staffsession", "loginattempt", "auditentry", "feedbackassignment"}


async def test_a_reply_reaches_the_chat_once_and_is_audited(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        fb = await tickets.create(s, chat_id=7001, category="kien-nghi", text="Gọi tôi 0912 345 678 <b>gấp</b>")
        staff = await users.add(s, "canbo", "officer", "mat-khau-du-dai-1", by=BY)
        no = fb.tracking_no
    async with session_scope(engine) as s:
        ticket = await desk.find(s, no.lower(), lock=True)
        assert ticket is not None and ticket.assignee is None
        await desk.assign(s, ticket, staff, by=BY)
    async with session_scope(engine) as s:
        ticket = await desk.find(s, no)
        assert ticket is not None and ticket.assignee == "canbo" and ticket.feedback.status == "processing"
        assert await desk.reply(s, ticket, "  Đã chuyển <bộ phận> xử lý.  ", by=BY) is True
        assert (
            await desk.reply(s, ticket, "Đã chuyển <bộ phận> xử lý.", by=BY) is False
        )  # the same reply: no 2nd message
        with pytest.raises(desk.DeskError, match="để trống"):
            await desk.reply(s, ticket, "   ", by=BY)
    async with session_scope(engine) as s:
        rows = (await s.exec(select(Outbox))).all()
        assert [(r.chat_id, r.kind) for r in rows] == [(7001, "feedback_reply")]
        assert (
            "Đã chuyển &lt;bộ phận&gt; xử lý." in rows[0].payload["text"] and f"/gopy {no}" in rows[0].payload["text"]
        )
        found = await tickets.find(s, no)
        assert found is not None and found.reply == "Đã chuyển <bộ phận> xử lý." and found.status == "answered"
        total, page = await desk.inbox(s, state="answered")
        assert total == 1 and page[0].assignee == "canbo"
        assert (await desk.inbox(s, state="received"))[0] == 0
        actions = [(e.action, e.after) for e in (await s.exec(select(AuditEntry).order_by(AuditEntry.id))).all()]
    assert [a for a, _ in actions] == ["account.add", "feedback.assign", "feedback.reply", "feedback.reply"]
    assert actions[1][1] == {"assignee": "canbo", "status": "processing"}
    assert actions[2][1] == {"reply": "Đã chuyển <bộ phận> xử lý.", "status": "answered", "message_queued": True}


async def test_a_reply_to_an_erased_chat_is_kept_but_not_pushed(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        fb = await tickets.create(s, chat_id=None, category="khac", text="Nội dung")
    async with session_scope(engine) as s:
        ticket = await desk.find(s, fb.tracking_no)
        assert ticket is not None
        assert await desk.reply(s, ticket, "Cảm ơn Anh/Chị.", by=BY) is False
        await desk.set_state(s, ticket, "closed", by=BY)
        with pytest.raises(desk.DeskError):
            await desk.set_state(s, ticket, "done", by=BY)
    async with session_scope(engine) as s:
        assert (await s.exec(select(func.count()).select_from(Outbox))).one() == 0
        assert (await tickets.find(s, fb.tracking_no)).status == "closed"  # type: ignore[union-attr]


async def test_what_citizens_ask_over_a_period(engine) -> None:  # type: ignore[no-untyped-def]
    day = dt.datetime(2026, 11, 20, 10, tzinfo=VN)
    rows = [
        ("le phi cap doi can cuoc", "procedure", ["can-cuoc.cap-doi", "can-cuoc.cap-the"], day),
        ("le phi cap doi can cuoc", "procedure", ["can-cuoc.cap-doi"], day + dt.timedelta(hours=3)),
        ("dang kiem xe o dau", "out_of_scope", [], day + dt.timedelta(days=1)),
        ("tam tru mat bao lau", "procedure", ["cu-tru.dang-ky-tam-tru"], day + dt.timedelta(days=1, hours=15)),
        ("cu", "procedure", ["cu-tru.dang-ky-tam-tru"], day - dt.timedelta(days=40)),
    ]
    async with session_scope(engine) as s:
        for text, intent, ids, at in rows:
            s.add(UnansweredQuestion(text=text, intent=intent, matched_ids=ids, created_at=at.astimezone(dt.UTC)))
    start = dt.datetime(2026, 11, 1, tzinfo=VN).astimezone(dt.UTC)
    async with session_scope(engine) as s:
        top = await asked.top_questions(s, start=start)
        procs = await asked.top_procedures(s, start=start)
        days = await asked.per_day(s, start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 22), tz=VN)
    assert [(a.text, a.count) for a in top] == [
        ("le phi cap doi can cuoc", 2),
        ("tam tru mat bao lau", 1),
        ("dang kiem xe o dau", 1),
    ]
    assert procs == [("can-cuoc.cap-doi", 2), ("cu-tru.dang-ky-tam-tru", 1)]
    # 01:00 on the 22nd local is still the 21st in UTC: days are counted in local time
    assert [(d.day.day, d.out_of_scope, d.low_confidence) for d in days] == [(20, 0, 2), (21, 1, 0), (22, 0, 1)]


CSV = "".join(
    line + "\n"
    for line in (
        "code,procedure_id,agency,applicant_name,phone,received_at,appointment_date,status",
        "000.00.15.H57-261120-0101,cu-tru.dang-ky-tam-tru,Công an xã Phú Thượng,Nguyễn Văn An,0912345678,"
        "20/11/2026 08:30,25/11/2026,in_progress",
        "000.00.15.H57-261120-0102,cu-tru.dang-ky-tam-tru,Công an xã Phú Thượng,Trần Thị Bình,0912345679,"
        "20/11/2026 09:00,25/11/2026,received",
    )
)


async def test_a_dry_run_reports_what_an_import_would_do_and_writes_nothing(
    engine, kb, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hoso.csv"
    path.write_text(CSV, encoding="utf-8")
    preview = await import_file(engine, path, kb=kb, settings=settings, dry_run=True)
    assert not preview.written and not preview.errors and (preview.read, preview.created) == (2, 2)
    async with session_scope(engine) as s:
        assert (await s.exec(select(func.count()).select_from(Case))).one() == 0
    done = await import_file(engine, path, kb=kb, settings=settings)
    assert done.written and (done.created, done.status_changes) == (preview.created, preview.status_changes)
    again = await import_file(engine, path, kb=kb, settings=settings, dry_run=True)
    assert (again.created, again.unchanged, again.written) == (0, 2, False)


async def test_migration_0004_matches_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    ours = [c for c in changes if CONSOLE_TABLES & set(str(c).replace("'", " ").replace(",", " ").split())]
    assert ours == []
    async with session_scope(engine) as s:  # and the tables are there
        await users.add(s, "quantri", "admin", "mat-khau-du-dai-1", by=BY)
        assert (await s.exec(select(func.count()).select_from(AuditEntry))).one() == 1
        assert utcnow().tzinfo is not None
