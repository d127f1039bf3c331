"""Tables as files people open in a spreadsheet: CSV and XLSX, the same way everywhere.

Every cell is text, and a cell starting with = + - @ (or a tab or carriage return) gets a leading
apostrophe, so a spreadsheet shows it instead of running it as a formula (OWASP "CSV injection"): VM
names, messages and comments come from vCenter, HCX and users, and must never run as formulas.
Rows are consumed as they come, so an export of a large table does not build it in memory twice.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# Where `;` is the list separator, a spreadsheet opening the CSV splits a cell there, and what follows
# the `;` is a cell of its own: it gets the apostrophe too.
AFTER_SEMICOLON = re.compile(r"(;[ \t]*)(?=[=+\-@\t\r])")


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe before what would start a formula,
    at the start and after each `;`."""
    text = "" if value is None else str(value)
    text = AFTER_SEMICOLON.sub(r"\1'", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    # With a byte-order mark Excel opens it as UTF-8 (VM names are not always ASCII).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence], sheet_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name[:31])  # Excel's limit on sheet names
    sheet.append(list(columns))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            cell.data_type = "s"  # text, even where openpyxl would guess a formula or a number
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(fmt: str, filename: str, columns: Sequence[str], rows: Iterable[Sequence], *, sheet_name: str) -> HttpResponse:
    """An attachment response in `fmt` ("csv" or "xlsx"; anything else is CSV)."""
    fmt = fmt if fmt in CONTENT_TYPES else "csv"
    data = xlsx_bytes(columns, rows, sheet_name) if fmt == "xlsx" else csv_bytes(columns, rows)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
