"""From the bytes of an import file to records (first line, last line, cells), before any cell is interpreted.

CSV: UTF-8 with or without a BOM, else Windows-1258 (what old Vietnamese Windows systems export); `,` or `;`
sniffed from the header line; a quoted cell may span lines, so a record knows its first and last line. XLSX: the
first sheet through openpyxl (imported only for an XLSX file). A problem with the file itself (its encoding, a quote
left open, an unreadable workbook) is a `FileProblem` naming the line and, when it can, the column: the import stops
there, because no row of such a file can be trusted.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Record = tuple[int, int, list[Any]]  # first line, last line, cells

_XLSX = b"PK\x03\x04"
_XLS = b"\xd0\xcf\x11\xe0"
_UTF8_VIETNAMESE = re.compile(rb"\xe1[\xba\xbb][\x80-\xbf]")  # ạ ả ấ … ỹ encoded as UTF-8


class FileProblem(Exception):
    """The file cannot be read as a whole; `row` is the line in the file, `column` the header or '-'."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(message)
        self.row, self.column, self.message = row, column, message


@dataclass
class Decoded:
    encoding: str  # "utf-8", "cp1258" or "xlsx"
    records: Iterator[Record]  # may raise FileProblem while it is read


def open_records(path: Path) -> Decoded:
    """The records of a CSV or XLSX file, by its content (not its name)."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
            data = b"" if magic.startswith((_XLSX, _XLS)) else magic + fh.read()
    except OSError as exc:
        raise FileProblem(0, "-", f"cannot read the file ({exc.strerror or exc})") from None
    if magic.startswith(_XLSX):
        return Decoded("xlsx", _xlsx_records(path))
    if magic.startswith(_XLS):
        raise FileProblem(1, "-", "old Excel .xls files are not supported; save it as .xlsx or 'CSV UTF-8'")
    encoding, text = _decode(data)
    return Decoded(encoding, _csv_records(text))


def sniff_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _column_at(data: bytes, pos: int, delimiter: str, header: list[str]) -> str:
    """The header of the column that holds byte `pos` (for a precise encoding error)."""
    start = data.rfind(b"\n", 0, pos) + 1
    prefix = data[start:pos].decode("utf-8", errors="replace")
    index = len(next(csv.reader([prefix], delimiter=delimiter), [""])) - 1
    return header[index].strip() if 0 <= index < len(header) and header[index].strip() else "-"


def _decode(data: bytes) -> tuple[str, str]:
    """(encoding, text): UTF-8 (with or without BOM), else Windows-1258; FileProblem when neither fits."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(1, "-", "the file is UTF-16 (Excel's 'Unicode text'); save it as 'CSV UTF-8' instead")
    if b"\x00" in data[:4096]:
        raise FileProblem(1, "-", "this is not a text file; give a .csv or .xlsx file")
    try:
        return "utf-8", data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if _UTF8_VIETNAMESE.search(data):  # UTF-8 Vietnamese with a damaged or foreign byte in it
            header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
            delimiter = sniff_delimiter(header)
            column = _column_at(data, exc.start, delimiter, next(csv.reader([header], delimiter=delimiter), []))
            raise FileProblem(
                _line_of(data, exc.start),
                column,
                f"byte 0x{data[exc.start]:02X} is not valid UTF-8 but the rest of the file is UTF-8 "
                "(text pasted from another encoding?); fix that cell or save the file again as 'CSV UTF-8'",
            ) from None
    try:
        return "cp1258", data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise FileProblem(
            _line_of(data, exc.start),
            "-",
            f"the file is neither UTF-8 nor Windows-1258 (byte 0x{data[exc.start]:02X}); save it as 'CSV UTF-8'",
        ) from None


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their endings, without a second copy of the whole text."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end


def _csv_records(text: str) -> Iterator[Record]:
    """(first line, last line, cells) of each record; a quoted cell may span lines."""
    delimiter = sniff_delimiter(text[: text.find("\n")] if "\n" in text[:65536] else text[:65536])
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
            raise FileProblem(
                last + 1,
                "-",
                f'malformed CSV ({exc}, by line {reader.line_num}); is a quote (") left open in this row?',
            ) from None
        yield last + 1, reader.line_num, cells
        last = reader.line_num


def _xlsx_records(path: Path) -> Iterator[Record]:
    from openpyxl import load_workbook  # only for XLSX files: it is slow to import

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors for a broken file
        raise FileProblem(1, "-", f"cannot read the XLSX file ({type(exc).__name__}: {str(exc)[:120]})") from None
    number = 0
    try:
        if not wb.worksheets:
            raise FileProblem(1, "-", "the workbook has no sheet")
        for number, cells in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
            yield number, number, list(cells)
    except FileProblem:
        raise
    except Exception as exc:  # a damaged sheet inside a readable archive
        raise FileProblem(
            number + 1, "-", f"cannot read the XLSX file ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
    finally:
        wb.close()
