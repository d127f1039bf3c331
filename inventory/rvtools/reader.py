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


@dataclass
class Sheet:
    name: str  # as the file spells it
    headers: list[str]
    rows: list[tuple[int, tuple]] = field(default_factory=list)  # (row number, values)


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
    if filename.lower().endswith(".csv"):
        match = CSV_NAME.search(filename)
        # a lone CSV under another name can only be the VM list
        return _read_csvs([(match["sheet"] if match else "vInfo", path.open("rb"))], wanted, on_sheet)
    raise RVToolsError([Problem(message=f"{filename} is {NOT_AN_EXPORT}")])


def _read_zip(path: Path, filename: str, wanted, on_sheet) -> dict[str, Sheet]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RVToolsError([Problem(message=f"{filename} cannot be opened as a zip file: {exc}")]) from None
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
        try:
            return _read_csvs([(sheet, archive.open(name)) for sheet, name in members], wanted, on_sheet)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            # a damaged member (bad CRC, header, compressed data) shows only once it is read
            raise RVToolsError([Problem(message=f"{filename} is a damaged zip file: {exc}")]) from None


def _read_xlsx(path: Path, filename: str, wanted, on_sheet) -> dict[str, Sheet]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged workbook
        raise RVToolsError(
            [Problem(message=f"{filename} cannot be read as an xlsx workbook: {exc}")]
        ) from None
    sheets = {}
    try:
        for worksheet in workbook.worksheets:
            key = worksheet.title.strip().lower()
            if (wanted is not None and key not in wanted) or key in sheets:
                continue
            rows = worksheet.iter_rows(values_only=True)
            header = next(rows, None) or ()
            sheet = Sheet(worksheet.title, [_header(h) for h in header])
            for number, values in enumerate(rows, start=2):
                if any(v is not None and v != "" for v in values):
                    sheet.rows.append((number, values))
            sheets[key] = sheet
            if on_sheet:
                on_sheet(sheet)
    finally:
        workbook.close()
    return sheets


def _read_csvs(sources, wanted, on_sheet) -> dict[str, Sheet]:
    sheets = {}
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
    sheet = Sheet(name, [_header(h) for h in header])
    for number, values in enumerate(reader, start=2):  # records as Excel shows them, not text lines
        values = tuple(v if v != "" else None for v in values)
        if any(v is not None for v in values):
            sheet.rows.append((number, values))
    return sheet


def _header(value) -> str:
    return str(value).strip() if value is not None else ""
