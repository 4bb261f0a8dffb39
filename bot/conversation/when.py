"""A question about the day of a result: "nộp hôm nay thì bao giờ có kết quả", "thứ 6 nộp thì khi nào lấy".

It names a day of submission (today, tomorrow, a weekday, a date, optionally an hour) and asks when the result comes.
Read on folded syllables, before abbreviations are expanded (the lexicon reads "2" as "hai").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.text import clean, fold

_RESULT = re.compile(
    r"\b(?:bao gio|bao h|khi nao|luc nao|ngay nao|hom nao|bao lau|may ngay|may hom|ket qua|lay|nhan|xong|tra)\b"
)
_TODAY = re.compile(r"\b(?:hom nay|hnay|hum nay|bua nay|bay gio|bay h|sang nay|chieu nay|trua nay|ngay hom nay)\b")
_TOMORROW = re.compile(r"\b(?:ngay mai|sang mai|chieu mai|trua mai|mai)\b(?! tang)")
_AFTER_TOMORROW = re.compile(r"\b(?:ngay kia|ngay mot)\b")
_YESTERDAY = re.compile(r"\b(?:hom qua|hqua|hum qua|bua qua)\b")
_BEFORE_YESTERDAY = re.compile(r"\bhom kia\b")
_WEEKDAY = re.compile(r"\b(?:thu ?([2-7]|hai|ba|tu|nam|sau|bay)|t([2-7])|(chu nhat|cn))\b")
_WEEKDAYS = {"2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tu": 2, "5": 3, "nam": 3, "6": 4, "sau": 4, "7": 5, "bay": 5}
_NEXT_WEEK = re.compile(r"\b(?:tuan sau|tuan toi|tuan next)\b")
_LAST_WEEK = re.compile(r"\btuan truoc\b")
_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b|\bngay (\d{1,2}) thang (\d{1,2})\b")
_HOUR = re.compile(r"\b(\d{1,2}) ?(?:h|gio)(?: ?(\d{2}))?(?: ?(sang|trua|chieu|toi))?\b")


@dataclass(frozen=True)
class DayAsked:
    day: dt.date
    hour: int | None  # the hour of submission, when the citizen said it
    past: bool  # already handed in


def read_day(text: str, now: dt.datetime) -> DayAsked | None:
    """The day of submission a question names, when it asks about the result; None for any other question."""
    t = f" {' '.join(fold(clean(text)).replace(',', ' ').split())} "
    if not _RESULT.search(t):
        return None
    today = now.date()
    day = _day(t, today)
    if day is None:
        return None
    return DayAsked(day, _hour(t), day < today)


def _day(t: str, today: dt.date) -> dt.date | None:
    m = _DATE.search(t)
    if m:
        return _date(m, today)
    if _AFTER_TOMORROW.search(t):
        return today + dt.timedelta(days=2)
    if _BEFORE_YESTERDAY.search(t):
        return today - dt.timedelta(days=2)
    if _YESTERDAY.search(t):
        return today - dt.timedelta(days=1)
    w = _WEEKDAY.search(t)
    if w:
        target = 6 if w.group(3) else _WEEKDAYS[w.group(1) or w.group(2)]
        if _NEXT_WEEK.search(t):
            return today + dt.timedelta(days=7 - today.weekday() + target)
        if _LAST_WEEK.search(t):
            return today - dt.timedelta(days=today.weekday() + 7 - target)
        return today + dt.timedelta(days=(target - today.weekday()) % 7)
    if _TODAY.search(t):
        return today
    if _TOMORROW.search(t):
        return today + dt.timedelta(days=1)
    if _NEXT_WEEK.search(t):
        return today + dt.timedelta(days=7 - today.weekday())
    return None


def _date(m: re.Match[str], today: dt.date) -> dt.date | None:
    day, month = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(5)))
    year = int(m.group(3)) if m.group(3) else today.year
    year += 2000 if year < 100 else 0
    try:
        d = dt.date(year, month, day)
    except ValueError:
        return None
    if not m.group(3) and d < today - dt.timedelta(days=60):  # "5/1" said in December is next January
        d = d.replace(year=d.year + 1)
    return d


def _hour(t: str) -> int | None:
    m = _HOUR.search(t)
    if not m:
        return None
    hour = int(m.group(1))
    if m.group(3) in ("chieu", "toi") and hour < 12:
        hour += 12
    return hour if 0 <= hour < 24 else None


_DAY_WORDS = re.compile(
    "|".join(
        r.pattern
        for r in (_RESULT, _TODAY, _TOMORROW, _AFTER_TOMORROW, _YESTERDAY, _BEFORE_YESTERDAY, _WEEKDAY, _DATE, _HOUR)
    )
    + r"|\b(?:nop|thi|vao|luc|ngay|sang|chieu|toi|trua|tuan sau|tuan toi)\b"
)


def without_day(text: str) -> str:
    """The question without its day, hour and result words, for finding which procedure it is about
    ("đổi bằng lái nộp hôm nay thì bao giờ có" -> "đổi bằng lái ... có")."""
    t = f" {' '.join(fold(clean(text)).replace(',', ' ').split())} "
    return " ".join(_DAY_WORDS.sub(" ", t).split())
