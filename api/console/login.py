"""Signing in and out of the console (`/console/login`, `/console/logout`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.console.auth import (
    COOKIE,
    LOGIN_COOKIE,
    OfficerForm,
    address,
    clear_session_cookie,
    login_token_ok,
    new_login_token,
    set_cookie,
    start_session_cookie,
)
from api.console.web import PREFIX, ConsoleRoute, Db, redirect, render
from bot.accounts import sessions, throttle, users
from bot.accounts.roles import allows
from bot.storage.models import utcnow

router = APIRouter(route_class=ConsoleRoute)
LOGIN_TOKEN_AGE = 30 * 60


def _next(target: str | None) -> str | None:
    """A page of the console to go back to after signing in; anything else (another site) is dropped."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _form(
    request: Request, *, status: int = 200, error: str | None = None, username: str = "", nxt: str = ""
) -> HTMLResponse:
    token = new_login_token()
    context = {
        "login_token": token,
        "error": error,
        "username": username,
        "next": _next(nxt) or "",
        "bye": request.query_params.get("bye") == "1",
    }
    response = render(request, "login.html", context, status=status)
    set_cookie(response, request, LOGIN_COOKIE, token, max_age=LOGIN_TOKEN_AGE, path=f"{PREFIX}/login")
    return response


@router.get(f"{PREFIX}/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request, db: Db) -> Response:
    if await sessions.resume(db, request.cookies.get(COOKIE), now=utcnow()) is not None:
        return redirect(PREFIX)
    return _form(request, nxt=request.query_params.get("next", ""))


@router.post(f"{PREFIX}/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if not login_token_ok(request, csrf_token):
        message = "Biểu mẫu đăng nhập đã hết hạn hoặc không hợp lệ. Vui lòng nhập lại."
        return _form(request, status=403, error=message, username=username, nxt=next)
    result = await users.sign_in(db, username, password, address=address(request))
    if result.outcome == "locked":
        assert result.until is not None
        tz = request.app.state.services.settings.tz
        until = result.until.astimezone(tz)
        message = (
            f"Đã đăng nhập sai quá {throttle.LIMIT} lần trong {int(throttle.WINDOW.total_seconds() // 60)} phút. "
            f"Tài khoản và máy này tạm thời bị khóa; vui lòng thử lại sau {until:%H:%M} ngày {until:%d/%m/%Y}."
        )
        return _form(request, status=429, error=message, username=username, nxt=next)
    if result.outcome == "refused" or result.account is None or result.token is None:
        message = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa."
        return _form(request, status=401, error=message, username=username, nxt=next)
    home = PREFIX if allows(result.account.role, "lead") else f"{PREFIX}/cases"
    response = redirect(_next(next) or home)
    start_session_cookie(response, request, result.token)
    response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login", httponly=True, samesite="strict")
    return response


@router.post(f"{PREFIX}/logout", include_in_schema=False)
async def logout(request: Request, db: Db, me: OfficerForm) -> Response:
    await sessions.end(db, request.cookies.get(COOKIE))
    response = redirect(f"{PREFIX}/login?bye=1")
    clear_session_cookie(response, request)
    return response
