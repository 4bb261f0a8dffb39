"""When a result can be expected: the processing time counted from a day of submission, as an estimate.

Working days skip Saturdays, Sundays and the holidays of the holidays file (bot/cases/workdays.py). A file handed in
on a day off, or after the entry's cut-off hour (`processing_time.cutoff_hour`; before that field exists, the hour
its text states: "nhận hồ sơ sau 15 giờ"), is counted from the next working day. The estimate says which rule it used,
and that the appointment slip is what counts.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import dataclass
from pathlib import Path

from bot.cases.workdays import DEFAULT_FILE, is_working_day
from bot.replies.answers import sources_line
from bot.replies.dates import vn_date
from knowledge.schema import Procedure, ProcessingTime

e = html.escape
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
_CUTOFF_TEXT = re.compile(r"(?:nhận|tiếp nhận)[^.;]{0,40}?sau (\d{1,2})(?: giờ|h)\b", re.IGNORECASE)


def day_name(d: dt.date) -> str:
    return f"{WEEKDAYS[d.weekday()]}, {vn_date(d)}"


def cutoff_hour(pt: ProcessingTime) -> int | None:
    """The hour after which a file counts from the next working day: the entry's field, else its own words."""
    hour = getattr(pt, "cutoff_hour", None)
    if isinstance(hour, int):
        return hour
    m = _CUTOFF_TEXT.search(pt.text)
    return int(m.group(1)) if m and 0 < int(m.group(1)) < 24 else None


@dataclass(frozen=True)
class Estimate:
    submitted: dt.date
    received: dt.date  # the working day the count starts from
    earliest: dt.date
    latest: dt.date
    after_cutoff: bool
    cutoff: int | None
    holidays: tuple[dt.date, ...]  # holidays on a weekday between receipt and result
    calendar: bool  # counted in calendar days (the result moved to a working day)


class Calendar:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or DEFAULT_FILE

    def working(self, d: dt.date) -> bool:
        return is_working_day(d, self.path)

    def next_working(self, d: dt.date) -> dt.date:
        while not self.working(d):
            d += dt.timedelta(days=1)
        return d

    def add_working(self, d: dt.date, n: int) -> dt.date:
        while n > 0:
            d += dt.timedelta(days=1)
            if self.working(d):
                n -= 1
        return d

    def holidays_between(self, a: dt.date, b: dt.date) -> tuple[dt.date, ...]:
        days = (a + dt.timedelta(days=i) for i in range(1, (b - a).days + 1))
        return tuple(d for d in days if d.weekday() < 5 and not self.working(d))


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return d


def estimate(pt: ProcessingTime, at: dt.datetime, hour_known: bool, cal: Calendar) -> Estimate | None:
    """The result date for a file handed in at `at` (local time); None when the entry gives no figure."""
    low, high = pt.value, pt.max_value if pt.max_value is not None else pt.value
    if pt.unit != "immediate" and high is None:
        return None
    low = low if low is not None else high
    cutoff = cutoff_hour(pt)
    late = hour_known and cutoff is not None and at.hour >= cutoff
    day = at.date()
    received = cal.next_working(day + dt.timedelta(days=1) if late and cal.working(day) else day)
    calendar = pt.unit in ("days", "months")

    def after(n: float | None) -> dt.date:
        k = n or 0
        if pt.unit == "working_days":
            return cal.add_working(received, math.ceil(k))
        if pt.unit == "working_hours":
            return cal.add_working(received, math.ceil(k / 8))
        if pt.unit == "days":
            return cal.next_working(received + dt.timedelta(days=math.ceil(k)))
        if pt.unit == "months":
            return cal.next_working(_add_months(received, math.ceil(k)))
        return received

    earliest, latest = after(low), after(high)
    if cutoff is not None and not low and hour_known:  # "same day; after 15h the next": the hour decides which
        latest = earliest
    return Estimate(day, received, earliest, latest, late, cutoff, cal.holidays_between(received, latest), calendar)


def estimate_text(proc: Procedure, est: Estimate | None, *, hour_known: bool, past: bool) -> str:
    """The estimate as the citizen reads it: the dates, the rule used, and that it is an estimate."""
    head = f"⏱ <b>{e(proc.name)}</b>"
    rule = f"Thời hạn giải quyết: {e(proc.processing_time.text)}"
    if est is None:
        return "\n\n".join([head, "Dạ, thời hạn của thủ tục này không tính được thành một ngày cụ thể.", rule])
    when = f"vào <b>{day_name(est.submitted)}</b>"
    if est.earliest == est.latest:
        result = f"ngày trả kết quả dự kiến là <b>{day_name(est.latest)}</b>"
    else:
        result = (
            f"ngày trả kết quả dự kiến từ <b>{day_name(est.earliest)}</b> đến chậm nhất <b>{day_name(est.latest)}</b>"
        )
    verb = "đã nộp" if past else "nộp"
    lines = [f"Dạ, nếu Anh/Chị {verb} đủ hồ sơ hợp lệ {when} thì {result}."]
    how = ["Cách tính: " + rule.removeprefix("Thời hạn giải quyết: ").rstrip(".") + "."]
    if est.received != est.submitted:
        why = f"sau {est.cutoff} giờ" if est.after_cutoff else "vào ngày nghỉ"
        how.append(f"Hồ sơ nộp {why} được tính từ ngày làm việc tiếp theo ({day_name(est.received)}).")
    elif est.cutoff is not None and not hour_known:
        how.append(f"Nếu nộp sau {est.cutoff} giờ thì tính từ ngày làm việc tiếp theo.")
    skip = "không tính thứ Bảy, Chủ nhật và ngày nghỉ lễ"
    if est.calendar:
        skip = "tính theo ngày lịch; ngày trả rơi vào ngày nghỉ thì lùi sang ngày làm việc tiếp theo"
    if est.holidays:
        skip += " (trong khoảng này có ngày nghỉ lễ " + ", ".join(f"{d:%d/%m}" for d in est.holidays) + ")"
    how.append(skip[:1].upper() + skip[1:] + ".")
    lines.append(" ".join(how))
    lines.append(
        "<i>Đây là ngày ước tính; ngày chính thức là ngày hẹn ghi trên giấy biên nhận (phiếu hẹn) khi nộp hồ sơ.</i>"
    )
    return "\n\n".join([head, "\n".join(lines)])


def with_sources(proc: Procedure, text: str) -> str:
    return text + "\n\n" + sources_line(proc, [proc.processing_time])
