"""The figures of the dashboard and of "what citizens ask", as named tables: the page shows each one (with its
chart) and `/console/export/<name>.csv` writes the same rows, so a CSV always says what the page says.

Every figure comes from the core's own definitions: cases by status, on-time rates and satisfaction from
bot/insights/stats.py (each month's on-time rate and satisfaction is that function over the month), notifications
from bot/notify/outbox.py `counts`, questions from bot/insights/asked.py, late cases from api/console/search.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from api.console.search import due_of, overdue
from api.console.web import number, percent
from bot.cases.rules import STATUSES
from bot.feedback.survey import CRITERIA
from bot.insights import asked, stats
from bot.notify import outbox
from bot.privacy.hashing import mask_name
from bot.services import Services
from bot.staff.feedback_desk import STATE_LABELS

NOTIFICATION_STATES = {
    "sent": "Đã gửi",
    "pending": "Đang chờ gửi",
    "sending": "Đang gửi",
    "failed": "Gửi lỗi",
    "dropped": "Bị chặn (người dân đã chặn bot)",
    "cancelled": "Đã hủy (không còn cần)",
}
SHORT_CRITERIA = {
    "access": "Tiếp cận dịch vụ",
    "reception": "Điều kiện đón tiếp",
    "information": "Thông tin thủ tục",
    "staff": "Sự phục vụ của công chức",
    "result": "Kết quả giải quyết",
    "feedback": "Tiếp nhận góp ý",
}
QUESTION_DAYS = 31  # the questions-per-day chart covers at most the last month of the period


@dataclass(frozen=True)
class Period:
    """Local days from `first` to `last`, inclusive."""

    first: dt.date
    last: dt.date
    tz: ZoneInfo

    def bounds(self, first: dt.date | None = None, last: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC of the days from `first` to `last` (default: the period's)."""
        a, b = first or self.first, last or self.last
        start = dt.datetime.combine(a, dt.time(), tzinfo=self.tz).astimezone(dt.UTC)
        end = dt.datetime.combine(b + dt.timedelta(days=1), dt.time(), tzinfo=self.tz).astimezone(dt.UTC)
        return start, end

    def months(self) -> list[tuple[str, dt.date, dt.date]]:
        """(mm/yyyy, first day, last day) of each month of the period, clipped to it."""
        out = []
        day = self.first.replace(day=1)
        while day <= self.last:
            following = (day + dt.timedelta(days=32)).replace(day=1)
            out.append((f"{day:%m/%Y}", max(day, self.first), min(following - dt.timedelta(days=1), self.last)))
            day = following
        return out

    @property
    def query(self) -> dict[str, str]:
        return {"from": f"{self.first:%d/%m/%Y}", "to": f"{self.last:%d/%m/%Y}"}


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)  # column indexes aligned right

    def text(self) -> list[list[str]]:
        """The rows as shown and exported: numbers with Vietnamese separators, dates dd/mm/yyyy."""
        return [[_cell(v) for v in row] for row in self.rows]


class Rate(float):
    """A share in [0, 1], shown as a percentage."""


class Average(float):
    """A 1–5 score average, shown with two decimals."""


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Rate):
        return percent(value)
    if isinstance(value, Average):
        return number(value, 2)
    if isinstance(value, int):
        return number(value)
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def _rate(value: float | None) -> Rate | None:
    return None if value is None else Rate(value)


def _avg(value: float | None) -> Average | None:
    return None if value is None else Average(value)


async def case_tables(session: AsyncSession, services: Services, period: Period, today: dt.date) -> list[Table]:
    start, end = period.bounds()
    counts = await stats.case_counts(session, start, end)
    by_status = Table("status", "Hồ sơ theo trạng thái (nhận trong kỳ)", ["Trạng thái", "Số hồ sơ"], numeric={1})
    by_status.rows = [[STATUSES[s], counts["by_status"].get(s, 0)] for s in STATUSES]
    on_time = await stats.on_time(session, services.kb, services.settings.tz, start, end)
    cols = ["Đã giải quyết", "Đúng hạn", "Trễ hạn", "Tỷ lệ đúng hạn"]
    per_procedure = Table(
        "ontime-procedure", "Tỷ lệ hồ sơ đúng hạn theo thủ tục", ["Thủ tục", *cols], numeric={1, 2, 3, 4}
    )
    per_procedure.rows = [
        [p["procedure_name"], p["finished"], p["on_time"], p["late"], _rate(p["rate"])] for p in on_time["by_procedure"]
    ]
    per_month = Table("ontime-month", "Tỷ lệ hồ sơ đúng hạn theo tháng", ["Tháng", *cols], numeric={1, 2, 3, 4})
    for label, first, last in period.months():
        month = (await stats.on_time(session, services.kb, services.settings.tz, *period.bounds(first, last)))[
            "overall"
        ]
        per_month.rows.append([label, month["finished"], month["on_time"], month["late"], _rate(month["rate"])])
    late = Table(
        "overdue",
        "Hồ sơ đang quá hạn",
        ["Mã hồ sơ", "Người nộp", "Thủ tục", "Hạn trả", "Số ngày trễ", "Trạng thái"],
        numeric={4},
    )
    for case in await overdue(session, today=today):
        proc = services.kb.get(case.procedure_id)
        due = due_of(case)
        late.rows.append(
            [
                case.display_code,
                mask_name(case.applicant_name),
                proc.name if proc else case.procedure_id,
                due,
                (today - due).days,
                STATUSES.get(case.status, case.status),
            ]
        )
    return [by_status, per_procedure, per_month, late]


async def satisfaction_tables(session: AsyncSession, period: Period) -> list[Table]:
    overall = await stats.satisfaction(session, *period.bounds())
    criteria = Table(
        "satisfaction-criteria",
        "Mức độ hài lòng theo tiêu chí (điểm trung bình 1–5)",
        ["Tiêu chí", "Số phiếu", "Điểm trung bình"],
        numeric={1, 2},
    )
    criteria.rows = [[c["label"], c["responses"], _avg(c["average"])] for c in overall["criteria"]]
    names = [SHORT_CRITERIA[k] for k, _ in CRITERIA]
    monthly = Table(
        "satisfaction-month",
        "Mức độ hài lòng theo tháng (điểm trung bình 1–5)",
        ["Tháng", "Số phiếu", *names],
        numeric=set(range(1, 2 + len(names))),
    )
    for label, first, last in period.months():
        month = await stats.satisfaction(session, *period.bounds(first, last))
        averages = {c["key"]: c["average"] for c in month["criteria"]}
        monthly.rows.append([label, month["responses"], *[_avg(averages[k]) for k, _ in CRITERIA]])
    return [criteria, monthly]


async def activity_tables(session: AsyncSession, period: Period) -> list[Table]:
    first = max(period.first, period.last - dt.timedelta(days=QUESTION_DAYS - 1))
    days = await asked.per_day(session, start=first, end=period.last, tz=period.tz)
    questions = Table(
        "questions-day",
        "Câu hỏi chưa trả lời chắc chắn mỗi ngày",
        ["Ngày", "Ngoài phạm vi", "Chưa chắc chắn", "Tổng"],
        numeric={1, 2, 3},
    )
    questions.rows = [[d.day, d.out_of_scope, d.low_confidence, d.total] for d in days]
    counts = await outbox.counts(session)
    notes = Table("notifications", "Tin nhắn thông báo qua Telegram", ["Tình trạng", "Số tin nhắn"], numeric={1})
    notes.rows = [[label, counts.get(key, 0)] for key, label in NOTIFICATION_STATES.items()]
    feedback = await stats.feedback_counts(session, *period.bounds())
    tickets = Table("feedback", "Góp ý nhận trong kỳ theo tình trạng", ["Tình trạng", "Số góp ý"], numeric={1})
    tickets.rows = [[STATE_LABELS[s], feedback["by_status"].get(s, 0)] for s in STATE_LABELS]
    return [questions, notes, tickets]


async def dashboard(session: AsyncSession, services: Services, period: Period, today: dt.date) -> dict[str, Table]:
    tables = [
        *await case_tables(session, services, period, today),
        *await satisfaction_tables(session, period),
        *await activity_tables(session, period),
    ]
    return {t.name: t for t in tables}


async def question_tables(session: AsyncSession, services: Services, period: Period) -> dict[str, Table]:
    start, end = period.bounds()
    top = Table(
        "top-questions",
        "Câu hỏi thường gặp mà trợ lý chưa trả lời chắc chắn",
        ["Câu hỏi (đã ẩn thông tin cá nhân)", "Loại", "Số lần", "Lần gần nhất"],
        numeric={2},
    )
    for a in await asked.top_questions(session, start=start, end=end, limit=30):
        top.rows.append(
            [a.text, asked.INTENTS.get(a.intent, a.intent), a.count, a.last_seen.astimezone(period.tz).date()]
        )
    procs = Table("top-procedures", "Thủ tục được hỏi nhiều nhất", ["Thủ tục", "Số câu hỏi"], numeric={1})
    for pid, n in await asked.top_procedures(session, start=start, end=end, limit=20):
        proc = services.kb.get(pid)
        procs.rows.append([proc.name if proc else pid, n])
    return {t.name: t for t in (top, procs)}
