"""RVTools imports under hostile files (issue 15): zips that lie about their size, sheets past the row cap,
a stale <dimension>, endless problems, a cancelled job, and a reader that streams rows instead of holding them.
Each file is made here, small: the caps are lowered through settings."""

import csv
import io
import re
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from core import jobs
from core.choices import JobStatus
from core.models import Job
from inventory.models import VirtualMachine
from inventory.rvtools.importer import import_export
from inventory.rvtools.problems import RVToolsError
from inventory.rvtools.reader import open_export
from inventory.rvtools.uploads import upload_dir
from tests.test_rvtools_import import (
    REAL_EXPORT,
    cell_text,
    counts,
    generated_estate,
    nothing_stored,
    write_xlsx,
)


def vinfo_csv(vms: int, **change) -> bytes:
    """RVTools_tabvInfo.csv of a generated estate; `change` sets a column of every row (header -> value)."""
    rows = generated_estate(vms)["vInfo"]
    header = rows[0]
    for name, value in change.items():
        for row in rows[1:]:
            row[header.index(name)] = value
    out = io.StringIO()
    csv.writer(out).writerows([[cell_text(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def lie_about_sizes(path: Path, size: int) -> Path:
    """Rewrite every member's stated unpacked size, in its local header and in the central directory, to
    `size`: the headers of a zip bomb that passes a check of the sizes it states."""
    data = bytearray(path.read_bytes())
    for match in re.finditer(rb"PK\x03\x04", bytes(data)):
        struct.pack_into("<I", data, match.start() + 22, size)
    for match in re.finditer(rb"PK\x01\x02", bytes(data)):
        struct.pack_into("<I", data, match.start() + 24, size)
    path.write_bytes(bytes(data))
    return path


# --- bytes inflated -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_zip_whose_headers_understate_its_size_is_refused_for_the_bytes_it_really_inflates_to(
    tmp_path, settings
):
    settings.IMPORT_MAX_UNPACKED_MB = 1
    # 2 MB of rows compress to a few KB; the headers say each member unpacks to 1 KB
    bomb = zip_of(tmp_path / "bomb.zip", {"RVTools_tabvInfo.csv": vinfo_csv(1) + b"\n" * (2 * 2**20)})
    lie_about_sizes(bomb, 1024)
    assert sum(i.file_size for i in zipfile.ZipFile(bomb).infolist()) == 1024
    with pytest.raises(RVToolsError) as error:
        import_export(bomb, "bomb.zip")
    assert error.value.lines() == ["bomb.zip unpacks to more than 1 MB (IMPORT_MAX_UNPACKED_MB)"]
    assert nothing_stored()


@pytest.mark.django_db
def test_a_workbook_whose_sheet_understates_its_size_is_refused_too(tmp_path, settings):
    settings.IMPORT_MAX_UNPACKED_MB = 1
    source = write_xlsx(tmp_path / "x.xlsx", generated_estate(2))
    with zipfile.ZipFile(source) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b"</sheetData>" + b" " * (2 * 2**20)
    )
    bomb = lie_about_sizes(zip_of(tmp_path / "bomb.xlsx", members), 1024)
    with pytest.raises(RVToolsError) as error:
        import_export(bomb, "bomb.xlsx")
    assert error.value.lines() == ["bomb.xlsx unpacks to more than 1 MB (IMPORT_MAX_UNPACKED_MB)"]


@pytest.mark.django_db
def test_a_workbook_whose_shared_strings_would_fill_the_memory_is_refused(tmp_path, settings):
    """openpyxl holds every shared string while it reads: tiny distinct strings by the million cost gigabytes.
    The part is found by its content type, as openpyxl finds it: here it is renamed."""
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 1
    with zipfile.ZipFile(REAL_EXPORT) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    strings = b"".join(
        b"<x:si><x:t>%d</x:t></x:si>" % i for i in range(120_000)
    )  # appended: indexes still hold
    members["xl/strings.xml"] = members.pop("xl/sharedStrings.xml").replace(
        b"</x:sst>", strings + b"</x:sst>"
    )
    for name in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
        members[name] = members[name].replace(b"sharedStrings.xml", b"strings.xml")
    with pytest.raises(RVToolsError) as error:
        import_export(zip_of(tmp_path / "strings.xlsx", members), "strings.xlsx")
    assert error.value.lines() == [
        "strings.xlsx: its shared strings (xl/strings.xml) unpack to more than 1 MB (IMPORT_MAX_SHARED_STRINGS_MB)"
    ]
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 200
    import_export(zip_of(tmp_path / "strings.xlsx", members), "strings.xlsx")  # the renamed part is read
    assert VirtualMachine.objects.exists()


@pytest.mark.django_db
def test_a_zip_within_the_cap_still_imports(tmp_path, settings):
    settings.IMPORT_MAX_UNPACKED_MB = 1
    import_export(zip_of(tmp_path / "ok.zip", {"RVTools_tabvInfo.csv": vinfo_csv(3)}))
    assert VirtualMachine.objects.count() == 3


# --- rows -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sheet_past_the_row_cap_is_refused_naming_the_setting_and_one_at_the_cap_imports(
    tmp_path, settings
):
    settings.IMPORT_MAX_ROWS = 20
    (tmp_path / "RVTools_tabvInfo.csv").write_bytes(vinfo_csv(21))
    with pytest.raises(RVToolsError) as error:
        import_export(tmp_path / "RVTools_tabvInfo.csv")
    assert error.value.lines() == [
        "sheet vInfo: has more than 20 rows below its header (IMPORT_MAX_ROWS); RVTools_tabvInfo.csv is not read "
        "further. Split the export by vCenter, or raise IMPORT_MAX_ROWS"
    ]
    assert nothing_stored()
    (tmp_path / "RVTools_tabvInfo.csv").write_bytes(vinfo_csv(20))
    import_export(tmp_path / "RVTools_tabvInfo.csv")
    assert VirtualMachine.objects.count() == 20


@pytest.mark.django_db
def test_empty_rows_count_against_the_cap_so_a_sheet_cannot_make_up_a_million_of_them(tmp_path, settings):
    """A sheet's XML may skip to row 1,048,576; openpyxl makes up every row between as empty."""
    settings.IMPORT_MAX_ROWS = 20
    source = write_xlsx(tmp_path / "x.xlsx", generated_estate(2))
    with zipfile.ZipFile(source) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>",
        b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    with pytest.raises(RVToolsError) as error:
        import_export(zip_of(tmp_path / "far.xlsx", members), "far.xlsx")
    assert "sheet vInfo: has more than 20 rows below its header" in error.value.lines()[0]


def stale_dimension(source: Path, target: Path, ref: str) -> Path:
    """The workbook with each sheet's <dimension> replaced: what a tool that edits rows but not it leaves."""
    with zipfile.ZipFile(source) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    for name in members:
        if name.startswith("xl/worksheets/sheet"):
            members[name], found = re.subn(
                rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), members[name]
            )
            assert found == 1
    return zip_of(target, members)


@pytest.mark.django_db
def test_a_workbook_with_a_stale_dimension_is_read_to_its_real_end(tmp_path):
    source = write_xlsx(tmp_path / "x.xlsx", generated_estate(12))
    stale = stale_dimension(source, tmp_path / "stale.xlsx", "A1:Z2")  # says: a header and one row
    import_export(stale)
    assert VirtualMachine.objects.count() == 12
    assert counts()["VirtualDisk"] == 24


@pytest.mark.django_db
def test_a_csv_cell_past_the_csv_field_limit_is_refused_with_its_row_not_a_crash(tmp_path):
    """A quote never closed reads the rest of the file as one cell, until the csv module's 128 KB limit."""
    path = tmp_path / "RVTools_tabvInfo.csv"
    path.write_bytes(vinfo_csv(2) + b'"' + b"x" * (200 * 1024) + b"\r\n")
    with pytest.raises(RVToolsError) as error:
        import_export(path)
    [line] = error.value.lines()
    assert line.startswith("sheet vInfo, row 4: cannot be read as CSV (field larger than field limit")
    assert nothing_stored()


# --- problems -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reading_stops_at_the_problem_cap_and_says_so(tmp_path, settings):
    settings.IMPORT_MAX_PROBLEMS = 10
    (tmp_path / "RVTools_tabvInfo.csv").write_bytes(vinfo_csv(40, CPUs="many"))
    with pytest.raises(RVToolsError) as error:
        import_export(tmp_path / "RVTools_tabvInfo.csv")
    assert len(error.value.problems) == 10
    assert str(error.value).startswith(
        "Reading stopped after 10 problems in the export (IMPORT_MAX_PROBLEMS); nothing was imported."
    )
    assert nothing_stored()


# --- cancelling -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cancelled_import_stops_while_reading_and_writes_nothing(tmp_path, settings, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IMPORT_CANCEL_CHECK_ROWS = 5
    monkeypatch.setattr(Job, "send", lambda self: None)
    upload_dir().mkdir(parents=True)
    stored = upload_dir() / "0123456789abcdef.csv"
    stored.write_bytes(vinfo_csv(30))
    job = Job.enqueue(
        "inventory.import_rvtools", name="Import", params={"path": str(stored), "filename": "v.csv"}
    )
    job.request_cancel()  # as the Cancel button does while the job reads
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert nothing_stored() and not stored.exists()


# --- memory ---------------------------------------------------------------------------------------


def test_the_reader_streams_rows_and_holds_no_sheet_in_memory(tmp_path):
    """Reading a 6 MB vInfo costs the memory of a few rows, not of the sheet: it is the bytes, their text and
    every row as tuples that took a worker to 9.3 GB on a 60 MB CSV. Twice through, as the importer reads."""
    data = vinfo_csv(1)
    header, row = data.split(b"\r\n")[:2]
    path = tmp_path / "RVTools_tabvInfo.csv"
    path.write_bytes(header + b"\r\n" + (row + b"\r\n") * 40_000)
    assert path.stat().st_size > 6 * 2**20
    tracemalloc.start()
    try:
        with open_export(path) as sheets:
            rows = sheets["vinfo"].rows
            assert len(rows) == 40_000
            assert sum(1 for _ in rows) == sum(1 for _ in rows) == 40_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, f"peak {peak / 2**20:.1f} MB"
