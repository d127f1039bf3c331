"""Files to sheets: an RVTools .xlsx, a .zip of `RVTools_tab<sheet>.csv`, a folder of them, or one CSV.

Only the sheets the importer maps are read (vHealth or vPartition can be large and are never
used). Every sheet comes back as its header row plus the data rows, each numbered as Excel or
a text editor shows it (the header is row 1), so that problems can point at the right row.
"""

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from .problems import Problem, RVToolsError

CSV_NAME = re.compile(r"(?:^|/)RVTools_tab(?P<sheet>\w+)\.csv$", re.IGNORECASE)
NOT_AN_EXPORT = (
    "not an RVTools export: expected an .xlsx workbook, a .zip of RVTools_tab*.csv files, "
    "a folder of them, or RVTools_tabvInfo.csv"
)
CUT_SHORT = (
    "it begins as a zip file (.xlsx or .zip) but the directory of its members, at its end, is missing or "
    "unreadable: was it cut short? Export or copy it again"
)
ZIP_START = b"PK\x03\x04"  # every .xlsx and .zip begins with a member's local header
# What a damaged zip member raises once it is read: a bad CRC or header, broken deflate data, data cut
# short, or (inside an .xlsx) XML cut or garbled: ElementTree's and lxml's parse errors are SyntaxErrors.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, UnicodeDecodeError, KeyError, ValueError)


@dataclass
class Sheet:
    name: str  # as the file spells it
    headers: list[str]
    rows: list[tuple[int, tuple]] = field(default_factory=list)  # (row number, values)
    delimiter: str | None = None  # a CSV's field separator, which tells how it writes numbers; None for xlsx


def _uncompressed_limit() -> int:
    # A zip is checked before it is expanded: a small upload must not unpack into gigabytes.
    return settings.MAX_UPLOAD_MB * 20 * 1024 * 1024


def read_export(
    path, filename: str | None = None, wanted: Iterable[str] | None = None, on_sheet: Callable | None = None
) -> dict[str, Sheet]:
    """Read the export at `path`; returns sheets keyed by lower-case name (`vinfo`, `dvport`...).

    `filename` is the name the user gave the file (uploads are stored under a random name).
    `wanted` limits which sheets are read; `on_sheet(sheet)` is called after each one.
    """
    path = Path(path)
    wanted = {w.lower() for w in wanted} if wanted is not None else None
    filename = filename or path.name
    if path.is_dir():
        sources = [
            (m["sheet"], p.open("rb")) for p in sorted(path.iterdir()) if (m := CSV_NAME.search(p.name))
        ]
        return _read_csvs(sources, wanted, on_sheet)
    if not path.is_file():
        raise RVToolsError([Problem(message=f"{filename}: no such file or folder")])
    if zipfile.is_zipfile(path):
        return _read_zip(path, filename, wanted, on_sheet)
    with path.open("rb") as handle:
        if handle.read(len(ZIP_START)) == ZIP_START:
            # a zip whose end (the directory of its members) is missing: an upload or copy cut short
            raise RVToolsError([Problem(message=f"{filename} is damaged or incomplete: {CUT_SHORT}")])
    if filename.lower().endswith(".csv"):
        match = CSV_NAME.search(filename)
        # a lone CSV under another name can only be the VM list
        return _read_csvs([(match["sheet"] if match else "vInfo", path.open("rb"))], wanted, on_sheet)
    raise RVToolsError([Problem(message=f"{filename} is {NOT_AN_EXPORT}")])


def _read_zip(path: Path, filename: str, wanted, on_sheet) -> dict[str, Sheet]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RVToolsError([Problem(message=f"{filename} is damaged or incomplete: {exc}")]) from None
    with archive:
        if sum(info.file_size for info in archive.infolist()) > _uncompressed_limit():
            raise RVToolsError(
                [Problem(message=f"{filename} unpacks to more than {_uncompressed_limit() // 2**20} MB")]
            )
        names = archive.namelist()
        if "xl/workbook.xml" in names:
            return _read_xlsx(path, filename, wanted, on_sheet)
        members = [(m["sheet"], name) for name in names if (m := CSV_NAME.search(name))]
        if not members:
            raise RVToolsError(
                [Problem(message=f"{filename} holds no RVTools_tab*.csv files: {NOT_AN_EXPORT}")]
            )
        sheets = {}
        for sheet, name in members:
            try:
                _read_csvs([(sheet, archive.open(name))], wanted, on_sheet, sheets)
            except DAMAGED as exc:
                # a damaged member (bad CRC, header, compressed data) shows only once it is read
                raise RVToolsError([_damaged(filename, name, exc)]) from None
        return sheets


def _read_xlsx(path: Path, filename: str, wanted, on_sheet) -> dict[str, Sheet]:
    # given a file rather than a path, openpyxl goes by the content, not by the name's extension (the
    # command may be given an export under any name, and a .zip holding a workbook is one)
    with path.open("rb") as handle:
        return _read_workbook(handle, path, filename, wanted, on_sheet)


def _read_workbook(handle, path: Path, filename: str, wanted, on_sheet) -> dict[str, Sheet]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except DAMAGED as exc:
        part = _unreadable_part(path) or "the workbook's parts"
        raise RVToolsError([_damaged(filename, part, exc)]) from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a workbook it cannot use
        raise RVToolsError(
            [Problem(message=f"{filename} cannot be read as an xlsx workbook: {exc}")]
        ) from None
    sheets = {}
    try:
        for worksheet in workbook.worksheets:
            key = worksheet.title.strip().lower()
            if (wanted is not None and key not in wanted) or key in sheets:
                continue
            try:
                sheet = _read_worksheet(worksheet)
            except DAMAGED as exc:
                part = f"sheet {worksheet.title} ({getattr(worksheet, '_worksheet_path', '?')})"
                raise RVToolsError([_damaged(filename, part, exc)]) from None
            sheets[key] = sheet
            if on_sheet:
                on_sheet(sheet)
    finally:
        workbook.close()
    return sheets


def _read_worksheet(worksheet) -> Sheet:
    # read-only worksheets are parsed as they are iterated: a damaged member shows only here
    rows = worksheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    sheet = Sheet(worksheet.title, [_header(h) for h in header])
    for number, values in enumerate(rows, start=2):
        if any(v is not None and v != "" for v in values):
            sheet.rows.append((number, values))
    return sheet


def _damaged(filename: str, part: str, exc: Exception) -> Problem:
    reason = str(exc) or type(exc).__name__
    return Problem(message=f"{filename} is damaged or incomplete: {part} could not be read ({reason}). "
                   "Export or copy the file again")


def _unreadable_part(path: Path) -> str | None:
    """Which member of a workbook openpyxl could not load: the first that fails to unpack or to parse."""
    from xml.etree.ElementTree import XMLPullParser

    # openpyxl reads the workbook parts, and the start of each sheet, when it loads: any member may be it
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            try:
                data = archive.read(info)
                if info.filename.endswith((".xml", ".rels")):
                    parser = XMLPullParser()
                    parser.feed(data)
                    parser.close()
            except DAMAGED:
                return info.filename
    return None


def _read_csvs(sources, wanted, on_sheet, sheets=None) -> dict[str, Sheet]:
    sheets = {} if sheets is None else sheets
    for name, stream in sources:
        with stream:
            key = name.lower()
            if (wanted is not None and key not in wanted) or key in sheets:
                continue
            sheet = _read_csv(name, stream.read())
            sheets[key] = sheet
            if on_sheet:
                on_sheet(sheet)
    return sheets


def _read_csv(name: str, data: bytes) -> Sheet:
    # RVTools writes UTF-8 with a byte-order mark, or the Windows code page of the machine it ran on
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    # the list separator follows the Windows locale: ";" where "," is the decimal mark
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    sheet = Sheet(name, [_header(h) for h in header], delimiter=delimiter)
    for number, values in enumerate(reader, start=2):  # records as Excel shows them, not text lines
        values = tuple(v if v != "" else None for v in values)
        if any(v is not None for v in values):
            sheet.rows.append((number, values))
    return sheet


def _header(value) -> str:
    return str(value).strip() if value is not None else ""
