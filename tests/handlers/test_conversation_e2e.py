"""The conversation's thread end to end, through the real PTB application and the fake Bot API server: follow-ups,
a switch, the checklist fitted by button presses, and a result date. Every assertion is on what the server got."""

from __future__ import annotations

import datetime as dt
import re

from bot.replies import messages as m
from bot.replies import phrases as t
from bot.replies.result_date import Calendar, day_name, estimate
from tests.handlers.conftest import Harness, buttons


def _labels(message: dict) -> list[str]:  # type: ignore[type-arg]
    return [b["text"] for b in buttons(message)]


async def test_follow_ups_are_answered_for_the_last_answer(bot: Harness) -> None:
    citizen = bot.citizen(5101)
    card = (await citizen.say("lam giay khai sinh cho con can gi")).message
    assert card["text"].startswith("📄 Đăng ký khai sinh") and "Hồ sơ cần chuẩn bị" in card["text"]
    assert len(card["text"]) <= 1200 and t.SPECIAL_BUTTON in _labels(card)
    fee = (await citizen.say("con le phi thi sao")).message
    assert fee["text"].startswith("📄 Đăng ký khai sinh") and "Phí, lệ phí" in fee["text"]
    where = (await citizen.say("nop o dau")).message
    assert where["text"].startswith("📄 Đăng ký khai sinh") and "Nơi nộp hồ sơ" in where["text"]
    refused = (await citizen.say("tối nay đội tuyển đá mấy giờ")).message
    assert refused["text"].startswith("Dạ, em xin lỗi")
    time = (await citizen.say("mat bao lau")).message
    assert time["text"].startswith("📄 Đăng ký khai sinh") and "Thời hạn giải quyết" in time["text"]
    special = await citizen.tap(card, t.SPECIAL_BUTTON)  # an earlier card's button still works
    assert "Biên bản xác nhận việc trẻ bị bỏ rơi" in special.message["text"]


async def test_a_question_naming_another_procedure_switches(bot: Harness) -> None:
    citizen = bot.citizen(5102)
    await citizen.say("đăng ký kết hôn cần gì")
    switched = (await citizen.say("còn làm căn cước thì sao")).message
    assert switched["text"].startswith("📄 Cấp thẻ căn cước")
    after = (await citizen.say("lệ phí bao nhiêu")).message
    assert after["text"].startswith("📄 Cấp thẻ căn cước") and "Phí, lệ phí" in after["text"]
    specific = (await citizen.say("tôi thuê trọ thì có đăng ký thường trú được không")).message
    assert specific["text"].startswith("📄 Đăng ký thường trú") and "thuê, mượn, ở nhờ" in specific["text"][:500]
    assert any("xem đầy đủ" in label.lower() for label in _labels(specific))


async def test_the_checklist_is_fitted_to_the_situation_by_button_presses(bot: Harness) -> None:
    citizen = bot.citizen(5103)
    card = (await citizen.say("đăng ký khai sinh cần giấy tờ gì")).message
    asked = (await citizen.tap(card, m.CHECKLIST_BUTTON)).message
    assert "Câu 1/3" in asked["text"] and "Sinh ra bình thường" in _labels(asked)
    await citizen.tap(asked, "Sinh ra bình thường")
    q2 = bot.server.bot_messages(citizen.chat_id)[-1]  # the question is edited in place
    assert q2["message_id"] == asked["message_id"] and "Câu 2/3" in q2["text"]
    await citizen.tap(q2, "Cha hoặc mẹ")
    q3 = bot.server.bot_messages(citizen.chat_id)[-1]
    await citizen.tap(q3, "Đã đăng ký kết hôn")
    fitted = bot.server.bot_messages(citizen.chat_id)[-1]
    labels = _labels(fitted)
    assert fitted["message_id"] == asked["message_id"] and "Sinh ra bình thường; Cha hoặc mẹ" in fitted["text"]
    assert any("Giấy chứng sinh" in x for x in labels) and not any("bỏ rơi" in x or "ủy quyền" in x for x in labels)
    ticked = await citizen.press(fitted, buttons(fitted)[0]["callback_data"])
    assert not ticked.messages and len(ticked.edits) == 1
    now = bot.server.bot_messages(citizen.chat_id)[-1]
    assert buttons(now)[0]["text"].startswith("☑") and len(buttons(now)) == len(labels)


async def test_a_result_date_is_estimated_in_working_days(bot: Harness, bot_settings) -> None:  # type: ignore[no-untyped-def]
    citizen = bot.citizen(5104)
    await citizen.say("đăng ký tạm trú cần gì")
    out = (await citizen.say("thứ 6 nộp thì khi nào lấy")).message
    today = dt.datetime.now(bot_settings.tz)
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7)
    from knowledge.loader import require_knowledge

    proc = require_knowledge(bot_settings.knowledge_path).get("cu-tru.dang-ky-tam-tru")
    assert proc is not None
    est = estimate(proc.processing_time, friday, False, Calendar(bot_settings.holidays_file))
    assert est is not None
    assert out["text"].startswith("⏱ Đăng ký tạm trú") and day_name(friday.date()) in out["text"]
    assert day_name(est.latest) in out["text"] and "ước tính" in out["text"]
    assert re.search(r"\d{2}/\d{2}/\d{4}", out["text"]) and "Căn cứ:" in out["text"]
