"""Who is signed in, what they may open, and the CSRF check of every form.

The session cookie (`tthc_console`) holds a random token whose SHA-256 names a `staffsession` row
(bot/accounts/sessions.py); it is HttpOnly, SameSite=Strict, limited to /console, and Secure when the request came
over TLS (directly, or through a proxy uvicorn trusts, with X-Forwarded-Proto). Every POST carries the session's
CSRF token in a hidden field `csrf_token`, compared in constant time; the login form, which has no session yet,
carries a token that must equal the one in its own short-lived cookie (a double submit).
"""

# No `from __future__ import annotations` here: the dependencies made in `role` and `posted` are annotated with
# their local variables, which FastAPI could not find if the annotations were strings evaluated in the module.
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from api.console.web import PREFIX, CsrfRefused, Db, Denied, LoginNeeded
from bot.accounts import audit, sessions
from bot.accounts.roles import ROLES, allows
from bot.storage.models import utcnow

COOKIE = "tthc_console"
LOGIN_COOKIE = "tthc_console_login"
NEEDS = {"officer": "cán bộ một cửa", "lead": "lãnh đạo", "admin": "quản trị viên"}


@dataclass(frozen=True)
class Me:
    """The signed-in staff member as pages see them."""

    id: int
    username: str
    role: str
    csrf_token: str
    address: str

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def can(self, needed: str) -> bool:
        return allows(self.role, needed)

    @property
    def actor(self) -> audit.Actor:
        """This person as the audit log names them."""
        return audit.Actor(self.username, self.id, self.address)

    @property
    def source(self) -> str:
        """How a case's history names their changes."""
        return f"console:{self.username}"[:40]


def address(request: Request) -> str:
    return (request.client.host if request.client else "") or "unknown"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int, path: str) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, samesite="strict", secure=_secure(request)
    )


def start_session_cookie(response: Response, request: Request, token: str) -> None:
    set_cookie(response, request, COOKIE, token, max_age=int(sessions.LIFETIME.total_seconds()), path=PREFIX)


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=_secure(request))


async def signed_in(request: Request, db: Db) -> Me:
    """The signed-in staff member; LoginNeeded (to the login page) when the cookie names no valid session."""
    current = await sessions.resume(db, request.cookies.get(COOKIE), now=utcnow())
    if current is None:
        raise LoginNeeded("Vui lòng đăng nhập.")
    account = current.account
    assert account.id is not None
    me = Me(account.id, account.username, account.role, current.csrf_token, address(request))
    request.state.console_staff = me
    return me


def role(needed: str) -> Callable[[Me], Awaitable[Me]]:
    """A dependency letting through staff whose role allows `needed` (officer < lead < admin)."""

    async def check(me: Annotated[Me, Depends(signed_in)]) -> Me:
        if not me.can(needed):
            raise Denied(f"Trang này dành cho {NEEDS[needed]}. Tài khoản của Anh/Chị là {me.role_label.lower()}.")
        return me

    return check


def posted(needed: str) -> Callable[[Me, str], Awaitable[Me]]:
    """`role(needed)` for a form: also checks the session's CSRF token in the `csrf_token` field."""

    allowed = role(needed)

    async def check(me: Annotated[Me, Depends(allowed)], csrf_token: Annotated[str, Form()] = "") -> Me:
        if not csrf_token or not hmac.compare_digest(me.csrf_token.encode(), csrf_token.encode()):
            raise CsrfRefused(
                "Biểu mẫu này không còn hợp lệ (thiếu hoặc sai mã chống giả mạo). "
                "Vui lòng tải lại trang rồi thực hiện lại; chưa có thay đổi nào được lưu."
            )
        return me

    return check


Officer = Annotated[Me, Depends(role("officer"))]
Lead = Annotated[Me, Depends(role("lead"))]
Admin = Annotated[Me, Depends(role("admin"))]
OfficerForm = Annotated[Me, Depends(posted("officer"))]
AdminForm = Annotated[Me, Depends(posted("admin"))]


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def login_token_ok(request: Request, given: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())
