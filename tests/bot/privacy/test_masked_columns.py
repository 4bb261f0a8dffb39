"""The masked copies of feedback texts and survey comments, stored once with the row (and filled in for old rows by
migration 0003, which also redacts the stored unanswered questions again), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.feedback import survey, tickets
from bot.privacy.masking import mask_text
from bot.settings import Settings
from bot.storage.db import make_engine, session_scope
from bot.storage.migrate import upgrade
from bot.storage.models import Feedback, SurveyResponse
from tests.conftest import PG_ADMIN_URL, _pg_conninfo

TEXT = "Gọi 0912 345 678 hoặc mail an.nguyen@example.vn về hồ sơ 000.00.12.H01-261107-0003"
MASKED = "Gọi <số> hoặc mail <email> về hồ sơ 000.00.12.H01-261107-0003"
HOSTILE = "@" + "a" * 1999


async def test_feedback_and_survey_rows_carry_their_masked_copy(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        fb = await tickets.create(s, chat_id=5, category="khac", text=TEXT)
        assert fb.text_masked == MASKED  # set when the row is written, inside create
        await tickets.create(s, chat_id=5, category="can-bo", text=HOSTILE)
        await survey.save(s, scores=dict.fromkeys(survey.KEYS, 4), comment=TEXT, case=None)
        await survey.save(s, scores=dict.fromkeys(survey.KEYS, 5), comment=None, case=None)
    async with session_scope(engine) as s:
        rows = {f.text: f.text_masked for f in (await s.exec(select(Feedback))).all()}
        assert rows == {TEXT: MASKED, HOSTILE: HOSTILE}
        comments = {r.comment: r.comment_masked for r in (await s.exec(select(SurveyResponse))).all()}
        assert comments == {TEXT: MASKED, None: None}
        fb = (await s.exec(select(Feedback).where(Feedback.text == TEXT))).one()
        fb.status, fb.reply = "answered", "Đã liên hệ 0912 345 678"  # staff answer: the masked text stays
        await s.flush()
        assert fb.text_masked == MASKED
        fb.text = "Sửa: gọi 0987 654 321"
        await s.flush()
        assert fb.text_masked == "Sửa: gọi <số>"


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend, for running the migrations one by one."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"tthc_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name, drivername="postgresql+psycopg").render_as_string(False)
    finally:
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migration_0003_fills_in_the_masked_copies_and_redacts_old_gaps(fresh_url: str) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    upgrade(settings, url=fresh_url, revision="0002")
    texts = [TEXT, HOSTILE, "Cảm ơn cán bộ", *(f"Số {n:010d}" for n in range(1200))]  # more than one batch

    async def run(sql: str, rows: list[dict] | None = None) -> list:  # type: ignore[type-arg]
        engine = make_engine(settings, url=fresh_url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(sql), rows or {})
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    now = "2026-12-01 08:00:00+00:00"
    asyncio.run(
        run(
            "INSERT INTO feedback (tracking_no, category, text, status, created_at) "
            "VALUES (:no, 'khac', :text, 'received', :at)",
            [{"no": f"GY-{i:06d}", "text": t, "at": now} for i, t in enumerate(texts)],
        )
    )
    asyncio.run(
        run(
            "INSERT INTO surveyresponse (scores, comment, created_at) VALUES ('{}', :comment, :at)",
            [{"comment": c, "at": now} for c in (TEXT, None)],
        )
    )
    gaps = ["2395", "1987", "tôi là nguyễn văn an muốn xem bói", "thời tiết hôm nay thế nào"]  # as stored before
    asyncio.run(
        run(
            "INSERT INTO unansweredquestion (text, intent, source, created_at) "
            "VALUES (:text, 'out_of_scope', 'bot', :at)",
            [{"text": t, "at": now} for t in gaps],
        )
    )
    upgrade(settings, url=fresh_url)
    redacted = [r[0] for r in asyncio.run(run("SELECT text FROM unansweredquestion ORDER BY id"))]
    assert redacted == ["<số>", "<số>", "tôi là <tên> muốn xem bói", "thời tiết hôm nay thế nào"]
    feedback = dict(asyncio.run(run("SELECT text, text_masked FROM feedback")))
    assert len(feedback) == len(texts) and all(feedback[t] == mask_text(t) for t in texts)
    assert feedback[TEXT] == MASKED and feedback["Số 0000000007"] == "Số <số>"
    comments = asyncio.run(run("SELECT comment, comment_masked FROM surveyresponse ORDER BY id"))
    assert [tuple(r) for r in comments] == [(TEXT, MASKED), (None, None)]
