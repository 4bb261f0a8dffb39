"""Dates as Vietnamese offices write them (dd/mm/yyyy) and as systems do (ISO)."""

from __future__ import annotations

import datetime as dt
import re

_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")


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
