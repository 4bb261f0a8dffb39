"""The console's plumbing: its route class (errors become Vietnamese HTML pages, never JSON or a traceback), the
Jinja2 templates and their filters, and the database session of a request.

Every console route is a `ConsoleRoute`: an exception raised by a route or one of its dependencies is answered
here, inside the route, so the staff API's JSON error handlers (api/errors.py) never see a console request.
`Refusal` and its subclasses are the expected ones (sign in first, not allowed, not found, a form that cannot be
read); anything else is logged with an error id and shown as a polite page quoting it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import quote, urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import Services
from bot.storage.db import session_scope

log = logging.getLogger("api.console")
PREFIX = "/console"
TEMPLATES = Path(__file__).resolve().parent / "templates"


class Refusal(Exception):
    """An expected refusal, shown as a page with `status`, a title and a sentence."""

    status = 400
    title = "Yêu cầu không hợp lệ"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginNeeded(Refusal):
    status = 303
    title = "Cần đăng nhập"


class Denied(Refusal):
    status = 403
    title = "Không có quyền truy cập"


class CsrfRefused(Refusal):
    status = 403
    title = "Biểu mẫu không hợp lệ"


class NotFound(Refusal):
    status = 404
    title = "Không tìm thấy"


def services_of(request: Request) -> Services:
    return cast(Services, request.app.state.services)


async def _db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction, committed before the page is sent, rolled back when the route raises."""
    async with session_scope(services_of(request).engine) as session:
        yield session


Db = Annotated[AsyncSession, Depends(_db, scope="function")]


# --- formatting -------------------------------------------------------------------------------------------------


def number(value: float | int | None, decimals: int = 0) -> str:
    """1234567 -> '1.234.567'; 92.5 with 1 decimal -> '92,5' (Vietnamese separators)."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(rate: float | None) -> str:
    """0.925 -> '92,5%'."""
    return "—" if rate is None else f"{number(rate * 100, 1)}%"


def money(value: int | None) -> str:
    """50000 -> '50.000 đồng'; 0 -> 'Miễn phí'."""
    if value is None:
        return "—"
    return "Miễn phí" if value == 0 else f"{number(value)} đồng"


def date_filters(tz: Any) -> tuple[Callable[[Any], str], Callable[[Any], str]]:
    """dd/mm/yyyy and dd/mm/yyyy HH:MM in the deployment's time zone (a date is shown as it is)."""

    def date(value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return "—"
        return (value.astimezone(tz) if isinstance(value, dt.datetime) else value).strftime("%d/%m/%Y")

    def datetime(value: dt.datetime | None) -> str:
        return "—" if value is None else value.astimezone(tz).strftime("%d/%m/%Y %H:%M")

    return date, datetime


def make_environment(tz: Any) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"], env.filters["datetime"] = date_filters(tz)
    env.filters["number"] = number
    env.filters["percent"] = percent
    env.filters["money"] = money
    env.filters["urlquote"] = lambda s: quote(str(s), safe="")
    env.globals["PREFIX"] = PREFIX
    env.globals["with_query"] = with_query
    env.globals["query_string"] = query_string
    return env


def with_query(request: Request, **changes: Any) -> str:
    """This page's address with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def query_string(request: Request, drop: tuple[str, ...] = ("page", "done")) -> str:
    """This page's query (without paging and notices), for links that keep its filters, e.g. the CSV exports."""
    params = {k: v for k, v in request.query_params.items() if k not in drop}
    return f"?{urlencode(params)}" if params else ""


def environment(request: Request) -> Environment:
    """One Jinja2 environment per application (kept on app.state), in the deployment's time zone."""
    env = getattr(request.app.state, "console_templates", None)
    if env is None:
        env = request.app.state.console_templates = make_environment(services_of(request).settings.tz)
    return cast(Environment, env)


def render(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """A page; the template gets `request`, the signed-in staff member (`me`, when there is one) and `context`."""
    me = getattr(request.state, "console_staff", None)
    html = environment(request).get_template(template).render(request=request, me=me, **context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(path: str) -> RedirectResponse:
    """After a form: back to a page with GET (a reload does not post the form again)."""
    return RedirectResponse(path, status_code=303)


def svg(markup: str) -> Markup:
    return Markup(markup)


# --- errors -----------------------------------------------------------------------------------------------------


def _refusal_page(request: Request, exc: Refusal) -> Response:
    if isinstance(exc, LoginNeeded):  # back to the page after signing in (a form's target cannot be reopened)
        if request.method != "GET":
            return redirect(f"{PREFIX}/login")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PREFIX}/login?next={quote(target, safe='')}")
    return render(request, "error.html", {"title": exc.title, "message": exc.message}, status=exc.status)


def _unexpected(request: Request, exc: Exception) -> Response:
    error_id = uuid.uuid4().hex[:12]
    log.error("console: unexpected error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    message = (
        f"Đã có lỗi ngoài dự kiến; chưa có thay đổi nào được lưu. Khi báo lỗi, vui lòng ghi lại mã lỗi {error_id}."
    )
    try:
        return render(request, "error.html", {"title": "Đã có lỗi", "message": message}, status=500)
    except Exception:  # the error page itself failed: plain text, still without a traceback
        return Response(message, status_code=500, media_type="text/plain; charset=utf-8")


class ConsoleRoute(APIRoute):
    """Console routes answer every error themselves, as an HTML page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Refusal as exc:
                return _refusal_page(request, exc)
            except RequestValidationError as exc:  # logged by where, never by value (it may be personal)
                log.warning("console: unreadable input at %s", [e.get("loc") for e in exc.errors()])
                return _refusal_page(
                    request, Refusal("Biểu mẫu hoặc địa chỉ trang có giá trị không đọc được. Vui lòng thử lại.")
                )
            except Exception as exc:
                return _unexpected(request, exc)

        return handler
