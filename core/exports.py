"""Tables as files people open in a spreadsheet: CSV and XLSX, the same way everywhere.

Rows hold typed values: numbers (int, float, Decimal) and dates (date, datetime) go into the XLSX as
numbers and real Excel dates with a number format, so a stakeholder can sum, sort and filter them;
everything else is text. A text cell starting with = + - @ (or a tab or carriage return) gets a
leading apostrophe, so a spreadsheet shows it instead of running it as a formula (OWASP "CSV
injection"): VM names, messages and comments come from vCenter, HCX and users, and must never run as
formulas. A number or a date is never a formula, so it is written as it is.

The XLSX's header row is bold, frozen and auto-filtered, and its columns are as wide as their first
rows need. Rows are consumed as they come, so an export of a large table does not build it in memory
twice (only the first `WIDTH_SAMPLE` rows are held, to size the columns).
"""

import csv
import datetime
import decimal
import io
import itertools
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


NUMBERS = (int, float, decimal.Decimal)
DATETIME_FORMAT, DATE_FORMAT = "yyyy-mm-dd hh:mm:ss", "yyyy-mm-dd"
INTEGER_FORMAT, DECIMAL_FORMAT = "#,##0", "#,##0.0##"
WIDTH_SAMPLE = 200  # rows read ahead to size the columns
MIN_WIDTH, MAX_WIDTH = 8, 60  # in characters; a long message wraps to the cell instead of a 300-wide column


def _utc_naive(value: datetime.datetime) -> datetime.datetime:
    """Excel has no time zones: aware times are written in UTC (the columns say "(UTC)")."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def text_of(value) -> str:
    """A value as the CSV writes it (and as the column widths measure it)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return _utc_naive(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, NUMBERS) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _csv_cell(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (*NUMBERS, datetime.date)):
        return safe_cell(value)
    if isinstance(value, datetime.date):
        return text_of(value)
    return str(value)  # a number as a number (no thousands separator): never a formula


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    # With a byte-order mark Excel opens it as UTF-8 (VM names are not always ASCII).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        cell = WriteOnlyCell(sheet, value=_utc_naive(value))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    elif isinstance(value, NUMBERS) and not isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = INTEGER_FORMAT if isinstance(value, int) else DECIMAL_FORMAT
    else:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        cell.data_type = "s"  # text, even where openpyxl would guess a formula or a number
    return cell


def column_widths(columns: Sequence[str], sample: Sequence[Sequence]) -> list[float]:
    """Each column as wide as its header or its widest sampled value, within MIN_WIDTH..MAX_WIDTH."""
    widths = []
    for index, title in enumerate(columns):
        longest = max([len(str(title))] + [len(text_of(row[index])) for row in sample if index < len(row)])
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))))
    return widths


def xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence], sheet_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name[:31])  # Excel's limit on sheet names
    rows = iter(rows)
    sample = list(itertools.islice(rows, WIDTH_SAMPLE))
    # A write-only sheet writes its panes and column widths with the first row: set them before it.
    for index, width in enumerate(column_widths(columns, sample), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in columns:
        cell = WriteOnlyCell(sheet, value=safe_cell(title))
        cell.data_type, cell.font = "s", bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in itertools.chain(sample, rows):
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        count += 1
    # The filter covers the header and every row; it is written after the rows, so it is set last.
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{count + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(
    fmt: str, filename: str, columns: Sequence[str], rows: Iterable[Sequence], *, sheet_name: str
) -> HttpResponse:
    """An attachment response in `fmt` ("csv" or "xlsx"; anything else is CSV)."""
    fmt = fmt if fmt in CONTENT_TYPES else "csv"
    data = xlsx_bytes(columns, rows, sheet_name) if fmt == "xlsx" else csv_bytes(columns, rows)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
