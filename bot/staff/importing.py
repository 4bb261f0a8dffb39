"""Importing cases from a CSV or XLSX file (`tthc-bot cases import FILE`): an idempotent upsert.

Two phases. `read_file` decodes and validates every row without touching the database (encoding,
header, values, duplicate codes); `apply_rows` then upserts the valid rows in the caller's
transaction, chunk by chunk, checking each status change against the stored status before writing
anything for that row. `import_file` runs both in ONE transaction: when a row is bad, nothing of the
file is written unless `skip_bad_rows` is set, in which case the good rows are written and the bad
ones reported. Every problem is a `RowError` printed as `file:row:column: message`, where `row` is
the line in the file (the header is row 1) and `column` the header as written in the file.

Upsert rules (see docs/cases-import.md):

* a new code is created like `create_case` does, then walked to the file's status by the shortest
  chain of allowed transitions (`received -> ready_for_pickup -> returned` for `returned`; every
  other status is one step from `received`), one history row per step;
* an existing code gets the changed fields (an empty cell keeps the stored value; the phone only
  when given and different by HMAC) and, when its status differs, one `set_status` call, so the
  followers are notified like any other staff change; a transition the stored status does not
  allow is an error of that row;
* the same file imported twice changes nothing: no field, no history row, no outbox row.

Speed (docs/benchmarks.md): rows are handled in chunks of 1,000. The stored cases of a chunk are
read with one query as plain rows, and only those that change are loaded as ORM objects. New cases
and their history are written with two multi-row INSERTs per chunk instead of `create_case` and
`set_status` per row: a case that did not exist before this transaction has no followers and no
queued messages, so `set_status` would queue nothing for it; its steps are checked with
`check_transition` and it gets exactly the fields and history rows that `create_case` followed by
`set_status` would write (tests/bot/test_imports.py compares both). Status changes of existing cases
always go through `set_status`.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import datetime as dt
import difflib
import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import CLOSED, STATUSES, TRANSITIONS, check_transition
from bot.privacy.hashing import digits, phone_hmac, phone_last4
from bot.settings import Settings
from bot.staff.status import set_status
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent, Outbox, utcnow
from knowledge.codes import CODE_RE, display_code, normalize_code
from knowledge.loader import KnowledgeBase
from knowledge.text import fold

CHUNK = 1000
SOURCE = "import"
CHANNELS = ("truc-tiep", "truc-tuyen", "buu-chinh")
RETURN_METHODS = ("truc-tiep", "buu-chinh")
MIN_YEAR, MAX_YEAR = 2000, 2100  # the bounds the staff API uses for dates
MAX_FEE = 1_000_000_000
MAX_NOTE = 2000
MAX_MISSING = 30

# Column names (canonical first), matched after folding: case, diacritics, spaces and dashes do not
# matter, so "Mã hồ sơ", "MA_HO_SO" and "ma-ho-so" are the same column.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "ma_ho_so", "ma_hs", "so_ho_so", "ma_bien_nhan", "so_bien_nhan", "receipt_code"),
    "procedure_id": ("procedure_id", "ma_thu_tuc", "thu_tuc", "procedure"),
    "agency": ("agency", "co_quan", "co_quan_giai_quyet", "co_quan_tiep_nhan"),
    "office": ("office", "noi_tiep_nhan", "noi_tra_ket_qua", "bo_phan_mot_cua", "bo_phan_tiep_nhan"),
    "applicant_name": ("applicant_name", "ho_ten", "ho_va_ten", "nguoi_nop", "ten_nguoi_nop", "chu_ho_so"),
    "phone": ("phone", "so_dien_thoai", "sdt", "dien_thoai"),
    "birth_year": ("birth_year", "nam_sinh"),
    "received_at": ("received_at", "ngay_nhan", "ngay_tiep_nhan", "thoi_gian_tiep_nhan"),
    "appointment_date": ("appointment_date", "ngay_hen_tra", "ngay_hen", "ngay_hen_tra_ket_qua"),
    "channel": ("channel", "hinh_thuc_nop", "kenh_nop"),
    "return_method": ("return_method", "hinh_thuc_nhan_ket_qua", "hinh_thuc_tra_ket_qua", "nhan_ket_qua"),
    "fee": ("fee", "le_phi", "phi", "phi_le_phi"),
    "status": ("status", "trang_thai"),
    "note": ("note", "ghi_chu", "ly_do"),
    "new_appointment_date": ("new_appointment_date", "ngay_hen_moi", "ngay_hen_tra_moi"),
    "missing_documents": ("missing_documents", "giay_to_can_bo_sung", "can_bo_sung", "giay_to_bo_sung"),
}
REQUIRED = ("code", "procedure_id", "agency", "applicant_name", "phone", "received_at", "appointment_date")
IGNORED = {"stt", "so_thu_tu", "tt"}  # the row-number column Vietnamese spreadsheets start with
_ALIAS = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
_STATUS_NAMES = {**{k: k for k in STATUSES}, **{fold(label): k for k, label in STATUSES.items()}}

# Columns with few distinct values in a file, whose parsed values are immutable.
_REPEATED = frozenset(
    {
        "procedure_id",
        "agency",
        "office",
        "appointment_date",
        "new_appointment_date",
        "channel",
        "return_method",
        "fee",
        "status",
        "note",
        "birth_year",
    }
)
_MULTILINE = frozenset({"note", "missing_documents"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINEBREAK = re.compile(r"[\r\n\u2028\u2029\t]")
_SPACES = re.compile(r"[ \u00a0]+")
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_FEE = re.compile(r"(\d{1,3}(?:([., \u00a0\u202f])\d{3})(?:\2\d{3})*|\d+)(?:[.,]0{1,2})?\s*(?:đ|đồng|vnd|vnđ)?", re.I)
_UTF8_VIETNAMESE = re.compile(rb"\xe1[\xba\xbb][\x80-\xbf]")  # ạ ả ấ … ỹ encoded as UTF-8


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str
    file: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


@dataclass(slots=True)
class ImportRow:
    """One valid row: `values` holds the non-empty cells, parsed; an absent key means an empty cell."""

    line: int
    key: str
    values: dict[str, Any]
    columns: dict[str, str]  # canonical name -> header as written in the file (shared by all rows)

    def col(self, name: str) -> str:
        return self.columns.get(name, name)


@dataclass
class ParsedFile:
    file: str
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fatal: bool = False  # the file itself is unusable (encoding, header, format): no row was read
    read: int = 0  # data rows in the file (blank lines not counted)
    encoding: str | None = None
    memo: dict[tuple[str, Any], Any] = field(default_factory=dict, repr=False)
    first_line: dict[str, int] = field(default_factory=dict, repr=False)  # code -> the row it first appears on


@dataclass
class ImportReport:
    file: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    notifications: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    fatal: bool = False  # the file itself could not be read (encoding, header, format)
    encoding: str | None = None

    def summary(self) -> str:
        return (
            f"{self.file}: {self.read} row(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.status_changes} status change(s), "
            f"{self.notifications} notification(s) queued, {self.skipped} skipped"
        )


class CellError(ValueError):
    """A cell's value is wrong; the message says why."""


# --- reading the file -----------------------------------------------------------------------


def _fail(parsed: ParsedFile, row: int, column: str, message: str) -> ParsedFile:
    parsed.errors.append(RowError(row, column, message, parsed.file))
    parsed.fatal = True
    return parsed


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _column_at(data: bytes, pos: int, delimiter: str, header: list[str]) -> str:
    """The header of the column that holds byte `pos` (for a precise encoding error)."""
    start = data.rfind(b"\n", 0, pos) + 1
    prefix = data[start:pos].decode("utf-8", errors="replace")
    index = len(next(csv.reader([prefix], delimiter=delimiter), [""])) - 1
    return header[index].strip() if 0 <= index < len(header) and header[index].strip() else "-"


def _sniff_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _decode(data: bytes, parsed: ParsedFile) -> str | None:
    """UTF-8 (with or without BOM), else Windows-1258; None (and a fatal error) when neither fits."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _fail(parsed, 1, "-", "the file is UTF-16 (Excel's 'Unicode text'); save it as 'CSV UTF-8' instead")
        return None
    if b"\x00" in data[:4096]:
        _fail(parsed, 1, "-", "this is not a text file; give a .csv or .xlsx file")
        return None
    try:
        parsed.encoding = "utf-8"
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if _UTF8_VIETNAMESE.search(data):  # UTF-8 Vietnamese with a damaged or foreign byte in it
            header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
            delimiter = _sniff_delimiter(header)
            column = _column_at(data, exc.start, delimiter, next(csv.reader([header], delimiter=delimiter), []))
            _fail(
                parsed,
                _line_of(data, exc.start),
                column,
                f"byte 0x{data[exc.start]:02X} is not valid UTF-8 but the rest of the file is UTF-8 "
                "(text pasted from another encoding?); fix that cell or save the file again as 'CSV UTF-8'",
            )
            return None
    try:
        parsed.encoding = "cp1258"
        return data.decode("cp1258")
    except UnicodeDecodeError as exc:
        _fail(
            parsed,
            _line_of(data, exc.start),
            "-",
            f"the file is neither UTF-8 nor Windows-1258 (byte 0x{data[exc.start]:02X}); save it as 'CSV UTF-8'",
        )
        return None


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their endings, without a second copy of the whole text."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end


def _csv_records(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of each record; a quoted cell may span lines."""
    delimiter = _sniff_delimiter(text[: text.find("\n")] if "\n" in text[:65536] else text[:65536])
    if "\r" in text and "\n" not in text:  # old Mac line endings
        text = text.replace("\r", "\n")
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _MalformedCsv(last + 1, f"{exc}, by line {reader.line_num}") from None
        yield last + 1, reader.line_num, cells
        last = reader.line_num


class _MalformedCsv(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _xlsx_records(path: Path, parsed: ParsedFile) -> Iterator[tuple[int, int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors for a broken file
        _fail(parsed, 1, "-", f"cannot read the XLSX file ({type(exc).__name__}: {str(exc)[:120]})")
        return
    number = 0
    try:
        if not wb.worksheets:
            _fail(parsed, 1, "-", "the workbook has no sheet")
            return
        for number, cells in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
            yield number, number, list(cells)
    except Exception as exc:  # a damaged sheet inside a readable archive
        _fail(parsed, number + 1, "-", f"cannot read the XLSX file ({type(exc).__name__}: {str(exc)[:120]})")
    finally:
        wb.close()


def _header_key(text: Any) -> str:
    return re.sub(r"[^0-9a-z]+", "_", fold(unicodedata.normalize("NFC", str(text or "")))).strip("_")


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_file(path: Path, *, kb: KnowledgeBase, settings: Settings, name: str | None = None) -> ParsedFile:
    """Decode and validate every row of a CSV or XLSX file; no database access."""
    parsed = ParsedFile(file=name or str(path))
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
            text = (
                None if magic.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) else _decode(magic + fh.read(), parsed)
            )
    except OSError as exc:
        return _fail(parsed, 0, "-", f"cannot read the file ({exc.strerror or exc})")
    if magic.startswith(b"PK\x03\x04"):
        parsed.encoding = "xlsx"
        records: Iterator[tuple[int, int, list[Any]]] = _xlsx_records(path, parsed)
    elif magic.startswith(b"\xd0\xcf\x11\xe0"):
        return _fail(parsed, 1, "-", "old Excel .xls files are not supported; save it as .xlsx or 'CSV UTF-8'")
    elif text is None:
        return parsed
    else:
        records = _csv_records(text)

    try:
        return _read_records(records, parsed, kb=kb, settings=settings)
    except _MalformedCsv as exc:
        return _fail(parsed, exc.line, "-", f'malformed CSV ({exc}); is a quote (") left open in this row?')


def _read_records(
    records: Iterator[tuple[int, int, list[Any]]], parsed: ParsedFile, *, kb: KnowledgeBase, settings: Settings
) -> ParsedFile:
    header: dict[int, tuple[str, str]] | None = None
    columns: dict[str, str] = {}
    width = 0
    for line, last, cells in records:
        if header is None:
            if _blank(cells):
                return _fail(parsed, line, "-", "the first row must be the header (column names); it is empty")
            header = _read_header(cells, line, parsed)
            if parsed.fatal:
                return parsed
            columns = {name: text for name, text in header.values()}
            width = max(i for i, c in enumerate(cells) if not _blank([c])) + 1
            continue
        if _blank(cells):
            continue
        parsed.read += 1
        if last > line and _runaway(cells, header):
            parsed.errors.append(
                RowError(
                    line,
                    "-",
                    f'lines {line}–{last} were read as one row: is a quote (") left open in this row?',
                    parsed.file,
                )
            )
            continue
        row = _read_row(cells, line, header, columns, width, parsed, kb=kb, settings=settings)
        if row is not None:
            parsed.rows.append(row)
    if parsed.fatal:  # the XLSX reader failed
        return parsed
    if header is None:
        return _fail(parsed, 1, "-", "the file is empty; the first row must name the columns")
    parsed.memo, parsed.first_line = {}, {}
    return parsed


def _runaway(cells: list[Any], header: dict[int, tuple[str, str]]) -> bool:
    """A line break in a cell that cannot hold one: most likely an unclosed quote swallowed the next lines."""
    return any("\n" in str(c) for i, c in enumerate(cells) if header.get(i, ("",))[0] not in _MULTILINE)


def _read_header(cells: list[Any], line: int, parsed: ParsedFile) -> dict[int, tuple[str, str]]:
    header: dict[int, tuple[str, str]] = {}
    seen: dict[str, str] = {}
    for index, cell in enumerate(cells):
        written = unicodedata.normalize("NFC", str(cell if cell is not None else "")).strip().lstrip("\ufeff")
        key = _header_key(written)
        if not key:
            continue
        if key in IGNORED:
            continue
        name = _ALIAS.get(key)
        if name is None:
            near = difflib.get_close_matches(key, _ALIAS, n=1, cutoff=0.75)
            hint = f"; did you mean {_ALIAS[near[0]]!r}?" if near else f"; known columns: {', '.join(COLUMNS)}"
            _fail(parsed, line, written, f"unknown column{hint}")
            continue
        if name in seen:
            _fail(parsed, line, written, f"column {name} appears twice (also as {seen[name]!r})")
            continue
        seen[name] = written
        header[index] = (name, written)
    for name in REQUIRED:
        if name not in seen:
            aliases = ", ".join(COLUMNS[name][1:3])
            _fail(parsed, line, name, f"missing required column (also accepted: {aliases}, …)")
    return header


def _read_row(
    cells: list[Any],
    line: int,
    header: dict[int, tuple[str, str]],
    columns: dict[str, str],
    width: int,
    parsed: ParsedFile,
    *,
    kb: KnowledgeBase,
    settings: Settings,
) -> ImportRow | None:
    errors: list[RowError] = []
    if not _blank(cells[width:]):
        used = max(i for i, c in enumerate(cells) if not _blank([c])) + 1
        errors.append(
            RowError(
                line,
                "-",
                f"{used} cells but the header names {width} columns (a delimiter inside a value that is not quoted?)",
                parsed.file,
            )
        )
    values: dict[str, Any] = {}
    memo = parsed.memo
    for index, (name, written) in header.items():
        raw = cells[index] if index < len(cells) else None
        try:
            if name in _REPEATED:  # few distinct values in a file: parse each once
                key = (name, raw)
                value = memo[key] if key in memo else memo.setdefault(key, _cell(name, raw, kb=kb, settings=settings))
            else:
                value = _cell(name, raw, kb=kb, settings=settings)
        except CellError as exc:
            errors.append(RowError(line, written, str(exc), parsed.file))
            continue
        if value is not None:
            values[name] = value
    key = values.get("code")
    if key is not None:  # a code given twice: the later row is the error, whatever else is wrong with either
        if key in parsed.first_line:
            errors.append(
                RowError(
                    line,
                    columns["code"],
                    f"duplicate code {display_code(key)}, already on row {parsed.first_line[key]}",
                    parsed.file,
                )
            )
        else:
            parsed.first_line[key] = line
    for name in REQUIRED:
        if name in columns and name not in values and not any(e.column == columns[name] for e in errors):
            errors.append(RowError(line, columns[name], "required; the cell is empty", parsed.file))
    if "received_at" in values and "appointment_date" in values:
        received_day = values["received_at"].astimezone(settings.tz).date()
        if values["appointment_date"] < received_day:
            errors.append(
                RowError(
                    line,
                    columns["appointment_date"],
                    f"{_vn(values['appointment_date'])} is before the day the case was received ({_vn(received_day)})",
                    parsed.file,
                )
            )
        if values.get("new_appointment_date") and values["new_appointment_date"] < received_day:
            errors.append(
                RowError(
                    line,
                    columns["new_appointment_date"],
                    f"{_vn(values['new_appointment_date'])} is before the day the case was received "
                    f"({_vn(received_day)})",
                    parsed.file,
                )
            )
    if errors:
        parsed.errors.extend(errors)
        return None
    return ImportRow(line=line, key=values["code"], values=values, columns=columns)


# --- cell values ----------------------------------------------------------------------------


def _vn(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _text_value(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, (dt.datetime, dt.date)):
        raise CellError("expected text, got a date")
    return unicodedata.normalize("NFC", str(raw)).strip()


def _one_line(text: str, max_length: int) -> str:
    if _CONTROL.search(text) or _LINEBREAK.search(text):
        raise CellError("control characters or line breaks are not allowed here")
    text = _SPACES.sub(" ", text)
    if len(text) > max_length:
        raise CellError(f"at most {max_length} characters (this has {len(text)})")
    return text


def _cell(name: str, raw: Any, *, kb: KnowledgeBase, settings: Settings) -> Any:
    """The parsed value of one cell; None when the cell is empty."""
    if raw is None:
        return None
    if isinstance(raw, (dt.datetime, dt.date)):
        if name in ("received_at",):
            return _datetime(raw, settings)
        if name in ("appointment_date", "new_appointment_date"):
            return to_date(raw)
    text = _text_value(raw)
    if not text:
        return None
    return _PARSERS[name](text, raw, kb, settings)


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


def _choice(options: tuple[str, ...]) -> Any:
    def parse(text: str, *_: Any) -> str:
        value = re.sub(r"[\s_]+", "-", fold(text))
        if value not in options:
            raise CellError(f"{text!r} is not one of: {', '.join(options)}")
        return value

    return parse


def parse_status(text: str, *_: Any) -> str:
    folded = _SPACES.sub(" ", fold(text)).strip()
    status = _STATUS_NAMES.get(folded.replace(" ", "_").replace("-", "_")) or _STATUS_NAMES.get(folded)
    if status is None:
        raise CellError(f"{text!r} is not a status; use one of: {', '.join(STATUSES)}")
    return status


def to_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        if raw.time() != dt.time():
            raise CellError(f"expected a date without a time, got {raw:%d/%m/%Y %H:%M}")
        raw = raw.date()
    if isinstance(raw, dt.date):
        if not MIN_YEAR <= raw.year <= MAX_YEAR:
            raise CellError(f"{_vn(raw)} is out of range (years {MIN_YEAR}–{MAX_YEAR})")
        return raw
    value = _datetime_text(str(raw), None)
    if isinstance(value, dt.datetime):
        if value.time() != dt.time() or value.tzinfo is not None:
            raise CellError(f"expected a date without a time, got {raw!r}")
        value = value.date()
    return to_date(value)


def _datetime(raw: Any, settings: Settings) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    else:
        parsed = _datetime_text(str(raw), settings)
        value = parsed if isinstance(parsed, dt.datetime) else dt.datetime.combine(parsed, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=settings.tz)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise CellError(f"{value:%d/%m/%Y} is out of range (years {MIN_YEAR}–{MAX_YEAR})")
    return value.astimezone(dt.UTC)


def _datetime_text(text: str, settings: Settings | None) -> dt.date | dt.datetime:
    """dd/mm/yyyy [HH:MM[:SS]] or ISO 8601; a date when no time is given."""
    text = text.strip()
    expected = "expected dd/mm/yyyy" + (" [HH:MM]" if settings else "") + " or yyyy-mm-dd"
    m = _DMY.fullmatch(text)
    try:
        if m:
            day, month, year, hour, minute, second = (int(g) if g else None for g in m.groups())
            if hour is None:
                return dt.date(year, month, day)  # type: ignore[arg-type]
            return dt.datetime(year, month, day, hour, minute, second or 0)  # type: ignore[arg-type]
        if _ISO.fullmatch(text):
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text)
    except ValueError:
        raise CellError(f"{text!r} is not a real date or time ({expected})") from None
    raise CellError(f"cannot read {text!r} as a date; {expected}")


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


_PARSERS: dict[str, Any] = {
    "code": _code,
    "procedure_id": _procedure,
    "agency": lambda t, *_: _one_line(t, 200),
    "office": lambda t, *_: _one_line(t, 300),
    "applicant_name": lambda t, *_: _one_line(t, 200),
    "phone": _phone,
    "birth_year": _birth_year,
    "received_at": lambda t, raw, kb, s: _datetime(t, s),
    "appointment_date": lambda t, *_: to_date(t),
    "new_appointment_date": lambda t, *_: to_date(t),
    "channel": _choice(CHANNELS),
    "return_method": _choice(RETURN_METHODS),
    "fee": _fee,
    "status": parse_status,
    "note": _note,
    "missing_documents": _missing,
}


# --- status rules ---------------------------------------------------------------------------


def status_path(current: str, target: str) -> list[str]:
    """The shortest chain of allowed transitions from `current` to `target` (without `current`)."""
    if current == target:
        return []
    queue: deque[tuple[str, list[str]]] = deque([(current, [])])
    seen = {current}
    while queue:
        status, path = queue.popleft()
        for nxt in sorted(TRANSITIONS[status]):
            if nxt == target:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, [*path, nxt]))
    raise ValueError(f"{target} cannot be reached from {current}")


def transition_problem(current: str, target: str) -> str | None:
    if target not in STATUSES:
        return f"{target!r} is not a status; use one of: {', '.join(STATUSES)}"
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (the case is closed)"
        return f"a case in status {current} cannot move to {target}; allowed from {current}: {allowed}"
    return None


def requirement_problem(
    target: str, *, note: str | None, new_date: dt.date | None, missing: list[str] | None
) -> tuple[str, str] | None:
    """(column, message) when `target` lacks what it needs (the same rules as `change_status`)."""
    if target == "overdue" and new_date is None:
        return "new_appointment_date", "status overdue needs the new appointment date"
    if target == "rejected" and not note:
        return "note", "status rejected needs a note giving the reason"
    if target == "need_supplement" and not (missing or note):
        return "missing_documents", "status need_supplement needs the missing documents (or a note)"
    return None


# --- writing --------------------------------------------------------------------------------

# Fields compared and updated as they are; the status and what goes with it are handled apart.
_PLAIN = (
    "procedure_id",
    "agency",
    "office",
    "applicant_name",
    "birth_year",
    "received_at",
    "appointment_date",
    "channel",
    "return_method",
    "fee",
)


async def _outbox_count(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Outbox))).one()


def new_case_rows(row: ImportRow, secret: str, now: dt.datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `case` row and its `caseevent` rows (without `case_id`) that `create_case` followed by
    `set_status` along `status_path("received", status)` would write, as plain column values."""
    v = row.values
    target = v.get("status", "received")
    steps = status_path("received", target)
    events = [{"status": "received", "note": None, "source": SOURCE, "at": v["received_at"]}]
    current = "received"
    for step in steps:
        check_transition(current, step)
        events.append({"status": step, "note": v.get("note") if step == target else None, "source": SOURCE, "at": now})
        current = step
    case = {
        "code": row.key,
        "display_code": display_code(row.key),
        "procedure_id": v["procedure_id"],
        "agency": v["agency"],
        "office": v.get("office"),
        "applicant_name": v["applicant_name"],
        "phone_hmac": phone_hmac(v["phone"], secret),
        "phone_last4": phone_last4(v["phone"]),
        "birth_year": v.get("birth_year"),
        "received_at": v["received_at"],
        "appointment_date": v["appointment_date"],
        "new_appointment_date": v.get("new_appointment_date"),
        "channel": v.get("channel", "truc-tiep"),
        "return_method": v.get("return_method", "truc-tiep"),
        "status": target,
        "status_note": v.get("note"),
        "missing_documents": list(v.get("missing_documents", [])),
        "fee": v.get("fee"),
        "closed_at": now if target in CLOSED else None,
        "created_at": now,
        "updated_at": now,
    }
    return case, events


async def _insert_new(session: AsyncSession, fresh: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Insert new cases and their history with two multi-row INSERTs (no per-row ORM objects)."""
    cases, events = Case.__table__, CaseEvent.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    await conn.execute(insert(cases), [c for c, _ in fresh])
    # the ids in a second query: PostgreSQL plans a multi-row INSERT … RETURNING of 1,000 rows slowly
    codes = [c["code"] for c, _ in fresh]
    ids = dict((await conn.execute(select(cases.c.code, cases.c.id).where(cases.c.code.in_(codes)))).all())
    await conn.execute(insert(events), [{**e, "case_id": ids[c["code"]]} for c, evs in fresh for e in evs])


@dataclass
class _Plan:
    changes: dict[str, Any]  # attribute -> new value, without the status
    moves: bool  # a `set_status` call is needed
    problem: tuple[str, str] | None = None  # (column, message): the row cannot be applied


def _plan(case: Any, row: ImportRow, secret: str) -> _Plan:
    """What `row` changes in a stored case (an ORM `Case` or a plain `case` row: same attributes).
    An empty cell keeps the stored value; the phone counts as changed only when its HMAC differs."""
    v = row.values
    target = v.get("status")
    reschedule = (
        target == case.status == "overdue"
        and "new_appointment_date" in v
        and v["new_appointment_date"] != case.new_appointment_date
    )
    moves = target is not None and (target != case.status or reschedule)
    if moves:
        refused = None if reschedule else transition_problem(case.status, target)
        if refused:
            return _Plan({}, False, ("status", refused))
        problem = requirement_problem(
            target, note=v.get("note"), new_date=v.get("new_appointment_date"), missing=v.get("missing_documents")
        )
        if problem:
            return _Plan({}, False, problem)
    changes = {name: v[name] for name in _PLAIN if name in v and getattr(case, name) != v[name]}
    if "phone" in v:
        digest = phone_hmac(v["phone"], secret)
        if digest != case.phone_hmac:
            changes["phone_hmac"], changes["phone_last4"] = digest, phone_last4(v["phone"])
    if not moves:  # then the note, the new date and the missing documents are plain fields
        for name, attr in (
            ("note", "status_note"),
            ("new_appointment_date", "new_appointment_date"),
            ("missing_documents", "missing_documents"),
        ):
            if name in v and getattr(case, attr) != v[name]:
                changes[attr] = v[name]
    return _Plan(changes, moves)


async def apply_rows(
    session: AsyncSession,
    parsed: ParsedFile,
    *,
    kb: KnowledgeBase,
    settings: Settings,
    skip_bad_rows: bool = False,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Upsert the valid rows of `parsed` in the caller's transaction.

    Rows are checked against the stored cases before anything of theirs is written. Without
    `skip_bad_rows`, writing stops at the first bad row (the remaining rows are still checked so
    that every error is listed) and the caller must roll back when `report.errors` is not empty.

    Per chunk: one query reads the stored cases as plain rows (cheap, and most rows of a re-import
    change nothing); only the cases that change are then loaded as ORM objects, locked on PostgreSQL
    (`FOR UPDATE`), checked again and changed."""
    report = ImportReport(file=parsed.file, read=parsed.read, errors=list(parsed.errors), encoding=parsed.encoding)
    secret = settings.secret_key.get_secret_value()
    now = now or utcnow()
    writing = skip_bad_rows or not report.errors
    before = await _outbox_count(session)
    postgres = session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]
    table = Case.__table__  # type: ignore[attr-defined]

    def bad(row: ImportRow, problem: tuple[str, str]) -> None:
        nonlocal writing
        report.errors.append(RowError(row.line, row.col(problem[0]), problem[1], parsed.file))
        writing = writing and skip_bad_rows

    for start in range(0, len(parsed.rows), CHUNK):
        chunk = parsed.rows[start : start + CHUNK]
        conn = await session.connection()
        stored = {r.code: r for r in await conn.execute(select(table).where(table.c.code.in_([r.key for r in chunk])))}
        fresh: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        changing: dict[int, ImportRow] = {}
        for row in chunk:
            v = row.values
            current = stored.get(row.key)
            if current is None:
                problem = requirement_problem(
                    v.get("status", "received"),
                    note=v.get("note"),
                    new_date=v.get("new_appointment_date"),
                    missing=v.get("missing_documents"),
                )
                if problem:
                    bad(row, problem)
                elif writing:
                    fresh.append(new_case_rows(row, secret, now))
                    report.created += 1
                    report.status_changes += len(fresh[-1][1]) - 1
                continue
            plan = _plan(current, row, secret)
            if plan.problem:
                bad(row, plan.problem)
            elif plan.changes or plan.moves:
                changing[current.id] = row
            else:
                report.unchanged += 1
        if changing and writing:
            stmt = select(Case).where(Case.id.in_(list(changing)))  # type: ignore[union-attr]
            if postgres:
                stmt = stmt.with_for_update()  # nobody changes these cases between our check and our write
            for case in (await session.exec(stmt.order_by(Case.id))).all():
                row = changing[case.id]  # type: ignore[index]
                plan = _plan(case, row, secret)  # again: another process may have changed it meanwhile
                if plan.problem:
                    bad(row, plan.problem)
                    continue
                if not writing:
                    continue
                if plan.changes:
                    for attr, value in plan.changes.items():
                        setattr(case, attr, value)
                    case.updated_at = now
                    session.add(case)
                if plan.moves:
                    v = row.values
                    await set_status(
                        session,
                        case=case,
                        status=v["status"],
                        kb=kb,
                        settings=settings,
                        note=v.get("note"),
                        new_date=v.get("new_appointment_date"),
                        missing=v.get("missing_documents"),
                        source=SOURCE,
                        at=now,
                    )
                    report.status_changes += 1
                if plan.changes or plan.moves:
                    report.updated += 1
                else:
                    report.unchanged += 1
            await session.flush()
        if fresh and writing:
            await _insert_new(session, fresh)
    report.notifications = await _outbox_count(session) - before
    report.skipped = len({e.row for e in report.errors}) if skip_bad_rows else 0
    report.errors.sort(key=lambda e: e.row)
    return report


class _RollBack(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


async def import_file(
    engine: AsyncEngine,
    path: Path,
    *,
    kb: KnowledgeBase,
    settings: Settings,
    skip_bad_rows: bool = False,
    name: str | None = None,
) -> ImportReport:
    """Read, check and upsert a whole file in one transaction; `report.written` says whether it was committed.
    The file is read in a worker thread, so a large file does not hold up the event loop."""
    parsed = await asyncio.to_thread(read_file, path, kb=kb, settings=settings, name=name)
    if parsed.fatal:
        return ImportReport(file=parsed.file, errors=parsed.errors, fatal=True, encoding=parsed.encoding)
    try:
        async with session_scope(engine) as session:
            report = await apply_rows(session, parsed, kb=kb, settings=settings, skip_bad_rows=skip_bad_rows)
            if report.errors and not skip_bad_rows:
                raise _RollBack(report)
    except _RollBack as stop:
        stop.report.written = False
        return stop.report
    report.written = True
    return report
