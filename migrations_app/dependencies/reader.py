"""Rows out of a dependency file, streamed: a CSV through the csv module over the open file, an
XLSX through openpyxl's read-only mode. Neither holds the file in memory, so a million-row export
costs the memory of one row (plus what the importer aggregates).

Rows are numbered as a spreadsheet shows them: the first line of the file is row 1.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from .formats import looks_like_header

# A title line or two above the header is tolerated; the header must come within these rows.
HEADER_SEARCH_ROWS = 10
ENCODINGS = ("utf-8-sig", "cp1252")


class UnreadableFile(Exception):
    """The file cannot be read at all (not a workbook, not text, a broken CSV record)."""


class Rows:
    """The header of a file and an iterator over its data rows as (row number, values)."""

    def __init__(self, header_row: int, headers: tuple, rows: Iterator):
        self.header_row = header_row
        self.headers = headers
        self.rows = rows

    def __iter__(self):
        return self.rows


def is_xlsx(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


@contextmanager
def open_rows(path, encoding: str = ENCODINGS[0]):
    """`with open_rows(path) as rows:` the header and the data rows of a CSV or XLSX file."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        if not is_xlsx(path):
            raise UnreadableFile("it is a zip file but not an .xlsx workbook")
        with _xlsx_rows(path) as rows:
            yield rows
    else:
        with _csv_rows(path, encoding) as rows:
            yield rows


def _find_header(numbered: Iterator) -> tuple[int, tuple]:
    """The header row: the first of the leading rows that names known columns, else the first non-empty one."""
    first = None
    for number, values in numbered:
        if not any(_filled(v) for v in values):
            continue
        if first is None:
            first = (number, tuple(values))
        if looks_like_header(values):
            return number, tuple(values)
        if number >= HEADER_SEARCH_ROWS:
            break
    return first or (1, ())


def _filled(value) -> bool:
    return value is not None and str(value).strip() != ""


@contextmanager
def _csv_rows(path: Path, encoding: str):
    with open(path, "rb") as raw:
        # the last encoding tried reads anything: an undecodable byte becomes U+FFFD, not a failure
        errors = "replace" if encoding == ENCODINGS[-1] else "strict"
        text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
        first_line = text.readline()
        text.seek(0)
        # Excel writes ";" where the locale's decimal mark is ","; tab-separated files exist too
        delimiter = max((",", ";", "\t"), key=first_line.count)
        reader = csv.reader(text, delimiter=delimiter)
        numbered = _numbered_csv(reader)
        header_row, headers = _find_header(numbered)
        yield Rows(header_row, tuple(h.strip() for h in headers), numbered)


def _numbered_csv(reader) -> Iterator[tuple[int, tuple]]:
    number = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFile(f"row {number + 1} cannot be read as CSV: {exc}") from None
        number += 1
        yield number, values


@contextmanager
def _xlsx_rows(path: Path):
    import openpyxl

    from inventory.rvtools.reader import shared_strings_too_big, unpacked_size

    # what the workbook's parts really inflate to, counted as they are decompressed (headers can lie)
    limit = settings.DEPENDENCIES["MAX_UNPACKED_MB"] * 2**20
    with zipfile.ZipFile(path) as archive:
        too_big = unpacked_size(path, archive.infolist(), limit) > limit
        strings = shared_strings_too_big(path, archive)
    if too_big:
        raise UnreadableFile(
            f"it unpacks to more than {limit // 2**20} MB (DEPENDENCY_IMPORT_MAX_UNPACKED_MB)"
        )
    if strings:
        raise UnreadableFile(strings)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except SoftTimeLimitExceeded:
        raise  # the job's time is up: not a damaged workbook
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged workbook
        raise UnreadableFile(f"it cannot be read as an .xlsx workbook: {exc}") from None
    try:
        # The export has one sheet; a workbook a planner edited may have more: take the first that fits.
        chosen = None
        for worksheet in workbook.worksheets:
            # read to the sheet's real end: openpyxl's read-only mode stops at (and pads to) the <dimension>
            # the sheet states, which a tool that edited the rows may have left stale
            worksheet.reset_dimensions()
            numbered = enumerate(worksheet.iter_rows(values_only=True), start=1)
            header_row, headers = _find_header(numbered)
            if chosen is None or looks_like_header(headers):
                chosen = (worksheet, header_row, headers)
            if looks_like_header(headers):
                break
        if chosen is None:
            yield Rows(1, (), iter(()))
            return
        worksheet, header_row, headers = chosen
        rows = enumerate(worksheet.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1)
        yield Rows(header_row, tuple("" if h is None else str(h).strip() for h in headers), rows)
    finally:
        workbook.close()
