"""The value of one cell of an import file, by column: text as typed or as a spreadsheet stores it (numbers,
dates) in, a checked Python value out, or a `CellError` saying what is wrong in words staff can act on.

Limits are those of the database and the staff API, so a value that passes here is stored as it is.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from bot.cases.rules import Problem, describe, parse_status
from bot.privacy.hashing import digits
from bot.privacy.masking import clean_name
from bot.replies.dates import DateError, to_date, to_datetime
from bot.settings import Settings
from knowledge.codes import CODE_RE, normalize_code
from knowledge.loader import KnowledgeBase
from knowledge.text import fold

CHANNELS = ("truc-tiep", "truc-tuyen", "buu-chinh")
RETURN_METHODS = ("truc-tiep", "buu-chinh")
MAX_FEE = 1_000_000_000
MAX_NOTE = 2000
MAX_MISSING = 30

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINEBREAK = re.compile(r"[\r\n\u2028\u2029\t]")
_SPACES = re.compile(r"[ \u00a0]+")
_FEE = re.compile(r"(\d{1,3}(?:([., \u00a0\u202f])\d{3})(?:\2\d{3})*|\d+)(?:[.,]0{1,2})?\s*(?:đ|đồng|vnd|vnđ)?", re.I)

# A parser gets the cell's text (NFC, trimmed, not empty), the raw cell, the knowledge base and the settings.
Parser = Callable[[str, Any, KnowledgeBase, Settings], Any]


class CellError(ValueError):
    """A cell's value is wrong; the message says why."""


def _one_line(text: str, max_length: int) -> str:
    if _CONTROL.search(text) or _LINEBREAK.search(text):
        raise CellError("control characters or line breaks are not allowed here")
    text = _SPACES.sub(" ", text)
    if len(text) > max_length:
        raise CellError(f"at most {max_length} characters (this has {len(text)})")
    return text


def _text(max_length: int) -> Parser:
    def parse(text: str, *_: Any) -> str:
        return _one_line(text, max_length)

    return parse


def _name(text: str, *_: Any) -> str:
    """A person's name: one line, then without direction overrides or invisible characters (`clean_name`)."""
    try:
        return clean_name(_one_line(text, 200))
    except ValueError as exc:
        raise CellError(str(exc)) from None


def _code(text: str, *_: Any) -> str:
    key = normalize_code(text) if CODE_RE.fullmatch(text) else None
    if key is None:
        raise CellError(f"{text!r} is not a receipt code; expected e.g. 000.00.15.H57-261114-0001 (any separators)")
    return key


def _procedure(text: str, _raw: Any, kb: KnowledgeBase, _s: Settings) -> str:
    if kb.get(text) is None:
        near = difflib.get_close_matches(text, list(kb.by_id), n=1, cutoff=0.8)
        hint = f"; did you mean {near[0]!r}?" if near else "; see `tthc-bot kb export`"
        raise CellError(f"unknown procedure id {text!r}{hint}")
    return text


def _phone(text: str, raw: Any, *_: Any) -> str:
    if isinstance(raw, float) and not raw.is_integer():
        raise CellError("not a phone number")
    if not re.fullmatch(r"[0-9 +().\-]{8,20}", text):
        raise CellError(f"{text!r} is not a phone number (digits, optionally spaces, dots, dashes or +84)")
    number = digits(text)
    if number.startswith("84") and len(number) in (11, 12):
        number = "0" + number[2:]
    elif len(number) == 9 and not number.startswith("0"):  # Excel dropped the leading zero
        number = "0" + number
    if not (number.startswith("0") and len(number) in (10, 11)):
        raise CellError(f"{text!r} is not a Vietnamese phone number (10 or 11 digits starting with 0, or +84)")
    return number


def _int(text: str, raw: Any) -> int:
    if isinstance(raw, float):
        if not raw.is_integer():
            raise CellError(f"{raw} is not a whole number")
        return int(raw)
    if isinstance(raw, int):
        return raw
    if not text.isdigit():
        raise CellError(f"{text!r} is not a whole number")
    return int(text)


def _birth_year(text: str, raw: Any, *_: Any) -> int:
    year = _int(text, raw)
    if not 1900 <= year <= dt.date.today().year:
        raise CellError(f"{year} is not a birth year (1900–{dt.date.today().year})")
    return year


def _fee(text: str, raw: Any, *_: Any) -> int:
    if isinstance(raw, (int, float)):
        amount = _int(text, raw)
    elif fold(text) in ("mien phi", "khong", "khong thu", "0"):
        amount = 0
    else:
        m = _FEE.fullmatch(text)
        if not m:
            raise CellError(f"{text!r} is not an amount in đồng (e.g. 50000 or 50.000)")
        amount = int(digits(m.group(1)))
    if not 0 <= amount <= MAX_FEE:
        raise CellError(f"{amount} is out of range (0 to {MAX_FEE:,} đồng)")
    return amount


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(text: str, *_: Any) -> str:
        value = re.sub(r"[\s_]+", "-", fold(text))
        if value not in options:
            raise CellError(f"{text!r} is not one of: {', '.join(options)}")
        return value

    return parse


def _status(text: str, *_: Any) -> str:
    status = parse_status(text)
    if status is None:
        raise CellError(describe(Problem("status", "unknown_status", text)))
    return status


def _missing(text: str, *_: Any) -> list[str]:
    items = [_one_line(item.strip(), 300) for item in re.split(r"[;\n]", text) if item.strip()]
    if len(items) > MAX_MISSING:
        raise CellError(f"at most {MAX_MISSING} documents")
    return items


def _note(text: str, *_: Any) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        raise CellError("control characters are not allowed")
    if len(text) > MAX_NOTE:
        raise CellError(f"at most {MAX_NOTE} characters (this has {len(text)})")
    return text


def _date(text: str, raw: Any, *_: Any) -> dt.date:
    return to_date(raw if isinstance(raw, dt.date) else text)  # a datetime is a date too


def _datetime(text: str, raw: Any, _kb: KnowledgeBase, settings: Settings) -> dt.datetime:
    return to_datetime(raw if isinstance(raw, dt.date) else text, settings.tz)


PARSERS: dict[str, Parser] = {
    "code": _code,
    "procedure_id": _procedure,
    "agency": _text(200),
    "office": _text(300),
    "applicant_name": _name,
    "phone": _phone,
    "birth_year": _birth_year,
    "received_at": _datetime,
    "appointment_date": _date,
    "new_appointment_date": _date,
    "channel": _choice(CHANNELS),
    "return_method": _choice(RETURN_METHODS),
    "fee": _fee,
    "status": _status,
    "note": _note,
    "missing_documents": _missing,
}
_DATES = frozenset({"received_at", "appointment_date", "new_appointment_date"})


def _text_value(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, (dt.datetime, dt.date)):
        raise CellError("expected text, got a date")
    return unicodedata.normalize("NFC", str(raw)).strip()


def parse_cell(name: str, raw: Any, *, kb: KnowledgeBase, settings: Settings) -> Any:
    """The value of column `name` from the cell `raw`; None when the cell is empty."""
    if raw is None:
        return None
    try:
        if isinstance(raw, (dt.datetime, dt.date)) and name in _DATES:  # a real spreadsheet date
            return PARSERS[name]("", raw, kb, settings)
        text = _text_value(raw)
        return PARSERS[name](text, raw, kb, settings) if text else None
    except DateError as exc:
        raise CellError(str(exc)) from None
