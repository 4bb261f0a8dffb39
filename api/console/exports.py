"""CSV exports of the dashboard's and the questions page's tables (`/console/export/<name>.csv`, leads and admins):
the same rows as the page for the same period, in UTF-8 with a byte-order mark (so Excel reads the Vietnamese)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.console.auth import Lead
from api.console.dashboard import period_of
from api.console.figures import Table, dashboard, question_tables
from api.console.questions import DEFAULT_DAYS
from api.console.web import PREFIX, ConsoleRoute, Db, NotFound, Refusal, services_of

router = APIRouter(route_class=ConsoleRoute)
QUESTION_TABLES = {"top-questions", "top-procedures"}


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows(table.text())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get(f"{PREFIX}/export/{{name}}.csv", include_in_schema=False)
async def export(
    request: Request,
    name: str,
    me: Lead,
    db: Db,
    first: Annotated[str, Query(alias="from", max_length=30)] = "",
    last: Annotated[str, Query(alias="to", max_length=30)] = "",
) -> Response:
    services = services_of(request)
    questions = name in QUESTION_TABLES
    period, problem = period_of(services, first, last, default_days=DEFAULT_DAYS if questions else None)
    if problem and (first or last):
        raise Refusal(problem)
    if questions:
        tables = await question_tables(db, services, period)
    else:
        tables = await dashboard(db, services, period, dt.datetime.now(services.settings.tz).date())
    table = tables.get(name)
    if table is None:
        raise NotFound("Không có bảng số liệu này.")
    filename = f"tthc-{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(to_csv(table), media_type="text/csv; charset=utf-8", headers=headers)
