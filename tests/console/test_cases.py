"""Cases in the browser: search and filters, and an import with errors, then fixed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.async_api import Page, expect
from sqlmodel import select

from api.console.search import overdue
from bot.cases.rules import get_case
from bot.privacy.hashing import mask_name
from bot.staff import demo
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Case
from tests.console.conftest import Console, add_staff, login, submit

HEADER = "ma_ho_so,ma_thu_tuc,co_quan,ho_ten,so_dien_thoai,ngay_nhan,ngay_hen_tra,trang_thai,ghi_chu"
GOOD = [
    "000.00.15.H57-261120-0201,cu-tru.dang-ky-tam-tru,Công an xã Phú Thượng,Nguyễn Văn An,0912345678,"
    "20/11/2026 08:30,25/11/2026,Đang giải quyết,",
    "000.00.15.H57-261120-0202,can-cuoc.cap-the,Công an xã Phú Thượng,Trần Thị Bình,0987654321,"
    "20/11/2026 09:00,27/11/2026,rejected,Không thuộc thẩm quyền",
]
BAD = [
    GOOD[0],
    "000.00.15.H57-261120-0202,can-cuoc.cap-the,Công an xã Phú Thượng,Trần Thị Bình,09876,"
    "20/11/2026 09:00,27/11/2026,rejected,Không thuộc thẩm quyền",
    "000.00.15.H57-261120-0203,khong-co-thu-tuc,Công an xã Phú Thượng,Lê Văn Cường,0911222333,"
    "20/11/2026 09:30,30/02/2026,received,",
]


async def test_an_import_with_errors_then_fixed(console: Console, page: Page, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    await add_staff(engine, "canbo", "officer")
    await login(page, console, "canbo")
    await page.get_by_role("link", name="Nhập hồ sơ").click()
    bad = tmp_path / "hoso-thang-11.csv"
    bad.write_text("\n".join([HEADER, *BAD]) + "\n", encoding="utf-8")
    await page.get_by_label("Tệp CSV hoặc XLSX").set_input_files(bad)
    await submit(page, page.get_by_role("button", name="Xem trước"))
    errors = page.locator("#import-errors tbody tr")
    await expect(errors).to_have_count(3)
    wheres = [await e.get_attribute("data-where") for e in await errors.all()]
    assert wheres == [
        "hoso-thang-11.csv:3:so_dien_thoai",
        "hoso-thang-11.csv:4:ma_thu_tuc",
        "hoso-thang-11.csv:4:ngay_hen_tra",
    ]
    await expect(errors.first).to_contain_text("hoso-thang-11.csv")
    await expect(page.get_by_role("alert")).to_contain_text("chưa ghi gì")
    await expect(page.get_by_role("button", name="Áp dụng")).to_have_count(0)  # nothing to apply

    fixed = tmp_path / "hoso-thang-11-da-sua.csv"
    fixed.write_text("\n".join([HEADER, *GOOD]) + "\n", encoding="utf-8")
    await page.get_by_label("Tệp CSV hoặc XLSX").set_input_files(fixed)
    await submit(page, page.get_by_role("button", name="Xem trước"))
    await expect(page.get_by_role("status")).to_contain_text("Tệp hợp lệ: 2 dòng. Khi áp dụng sẽ có 2 hồ sơ mới")
    async with session_scope(engine) as s:
        assert (await s.exec(select(Case))).all() == []  # the preview wrote nothing
    await submit(page, page.get_by_role("button", name="Áp dụng: nhập 2 dòng"))
    await expect(page.get_by_role("status")).to_contain_text("Đã nhập tệp hoso-thang-11-da-sua.csv: 2 hồ sơ mới")
    async with session_scope(engine) as s:
        case = await get_case(s, "0000015H572611200202")
        assert case is not None and case.status == "rejected" and case.status_note == "Không thuộc thẩm quyền"
        entry = (await s.exec(select(AuditEntry).where(AuditEntry.action == "case.import"))).one()
    assert entry.actor == "canbo" and entry.after["created"] == 2  # type: ignore[index]
    assert not list((Path(console.services.settings.data_dir) / "console-uploads").iterdir())  # no upload left


async def test_search_filters_sort_and_pages(console: Console, page: Page, engine, kb, settings) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        cases = await demo.seed(session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=36)
        names = {c.display_code: c.applicant_name for c in (await s.exec(select(Case))).all()}
    await add_staff(engine, "canbo", "officer")
    await login(page, console, "canbo")
    rows = page.locator("#cases tbody tr")
    await expect(rows).to_have_count(20)
    await expect(page.get_by_role("navigation", name="Phân trang (đầu danh sách)")).to_contain_text(
        "36 hồ sơ · trang 1/2"
    )
    await submit(page, page.get_by_role("link", name="Trang sau →").first)
    await expect(rows).to_have_count(16)
    first = cases[0]
    for query in (first.code, first.code.replace(".", "").replace("-", ""), first.code.lower().replace("-", " ")):
        await page.goto(console.at("/console/cases"))
        await page.get_by_label("Tìm kiếm").fill(query)
        await submit(page, page.get_by_role("button", name="Lọc"))
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text(mask_name(names[first.code]))  # the name masked in the list
    await page.get_by_label("Tìm kiếm").fill(first.phone_last4)
    await submit(page, page.get_by_role("button", name="Lọc"))
    codes = [await r.get_attribute("data-code") for r in await rows.all()]
    assert first.code in codes
    full = names[first.code]
    await page.get_by_label("Tìm kiếm").fill(mask_name(full).replace("*", ""))  # as the list shows it
    await submit(page, page.get_by_role("button", name="Lọc"))
    expected = sorted(c for c, n in names.items() if mask_name(n) == mask_name(full))
    assert sorted([await r.get_attribute("data-code") for r in await rows.all()]) == expected
    await page.get_by_label("Tìm kiếm").fill("")
    await page.get_by_label("Trạng thái").select_option("rejected")
    await submit(page, page.get_by_role("button", name="Lọc"))
    await expect(rows).to_have_count(sum(1 for c in cases if c.status == "rejected"))
    await page.goto(console.at("/console/cases?due=overdue&sort=due&order=asc"))
    async with session_scope(engine) as s:  # the late cases, as the dashboard lists them
        late = await overdue(s, today=dt.datetime.now(settings.tz).date())
    assert late, "the demo data has late cases"
    await expect(rows).to_have_count(len(late))
    assert [await r.get_attribute("data-code") for r in await rows.all()] == [c.display_code for c in late]
