"""Dependency imports under hostile and real files (issue 15): the row and problem caps, a stale <dimension>,
a workbook that lies about its size, a cancelled job, and Azure Migrate's documented and newer layouts.
Files are made here, small: the caps are lowered through settings."""

import zipfile

import pytest

from core import jobs
from core.choices import JobStatus
from core.models import Job
from inventory.rvtools.uploads import upload_dir
from migrations_app.choices import DependencyFormat
from migrations_app.dependencies.importer import import_file
from migrations_app.dependencies.problems import DependencyImportError
from migrations_app.models import Dependency, DependencyImport
from tests.factories import make_vcenter, make_vm
from tests.test_dependencies_import import edges, write_csv, write_xlsx
from tests.test_rvtools_limits import lie_about_sizes, stale_dimension, zip_of

PLAIN = ["source", "destination", "port"]


@pytest.fixture
def inventory(db):
    """The VMs the files name, as tests/test_dependencies_import.py's estate has them."""
    vc = make_vcenter()
    make_vm(vc, "WEB01", dns_name="web01.corp.example", primary_ip="10.0.0.11")
    make_vm(vc, "app01.corp.example", primary_ip="10.0.0.21")
    make_vm(vc, "db01", nics=[{"network_name": "net-1", "ip_addresses": ["10.0.0.31", "fe80::1"]}])


def plain_rows(count: int, port=443) -> list:
    return [[f"10.1.{i // 250}.{i % 250 + 1}", "db01", port] for i in range(count)]


def nothing_written():
    return not DependencyImport.objects.exists() and not Dependency.objects.exists()


# --- the size of a file ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_past_the_row_cap_is_refused_naming_the_setting_and_one_at_the_cap_imports(
    inventory, tmp_path, settings
):
    settings.DEPENDENCY_IMPORT_MAX_ROWS = 20
    with pytest.raises(DependencyImportError) as caught:
        import_file(write_csv(tmp_path / "flows.csv", PLAIN, plain_rows(21)))
    assert str(caught.value) == (
        "flows.csv has more than 20 rows below its header (DEPENDENCY_IMPORT_MAX_ROWS): export a shorter time range, "
        "or raise the setting; nothing was imported."
    )
    assert nothing_written()
    assert import_file(write_csv(tmp_path / "flows.csv", PLAIN, plain_rows(20))).rows == 20


@pytest.mark.django_db
def test_empty_rows_count_against_the_cap_so_a_sheet_cannot_make_up_a_million_of_them(
    inventory, tmp_path, settings
):
    settings.DEPENDENCY_IMPORT_MAX_ROWS = 20
    source = write_xlsx(tmp_path / "x.xlsx", PLAIN, plain_rows(2))
    with zipfile.ZipFile(source) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>",
        b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    with pytest.raises(DependencyImportError) as caught:
        import_file(zip_of(tmp_path / "far.xlsx", members))
    assert "far.xlsx has more than 20 rows below its header (DEPENDENCY_IMPORT_MAX_ROWS)" in str(caught.value)


@pytest.mark.django_db
def test_a_workbook_whose_parts_understate_their_size_is_refused_for_the_bytes_they_inflate_to(
    db, tmp_path, settings
):
    settings.DEPENDENCIES = {**settings.DEPENDENCIES, "MAX_UNPACKED_MB": 1}
    source = write_xlsx(tmp_path / "x.xlsx", PLAIN, plain_rows(2))
    with zipfile.ZipFile(source) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b"</sheetData>" + b" " * (2 * 2**20)
    )
    bomb = lie_about_sizes(zip_of(tmp_path / "bomb.xlsx", members), 1024)
    with pytest.raises(DependencyImportError) as caught:
        import_file(bomb)
    assert (
        "bomb.xlsx cannot be read: it unpacks to more than 1 MB (DEPENDENCY_IMPORT_MAX_UNPACKED_MB)"
        in str(caught.value)
    )


@pytest.mark.django_db
def test_a_workbook_with_a_stale_dimension_is_read_to_its_real_end(inventory, tmp_path):
    source = write_xlsx(tmp_path / "x.xlsx", PLAIN, plain_rows(30))
    stale = stale_dimension(source, tmp_path / "stale.xlsx", "A1:C2")  # says: a header and one row
    record = import_file(stale)
    assert (record.rows, Dependency.objects.count()) == (30, 30)


# --- problems and cancelling ----------------------------------------------------------------------


@pytest.mark.django_db
def test_reading_stops_at_the_problem_cap_and_says_so(db, tmp_path, settings):
    settings.IMPORT_MAX_PROBLEMS = 10
    with pytest.raises(DependencyImportError) as caught:
        import_file(write_csv(tmp_path / "flows.csv", PLAIN, plain_rows(40, port="many")))
    assert caught.value.total == 10
    assert str(caught.value).startswith(
        "Reading stopped after 10 problems in flows.csv (IMPORT_MAX_PROBLEMS); nothing was imported.\n"
        'row 2, column "port": "many" is not a port number (1-65535)'
    )
    assert nothing_written()


@pytest.mark.django_db
def test_a_cancelled_import_stops_while_reading_and_writes_nothing(
    inventory, tmp_path, settings, monkeypatch
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IMPORT_CANCEL_CHECK_ROWS = 5
    monkeypatch.setattr(Job, "send", lambda self: None)
    upload_dir().mkdir(parents=True)
    stored = write_csv(upload_dir() / "0123456789abcdef.csv", PLAIN, plain_rows(30))
    job = Job.enqueue(
        "migrations_app.import_dependencies",
        name="Import",
        params={"path": str(stored), "filename": "flows.csv"},
    )
    job.request_cancel()  # as the Cancel button does while the job reads
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert nothing_written() and not stored.exists()


# --- Azure Migrate's layouts ----------------------------------------------------------------------

# As Microsoft Learn documents the export ("Analyze server dependencies (agentless)", "Dependency information").
DOCUMENTED_HEADER = [
    "Timeslot", "Source server name", "Source application", "Source process", "Destination server name",
    "Destination IP", "Destination application", "Destination process", "Destination port",
]  # fmt: skip
NEWER_HEADER = [
    "Date", "Source Appliance Name", "Source Machine ARM ID", "Source Server Name", "Source IP", "Source Application",
    "Source Process", "Destination Machine ARM ID", "Destination Server Name", "Destination IP",
    "Destination Application", "Destination Process", "Destination Port", "Connection Count",
]  # fmt: skip


@pytest.mark.django_db
def test_the_layout_microsoft_documents_without_source_ip_imports(inventory, tmp_path):
    rows = [
        [
            "01-10-2025 06:00-12:00",
            "web01",
            "IIS",
            "w3wp.exe",
            "db01",
            "10.0.0.31",
            "SQL Server",
            "sqlservr.exe",
            1433,
        ]
    ] * 2 + [["01-10-2025 06:00-12:00", "app01", "", "", "", "203.0.113.9", "", "", 443]]
    record = import_file(write_csv(tmp_path / "export.csv", DOCUMENTED_HEADER, rows))
    assert record.format == DependencyFormat.AZURE_MIGRATE
    assert edges() == {
        ("WEB01", "db01", 1433, "tcp"): 2,
        ("app01.corp.example", "203.0.113.9", 443, "tcp"): 1,
    }


@pytest.mark.django_db
def test_the_newer_export_layout_imports_by_its_documented_columns(inventory, tmp_path):
    arm = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.OffAzure/VMwareSites/site/machines/"
    rows = [
        [
            "2025-10-01",
            "appliance-01",
            arm + "web01",
            "web01",
            "10.0.0.11",
            "IIS",
            "w3wp.exe",
            arm + "db01",
            "db01",
            "10.0.0.31",
            "SQL Server",
            "sqlservr.exe",
            1433,
            12,
        ]
    ] * 3
    record = import_file(write_xlsx(tmp_path / "export.xlsx", NEWER_HEADER, rows))
    assert record.format == DependencyFormat.AZURE_MIGRATE
    assert edges() == {("WEB01", "db01", 1433, "tcp"): 3}  # rows counted; Connection Count is not read


@pytest.mark.django_db
def test_a_file_near_azure_migrates_layout_is_refused_naming_the_missing_column(db, tmp_path):
    header = [h for h in DOCUMENTED_HEADER if h != "Destination port"]
    with pytest.raises(DependencyImportError) as caught:
        import_file(
            write_csv(tmp_path / "export.csv", header, [["slot", "web01", "", "", "db01", "", "", ""]])
        )
    assert (
        "export.csv is not a dependency export (the column Destination port is missing for Azure Migrate "
        "dependency export)"
    ) in str(caught.value)
