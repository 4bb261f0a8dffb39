"""The thread of a conversation: follow-ups answered for the last answer's procedure, switches, small talk in
between, the lapse after 30 minutes, and what survives the other flows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.conversation.core import Conversation
from bot.conversation.state import ChatStates
from bot.replies import cards
from bot.replies import messages as m
from bot.replies import phrases as t
from bot.replies.events import Event, Reply
from bot.services import Services
from bot.staff import demo
from bot.storage.db import session_scope

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def _conv(settings, kb, matcher, engine, clock: Clock | None = None) -> Conversation:  # type: ignore[no-untyped-def]
    return Conversation(Services(settings, kb, matcher, engine), clock=clock or Clock())


async def _say(conv: Conversation, chat: int, text: str):  # type: ignore[no-untyped-def]
    return await conv.respond(Event(chat, "text", text=text))


def _labels(reply: Reply) -> list[str]:
    return [b.text for row in reply.buttons for b in row]


async def test_the_issues_thread_is_answered_for_the_birth_registration(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    steps = [
        ("lam giay khai sinh cho con can gi", "documents"),
        ("con le phi thi sao", "fee"),
        ("nop o dau", "where"),
        ("mat bao lau", "time"),
        ("làm online được không?", "how"),
    ]
    for text, facet in steps:
        answered = await _say(conv, 7, text)
        assert (answered.turn.procedure, answered.turn.facet, answered.turn.confident) == (
            "ho-tich.dang-ky-khai-sinh",
            facet,
            True,
        ), text
        [reply] = answered.replies
        assert reply.text.startswith("📄 <b>Đăng ký khai sinh</b>") and "Căn cứ:" in reply.text


async def test_a_question_naming_another_procedure_switches(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    await _say(conv, 8, "đăng ký khai sinh cần gì")
    switched = await _say(conv, 8, "còn làm căn cước cho bé thì sao")
    assert switched.turn.procedure == "can-cuoc.cap-the"
    after = await _say(conv, 8, "mất bao lâu")
    assert (after.turn.procedure, after.turn.facet) == ("can-cuoc.cap-the", "time")
    back = await _say(conv, 8, "thế đăng ký tạm trú mất bao lâu")
    assert (back.turn.procedure, back.turn.facet) == ("cu-tru.dang-ky-tam-tru", "time")


async def test_small_talk_is_refused_and_the_thread_goes_on(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    await _say(conv, 9, "làm hộ chiếu cần giấy tờ gì")
    for line in ("tối nay đội tuyển đá mấy giờ", "hôm nay trời nóng quá", "giá vàng hôm nay bao nhiêu"):
        refused = await _say(conv, 9, line)
        assert refused.turn.intent == "out_of_scope" and refused.replies[0].text.startswith("Dạ, em xin lỗi"), line
    thanks = await _say(conv, 9, "cảm ơn em")
    assert thanks.replies[0].text == m.THANKS
    on = await _say(conv, 9, "thế lệ phí bao nhiêu")
    assert (on.turn.procedure, on.turn.facet) == ("xuat-nhap-canh.ho-chieu-pho-thong", "fee")


async def test_the_thread_lapses_after_thirty_minutes_of_silence(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    conv = _conv(settings, kb, matcher, engine, clock)
    await _say(conv, 10, "đăng ký tạm trú cần gì")
    clock.now += dt.timedelta(minutes=29)
    assert (await _say(conv, 10, "lệ phí bao nhiêu")).turn.procedure == "cu-tru.dang-ky-tam-tru"
    clock.now += dt.timedelta(minutes=31)
    lapsed = await _say(conv, 10, "nộp ở đâu")
    assert lapsed.turn.procedure != "cu-tru.dang-ky-tam-tru"


async def test_a_pick_list_answered_by_a_button_sets_the_thread(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [offer] = (await _say(conv, 11, "dang ky xe")).replies
    first = offer.buttons[0][0]
    pressed = await conv.respond(Event(11, "callback", callback=first.data))
    assert pressed.turn.procedure and pressed.turn.procedure.startswith("dang-ky-xe.")
    fee = await _say(conv, 11, "le phi bao nhieu")
    assert (fee.turn.procedure, fee.turn.facet) == (pressed.turn.procedure, "fee")


async def test_a_follow_up_after_an_unanswered_pick_list_says_which_procedure_it_answers(
    settings, kb, matcher, engine
) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    offered = await _say(conv, 12, "dang ky xe")
    assert not offered.turn.confident
    follow = await _say(conv, 12, "le phi bao nhieu")
    assert follow.turn.procedure == offered.turn.procedure and follow.turn.facet == "fee"
    assert follow.replies[0].text.startswith(t.UNCONFIRMED)


async def test_a_case_lookup_in_between_keeps_the_thread(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        [case] = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=1, today=dt.date(2026, 11, 25)
        )
    conv = _conv(settings, kb, matcher, engine)
    await _say(conv, 13, "đăng ký kết hôn cần gì")
    await conv.respond(Event(13, "command", command="tracuu", args=case.code))
    card = await _say(conv, 13, case.phone_last4)
    assert case.code in card.replies[0].text
    after = await _say(conv, 13, "còn lệ phí thì sao")
    assert (after.turn.procedure, after.turn.facet) == ("ho-tich.dang-ky-ket-hon", "fee")
    await conv.respond(Event(13, "command", command="tracuu"))  # a code is awaited: a follow-up leaves the lookup
    left = await _say(conv, 13, "nộp ở đâu")
    assert (left.turn.procedure, left.turn.facet) == ("ho-tich.dang-ky-ket-hon", "where")


async def test_feedback_and_survey_keep_the_verified_cases_and_the_thread(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        [case] = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=1, today=dt.date(2026, 11, 25)
        )
    conv = _conv(settings, kb, matcher, engine)
    await _say(conv, 14, "đăng ký tạm trú cần gì")
    await conv.respond(Event(14, "command", command="tracuu", args=case.code))
    [card] = (await _say(conv, 14, case.phone_last4)).replies
    [cats] = (await conv.respond(Event(14, "command", command="gopy"))).replies
    await conv.respond(Event(14, "callback", callback=cats.buttons[0][0].data))
    await conv.respond(Event(14, "command", command="danhgia"))
    async with session_scope(engine) as s:
        state = await ChatStates().load(s, 14)
    assert state.verified and state.topic and state.topic.procedure == "cu-tru.dang-ky-tam-tru"
    [followed] = (await conv.respond(Event(14, "callback", callback=card.buttons[0][0].data))).replies
    assert followed.toast == m.FOLLOWED_TOAST  # still verified: the case can be followed


async def test_a_specific_question_gets_the_entrys_own_sentence_first(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    answered = await _say(conv, 15, "tôi thuê trọ thì có đăng ký thường trú được không")
    [reply] = answered.replies
    first = cards.to_plain(reply.text)[:500]
    assert "thuê, mượn, ở nhờ" in first and "Căn cứ:" in cards.to_plain(reply.text)
    assert answered.turn.procedure == "cu-tru.dang-ky-thuong-tru"
    assert any("xem đầy đủ" in label.lower() for label in _labels(reply))
    proc = kb.get("cu-tru.dang-ky-thuong-tru")
    assert "chỗ ở thuê, mượn, ở nhờ" in " ".join(proc.conditions).lower()  # taken from the entry, not composed


async def test_the_documents_card_leads_with_what_everyone_needs(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [card] = (await _say(conv, 16, "lam giay khai sinh cho con can gi")).replies
    plain = cards.to_plain(card.text)
    assert len(plain) <= 1200 and "Hồ sơ cần chuẩn bị" in plain
    assert "bỏ rơi" in plain.split("Cần thêm giấy tờ khi:")[1]  # named as a situation only
    assert "Biên bản xác nhận việc trẻ bị bỏ rơi" not in plain and "mang thai hộ" not in plain.split("Cần thêm")[0]
    special = next(b for row in card.buttons for b in row if b.text == t.SPECIAL_BUTTON)
    [shown] = (await conv.respond(Event(16, "callback", callback=special.data))).replies
    assert "Biên bản xác nhận việc trẻ bị bỏ rơi" in shown.text and "mang thai hộ" in shown.text
    [everything] = (await _say(conv, 16, "cho xem đầy đủ tất cả giấy tờ")).replies
    assert "Biên bản xác nhận việc trẻ bị bỏ rơi" in everything.text  # the whole card when everything is asked


def test_every_short_card_fits_a_phone(kb) -> None:  # type: ignore[no-untyped-def]
    from bot.replies import answers

    for proc in kb.procedures:
        for facet in cards.FACETS:
            text, _ = answers.facet_card(proc, facet)
            assert len(cards.to_plain(text)) <= answers.LIMIT, (proc.id, facet)
        if answers.special_documents(proc):
            assert all(d.name in answers.special_card(proc) for _, d in answers.special_documents(proc))
