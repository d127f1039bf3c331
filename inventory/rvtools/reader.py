"""Files to sheets: an RVTools .xlsx, a .zip of `RVTools_tab<sheet>.csv`, a folder of them, or one CSV.

Only the sheets the importer maps are read (vHealth or vPartition can be large and are never
used). Every sheet comes back as its header row plus the data rows, each numbered as Excel or
a text editor shows it (the header is row 1), so that problems can point at the right row.

Rows are streamed, never held: a sheet's rows are read from the file again each time they are
iterated. A first reading checks each sheet (damage, IMPORT_MAX_ROWS); a zip is checked first for
the bytes it really inflates to (IMPORT_MAX_UNPACKED_MB). README "Import limits".
"""

import csv
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
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


class SheetRows:
    """The data rows of one sheet as (row number, values), empty rows left out, read from the file each time
    they are iterated: a sheet is never held in memory, only the row being mapped. `len()` is the count the
    first reading found (it also checked the row cap and that the part is not damaged)."""

    def __init__(
        self, opener: Callable[[], Iterator[tuple[int, tuple]]], count: int, tick: Callable | None = None
    ):
        self._opener = opener
        self.count = count
        self._tick = tick

    def __iter__(self):
        every = settings.IMPORT_CANCEL_CHECK_ROWS
        for seen, row in enumerate(self._opener(), start=1):
            if self._tick and seen % every == 0:
                self._tick()  # a long import stops here when its job is cancelled
            yield row

    def __len__(self):
        return self.count


@dataclass
class Sheet:
    name: str  # as the file spells it
    headers: list[str]
    rows: SheetRows | list = field(default_factory=list)  # (row number, values)
    delimiter: str | None = None  # a CSV's field separator, which tells how it writes numbers; None for xlsx


def _uncompressed_limit() -> int:
    # A zip is checked before it is expanded: a small upload must not unpack into gigabytes.
    return settings.IMPORT_MAX_UNPACKED_MB * 1024 * 1024


def _too_many_rows(filename: str, name: str) -> RVToolsError:
    limit = settings.IMPORT_MAX_ROWS
    return RVToolsError(
        [
            Problem(
                sheet=name,
                message=f"has more than {limit:,} rows below its header (IMPORT_MAX_ROWS); {filename} is not read further. "
                "Split the export by vCenter, or raise IMPORT_MAX_ROWS",
            )
        ]
    )


@contextmanager
def open_export(
    path,
    filename: str | None = None,
    wanted: Iterable[str] | None = None,
    on_sheet: Callable | None = None,
    tick: Callable | None = None,
):
    """`with open_export(path) as sheets:` the export at `path`, as sheets keyed by lower-case name (`vinfo`,
    `dvport`...), readable while the block runs.

    `filename` is the name the user gave the file (uploads are stored under a random name).
    `wanted` limits which sheets are read; `on_sheet(sheet)` is called after each one is checked;
    `tick()` is called every IMPORT_CANCEL_CHECK_ROWS rows read (a job checks for its cancellation there).
    """
    path = Path(path)
    wanted = {w.lower() for w in wanted} if wanted is not None else None
    filename = filename or path.name
    with ExitStack() as stack:
        yield _open(stack, path, filename, wanted, on_sheet, tick)


def _open(stack, path, filename, wanted, on_sheet, tick) -> dict[str, Sheet]:
    def from_path(p):
        return lambda: p.open("rb")

    if path.is_dir():
        sources = [
            (m["sheet"], from_path(p)) for p in sorted(path.iterdir()) if (m := CSV_NAME.search(p.name))
        ]
        return _read_csvs(filename, sources, wanted, on_sheet, tick)
    if not path.is_file():
        raise RVToolsError([Problem(message=f"{filename}: no such file or folder")])
    if zipfile.is_zipfile(path):
        return _read_zip(stack, path, filename, wanted, on_sheet, tick)
    with path.open("rb") as handle:
        if handle.read(len(ZIP_START)) == ZIP_START:
            # a zip whose end (the directory of its members) is missing: an upload or copy cut short
            raise RVToolsError([Problem(message=f"{filename} is damaged or incomplete: {CUT_SHORT}")])
    if filename.lower().endswith(".csv"):
        match = CSV_NAME.search(filename)
        # a lone CSV under another name can only be the VM list
        return _read_csvs(
            filename, [(match["sheet"] if match else "vInfo", from_path(path))], wanted, on_sheet, tick
        )
    raise RVToolsError([Problem(message=f"{filename} is {NOT_AN_EXPORT}")])


def _read_zip(stack, path: Path, filename: str, wanted, on_sheet, tick) -> dict[str, Sheet]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError) as exc:
        raise RVToolsError([Problem(message=f"{filename} is damaged or incomplete: {exc}")]) from None
    limit = _uncompressed_limit()
    too_big = Problem(message=f"{filename} unpacks to more than {limit // 2**20} MB (IMPORT_MAX_UNPACKED_MB)")
    if sum(info.file_size for info in archive.infolist()) > limit:
        raise RVToolsError([too_big])  # what the directory says: refused before anything is inflated
    if unpacked_size(path, archive.infolist(), limit) > limit:
        raise RVToolsError([too_big])  # what the data says, whatever the headers claimed
    names = archive.namelist()
    if "xl/workbook.xml" in names:
        if problem := shared_strings_too_big(path, archive):
            raise RVToolsError([Problem(message=f"{filename}: {problem}")])
        return _read_workbook(stack, path, filename, wanted, on_sheet, tick)
    members = [(m["sheet"], name) for name in names if (m := CSV_NAME.search(name))]
    if not members:
        raise RVToolsError([Problem(message=f"{filename} holds no RVTools_tab*.csv files: {NOT_AN_EXPORT}")])
    sheets = {}
    for sheet, name in members:
        try:
            _read_csvs(
                filename, [(sheet, lambda name=name: archive.open(name))], wanted, on_sheet, tick, sheets
            )
        except DAMAGED as exc:
            # a damaged member (bad CRC, header, compressed data) shows only once it is read
            raise RVToolsError([_damaged(filename, name, exc)]) from None
    return sheets


def unpacked_size(path: Path, members, limit: int) -> int:
    """The bytes the zip's `members` inflate to, counted while decompressing them (stopping once past `limit`).

    A member's header says how big it unpacks, and can lie. Python's zipfile stops at the size the header
    says (then finds the CRC wrong), but what this portal allows must not hang on one library's care, and a
    lying header is refused for what it is: too big. Deflated members are inflated here from their raw bytes,
    in bounded steps; others are read through zipfile (which cannot exceed their stated size). A damaged
    member counts what inflated before the damage: it is named damaged when it is read, if it is needed."""
    total = 0
    with path.open("rb") as raw, zipfile.ZipFile(path) as archive:
        for info in members:
            try:
                total += _inflated(raw, archive, info, limit - total)
            except (*DAMAGED, NotImplementedError, OSError):
                continue  # a compression zipfile cannot read either: refused when the member is read
            if total > limit:
                break
    return total


def shared_strings_too_big(path: Path, archive: zipfile.ZipFile) -> str:
    """Why a workbook's shared strings are refused, or "": openpyxl keeps every one of them in memory while
    it reads, so tiny distinct strings by the million cost gigabytes whatever the rows are. The part is found
    as openpyxl finds it, by its content type (any name will do)."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    try:
        part = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES))).find(SHARED_STRINGS)
        info = archive.getinfo(part.PartName.lstrip("/")) if part is not None else None
    except Exception:  # noqa: BLE001 - a manifest openpyxl cannot read either: refused when it loads
        return ""
    limit = settings.IMPORT_MAX_SHARED_STRINGS_MB * 2**20
    if info is not None and unpacked_size(path, [info], limit) > limit:
        return (
            f"its shared strings ({info.filename}) unpack to more than {settings.IMPORT_MAX_SHARED_STRINGS_MB} "
            "MB (IMPORT_MAX_SHARED_STRINGS_MB)"
        )
    return ""


def _inflated(raw, archive, info, budget: int) -> int:
    """The bytes one member inflates to, up to just past `budget`."""
    count = 0
    if info.compress_type != zipfile.ZIP_DEFLATED:
        with archive.open(info) as member:
            while count <= budget and (block := member.read(2**20)):
                count += len(block)
        return count
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) < 30 or header[:4] != ZIP_START:
        return 0  # not where the directory says: zipfile names it damaged when the member is read
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    raw.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left = info.compress_size
    while left > 0 and not inflater.eof and count <= budget:
        chunk = raw.read(min(left, 2**16))
        if not chunk:
            break
        left -= len(chunk)
        while chunk and count <= budget:
            count += len(inflater.decompress(chunk, 2**20))
            chunk = inflater.unconsumed_tail
    return count


def _read_workbook(stack, path: Path, filename: str, wanted, on_sheet, tick) -> dict[str, Sheet]:
    import openpyxl

    # given a file rather than a path, openpyxl goes by the content, not by the name's extension (the
    # command may be given an export under any name, and a .zip holding a workbook is one)
    handle = stack.enter_context(path.open("rb"))
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except DAMAGED as exc:
        part = _unreadable_part(path) or "the workbook's parts"
        raise RVToolsError([_damaged(filename, part, exc)]) from None
    except SoftTimeLimitExceeded:
        raise  # the job's time is up: not a workbook that cannot be read
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a workbook it cannot use
        raise RVToolsError(
            [Problem(message=f"{filename} cannot be read as an xlsx workbook: {exc}")]
        ) from None
    stack.callback(workbook.close)
    sheets = {}
    for worksheet in workbook.worksheets:
        key = worksheet.title.strip().lower()
        if (wanted is not None and key not in wanted) or key in sheets:
            continue
        try:
            sheet = _read_worksheet(filename, worksheet, tick)
        except DAMAGED as exc:
            part = f"sheet {worksheet.title} ({getattr(worksheet, '_worksheet_path', '?')})"
            raise RVToolsError([_damaged(filename, part, exc)]) from None
        sheets[key] = sheet
        if on_sheet:
            on_sheet(sheet)
    return sheets


def _read_worksheet(filename: str, worksheet, tick) -> Sheet:
    # The <dimension> a sheet states is what openpyxl's read-only mode stops at (and pads to): an export
    # edited by a tool that left it stale would lose rows without a word. Read to the sheet's real end.
    worksheet.reset_dimensions()

    def all_rows():
        rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
        next(rows, None)  # the header
        yield from rows

    # read-only worksheets are parsed as they are iterated: a damaged member shows only here, on this
    # first reading, which also counts the rows
    first = worksheet.iter_rows(values_only=True, max_row=1)
    header = next(first, None) or ()
    first.close()  # and the sheet's part with it
    sheet = Sheet(worksheet.title, [_header(h) for h in header])
    sheet.rows = SheetRows(lambda: _filled(all_rows()), _count(filename, sheet.name, all_rows()), tick)
    return sheet


def _filled(rows):
    for number, values in rows:
        if any(v is not None and v != "" for v in values):
            yield number, values


def _count(filename: str, name: str, rows) -> int:
    """The filled rows among `rows` (every row below the header, as numbered), refused past IMPORT_MAX_ROWS:
    an empty row counts against the cap too, as a sheet can make up empty rows by the million."""
    limit = settings.IMPORT_MAX_ROWS + 1  # the header is row 1
    count = 0
    for number, values in rows:
        if number > limit:
            raise _too_many_rows(filename, name)
        if any(v is not None and v != "" for v in values):
            count += 1
    return count


def _damaged(filename: str, part: str, exc: Exception) -> Problem:
    reason = str(exc) or type(exc).__name__
    return Problem(
        message=f"{filename} is damaged or incomplete: {part} could not be read ({reason}). "
        "Export or copy the file again"
    )


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


def _read_csvs(filename, sources, wanted, on_sheet, tick, sheets=None) -> dict[str, Sheet]:
    """`sources`: (sheet name, a function that opens the CSV for binary reading, again at each call)."""
    sheets = {} if sheets is None else sheets
    for name, opener in sources:
        key = name.lower()
        if (wanted is not None and key not in wanted) or key in sheets:
            continue
        sheet = _read_csv(filename, name, opener, tick)
        sheets[key] = sheet
        if on_sheet:
            on_sheet(sheet)
    return sheets


def _read_csv(filename: str, name: str, opener, tick) -> Sheet:
    # RVTools writes UTF-8 with a byte-order mark, or the Windows code page of the machine it ran on: the
    # first reading tries UTF-8 to the end, and the file is read as cp1252 if any byte is not UTF-8.
    for encoding, errors in (("utf-8-sig", "strict"), ("cp1252", "replace")):
        try:
            with opener() as raw:
                text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
                # the list separator follows the Windows locale: ";" where "," is the decimal mark (a bounded
                # read: a file without line ends must not be read whole here)
                first_line = text.readline(2**16)
            delimiter = max((",", ";", "\t"), key=first_line.count)

            def all_rows(encoding=encoding, errors=errors, delimiter=delimiter):
                with opener() as raw:
                    text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
                    reader = csv.reader(text, delimiter=delimiter)
                    number = 1
                    try:
                        next(reader, None)  # the header
                        for number, values in enumerate(
                            reader, start=2
                        ):  # records as Excel shows them, not lines
                            yield number, tuple(v if v != "" else None for v in values)
                    except csv.Error as exc:
                        # a cell past the csv module's field limit (128 KB), or a quote never closed
                        raise RVToolsError(
                            [
                                Problem(
                                    sheet=name,
                                    row=number + 1,
                                    message=(
                                        f"cannot be read as CSV ({exc}); {filename} is not read further"
                                    ),
                                )
                            ]
                        ) from None

            with opener() as raw:
                try:
                    header = next(
                        csv.reader(
                            io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=""),
                            delimiter=delimiter,
                        ),
                        [],
                    )
                except csv.Error as exc:
                    raise RVToolsError(
                        [
                            Problem(
                                sheet=name,
                                row=1,
                                message=(f"cannot be read as CSV ({exc}); {filename} is not read further"),
                            )
                        ]
                    ) from None
            count = _count(filename, name, all_rows())
        except UnicodeDecodeError:
            continue
        rows = SheetRows(lambda all_rows=all_rows: _filled(all_rows()), count, tick)
        return Sheet(name, [_header(h) for h in header], rows, delimiter)
    raise AssertionError("cp1252 with errors='replace' reads any bytes")


def _header(value) -> str:
    return str(value).strip() if value is not None else ""
