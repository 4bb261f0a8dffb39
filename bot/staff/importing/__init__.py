"""Importing cases from a CSV or XLSX file (`tthc-bot cases import FILE`): an idempotent upsert.

Two phases. `read_file` decodes (`decode`) and validates every row (`rows`, cell by cell with `cells`) without
touching the database: encoding, header, values, duplicate codes. `apply_rows` (`apply`) then upserts the valid
rows in the caller's transaction, chunk by chunk, checking each status change against the rules table before
anything of that row is written. `import_file` runs both in ONE transaction: when a row is bad, nothing of the file
is written unless `skip_bad_rows` is set, in which case the good rows are written and the bad ones reported. Every
problem is a `RowError` printed as `file:row:column: message`.
"""

from bot.staff.importing.apply import ImportReport, apply_rows, import_file, new_case_rows, status_path
from bot.staff.importing.cells import CellError
from bot.staff.importing.rows import COLUMNS, ImportRow, ParsedFile, RowError, read_file

__all__ = [
    "COLUMNS",
    "CellError",
    "ImportReport",
    "ImportRow",
    "ParsedFile",
    "RowError",
    "apply_rows",
    "import_file",
    "new_case_rows",
    "read_file",
    "status_path",
]
