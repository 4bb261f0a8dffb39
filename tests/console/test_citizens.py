"""What citizens receive from the console: a status change and a feedback reply reach their Telegram chat on the
fake Bot API server, through the real PTB application and the bot's own outbox dispatcher."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect
from sqlmodel import select

from bot.replies import messages as m
from bot.staff import demo
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, CaseEvent, Outbox
from tests.console.conftest import Console, add_staff, deliver, login, submit
from tests.handlers.conftest import Harness

CHAT = 5301


async def _follow(bot: Harness, case: demo.DemoCase) -> None:
    citizen = bot.citizen(CHAT)
    await citizen.command("tracuu", case.code)
    card = (await citizen.say(case.phone_last4)).message
    assert f"Hồ sơ {case.code}" in card["text"]
    await citizen.tap(card, m.FOLLOW_BUTTON)


def _texts(bot: Harness) -> list[str]:
    return [msg["text"] for msg in bot.server.bot_messages(CHAT)]


async def test_a_status_change_reaches_the_citizen(  # type: ignore[no-untyped-def]
    console: Console, page: Page, bot: Harness, engine, kb, settings
) -> None:
    async with session_scope(engine) as s:
        cases = await demo.seed(session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=8)
    case = next(c for c in cases if c.status == "in_progress")
    await _follow(bot, case)
    await add_staff(engine, "canbo", "officer")
    await login(page, console, "canbo")
    await page.get_by_label("Tìm kiếm").fill(case.code.replace(".", "").replace("-", " ").lower())  # any spelling
    await submit(page, page.get_by_role("button", name="Lọc"))
    await expect(page.locator("#cases tbody tr")).to_have_count(1)
    await submit(page, page.get_by_role("link", name=case.code))

    # the rules table refuses overdue without a new date: the field says so, nothing is written
    await page.get_by_label("Trạng thái mới").select_option("overdue")
    assert await submit(page, page.get_by_role("button", name="Lưu trạng thái")) == 422
    await expect(page.locator("#new_date-error")).to_have_text(
        "Trạng thái «Quá hạn, đã hẹn lại ngày trả» cần ngày hẹn trả mới."
    )
    await expect(page.get_by_label("Ngày hẹn trả mới (khi quá hạn)")).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("Ngày hẹn trả mới (khi quá hạn)").fill("32/13/2026")
    assert await submit(page, page.get_by_role("button", name="Lưu trạng thái")) == 422
    await expect(page.locator("#new_date-error")).to_contain_text("ví dụ 05/12/2026")

    missing = ["Tờ khai thay đổi thông tin cư trú", "Bản sao giấy khai sinh"]
    await page.get_by_label("Trạng thái mới").select_option("need_supplement")
    await page.get_by_label("Ngày hẹn trả mới (khi quá hạn)").fill("")
    await page.get_by_label("Giấy tờ cần bổ sung (mỗi dòng một loại)").fill("\n".join(missing))
    assert await submit(page, page.get_by_role("button", name="Lưu trạng thái")) == 200
    await expect(page.get_by_role("status")).to_contain_text("Đã xếp hàng 1 tin nhắn Telegram")
    await expect(page.locator("#current-status")).to_have_text("Cần bổ sung hồ sơ")
    await expect(page.locator("#history tbody tr").last).to_contain_text("console:canbo")

    await deliver(bot)
    await bot.server.wait_until(lambda: any("cần bổ sung giấy tờ" in t for t in _texts(bot)), 10, "the message")
    pushed = next(t for t in _texts(bot) if "cần bổ sung giấy tờ" in t)
    assert pushed.startswith(f"📎 Hồ sơ {case.code} cần bổ sung giấy tờ.") and all(d in pushed for d in missing)
    async with session_scope(engine) as s:
        events = (await s.exec(select(CaseEvent).where(CaseEvent.source == "console:canbo"))).all()
        sent = (await s.exec(select(Outbox).where(Outbox.kind == "status:need_supplement"))).all()
        entry = (await s.exec(select(AuditEntry).where(AuditEntry.action == "case.status"))).one()
    assert [e.status for e in events] == ["need_supplement"] and [r.status for r in sent] == ["sent"]
    assert entry.actor == "canbo" and entry.before["status"] == "in_progress"  # type: ignore[index]
    assert entry.after["status"] == "need_supplement" and entry.after["missing"] == missing  # type: ignore[index]


async def test_a_feedback_reply_reaches_the_citizen(  # type: ignore[no-untyped-def]
    console: Console, page: Page, bot: Harness, engine
) -> None:
    citizen = bot.citizen(CHAT)
    pick = (await citizen.command("gopy")).message
    await citizen.tap(pick, "Kiến nghị")
    asked = await citizen.say("Đề nghị niêm yết lệ phí rõ hơn, gọi tôi 0912 345 678")
    done = (await citizen.tap(asked.message, m.SKIP)).message
    number = re.search(r"GY-[0-9A-Z]{6,10}", done["text"])
    assert number is not None
    tracking_no = number.group(0)

    await add_staff(engine, "canbo", "officer")
    await login(page, console, "canbo")
    await page.get_by_role("navigation", name="Các trang chính").get_by_role("link", name="Góp ý").click()
    row = page.locator(f"#feedback tr[data-no='{tracking_no}']")
    await expect(row).to_contain_text("Mới")
    await expect(row).to_contain_text("<số>")  # the phone number masked
    await submit(page, row.get_by_role("link", name=tracking_no))
    await page.get_by_label("Giao cho").select_option("canbo")
    await submit(page, page.get_by_role("button", name="Phân công"))
    await expect(page.locator("#fb-state")).to_have_text("Đang xử lý")
    await expect(page.locator("#fb-assignee")).to_have_text("canbo")
    answer = "Cảm ơn Anh/Chị; bảng lệ phí đã được niêm yết lại tại quầy số 2 <từ 10/12>."
    await page.get_by_label("Trả lời người dân").fill(answer)
    await submit(page, page.get_by_role("button", name="Gửi câu trả lời"))
    await expect(page.get_by_role("status")).to_contain_text("xếp hàng gửi tới người dân qua Telegram")
    await expect(page.locator("#fb-state")).to_have_text("Đã trả lời")

    await deliver(bot)
    await bot.server.wait_until(lambda: any(answer in t for t in _texts(bot)), 10, "the reply")
    pushed = next(t for t in _texts(bot) if answer in t)
    assert pushed.startswith(f"✉️ Trả lời góp ý {tracking_no}") and f"/gopy {tracking_no}" in pushed
    looked_up = (await citizen.command("gopy", tracking_no)).message["text"]  # and under the tracking number
    assert "Đã trả lời" in looked_up and answer in looked_up
    async with session_scope(engine) as s:
        actions = [e.action for e in (await s.exec(select(AuditEntry).order_by(AuditEntry.id))).all()]
    assert actions == ["account.add", "feedback.assign", "feedback.reply"]
