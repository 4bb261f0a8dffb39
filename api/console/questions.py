"""What citizens ask (`/console/questions`, leads and admins): the questions the bot could not answer confidently,
most frequent first (redacted as stored), and the procedures they were about, over a chosen period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.console import charts
from api.console.auth import Lead
from api.console.dashboard import period_of
from api.console.figures import question_tables
from api.console.web import PREFIX, ConsoleRoute, Db, render, services_of

router = APIRouter(route_class=ConsoleRoute)
DEFAULT_DAYS = 30


@router.get(f"{PREFIX}/questions", include_in_schema=False)
async def questions_page(
    request: Request,
    me: Lead,
    db: Db,
    first: Annotated[str, Query(alias="from", max_length=30)] = "",
    last: Annotated[str, Query(alias="to", max_length=30)] = "",
) -> Response:
    services = services_of(request)
    period, problem = period_of(services, first, last, default_days=DEFAULT_DAYS)
    tables = await question_tables(db, services, period)
    procs = tables["top-procedures"]
    bars = [charts.Bar(str(r[0]), float(r[1]), t[1]) for r, t in zip(procs.rows, procs.text(), strict=True)]
    chart = charts.hbars(
        "top-procedures", "Thủ tục được hỏi nhiều nhất", bars, desc="Số câu hỏi chưa chắc chắn về mỗi thủ tục trong kỳ."
    )
    context = {
        "title": "Câu hỏi của người dân",
        "section": "questions",
        "period": period,
        "problem": problem,
        "tables": tables,
        "chart": chart,
    }
    return render(request, "questions.html", context)
