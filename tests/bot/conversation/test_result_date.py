"""Result dates: the day named in a question, and the processing time counted from it in working days (weekends and
the holidays file skipped, the cut-off hour applied), worded as an estimate with the rule it used."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.conversation.core import Conversation
from bot.conversation.when import read_day, without_day
from bot.replies import cards
from bot.replies.events import Event
from bot.replies.result_date import Calendar, cutoff_hour, estimate
from bot.services import Services
from knowledge.schema import ProcessingTime

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WED = dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ)  # Wednesday 2 December 2026
SOURCE = [{"title": "Cổng Dịch vụ công quốc gia", "checked": "2026-11-25"}]


def _time(**kw) -> ProcessingTime:  # type: ignore[no-untyped-def]
    return ProcessingTime.model_validate({"text": "03 ngày làm việc", "sources": SOURCE, **kw})


@pytest.mark.parametrize(
    ("text", "day", "hour", "past"),
    [
        ("nộp hôm nay thì bao giờ có kết quả", dt.date(2026, 12, 2), None, False),
        ("thứ 6 nộp thì khi nào lấy", dt.date(2026, 12, 4), None, False),
        ("thu 2 tuan sau nop thi bao gio co", dt.date(2026, 12, 7), None, False),
        ("mai nộp lúc 4h chiều thì khi nào xong", dt.date(2026, 12, 3), 16, False),
        ("nop ngay 28/12 thi bao gio lay", dt.date(2026, 12, 28), None, False),
        ("hôm qua nộp rồi bao giờ có", dt.date(2026, 12, 1), None, True),
        ("nộp ngày 5/1 thì khi nào có", dt.date(2027, 1, 5), None, False),
    ],
)
def test_the_day_of_submission_is_read(text: str, day: dt.date, hour: int | None, past: bool) -> None:
    asked = read_day(text, WED)
    assert asked is not None and (asked.day, asked.hour, asked.past) == (day, hour, past)


@pytest.mark.parametrize("text", ["hôm nay trời đẹp quá", "đăng ký tạm trú mất bao lâu", "hỗ trợ mai táng bao lâu"])
def test_other_questions_name_no_day_of_submission(text: str) -> None:
    assert read_day(text, WED) is None


def test_the_question_without_its_day_still_names_the_procedure() -> None:
    assert without_day("doi bang lai nop hom nay thi bao gio co") == "doi bang lai co"


def test_working_days_skip_weekends_and_holidays() -> None:
    cal = Calendar()
    friday = WED.replace(day=4)
    est = estimate(_time(value=3, unit="working_days"), friday, False, cal)
    assert est is not None and est.latest == dt.date(2026, 12, 9)  # Mon 7, Tue 8, Wed 9
    new_year = estimate(_time(value=3, unit="working_days"), WED.replace(day=31), False, cal)
    assert new_year is not None and new_year.latest == dt.date(2027, 1, 6) and dt.date(2027, 1, 1) in new_year.holidays
    saturday = estimate(_time(value=1, unit="working_days"), WED.replace(day=5), False, cal)
    assert (
        saturday is not None and saturday.received == dt.date(2026, 12, 7) and saturday.latest == dt.date(2026, 12, 8)
    )


def test_the_cut_off_hour_moves_the_count_to_the_next_working_day() -> None:
    cal = Calendar()
    text = "Ngay trong ngày; nhận hồ sơ sau 15 giờ thì trả kết quả ngày làm việc tiếp theo"
    same_day = _time(value=0, max_value=1, unit="working_days", text=text)
    assert cutoff_hour(same_day) == 15
    morning = estimate(same_day, WED.replace(hour=10), True, cal)
    late = estimate(same_day, WED.replace(hour=16), True, cal)
    unknown = estimate(same_day, WED, False, cal)
    assert morning is not None and (morning.earliest, morning.latest) == (dt.date(2026, 12, 2),) * 2
    assert late is not None and late.after_cutoff and (late.earliest, late.latest) == (dt.date(2026, 12, 3),) * 2
    assert unknown is not None and (unknown.earliest, unknown.latest) == (dt.date(2026, 12, 2), dt.date(2026, 12, 3))


def test_calendar_days_end_on_a_working_day_and_unknown_times_give_no_date() -> None:
    cal = Calendar()
    est = estimate(_time(value=10, unit="days"), WED, False, cal)
    assert est is not None and est.latest == dt.date(2026, 12, 14)  # Saturday 12 -> Monday 14
    assert estimate(_time(unit="working_days"), WED, False, cal) is None


async def test_a_date_question_in_a_thread_gets_the_estimate_and_its_rule(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(Services(settings, kb, matcher, engine), clock=lambda: WED)
    await conv.respond(Event(21, "text", text="đăng ký tạm trú cần gì"))
    answered = await conv.respond(Event(21, "text", text="thứ 6 nộp thì khi nào lấy"))
    assert (answered.turn.procedure, answered.turn.facet) == ("cu-tru.dang-ky-tam-tru", "time")
    text = cards.to_plain(answered.replies[0].text)
    assert "thứ Sáu, 04/12/2026" in text and "thứ Tư, 09/12/2026" in text
    assert "ước tính" in text and "Không tính thứ Bảy, Chủ nhật và ngày nghỉ lễ" in text and "Căn cứ:" in text
    named = await conv.respond(Event(22, "text", text="lam can cuoc nop hom nay thi khi nao lay"))
    assert named.turn.procedure == "can-cuoc.cap-the" and "11/12/2026" in named.replies[0].text
    unknown = await conv.respond(Event(23, "text", text="nộp hôm nay thì bao giờ có kết quả"))
    assert unknown.turn.procedure is None and "tên thủ tục" in unknown.replies[0].text
