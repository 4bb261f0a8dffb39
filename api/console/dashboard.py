"""The dashboard (`/console`, leads and admins): cases by status, on-time rates per procedure and per month, late
cases, satisfaction per criterion over time, questions per day, notifications and feedback, each as a table with
its chart (SVG, drawn here) and a CSV export. Officers who open /console go to the case list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from api.console import charts
from api.console.auth import Me, signed_in
from api.console.figures import Average, Period, Rate, Table, dashboard
from api.console.web import PREFIX, ConsoleRoute, Db, Denied, number, percent, redirect, render, services_of
from bot.replies.dates import parse_date
from bot.services import Services

router = APIRouter(route_class=ConsoleRoute)
DEFAULT_MONTHS = 6
MAX_DAYS = 5 * 366


def period_of(
    services: Services, first: str, last: str, *, default_days: int | None = None
) -> tuple[Period, str | None]:
    """The period a page's `from` and `to` ask for (dd/mm/yyyy or ISO); by default the last DEFAULT_MONTHS months
    (or `default_days` days) to today. A problem comes back as a sentence, with the default period."""
    tz = services.settings.tz
    today = dt.datetime.now(tz).date()
    if default_days:
        default = Period(today - dt.timedelta(days=default_days - 1), today, tz)
    else:
        month = today.replace(day=1)
        for _ in range(DEFAULT_MONTHS - 1):
            month = (month - dt.timedelta(days=1)).replace(day=1)
        default = Period(month, today, tz)
    if not first and not last:
        return default, None
    a = parse_date(first) if first else default.first
    b = parse_date(last) if last else today
    if a is None or b is None:
        return default, "Không đọc được ngày; vui lòng nhập theo dạng ngày/tháng/năm, ví dụ 01/11/2026."
    if a > b:
        return default, "Ngày bắt đầu đang sau ngày kết thúc; đang hiển thị kỳ mặc định."
    if (b - a).days > MAX_DAYS:
        return default, "Kỳ thống kê dài quá 5 năm; đang hiển thị kỳ mặc định."
    return Period(a, b, tz), None


def _bars(table: Table, *, value: int, label: int = 0, skip_empty: int | None = None) -> list[charts.Bar]:
    out = []
    for row, shown in zip(table.rows, table.text(), strict=True):
        if skip_empty is not None and not row[skip_empty]:
            continue
        v = row[value]
        out.append(charts.Bar(str(row[label]), float(v or 0), shown[value] if v is not None else "—"))
    return out


def _satisfaction_charts(table: Table) -> list[tuple[str, Markup]]:
    labels = [str(r[0]) for r in table.rows]
    out = []
    for i, name in enumerate(table.columns[2:], start=2):
        values = [float(r[i]) if isinstance(r[i], Average) else 0.0 for r in table.rows]
        texts = [number(r[i], 2) if isinstance(r[i], Average) else "—" for r in table.rows]
        series = charts.Series(name, values, texts)
        chart = charts.columns(
            f"satisfaction-{i - 1}",
            name,
            labels,
            [series],
            desc=f"Điểm trung bình theo tháng của tiêu chí {name}, thang 1–5.",
            max_value=5,
        )
        out.append((name, chart))
    return out


def build_charts(tables: dict[str, Table]) -> dict[str, Markup]:
    rate_rows = tables["ontime-month"].rows
    month_rates = charts.Series(
        "Tỷ lệ đúng hạn", [float(r[4] or 0) for r in rate_rows], [percent(r[4]) for r in rate_rows]
    )
    days = tables["questions-day"].rows
    day_labels = [f"{r[0]:%d/%m}" for r in days]
    return {
        "status": charts.hbars(
            "status",
            "Hồ sơ theo trạng thái",
            _bars(tables["status"], value=1),
            desc="Số hồ sơ nhận trong kỳ ở mỗi trạng thái.",
        ),
        "ontime-procedure": charts.hbars(
            "ontime-procedure",
            "Tỷ lệ đúng hạn theo thủ tục",
            _bars(tables["ontime-procedure"], value=4, skip_empty=1),
            desc="Tỷ lệ hồ sơ giải quyết đúng hạn của mỗi thủ tục có hồ sơ đã giải quyết trong kỳ.",
            max_value=1,
        ),
        "ontime-month": charts.columns(
            "ontime-month",
            "Tỷ lệ đúng hạn theo tháng",
            [str(r[0]) for r in rate_rows],
            [month_rates],
            desc="Tỷ lệ hồ sơ giải quyết đúng hạn trong mỗi tháng của kỳ.",
            max_value=1,
        ),
        "satisfaction-criteria": charts.hbars(
            "satisfaction-criteria",
            "Điểm hài lòng theo tiêu chí",
            _bars(tables["satisfaction-criteria"], value=2),
            desc="Điểm trung bình 1–5 của sáu tiêu chí trong kỳ.",
            max_value=5,
        ),
        "questions-day": charts.columns(
            "questions-day",
            "Câu hỏi chưa trả lời chắc chắn mỗi ngày",
            day_labels,
            [
                charts.Series("Chưa chắc chắn", [float(r[2]) for r in days], [number(r[2]) for r in days]),
                charts.Series("Ngoài phạm vi", [float(r[1]) for r in days], [number(r[1]) for r in days], "alt"),
            ],
            desc="Số câu hỏi mỗi ngày mà trợ lý trả lời chưa chắc chắn hoặc ngoài phạm vi.",
        ),
        "notifications": charts.hbars(
            "notifications",
            "Tin nhắn thông báo",
            _bars(tables["notifications"], value=1),
            desc="Số tin nhắn thông báo theo tình trạng gửi.",
        ),
        "feedback": charts.hbars(
            "feedback",
            "Góp ý theo tình trạng",
            _bars(tables["feedback"], value=1),
            desc="Số góp ý nhận trong kỳ theo tình trạng xử lý.",
        ),
    }


@router.get(PREFIX, include_in_schema=False)
async def home(
    request: Request,
    db: Db,
    me: Annotated[Me, Depends(signed_in)],
    first: Annotated[str, Query(alias="from", max_length=30)] = "",
    last: Annotated[str, Query(alias="to", max_length=30)] = "",
) -> Response:
    if not me.can("lead"):
        if me.can("officer"):
            return redirect(f"{PREFIX}/cases")
        raise Denied("Tài khoản này chưa được cấp quyền.")
    services = services_of(request)
    period, problem = period_of(services, first, last)
    today = dt.datetime.now(services.settings.tz).date()
    tables = await dashboard(db, services, period, today)
    status = tables["status"].rows
    month_rows = tables["ontime-month"].rows
    finished = sum(r[1] for r in month_rows)
    on_time = sum(r[2] for r in month_rows)
    headline = {
        "cases": sum(r[1] for r in status),
        "finished": finished,
        "rate": Rate(on_time / finished) if finished else None,
        "overdue": len(tables["overdue"].rows),
    }
    context = {
        "title": "Tổng quan",
        "section": "dashboard",
        "period": period,
        "problem": problem,
        "tables": tables,
        "charts": build_charts(tables),
        "satisfaction_charts": _satisfaction_charts(tables["satisfaction-month"]),
        "headline": headline,
    }
    return render(request, "dashboard.html", context)
