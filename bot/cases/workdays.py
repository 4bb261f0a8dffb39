"""Working days: weekends and public holidays (Tết included) from a data file, for appointment reminders."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "holidays.yaml"


@lru_cache
def holidays(path: Path = DEFAULT_FILE) -> frozenset[dt.date]:
    days: set[dt.date] = set()
    for i, row in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or [], 1):
        try:
            if "date" in row:
                days.add(row["date"])
            else:
                d, end = row["from"], row["to"]
                while d <= end:
                    days.add(d)
                    d += dt.timedelta(days=1)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: entry {i}: needs date or from/to ({exc})") from None
    return frozenset(days)


def is_working_day(day: dt.date, path: Path = DEFAULT_FILE) -> bool:
    return day.weekday() < 5 and day not in holidays(path)


def previous_working_day(day: dt.date, path: Path = DEFAULT_FILE) -> dt.date:
    d = day - dt.timedelta(days=1)
    while not is_working_day(d, path):
        d -= dt.timedelta(days=1)
    return d
