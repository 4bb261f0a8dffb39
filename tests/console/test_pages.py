"""Every main page in the browser: the accessibility check (axe-core: no violation of serious or critical impact,
the full counts printed), the phone's width (nothing wider than the screen), and, with CONSOLE_SCREENSHOTS=1, the
screenshots of docs/console/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlmodel import select

from bot.feedback import tickets
from bot.storage.db import session_scope
from bot.storage.models import Case
from tests.console.conftest import ROOT_DIR, Console, add_staff, axe, login, submit
from tests.console.test_dashboard import _seed

SHOTS = ROOT_DIR / "docs" / "console"


async def _prepare(engine, kb, settings) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Demo cases, surveys, questions, feedback and notifications; a case code and a feedback number to open."""
    await _seed(engine, kb, settings)
    async with session_scope(engine) as s:
        fb = await tickets.create(
            s, chat_id=4242, category="thu-tuc", text="Xin hỏi vì sao hồ sơ của tôi chưa có kết quả? SĐT 0912 345 678"
        )
        case = (await s.exec(select(Case).where(Case.status == "need_supplement"))).first()
        assert case is not None
        return case.display_code, fb.tracking_no


async def _pages(page: Page, console: Console, code: str, no: str, tmp_path: Path) -> list[tuple[str, str]]:
    """(name, what to do to reach it): the pages as an admin sees them."""
    return [
        ("dashboard", "/console"),
        ("cases", "/console/cases"),
        ("case", f"/console/cases/{code}"),
        ("import", "/console/cases/import"),
        ("feedback", "/console/feedback"),
        ("feedback-ticket", f"/console/feedback/{no}"),
        ("questions", "/console/questions"),
        ("accounts", "/console/accounts"),
        ("apikeys", "/console/apikeys"),
        ("audit", "/console/audit"),
        ("not-found", "/console/khong-co"),
    ]


async def _import_preview(page: Page, console: Console, tmp_path: Path) -> None:
    bad = tmp_path / "hoso.csv"
    bad.write_text(
        "ma_ho_so,ma_thu_tuc,co_quan,ho_ten,so_dien_thoai,ngay_nhan,ngay_hen_tra\n"
        "000.00.15.H57-261120-0301,cu-tru.dang-ky-tam-tru,Công an xã,Nguyễn Văn An,09123,20/11/2026,25/11/2026\n",
        encoding="utf-8",
    )
    await page.goto(console.at("/console/cases/import"))
    await page.get_by_label("Tệp CSV hoặc XLSX").set_input_files(bad)
    await submit(page, page.get_by_role("button", name="Xem trước"))
    await expect(page.locator("#import-errors tbody tr")).to_have_count(1)


async def test_every_main_page_passes_the_accessibility_check(  # type: ignore[no-untyped-def]
    console: Console, page: Page, engine, kb, settings, tmp_path: Path
) -> None:
    code, no = await _prepare(engine, kb, settings)
    await add_staff(engine, "quantri", "admin")
    await page.goto(console.at("/console/login"))
    results = {"login": await axe(page)}
    await login(page, console, "quantri")
    for name, path in await _pages(page, console, code, no, tmp_path):
        await page.goto(console.at(path))
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        results[name] = await axe(page)
    await _import_preview(page, console, tmp_path)
    results["import-preview"] = await axe(page)
    await page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing wider than its screen
    for name, path in await _pages(page, console, code, no, tmp_path):
        await page.goto(console.at(path))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{name} is {width}px wide on a 360px screen"
    print("\naxe-core violations (nodes) per page:")
    for name, counts in results.items():
        print(f"  {name:16s} {counts}")
    bad = {name: c for name, c in results.items() if c["serious"] or c["critical"]}
    assert not bad, f"serious or critical accessibility violations: {bad}"


async def test_keyboard_only(console: Console, page: Page, engine) -> None:  # type: ignore[no-untyped-def]
    """Sign in and reach the case list with the keyboard alone; the skip link comes first."""
    await add_staff(engine, "canbo", "officer")
    await page.goto(console.at("/console/login"))
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Bỏ qua, tới nội dung chính")).to_be_focused()
    await page.keyboard.press("Enter")  # past the header, into the page's content
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Tên đăng nhập")).to_be_focused()
    await page.keyboard.type("canbo")
    await page.keyboard.press("Tab")
    await page.keyboard.type("mat-khau-thu-nghiem-1")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page).to_have_url(console.at("/console/cases"))


@pytest.mark.skipif(os.environ.get("CONSOLE_SCREENSHOTS") != "1", reason="set CONSOLE_SCREENSHOTS=1 to write them")
async def test_screenshots(console: Console, page: Page, engine, kb, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The screenshots of docs/console.md, written to docs/console/ (PNG)."""
    code, no = await _prepare(engine, kb, settings)
    await add_staff(engine, "quantri", "admin")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.goto(console.at("/console/login"))
    await page.screenshot(path=SHOTS / "login.png")
    await login(page, console, "quantri")
    for name, path in await _pages(page, console, code, no, tmp_path):
        if name == "not-found":
            continue
        await page.goto(console.at(path))
        await page.screenshot(path=SHOTS / f"{name}.png", full_page=name != "dashboard")
    await _import_preview(page, console, tmp_path)
    await page.screenshot(path=SHOTS / "import-preview.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(console.at(f"/console/cases/{code}"))
    await page.screenshot(path=SHOTS / "case-phone.png")
