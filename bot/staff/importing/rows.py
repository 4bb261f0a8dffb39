"""The header and the rows of an import file, checked without touching the database (`read_file`).

Column names are matched after folding, so case, diacritics, spaces and dashes do not matter ("Mã hồ sơ",
"MA_HO_SO" and "ma-ho-so" are one column); an unknown column is an error, since a misspelt `trang_thaii` would
otherwise be ignored silently. Every problem is a `RowError` printed as `file:row:column: message`, where `row` is
the line in the file (the header is row 1) and `column` the header as written in the file.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.replies.dates import vn_date
from bot.settings import Settings
from bot.staff.importing.cells import CellError, parse_cell
from bot.staff.importing.decode import FileProblem, Record, open_records
from knowledge.codes import display_code
from knowledge.loader import KnowledgeBase
from knowledge.text import fold

# Column names (canonical first).
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
# Columns with few distinct values in a file, whose parsed values are immutable: each value is parsed once.
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

Header = dict[int, tuple[str, str]]  # cell index -> (canonical name, header as written)


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

    def fail(self, row: int, column: str, message: str) -> ParsedFile:
        """A problem with the file itself: reported, and no further row is read."""
        self.errors.append(RowError(row, column, message, self.file))
        self.fatal = True
        return self


def read_file(path: Path, *, kb: KnowledgeBase, settings: Settings, name: str | None = None) -> ParsedFile:
    """Decode and validate every row of a CSV or XLSX file; no database access."""
    parsed = ParsedFile(file=name or str(path))
    try:
        decoded = open_records(path)
        parsed.encoding = decoded.encoding
        _read_records(decoded.records, parsed, kb=kb, settings=settings)
    except FileProblem as exc:
        parsed.fail(exc.row, exc.column, exc.message)
    parsed.memo, parsed.first_line = {}, {}
    return parsed


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _read_records(records: Iterator[Record], parsed: ParsedFile, *, kb: KnowledgeBase, settings: Settings) -> None:
    header: Header | None = None
    columns: dict[str, str] = {}
    width = 0
    for line, last, cells in records:
        if header is None:
            if _blank(cells):
                parsed.fail(line, "-", "the first row must be the header (column names); it is empty")
                return
            header = _read_header(cells, line, parsed)
            if parsed.fatal:
                return
            columns = {name: text for name, text in header.values()}
            width = max(i for i, c in enumerate(cells) if not _blank([c])) + 1
            continue
        if _blank(cells):
            continue
        parsed.read += 1
        if last > line and _runaway(cells, header):
            message = f'lines {line}–{last} were read as one row: is a quote (") left open in this row?'
            parsed.errors.append(RowError(line, "-", message, parsed.file))
            continue
        row = _read_row(cells, line, header, columns, width, parsed, kb=kb, settings=settings)
        if row is not None:
            parsed.rows.append(row)
    if header is None:
        parsed.fail(1, "-", "the file is empty; the first row must name the columns")


def _runaway(cells: list[Any], header: Header) -> bool:
    """A line break in a cell that cannot hold one: most likely an unclosed quote swallowed the next lines."""
    return any("\n" in str(c) for i, c in enumerate(cells) if header.get(i, ("",))[0] not in _MULTILINE)


def _header_key(text: Any) -> str:
    return re.sub(r"[^0-9a-z]+", "_", fold(unicodedata.normalize("NFC", str(text or "")))).strip("_")


def _read_header(cells: list[Any], line: int, parsed: ParsedFile) -> Header:
    header: Header = {}
    seen: dict[str, str] = {}
    for index, cell in enumerate(cells):
        written = unicodedata.normalize("NFC", str(cell if cell is not None else "")).strip().lstrip("\ufeff")
        key = _header_key(written)
        if not key or key in IGNORED:
            continue
        name = _ALIAS.get(key)
        if name is None:
            near = difflib.get_close_matches(key, _ALIAS, n=1, cutoff=0.75)
            hint = f"; did you mean {_ALIAS[near[0]]!r}?" if near else f"; known columns: {', '.join(COLUMNS)}"
            parsed.fail(line, written, f"unknown column{hint}")
            continue
        if name in seen:
            parsed.fail(line, written, f"column {name} appears twice (also as {seen[name]!r})")
            continue
        seen[name] = written
        header[index] = (name, written)
    for name in REQUIRED:
        if name not in seen:
            parsed.fail(line, name, f"missing required column (also accepted: {', '.join(COLUMNS[name][1:3])}, …)")
    return header


def _read_row(
    cells: list[Any],
    line: int,
    header: Header,
    columns: dict[str, str],
    width: int,
    parsed: ParsedFile,
    *,
    kb: KnowledgeBase,
    settings: Settings,
) -> ImportRow | None:
    errors: list[tuple[str, str]] = []  # (column as written, message)
    if not _blank(cells[width:]):
        used = max(i for i, c in enumerate(cells) if not _blank([c])) + 1
        errors.append(
            ("-", f"{used} cells but the header names {width} columns (a delimiter inside a value that is not quoted?)")
        )
    values = _values(cells, header, parsed, errors, kb=kb, settings=settings)
    code = values.get("code")
    if code is not None:  # a code given twice: the later row is the error, whatever else is wrong with either
        if code in parsed.first_line:
            message = f"duplicate code {display_code(code)}, already on row {parsed.first_line[code]}"
            errors.append((columns["code"], message))
        else:
            parsed.first_line[code] = line
    for name in REQUIRED:
        if name in columns and name not in values and not any(column == columns[name] for column, _ in errors):
            errors.append((columns[name], "required; the cell is empty"))
    errors += _date_order(values, columns, settings)
    if errors:
        parsed.errors.extend(RowError(line, column, message, parsed.file) for column, message in errors)
        return None
    return ImportRow(line=line, key=values["code"], values=values, columns=columns)


def _values(
    cells: list[Any],
    header: Header,
    parsed: ParsedFile,
    errors: list[tuple[str, str]],
    *,
    kb: KnowledgeBase,
    settings: Settings,
) -> dict[str, Any]:
    """The parsed non-empty cells of a row; a bad cell adds to `errors`."""
    values: dict[str, Any] = {}
    memo = parsed.memo
    for index, (name, written) in header.items():
        raw = cells[index] if index < len(cells) else None
        try:
            if name in _REPEATED:
                key = (name, raw)
                value = (
                    memo[key] if key in memo else memo.setdefault(key, parse_cell(name, raw, kb=kb, settings=settings))
                )
            else:
                value = parse_cell(name, raw, kb=kb, settings=settings)
        except CellError as exc:
            errors.append((written, str(exc)))
            continue
        if value is not None:
            values[name] = value
    return values


def _date_order(values: dict[str, Any], columns: dict[str, str], settings: Settings) -> list[tuple[str, str]]:
    """An appointment (new or original) cannot be before the day the case was received."""
    if "received_at" not in values or "appointment_date" not in values:
        return []
    received_day = values["received_at"].astimezone(settings.tz).date()
    return [
        (columns[name], f"{vn_date(values[name])} is before the day the case was received ({vn_date(received_day)})")
        for name in ("appointment_date", "new_appointment_date")
        if values.get(name) and values[name] < received_day
    ]
