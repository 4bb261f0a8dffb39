"""Administration (admins only): staff accounts, API keys of the staff API, and the audit log.

Account and key changes go through the core (bot/accounts/users.py, bot/staff/apikeys.py), each written to the
audit log in the same transaction. A new API key is shown once, on the page that created it, never again.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from api.console.auth import Admin, AdminForm
from api.console.web import PREFIX, ConsoleRoute, Db, redirect, render
from bot.accounts import audit, users
from bot.accounts.roles import ROLES
from bot.staff import apikeys

router = APIRouter(route_class=ConsoleRoute)
PER_PAGE = 50
DONE = {
    "add": "Đã thêm tài khoản.",
    "disable": "Đã khóa tài khoản; các phiên đăng nhập của tài khoản đã kết thúc.",
    "enable": "Đã mở lại tài khoản.",
    "role": "Đã đổi vai trò.",
    "password": "Đã đặt lại mật khẩu; các phiên đăng nhập của tài khoản đã kết thúc.",
    "revoke": "Đã thu hồi khóa API.",
}


async def _accounts_page(request: Request, db: Db, *, error: str | None = None, status: int = 200) -> Response:
    context = {
        "title": "Tài khoản cán bộ",
        "section": "accounts",
        "accounts": await users.list_accounts(db),
        "roles": ROLES,
        "error": error,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "accounts.html", context, status=status)


@router.get(f"{PREFIX}/accounts", include_in_schema=False)
async def accounts(request: Request, me: Admin, db: Db) -> Response:
    return await _accounts_page(request, db)


@router.post(f"{PREFIX}/accounts", include_in_schema=False)
async def add_account(
    request: Request,
    me: AdminForm,
    db: Db,
    username: Annotated[str, Form(max_length=60)] = "",
    role: Annotated[str, Form(max_length=20)] = "officer",
    password: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        await users.add(db, username, role, password, by=me.actor)
    except users.AccountError as exc:
        return await _accounts_page(request, db, error=f"Chưa thêm được tài khoản: {exc}.", status=422)
    return redirect(f"{PREFIX}/accounts?done=add")


@router.post(f"{PREFIX}/accounts/{{username}}", include_in_schema=False)
async def change_account(
    request: Request,
    username: str,
    me: AdminForm,
    db: Db,
    action: Annotated[str, Form(max_length=20)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        if action in {"disable", "enable"}:
            await users.set_active(db, username, action == "enable", by=me.actor)
        elif action == "role":
            await users.set_role(db, username, role, by=me.actor)
        elif action == "password":
            await users.set_password(db, username, password, by=me.actor)
        else:
            raise users.AccountError("thao tác không hợp lệ")
    except users.AccountError as exc:
        await db.rollback()
        return await _accounts_page(
            request, db, error=f"Chưa thực hiện được với tài khoản {username}: {exc}.", status=422
        )
    return redirect(f"{PREFIX}/accounts?done={action}")


async def _keys_page(
    request: Request, db: Db, *, error: str | None = None, created: tuple[str, str] | None = None, status: int = 200
) -> Response:
    context = {
        "title": "Khóa API",
        "section": "apikeys",
        "keys": await apikeys.list_keys(db),
        "scopes": apikeys.SCOPES,
        "error": error,
        "created": created,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "apikeys.html", context, status=status)


@router.get(f"{PREFIX}/apikeys", include_in_schema=False)
async def keys(request: Request, me: Admin, db: Db) -> Response:
    return await _keys_page(request, db)


@router.post(f"{PREFIX}/apikeys", include_in_schema=False)
async def create_key(
    request: Request,
    me: AdminForm,
    db: Db,
    name: Annotated[str, Form(max_length=100)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> Response:
    try:
        key, token = await apikeys.create(db, name.strip(), scopes or [])
    except apikeys.ApiKeyError as exc:
        return await _keys_page(request, db, error=f"Chưa tạo được khóa: {exc}.", status=422)
    await audit.record(
        db, me.actor, "apikey.create", f"apikey:{key.name}", after={"name": key.name, "scopes": key.scopes}
    )
    return await _keys_page(request, db, created=(key.name, token))


@router.post(f"{PREFIX}/apikeys/{{name}}/revoke", include_in_schema=False)
async def revoke_key(request: Request, name: str, me: AdminForm, db: Db) -> Response:
    try:
        existing = await apikeys.find(db, name)
        was_revoked = existing is not None and existing.revoked_at is not None
        key = await apikeys.revoke(db, name)
    except apikeys.ApiKeyError as exc:
        return await _keys_page(request, db, error=f"Chưa thu hồi được: {exc}.", status=422)
    if not was_revoked:
        before, after = {"revoked_at": None}, {"revoked_at": key.revoked_at}
        await audit.record(db, me.actor, "apikey.revoke", f"apikey:{key.name}", before=before, after=after)
    return redirect(f"{PREFIX}/apikeys?done=revoke")


@router.get(f"{PREFIX}/audit", include_in_schema=False)
async def audit_log(
    request: Request,
    me: Admin,
    db: Db,
    action: Annotated[str, Query(max_length=40)] = "",
    actor: Annotated[str, Query(max_length=60)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    action = action if action in audit.ACTIONS else ""
    total, entries = await audit.entries(
        db, action=action or None, actor=actor.strip() or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    context = {
        "title": "Nhật ký thay đổi",
        "section": "audit",
        "entries": entries,
        "actions": audit.ACTIONS,
        "action": action,
        "actor": actor.strip(),
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / PER_PAGE)),
    }
    return render(request, "audit.html", context)
