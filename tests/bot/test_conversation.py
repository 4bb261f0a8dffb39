"""The conversation core without Telegram: events in, replies out, on a real database."""

from __future__ import annotations

import datetime as dt

from bot import demo
from bot.conversation import Conversation
from bot.db import make_engine, session_scope
from bot.events import Event
from bot.services import Services
from knowledge.matcher import Matcher


def _conv(settings, kb, matcher: Matcher, engine) -> Conversation:  # type: ignore[no-untyped-def]
    return Conversation(Services(settings, kb, matcher, engine))


async def test_question_gets_answer_card_with_facet_buttons(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [reply] = await conv.handle(Event(7, "text", text="le phi dang ky ket hon bao nhieu"))
    assert "Đăng ký kết hôn" in reply.text and "Phí, lệ phí" in reply.text.split("\n\n")[1]
    assert "Căn cứ:" in reply.text and "25/11/2026" in reply.text
    datas = [b.data for row in reply.buttons for b in row]
    assert all(d and len(d.encode()) <= 64 for d in datas)
    [time_reply] = await conv.handle(Event(7, "callback", callback=datas[1]))
    assert "Thời hạn giải quyết" in time_reply.text or "Nơi nộp" in time_reply.text


async def test_forged_and_foreign_buttons_do_nothing(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [reply] = await conv.handle(Event(7, "text", text="lam cccd can gi"))
    data = reply.buttons[0][0].data
    [other_chat] = await conv.handle(Event(8, "callback", callback=data))
    assert other_chat.toast and not other_chat.text
    [forged] = await conv.handle(Event(7, "callback", callback="f:abcdef:fee|AAAAAAAA"))
    assert forged.toast and not forged.text


async def test_out_of_scope_is_refused_politely_and_recorded(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from bot.gaps import top_gaps

    conv = _conv(settings, kb, matcher, engine)
    [reply] = await conv.handle(Event(7, "text", text="tối nay đội tuyển đá mấy giờ"))
    assert reply.text.startswith("Dạ, em xin lỗi") and settings.hotline in reply.text
    async with session_scope(engine) as s:
        gaps = await top_gaps(s)
    assert gaps and gaps[0].count == 1 and "đá" in gaps[0].text


async def test_checklist_toggles_and_survives_restart(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [card] = await conv.handle(Event(9, "text", text="đăng ký tạm trú cần giấy tờ gì"))
    checklist_btn = card.buttons[-1][-1].data
    [cl] = await conv.handle(Event(9, "callback", callback=checklist_btn))
    assert "☐" in cl.buttons[0][0].text
    [toggled] = await conv.handle(Event(9, "callback", callback=cl.buttons[0][0].data))
    assert toggled.edit and "☑" in toggled.buttons[0][0].text
    fresh = _conv(settings, kb, matcher, engine)  # a restarted bot reads the same state
    [again] = await fresh.handle(Event(9, "callback", callback=checklist_btn))
    assert "☑" in again.buttons[0][0].text and "Còn thiếu" in again.text


async def test_case_lookup_needs_the_phone_digits(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        cases = await demo.seed(session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=8,
                                today=dt.date(2026, 11, 25))
    case = cases[3]
    conv = _conv(settings, kb, matcher, engine)
    [ask] = await conv.handle(Event(5, "text", text=f"tra cứu hồ sơ {case.code.lower()}"))
    assert "4 số cuối" in ask.text
    [wrong] = await conv.handle(Event(5, "text", text="0000" if case.phone_last4 != "0000" else "1111"))
    assert "chưa khớp" in wrong.text and case.code not in wrong.text
    await conv.handle(Event(5, "command", command="tracuu", args=case.code))
    [card] = await conv.handle(Event(5, "text", text=case.phone_last4))
    assert case.code in card.text and "Trạng thái" in card.text and "***" in card.text
    [unknown] = await conv.handle(Event(6, "command", command="tracuu", args="000.00.15.H57-991231-9999"))
    [unknown_answer] = await conv.handle(Event(6, "text", text=case.phone_last4))
    assert unknown_answer.text == wrong.text  # no way to tell "no such code" from "wrong digits"


async def test_unsupported_messages_and_errors_get_one_polite_line(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [sticker] = await conv.handle(Event(7, "unsupported"))
    assert "tin nhắn chữ" in sticker.text
    unmigrated = make_engine(settings, url=f"sqlite+aiosqlite:///{settings.data_dir}/no-tables.db")
    broken = Conversation(Services(settings, kb, matcher, unmigrated))
    [err] = await broken.handle(Event(7, "text", text="làm căn cước"))
    await unmigrated.dispose()
    assert err.text.startswith("Dạ, em xin lỗi, hệ thống") and "Traceback" not in err.text
