"""Dates as Vietnamese offices write them (dd/mm/yyyy) and as systems do (ISO).

`parse_date` is the lenient reader for a citizen's or an API client's text (None when unreadable); `to_date` and
`to_datetime` are the strict readers staff input goes through (the case import, `cases set-status --new-date`):
they say what is wrong in a `DateError`, accept the spreadsheet's own date cells, and keep years to MIN_YEAR–MAX_YEAR,
the range the staff API and the database agree on.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

MIN_YEAR, MAX_YEAR = 2000, 2100

_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")
_DMY_TIME = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:?\d{2})?")


class DateError(ValueError):
    """A date or time staff typed cannot be read; the message says why and what is expected."""


def parse_date(text: str) -> dt.date | None:
    """'25/11/2026', '25-11-2026' or '2026-11-25' -> date; None when unreadable."""
    m = _DMY.match(text)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def vn_date(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def _date_or_time(text: str, *, with_time: bool) -> dt.date | dt.datetime:
    """dd/mm/yyyy [HH:MM[:SS]] (also with '-' or '.', and '8h30') or ISO 8601; a date when no time is given."""
    text = text.strip()
    expected = "expected dd/mm/yyyy" + (" [HH:MM]" if with_time else "") + " or yyyy-mm-dd"
    m = _DMY_TIME.fullmatch(text)
    try:
        if m:
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if m.group(4) is None:
                return dt.date(year, month, day)
            return dt.datetime(year, month, day, int(m.group(4)), int(m.group(5)), int(m.group(6) or 0))
        if _ISO.fullmatch(text):
            return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    except ValueError:
        raise DateError(f"{text!r} is not a real date or time ({expected})") from None
    raise DateError(f"cannot read {text!r} as a date; {expected}")


def to_date(raw: Any) -> dt.date:
    """A date from text or from a spreadsheet's date cell (a datetime at midnight is a date)."""
    if isinstance(raw, dt.datetime):
        if raw.time() != dt.time():
            raise DateError(f"expected a date without a time, got {raw:%d/%m/%Y %H:%M}")
        raw = raw.date()
    if not isinstance(raw, dt.date):
        value = _date_or_time(str(raw), with_time=False)
        if isinstance(value, dt.datetime):
            if value.time() != dt.time() or value.tzinfo is not None:
                raise DateError(f"expected a date without a time, got {raw!r}")
            value = value.date()
        raw = value
    if not MIN_YEAR <= raw.year <= MAX_YEAR:
        raise DateError(f"{vn_date(raw)} is out of range (years {MIN_YEAR}–{MAX_YEAR})")
    return raw


def to_datetime(raw: Any, tz: dt.tzinfo) -> dt.datetime:
    """An aware UTC time from text or a spreadsheet cell; without an offset it is local time in `tz`,
    and a date alone means 00:00."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    else:
        parsed = _date_or_time(str(raw), with_time=True)
        value = parsed if isinstance(parsed, dt.datetime) else dt.datetime.combine(parsed, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise DateError(f"{value:%d/%m/%Y} is out of range (years {MIN_YEAR}–{MAX_YEAR})")
    return value.astimezone(dt.UTC)
