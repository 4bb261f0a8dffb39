"""The dashboard's figures and charts against the database: every number the charts draw is computed again here
from the rows, with this test's own SQL, and the CSV exports say the same as the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect
from sqlalchemy import update

from bot.feedback import tickets
from bot.feedback.survey import CRITERIA
from bot.notify import outbox
from bot.staff import demo
from bot.storage.db import session_scope
from bot.storage.models import Outbox, SurveyResponse, UnansweredQuestion
from tests.console.conftest import Console, add_staff, login

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CLOSED = ("returned", "rejected", "withdrawn")


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite gives the stored text
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


async def _sql(engine, sql: str) -> list[Any]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return list((await conn.exec_driver_sql(sql)).all())


async def _seed(engine, kb, settings) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    async with session_scope(engine) as s:
        await demo.seed(session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=36)
        for i, days_ago in enumerate((1, 2, 3, 35, 36)):
            scores = {key: 1 + (i + k) % 5 for k, (key, _) in enumerate(CRITERIA)}
            s.add(SurveyResponse(scores=scores, created_at=now - dt.timedelta(days=days_ago)))
        for i, (text, intent, days_ago) in enumerate(
            [("le phi ho chieu", "procedure", 0), ("le phi ho chieu", "procedure", 1), ("dang kiem", "out_of_scope", 1)]
            + [("phat nguoi", "out_of_scope", 3)] * 3
        ):
            at = now - dt.timedelta(days=days_ago, minutes=i)
            s.add(UnansweredQuestion(text=text, intent=intent, matched_ids=["can-cuoc.cap-the"], created_at=at))
        for i, status in enumerate(("received", "received", "processing", "answered", "closed")):
            fb = await tickets.create(s, chat_id=9000 + i, category="khac", text=f"góp ý {i}")
            fb.status = status
        for i, status in enumerate(("sent", "sent", "sent", "failed", "pending", "dropped")):
            await outbox.enqueue(s, dedupe_key=f"t:{i}", chat_id=9100 + i, kind="test", payload={"text": "x"})
            await s.exec(update(Outbox).where(Outbox.dedupe_key == f"t:{i}").values(status=status))  # type: ignore[arg-type]


async def _expected(engine, first: dt.date, last: dt.date, today: dt.date) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    def inside(at: Any) -> bool:
        return first <= _utc(at).astimezone(VN).date() <= last

    cases = await _sql(
        engine,
        'SELECT id, status, received_at, appointment_date, new_appointment_date, closed_at FROM "case"',
    )
    ready: dict[int, dt.datetime] = {}
    for case_id, at in await _sql(engine, "SELECT case_id, at FROM caseevent WHERE status = 'ready_for_pickup'"):
        ready[case_id] = min(ready.get(case_id, _utc(at)), _utc(at))
    by_status = Counter(status for _, status, received, *_ in cases if inside(received))
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case_id, status, _, appointment, new_appointment, closed_at in cases:
        if status in ("returned", "rejected") and closed_at is not None and inside(closed_at):
            done = ready[case_id] if status == "returned" and case_id in ready else _utc(closed_at)
            due = _day(new_appointment or appointment)
            month = f"{_utc(closed_at).astimezone(VN):%m/%Y}"
            months[month][0] += 1
            months[month][1] += done.astimezone(VN).date() <= due
    late = sum(
        1
        for _, status, _, appointment, new_appointment, _ in cases
        if status not in (*CLOSED, "ready_for_pickup") and _day(new_appointment or appointment) < today
    )
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for scores, created in await _sql(engine, "SELECT scores, created_at FROM surveyresponse"):
        if inside(created):
            for key, value in (json.loads(scores) if isinstance(scores, str) else scores).items():
                sums[key][0] += value
                sums[key][1] += 1
    per_day: Counter[dt.date] = Counter(
        _utc(at).astimezone(VN).date() for (at,) in await _sql(engine, "SELECT created_at FROM unansweredquestion")
    )
    notes = dict(await _sql(engine, "SELECT status, count(*) FROM outbox GROUP BY status"))
    return {
        "by_status": by_status,
        "months": {m: round(ok / n, 4) for m, (n, ok) in months.items()},
        "finished": sum(n for n, _ in months.values()),
        "late": late,
        "satisfaction": {k: round(total / n, 2) for k, (total, n) in sums.items()},
        "per_day": per_day,
        "notifications": notes,
    }


async def _chart(page: Page, chart: str, part: str = "g.row") -> dict[str, float]:
    items = page.locator(f"svg#chart-{chart} {part}")
    return {
        str(await g.get_attribute("data-label")): float(await g.get_attribute("data-value") or "nan")
        for g in await items.all()
    }


async def test_the_dashboard_draws_the_database(console: Console, page: Page, engine, kb, settings) -> None:  # type: ignore[no-untyped-def]
    today = dt.datetime.now(VN).date()
    await _seed(engine, kb, settings)
    first, last = today - dt.timedelta(days=45), today
    want = await _expected(engine, first, last, today)
    await add_staff(engine, "lanhdao", "lead")
    await login(page, console, "lanhdao")
    await expect(page).to_have_url(console.at("/console"))
    await page.get_by_label("Từ ngày").fill(f"{first:%d/%m/%Y}")
    await page.get_by_label("Đến ngày").fill(f"{last:%d/%m/%Y}")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Xem").click()

    labels = {
        "Đã tiếp nhận": "received",
        "Đang giải quyết": "in_progress",
        "Cần bổ sung hồ sơ": "need_supplement",
        "Đã có kết quả, chờ nhận": "ready_for_pickup",
        "Đã trả kết quả": "returned",
        "Quá hạn, đã hẹn lại ngày trả": "overdue",
        "Từ chối giải quyết": "rejected",
        "Đã rút hồ sơ": "withdrawn",
    }
    drawn = await _chart(page, "status")
    assert {labels[k]: int(v) for k, v in drawn.items()} == {s: want["by_status"].get(s, 0) for s in labels.values()}
    assert sum(drawn.values()) == 36
    months = await _chart(page, "ontime-month", "g.col")
    assert {m: v for m, v in months.items() if m in want["months"]} == want["months"]
    assert all(v == 0 for m, v in months.items() if m not in want["months"])
    await expect(page.locator("[data-figure=finished]")).to_have_text(str(want["finished"]))
    await expect(page.locator("[data-figure=overdue]")).to_have_text(str(want["late"]))
    await expect(page.locator("#table-overdue tbody tr")).to_have_count(want["late"])
    criteria = await _chart(page, "satisfaction-criteria")
    assert list(criteria.values()) == [want["satisfaction"][key] for key, _ in CRITERIA]
    days = await _chart(page, "questions-day", "g.col")
    shown = {dt.datetime.strptime(f"{d}/{today.year}", "%d/%m/%Y").date(): v for d, v in days.items()}
    assert {d: int(v) for d, v in shown.items() if v} == {d: n for d, n in want["per_day"].items() if d in shown}
    notes = await _chart(page, "notifications")
    assert notes["Đã gửi"] == want["notifications"]["sent"] == 3
    assert (notes["Gửi lỗi"], notes["Đang chờ gửi"]) == (want["notifications"]["failed"], 1)

    # each table exports to CSV with the rows the page shows
    for name in ("status", "ontime-month", "satisfaction-criteria", "notifications"):
        response = await page.request.get(
            console.at(f"/console/export/{name}.csv?from={first:%d/%m/%Y}&to={last:%d/%m/%Y}")
        )
        assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
        body = (await response.body()).decode("utf-8-sig")
        exported = list(csv.reader(io.StringIO(body)))
        table = page.locator(f"#table-{name}")
        header = await table.locator("thead th").all_inner_texts()
        cells = [await row.locator("th, td").all_inner_texts() for row in await table.locator("tbody tr").all()]
        assert exported == [header, *cells], name
