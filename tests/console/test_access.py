"""Signing in, the lockout, sessions, CSRF and roles, in the browser."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect
from sqlmodel import select

from bot.cases.rules import get_case
from bot.staff import demo
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, LoginAttempt, StaffSession
from tests.console.conftest import PASSWORD, Console, add_staff, login, submit


async def test_login_and_lockout(console: Console, page: Page, engine) -> None:  # type: ignore[no-untyped-def]
    await add_staff(engine, "canbo", "officer")
    await add_staff(engine, "lanhdao", "lead")
    await page.goto(console.at("/console/cases"))  # not signed in: to the login page, and back after
    await expect(page).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2Fcases$"))
    await login(page, console, "canbo")
    await expect(page).to_have_url(console.at("/console/cases"))
    cookie = next(c for c in await page.context.cookies() if c["name"] == "tthc_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert not cookie["secure"]  # plain HTTP here; Secure when served over TLS
    assert await submit(page, page.get_by_role("button", name="Đăng xuất")) == 200
    await expect(page.get_by_role("status")).to_contain_text("đã đăng xuất")
    async with session_scope(engine) as s:
        assert (await s.exec(select(StaffSession))).all() == []  # signing out ends the session on the server

    for _ in range(5):
        await page.get_by_label("Tên đăng nhập").fill("canbo")
        await page.get_by_label("Mật khẩu").fill("sai-mat-khau-roi")
        assert await submit(page, page.get_by_role("button", name="Đăng nhập")) == 401
        await expect(page.get_by_role("alert")).to_contain_text("không đúng")
    await page.get_by_label("Tên đăng nhập").fill("canbo")  # the right password now waits
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    assert await submit(page, page.get_by_role("button", name="Đăng nhập")) == 429
    await expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"tạm thời bị khóa; vui lòng thử lại sau \d\d:\d\d")
    )
    await page.get_by_label("Tên đăng nhập").fill("lanhdao")  # another account from the same address waits too
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    assert await submit(page, page.get_by_role("button", name="Đăng nhập")) == 429
    async with session_scope(engine) as s:
        attempts = (await s.exec(select(LoginAttempt))).all()
    assert sorted((a.username, a.success) for a in attempts) == [("canbo", False)] * 5 + [("canbo", True)]


async def test_csrf_refused(console: Console, page: Page, engine, kb, settings) -> None:  # type: ignore[no-untyped-def]
    await add_staff(engine, "canbo", "officer")
    async with session_scope(engine) as s:
        cases = await demo.seed(session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=8)
    code = next(c.code for c in cases if c.status == "received")
    await login(page, console, "canbo")
    # a form posted without the token (as another site would): refused, nothing written
    forged = await page.request.post(console.at(f"/console/cases/{code}/status"), form={"status": "in_progress"})
    assert forged.status == 403 and "mã chống giả mạo" in await forged.text()
    forged = await page.request.post(
        console.at(f"/console/cases/{code}/status"), form={"status": "in_progress", "csrf_token": "x" * 43}
    )
    assert forged.status == 403
    # the page's own form with its token tampered with
    await page.goto(console.at(f"/console/cases/{code}"))
    await page.locator("form[action$='/status'] input[name=csrf_token]").evaluate("e => e.value = 'doi-ma'")
    assert await submit(page, page.get_by_role("button", name="Lưu trạng thái")) == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Biểu mẫu không hợp lệ")
    # the login form's own token
    anonymous = await page.context.browser.new_context()  # type: ignore[union-attr]
    refused = await anonymous.request.post(
        console.at("/console/login"), form={"username": "canbo", "password": PASSWORD}
    )
    assert refused.status == 403 and not any(c["name"] == "tthc_console" for c in await anonymous.cookies())
    await anonymous.close()
    async with session_scope(engine) as s:
        case = await get_case(s, code)
        assert case is not None and case.status == "received"
        assert (await s.exec(select(AuditEntry).where(AuditEntry.action == "case.status"))).all() == []


async def test_an_officer_is_refused_an_admin_page(console: Console, page: Page, engine) -> None:  # type: ignore[no-untyped-def]
    await add_staff(engine, "canbo", "officer")
    await login(page, console, "canbo")
    for path in ("/console/accounts", "/console/apikeys", "/console/audit", "/console/questions"):
        response = await page.goto(console.at(path))
        assert response is not None and response.status == 403, path
        await expect(page.get_by_role("heading", level=1)).to_have_text("Không có quyền truy cập")
        await expect(page.get_by_role("alert")).to_contain_text("cán bộ một cửa")
    export = await page.request.get(console.at("/console/export/status.csv"))
    assert export.status == 403
    nav = page.get_by_role("navigation", name="Các trang chính")
    await expect(nav.get_by_role("link")).to_have_text(["Hồ sơ", "Nhập hồ sơ", "Góp ý"])  # only what they may open
    response = await page.goto(console.at("/console"))  # the dashboard is for leads: officers land on the cases
    await expect(page).to_have_url(console.at("/console/cases"))
    forged = await page.request.post(console.at("/console/accounts"), form={"username": "hacker", "password": PASSWORD})
    assert forged.status == 403
    missing = await page.goto(console.at("/console/khong-co-trang-nay"))
    assert missing is not None and missing.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy")
