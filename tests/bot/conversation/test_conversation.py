"""The conversation core without Telegram: events in, replies out, on a real database."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.conversation.actions import Action, parse_action
from bot.conversation.core import BUTTONS, WAITING, Conversation
from bot.conversation.state import Awaiting
from bot.replies import messages as m
from bot.replies.buttons import pack, proc_key
from bot.replies.events import Event, Reply
from bot.services import Services
from bot.staff import demo
from bot.storage.db import make_engine, session_scope
from knowledge.matcher import Matcher

# the codes buttons already sent to citizens carry; bot/notify/compose.py packs "sv" itself
WIRE_CODES = {
    "f",
    "p",
    "n",
    "cl",
    "ct",
    "lf",
    "lv",
    "m",
    "fo",
    "uf",
    "gc",
    "gs",
    "sv",
    "ss",
    "xd",
    "sc",
    "fa",
    "sp",
    "gd",
    "gt",
    "nx",
}


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
    from bot.insights.gaps import top_gaps

    conv = _conv(settings, kb, matcher, engine)
    [reply] = await conv.handle(Event(7, "text", text="tối nay đội tuyển đá mấy giờ"))
    assert reply.text.startswith("Dạ, em xin lỗi") and settings.hotline in reply.text
    async with session_scope(engine) as s:  # written in the background, not on the reply's path
        assert await top_gaps(s) == []
    await conv.close()
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
        cases = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=8, today=dt.date(2026, 11, 25)
        )
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


async def test_a_question_typed_during_a_lookup_is_answered_not_counted(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import func, select

    from bot.storage.models import VerificationAttempt

    async with session_scope(engine) as s:
        [case] = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=1, today=dt.date(2026, 11, 25)
        )
    conv = _conv(settings, kb, matcher, engine)
    [ask_code] = await conv.handle(Event(5, "command", command="tracuu"))
    [still] = await conv.handle(Event(5, "text", text="mã của tôi bị mất"))
    assert "mã hồ sơ" in still.text  # not a code and not a question: the prompt again
    [card] = await conv.handle(Event(5, "text", text="lam ho chieu can gi"))
    assert "hộ chiếu" in card.text.lower() and card.buttons  # the question is answered, the lookup left
    [ask] = await conv.handle(Event(5, "command", command="tracuu", args=case.code))
    assert "4 số cuối" in ask.text
    [again] = await conv.handle(Event(5, "text", text="không nhớ ạ"))
    assert again.text == ask.text  # no digits: asked again, not a failed attempt
    [answer] = await conv.handle(Event(5, "text", text="le phi dang ky ket hon"))
    assert "Đăng ký kết hôn" in answer.text
    async with session_scope(engine) as s:
        attempts = (await s.exec(select(func.count()).select_from(VerificationAttempt))).one()
    assert attempts == 0
    [after] = await conv.handle(
        Event(5, "text", text=case.phone_last4)
    )  # the lookup was left: digits are a question now
    assert case.code not in after.text


async def test_unsupported_messages_and_errors_get_one_polite_line(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [sticker] = await conv.handle(Event(7, "unsupported"))
    assert "tin nhắn chữ" in sticker.text

    class FailingMatcher:
        def understand(self, text: str) -> None:
            raise RuntimeError("planted failure with personal data 0912345678")

    broken = Conversation(Services(settings, kb, FailingMatcher(), engine))  # type: ignore[arg-type]
    [err] = await broken.handle(Event(7, "text", text="làm căn cước"))
    assert err.text.startswith("Dạ, em xin lỗi, hệ thống") and "Traceback" not in err.text
    assert "0912345678" not in err.text and "RuntimeError" not in err.text


async def test_flood_gets_one_line_then_silence(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from bot.conversation.flood import FloodGuard

    clock = {"t": 0.0}
    conv = Conversation(Services(settings, kb, matcher, engine), flood=FloodGuard(limit=3, clock=lambda: clock["t"]))
    replies = [await conv.handle(Event(11, "text", text="chào ad")) for _ in range(6)]
    assert [len(r) for r in replies[:3]] == [1, 1, 1]
    assert replies[3][0].text.startswith("Dạ, Anh/Chị gửi nhanh quá") and replies[4] == [] and replies[5] == []
    assert len(await conv.handle(Event(12, "text", text="chào ad"))) == 1  # other chats are not affected
    clock["t"] += 600
    assert len(await conv.handle(Event(11, "text", text="chào ad"))) == 1


async def test_questions_are_answered_while_the_database_is_down(settings, kb, matcher) -> None:  # type: ignore[no-untyped-def]
    down = make_engine(settings, url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    conv = Conversation(Services(settings, kb, matcher, down))
    [answer] = await conv.handle(Event(7, "text", text="lệ phí cấp hộ chiếu bao nhiêu"))
    assert "hộ chiếu" in answer.text and "Phí, lệ phí" in answer.text
    [facet] = await conv.handle(Event(7, "callback", callback=answer.buttons[0][0].data))
    assert facet.text.startswith("📄")
    [lookup] = await conv.handle(Event(7, "command", command="tracuu", args="000.00.15.H57-251120-0001"))
    assert "tạm gián đoạn" in lookup.text
    await down.dispose()


async def test_erase_my_data_after_confirmation(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from bot.storage.models import ChatState, Checklist, Feedback, Subscription

    async with session_scope(engine) as s:
        cases = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=2, today=dt.date(2026, 11, 25)
        )
    conv = _conv(settings, kb, matcher, engine)
    await conv.handle(Event(21, "command", command="theodoi", args=cases[0].code))
    replies = await conv.handle(Event(21, "text", text=cases[0].phone_last4))
    assert any(r.toast for r in replies)
    [card] = await conv.handle(Event(21, "text", text="đăng ký tạm trú cần giấy tờ gì"))
    [cl] = await conv.handle(Event(21, "callback", callback=card.buttons[-1][-1].data))
    await conv.handle(Event(21, "callback", callback=cl.buttons[0][0].data))
    [ask] = await conv.handle(Event(21, "command", command="xoadulieu"))
    [done] = await conv.handle(Event(21, "callback", callback=ask.buttons[0][0].data))
    assert "1 hồ sơ theo dõi" in done.text and "1 danh sách" in done.text
    async with session_scope(engine) as s:
        for model in (Subscription, Checklist, ChatState):
            assert not (await s.exec(select(model).where(model.chat_id == 21))).all(), model  # type: ignore[attr-defined]
        assert not (await s.exec(select(Feedback).where(Feedback.chat_id == 21))).all()


async def test_staff_commands_only_for_allowed_users(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    staff = settings.model_copy(update={"staff_user_ids": [99]})
    conv = Conversation(Services(staff, kb, matcher, engine))
    await conv.handle(Event(5, "text", text="bảo hiểm ô tô hãng nào tốt"))
    [denied] = await conv.handle(Event(5, "command", command="khoangtrong", user_id=5))
    assert "chưa hiểu lệnh" in denied.text
    [gaps] = await conv.handle(Event(5, "command", command="khoangtrong", user_id=99))
    assert "bảo hiểm ô tô" in gaps.text
    [stats] = await conv.handle(Event(5, "command", command="thongke", user_id=99))
    assert stats.text.startswith("<b>Thống kê</b>")


async def test_follow_feedback_and_survey_flows(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from bot.storage.models import Feedback, SurveyResponse

    async with session_scope(engine) as s:
        cases = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=3, today=dt.date(2026, 11, 25)
        )
    conv = _conv(settings, kb, matcher, engine)
    [none] = await conv.handle(Event(31, "command", command="hosocuatoi"))
    assert "chưa theo dõi" in none.text
    await conv.handle(Event(31, "command", command="tracuu", args=cases[1].code))
    [card] = await conv.handle(Event(31, "text", text=cases[1].phone_last4))
    [followed] = await conv.handle(Event(31, "callback", callback=card.buttons[0][0].data))
    assert followed.toast
    [mine] = await conv.handle(Event(31, "command", command="hosocuatoi"))
    assert cases[1].code in mine.text
    [menu] = await conv.handle(Event(31, "command", command="huytheodoi"))
    [stopped] = await conv.handle(Event(31, "callback", callback=menu.buttons[0][0].data))
    assert "1 hồ sơ" in stopped.text
    # feedback with a tracking number
    [cats] = await conv.handle(Event(31, "command", command="gopy"))
    await conv.handle(Event(31, "callback", callback=cats.buttons[1][0].data))
    [ask_code] = await conv.handle(Event(31, "text", text="Cán bộ tiếp nhận nói chuyện chưa lịch sự <b>"))
    [done] = await conv.handle(Event(31, "callback", callback=ask_code.buttons[0][0].data))
    number = done.text.split("<b>")[1].split("</b>")[0]
    [state] = await conv.handle(Event(31, "command", command="gopy", args=number.lower()))
    assert "Đã tiếp nhận" in state.text
    # satisfaction survey: six criteria, then a comment
    [q] = await conv.handle(Event(31, "command", command="danhgia"))
    for i in range(6):
        assert f"Tiêu chí {i + 1}/6" in q.text
        [q] = await conv.handle(Event(31, "callback", callback=q.buttons[0][i % 5].data))
    [thanks] = await conv.handle(Event(31, "text", text="Cán bộ nhiệt tình"))
    assert "cảm ơn" in thanks.text
    async with session_scope(engine) as s:
        fb = (await s.exec(select(Feedback))).one()
        sv = (await s.exec(select(SurveyResponse))).one()
    assert fb.category == "can-bo" and "<b>" in fb.text
    assert sv.scores == {"access": 1, "reception": 2, "information": 3, "staff": 4, "result": 5, "feedback": 1}
    assert sv.comment == "Cán bộ nhiệt tình"


async def test_qr_deep_link_opens_the_case_lookup(settings, kb, matcher, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import cli

    cases = await _seed_cases(engine, settings, kb)
    secret = {"SECRET_KEY": settings.secret_key.get_secret_value()}
    res = cli("qr", cases[0].code.lower(), "--out", str(tmp_path / "qr.png"), env=secret)
    assert res.returncode == 0, res.stderr
    link = res.stdout.strip()
    assert link.startswith("https://t.me/") and (tmp_path / "qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = link.split("?start=")[1]
    assert len(payload) <= 64 and all(ch.isalnum() or ch in "_-" for ch in payload)
    conv = _conv(settings, kb, matcher, engine)
    [card] = await conv.handle(Event(3, "command", command="start", args=payload))
    assert cases[0].code in card.text  # the slip's signed link opens the case without the digits
    assert cli("qr", "not-a-code", env=secret).returncode == 1
    unsigned = cli("qr", cases[0].code)  # without SECRET_KEY anyone reading the source could sign any case
    assert unsigned.returncode == 2 and "SECRET_KEY" in unsigned.stderr


async def _seed_cases(engine, settings, kb):  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=3, today=dt.date(2026, 11, 25)
        )


# --- the action table --------------------------------------------------------------------


def test_action_values_are_the_wire_codes_unique_and_short() -> None:
    values = [a.value for a in Action]
    assert set(values) == WIRE_CODES and len(values) == len(set(values))
    assert all(1 <= len(v) <= 2 and v.isalpha() and v.islower() for v in values)  # no ':' or '|' in button data
    assert parse_action("sv") is Action.SURVEY_START and parse_action("zz") is None and parse_action("") is None


def test_every_action_and_every_awaited_answer_has_a_handler() -> None:
    assert set(BUTTONS) == set(Action) and set(WAITING) == set(Awaiting)


@pytest.mark.parametrize("data", [["zz"], [""], ["F", "abcdef", "fee"], ["sv ", "1"]])
async def test_an_unknown_action_gets_the_stale_button_toast(settings, kb, matcher, engine, data) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    [reply] = await conv.handle(Event(7, "callback", callback=pack(7, settings.secret_key.get_secret_value(), *data)))
    assert reply.toast == m.STALE_BUTTON and not reply.text and not reply.buttons


@pytest.mark.parametrize(
    "action", sorted(set(Action) - {Action.NONE_OF_THESE, Action.FIELDS, Action.MENU, Action.ERASE})
)
async def test_a_genuine_button_with_wrong_arguments_does_nothing(settings, kb, matcher, engine, action) -> None:  # type: ignore[no-untyped-def]
    """Every handler checks its own arguments (the four left out take any: none-of-these, the field list, an
    unknown menu item shows help, and only "y" erases)."""
    conv = _conv(settings, kb, matcher, engine)
    secret = settings.secret_key.get_secret_value()
    for args in ([], ["bogus"], ["bogus", "bogus"]):
        [reply] = await conv.handle(Event(7, "callback", callback=pack(7, secret, action, *args)))
        assert reply.toast == m.STALE_BUTTON and not reply.text, args


async def test_buttons_packed_with_the_old_literal_codes_still_work(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from bot.cases.rules import get_case
    from bot.storage.models import Subscription, SurveyResponse

    cases = await _seed_cases(engine, settings, kb)
    secret, conv = settings.secret_key.get_secret_value(), _conv(settings, kb, matcher, engine)
    proc = kb.procedures[0]
    [card] = await conv.handle(Event(7, "callback", callback=pack(7, secret, "p", proc_key(proc.id), "fee")))
    assert proc.name in card.text and card.buttons[0][0].data == pack(7, secret, "f", proc_key(proc.id), "documents")
    [cl] = await conv.handle(Event(7, "callback", callback=pack(7, secret, "cl", proc_key(proc.id))))
    assert cl.buttons[0][0].data == pack(7, secret, "ct", proc_key(proc.id), 0)
    async with session_scope(engine) as s:
        case_id = (await get_case(s, cases[0].code)).id  # type: ignore[union-attr]
        s.add(Subscription(chat_id=7, case_id=case_id))  # the survey is sent to the chats following the case
    # the survey button of a notification (bot/notify/compose.py): pack(chat_id, secret, "sv", case.id)
    [q] = await conv.handle(Event(7, "callback", callback=pack(7, secret, "sv", case_id)))
    assert "hồ sơ" in q.text and q.buttons[0][0].data == pack(7, secret, "ss", 0, 1)
    for i in range(6):
        [q] = await conv.handle(Event(7, "callback", callback=pack(7, secret, "ss", i, 5)))
    [done] = await conv.handle(Event(7, "callback", callback=pack(7, secret, "sc")))
    assert "cảm ơn" in done.text
    async with session_scope(engine) as s:
        from sqlmodel import select

        assert (await s.exec(select(SurveyResponse.case_id))).one() == case_id


async def test_a_lookup_stored_by_the_previous_version_goes_on(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from bot.storage.models import ChatState

    cases = await _seed_cases(engine, settings, kb)
    async with session_scope(engine) as s:  # a row as the bot wrote it before the state was a dataclass
        s.add(ChatState(chat_id=41, state={"await": "verify", "code": cases[0].code, "then": "follow", "verified": []}))
    conv = _conv(settings, kb, matcher, engine)
    card, followed = await conv.handle(Event(41, "text", text=cases[0].phone_last4))
    assert cases[0].code in card.text and followed.toast == m.FOLLOWED_TOAST


async def test_staff_stats_count_cases_by_status(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    from bot.cases.rules import STATUSES

    await _seed_cases(engine, settings, kb)
    conv = Conversation(Services(settings.model_copy(update={"staff_user_ids": [99]}), kb, matcher, engine))
    [stats] = await conv.handle(Event(5, "command", command="thongke", user_id=99))
    lines = [line for line in stats.text.split("\n") if line.startswith("• ")]
    labels = list(STATUSES.values())
    assert sum(int(line.rsplit(": ", 1)[1]) for line in lines) == 3
    positions = [labels.index(line[2:].rsplit(": ", 1)[0]) for line in lines]
    assert positions == sorted(positions)  # in the order of a case's life, zero counts left out


async def test_button_presses_have_a_flood_budget_of_their_own(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    """500 checklist presses at once: the first 60 are answered, one toast says so, then silence."""
    from bot.conversation.flood import FloodGuard

    clock = {"t": 0.0}
    flood = FloodGuard(limit=20, button_limit=60, clock=lambda: clock["t"])
    conv = Conversation(Services(settings, kb, matcher, engine), flood=flood)
    secret, proc = settings.secret_key.get_secret_value(), kb.procedures[0]
    press = Event(13, "callback", callback=pack(13, secret, "ct", proc_key(proc.id), 0))
    replies = [await conv.handle(press) for _ in range(500)]
    assert all(r and r[0].text for r in replies[:60])
    assert replies[60] == [Reply("", toast=m.FLOOD)] and all(r == [] for r in replies[61:])
    assert len(await conv.handle(Event(13, "text", text="chào ad"))) == 1  # messages keep their own budget
    clock["t"] += 600
    [again] = await conv.handle(press)
    assert again.text
