"""Importing connection data: Azure Migrate's export (CSV and XLSX) and the plain CSV, the command,
and the upload page with its job."""

import csv
from io import StringIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from core import jobs
from core.choices import JobStatus
from core.models import AuditEntry, Job
from migrations_app.choices import DependencyFormat
from migrations_app.dependencies.importer import import_file
from migrations_app.dependencies.problems import DependencyImportError
from migrations_app.models import Dependency, DependencyImport, Endpoint
from tests.factories import make_vcenter, make_vm

AZURE_HEADER = [
    "Time slot", "Source server name", "Source IP", "Source application", "Source process",
    "Destination server name", "Destination IP", "Destination application", "Destination process",
    "Destination port",
]  # fmt: skip


def azure_row(
    src,
    src_ip,
    dst,
    dst_ip,
    port,
    slot="01-10-2025 10:00-11:00",
    src_proc="w3wp.exe",
    dst_proc="sqlservr.exe",
):
    return [slot, src, src_ip, "IIS", src_proc, dst, dst_ip, "SQL Server", dst_proc, port]


def write_csv(path, header, rows, delimiter=",", encoding="utf-8-sig", title=None):
    with open(path, "w", newline="", encoding=encoding) as handle:
        if title:
            handle.write(title + "\n")
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, header, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Dependencies"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def estate(db):
    vc = make_vcenter()
    return {
        "web01": make_vm(vc, "WEB01", dns_name="web01.corp.example", primary_ip="10.0.0.11"),
        "app01": make_vm(vc, "app01.corp.example", primary_ip="10.0.0.21"),
        "db01": make_vm(
            vc, "db01", nics=[{"network_name": "net-1", "ip_addresses": ["10.0.0.31", "fe80::1"]}]
        ),
        "dns01": make_vm(vc, "dns01", primary_ip="10.0.0.53"),
    }


def edges():
    return {
        (d.source.vm.name if d.source.vm_id else d.source.name or d.source.ip,
         d.destination.vm.name if d.destination.vm_id else d.destination.name or d.destination.ip,
         d.port, d.protocol): d.seen
        for d in Dependency.objects.select_related("source__vm", "destination__vm")
    }  # fmt: skip


@pytest.mark.django_db
def test_it_imports_an_azure_migrate_export_matching_by_name_short_name_dns_name_and_ip(estate, tmp_path):
    rows = [
        # by DNS name (case-insensitive) -> by IP on a NIC
        azure_row("web01.CORP.example", "", "unknown-host", "10.0.0.31", 1433),
        # the same connection in another hour: one edge seen twice
        azure_row("web01.corp.example", "", "unknown-host", "10.0.0.31", 1433, slot="01-10-2025 11:00-12:00"),
        # by short name (app01 is "app01.corp.example" in the inventory) -> by exact name
        azure_row("APP01", "192.0.2.1", "db01", "", 1433),
        # something outside the inventory, by name and IP
        azure_row("web01", "10.0.0.11", "ldap.partner.example", "198.51.100.7", 636),
        # outside, known only by its IP
        azure_row("app01", "", "", "203.0.113.9", 443),
    ]
    path = write_csv(tmp_path / "export.csv", AZURE_HEADER, rows)

    record = import_file(path)

    assert record.format == DependencyFormat.AZURE_MIGRATE
    assert edges() == {
        ("WEB01", "db01", 1433, "tcp"): 2,
        ("app01.corp.example", "db01", 1433, "tcp"): 1,
        ("WEB01", "ldap.partner.example", 636, "tcp"): 1,
        ("app01.corp.example", "203.0.113.9", 443, "tcp"): 1,
    }
    assert (record.rows, record.edges, record.matched, record.external) == (5, 4, 3, 2)
    dependency = Dependency.objects.get(port=1433, source__vm=estate["web01"])
    assert (dependency.source_process, dependency.destination_application) == ("w3wp.exe", "SQL Server")
    assert dependency.last_import == record
    external = Endpoint.objects.get(name="ldap.partner.example")
    assert external.is_external and external.ip == "198.51.100.7"


@pytest.mark.django_db
def test_it_imports_the_export_saved_as_xlsx(estate, tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", AZURE_HEADER, [azure_row("web01", "", "db01", "", 1433)] * 3)
    record = import_file(path)
    assert record.format == DependencyFormat.AZURE_MIGRATE
    assert edges() == {("WEB01", "db01", 1433, "tcp"): 3}


@pytest.mark.django_db
def test_it_imports_a_plain_csv_with_tolerant_headers_and_protocols(estate, tmp_path):
    path = write_csv(
        tmp_path / "flows.csv",
        ["Src", "DST", "Port", "Proto"],
        [["web01", "10.0.0.53", "53", "UDP"], ["web01", "dns01", "53", "udp"], ["app01", "db01", "1433", ""]],
        delimiter=";",
    )
    record = import_file(path)
    assert record.format == DependencyFormat.CSV
    assert edges() == {("WEB01", "dns01", 53, "udp"): 2, ("app01.corp.example", "db01", 1433, "tcp"): 1}


@pytest.mark.django_db
def test_a_windows_encoded_file_with_a_title_line_is_read(estate, tmp_path):
    path = write_csv(
        tmp_path / "flows.csv",
        ["source", "destination", "port"],
        [["web01", "café-server", 80]],
        encoding="cp1252",
        title="Dependencies exported 2025-10-01",
    )
    import_file(path)
    assert edges() == {("WEB01", "café-server", 80, "tcp"): 1}


@pytest.mark.django_db
def test_importing_the_same_file_again_duplicates_nothing(estate, tmp_path):
    rows = [azure_row("web01", "", "db01", "", 1433), azure_row("web01", "", "outside", "198.51.100.1", 22)]
    path = write_csv(tmp_path / "export.csv", AZURE_HEADER, rows)
    import_file(path)
    before = (edges(), Endpoint.objects.count())

    record = import_file(path)

    assert (edges(), Endpoint.objects.count()) == before
    assert record.summary["new_edges"] == 0 and record.summary["updated_edges"] == 2
    assert record.summary["new_external"] == 0
    assert DependencyImport.objects.count() == 2  # each import is on record


@pytest.mark.django_db
def test_self_loops_are_skipped_and_counted(estate, tmp_path):
    rows = [
        azure_row("web01", "", "web01.corp.example", "", 8080),  # same VM by name and DNS name
        azure_row("", "198.51.100.5", "", "198.51.100.5", 80),  # same outside IP
        azure_row("web01", "", "db01", "", 1433),
    ]
    record = import_file(write_csv(tmp_path / "export.csv", AZURE_HEADER, rows))
    assert record.summary["self_loops"] == 2 and record.rows == 3
    assert edges() == {("WEB01", "db01", 1433, "tcp"): 1}


@pytest.mark.django_db
def test_bad_rows_are_each_reported_and_nothing_is_written(estate, tmp_path):
    rows = [
        azure_row("web01", "", "db01", "", 1433),
        azure_row("web01", "", "db01", "", 70000),
        azure_row("web01", "", "db01", "", "https"),
        azure_row("", "", "db01", "", 443),
        azure_row("web01", "not-an-ip", "", "", 443),
        azure_row("web01", "", "db01", "", ""),
    ]
    path = write_csv(tmp_path / "export.csv", AZURE_HEADER, rows)

    with pytest.raises(DependencyImportError) as caught:
        import_file(path)

    assert caught.value.lines() == [
        'row 3, column "Destination port": "70000" is not a port number (1-65535)',
        'row 4, column "Destination port": "https" is not a port number (1-65535)',
        'row 5, column "Source server name": no source: Source server name and Source IP are both empty',
        'row 6, column "Source IP": "not-an-ip" is not an IP address',
        'row 6, column "Destination server name": no destination: Destination server name and Destination IP are both empty',
        'row 7, column "Destination port": is empty: give the destination port (1-65535)',
    ]
    assert "6 problems in export.csv; nothing was imported." in str(caught.value)
    assert (
        not Dependency.objects.exists()
        and not Endpoint.objects.exists()
        and not DependencyImport.objects.exists()
    )


@pytest.mark.django_db
def test_a_file_with_many_bad_rows_lists_the_first_200_and_the_total(db, tmp_path):
    rows = [["a", "b", 0]] * 250
    with pytest.raises(DependencyImportError) as caught:
        import_file(write_csv(tmp_path / "flows.csv", ["source", "destination", "port"], rows))
    lines = caught.value.lines()
    assert len(lines) == 201 and lines[-1] == "and 50 more"
    assert "250 problems" in caught.value.summary()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content,message",
    [
        (
            b"name,ip,owner\nweb01,10.0.0.1,bob\n",
            "is not a dependency export: expected Azure Migrate's dependency export",
        ),
        (b"", "is not a dependency export"),
        (b"PK\x03\x04not really a zip", "is not a dependency export"),
        (b"source,destination,port\n", "has a header but no rows"),
    ],
)
def test_a_file_that_is_no_dependency_export_is_refused_with_a_clear_message(db, tmp_path, content, message):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(DependencyImportError) as caught:
        import_file(path)
    assert message in str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert not DependencyImport.objects.exists()


@pytest.mark.django_db
def test_a_forced_format_names_the_missing_columns(db, tmp_path):
    path = write_csv(tmp_path / "flows.csv", ["source", "destination", "port"], [["a", "b", 80]])
    with pytest.raises(DependencyImportError) as caught:
        import_file(path, format=DependencyFormat.AZURE_MIGRATE)
    assert (
        "the columns Source server name or Source IP, Destination server name or Destination IP, Destination port "
        "are missing"
    ) in str(caught.value)


@pytest.mark.django_db
def test_matching_loads_the_inventory_in_a_fixed_number_of_queries(
    estate, tmp_path, django_assert_max_num_queries
):
    rows = [["web01", f"198.51.100.{i % 250}", 1000 + i] for i in range(500)] + [
        ["db01", "app01", 1433]
    ] * 500
    path = write_csv(tmp_path / "flows.csv", ["source", "destination", "port"], rows)
    with django_assert_max_num_queries(25):
        record = import_file(path)
    assert record.rows == 1000 and record.edges == 501 and record.external == 250


# --- the command -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_prints_the_summary(estate, tmp_path):
    path = write_csv(tmp_path / "export.csv", AZURE_HEADER, [azure_row("web01", "", "db01", "", 1433)] * 2)
    out = StringIO()
    call_command("import_dependencies", str(path), stdout=out)
    text = out.getvalue()
    assert "Imported export.csv (Azure Migrate dependency export)" in text
    assert (
        "rows read                  2" in text
        and "connections                1 (1 new, 0 already known)" in text
    )


@pytest.mark.django_db
def test_the_command_fails_with_every_problem_on_bad_input(estate, tmp_path):
    path = write_csv(
        tmp_path / "flows.csv", ["source", "destination", "port"], [["web01", "db01", 0], ["", "db01", 80]]
    )
    with pytest.raises(CommandError) as caught:
        call_command("import_dependencies", str(path))
    assert 'row 2, column "port": "0" is not a port number (1-65535)' in str(caught.value)
    assert 'row 3, column "source": is empty' in str(caught.value)
    assert not Dependency.objects.exists()


def test_the_command_exits_non_zero_with_the_errors(tmp_path):
    """As a shell user runs it: a separate process, its exit code and its stderr."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = write_csv(tmp_path / "flows.csv", ["source", "destination", "port"], [["web01", "db01", 99999]])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("TEST_DB_NAME", None)
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    bad = subprocess.run(
        [sys.executable, "manage.py", "import_dependencies", str(path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert '"99999" is not a port number (1-65535)' in bad.stderr
    missing = subprocess.run(
        [sys.executable, "manage.py", "import_dependencies", str(tmp_path / "nope.csv")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "nope.csv: no such file" in missing.stderr
    good = write_csv(tmp_path / "good.csv", ["source", "destination", "port"], [["a", "b", 80]])
    ok = subprocess.run(
        [sys.executable, "manage.py", "import_dependencies", str(good), "--format", "csv"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "external endpoints         2 (2 new)" in ok.stdout


# --- the upload page and its job ----------------------------------------------------------------

URL = reverse("migrations_app:import_dependencies")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT / "uploads"


@pytest.fixture
def no_broker(monkeypatch):
    """The request enqueues; the test runs the job itself, as the worker would."""
    monkeypatch.setattr(Job, "send", lambda self: None)


def csv_upload(name, header, rows):
    text = StringIO()
    csv.writer(text).writerow(header)
    csv.writer(text).writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode())


@pytest.mark.django_db
def test_a_planner_uploads_and_the_job_imports(client_for, planner, estate, media, no_broker):
    response = client_for(planner).post(
        URL, {"file": csv_upload("../export.csv", AZURE_HEADER, [azure_row("web01", "", "db01", "", 1433)])}
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.kind == "migrations_app.import_dependencies" and job.user == planner
    assert AuditEntry.objects.filter(user=planner, action="dependencies.import").exists()

    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    assert job.data["rows"] == 1 and job.data["edges"] == 1 and job.data["matched"] == 2
    record = DependencyImport.objects.get()
    assert (
        record.job == job and record.user == planner and record.file_name == "export.csv"
    )  # Django keeps only the base name
    assert not any(media.iterdir())


@pytest.mark.django_db
def test_a_bad_upload_fails_its_job_with_each_bad_row(client_for, planner, estate, media, no_broker):
    client_for(planner).post(
        URL, {"file": csv_upload("flows.csv", ["source", "destination", "port"], [["a", "b", 0]])}
    )
    job = Job.objects.get()
    jobs.run(job.pk)
    job.refresh_from_db()
    problem = 'row 2, column "port": "0" is not a port number (1-65535)'
    assert job.status == JobStatus.FAILED and problem in job.error and "nothing was imported" in job.error
    assert problem in [e.message for e in job.events.all()]
    assert not Dependency.objects.exists() and not any(media.iterdir())


@pytest.mark.django_db
def test_a_too_large_or_foreign_upload_is_refused_at_once(client_for, planner, settings, media, no_broker):
    settings.DEPENDENCIES = {**settings.DEPENDENCIES, "MAX_UPLOAD_MB": 1}
    client = client_for(planner)
    page = client.get(URL).content.decode()
    assert "At most 1 MB" in page and "Destination port" in page
    big = client.post(URL, {"file": SimpleUploadedFile("big.csv", b"0" * (1024 * 1024 + 1))})
    assert "big.csv is 1.0 MB; the largest accepted dependency file is 1 MB." in big.content.decode()
    other = client.post(URL, {"file": SimpleUploadedFile("run.sh", b"#!/bin/sh\n")})
    assert "run.sh is not a dependency export" in other.content.decode()
    assert not Job.objects.exists() and not media.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["engineer", "stakeholder", "outsider"])
def test_only_planners_may_import(request, client_for, persona, media, no_broker):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    upload = csv_upload("flows.csv", ["source", "destination", "port"], [["a", "b", 80]])
    assert client.post(URL, {"file": upload}).status_code == 403
    api = client.post(reverse("api:dependencyimport-list"), {"file": upload}, format="multipart")
    assert api.status_code == 403
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_the_api_takes_an_upload_and_answers_202_with_the_job(client_for, planner, estate, media, no_broker):
    client = client_for(planner)
    upload = csv_upload("flows.csv", ["source", "destination", "port"], [["web01", "db01", 1433]])
    response = client.post(reverse("api:dependencyimport-list"), {"file": upload})
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert response.json()["url"].endswith(f"/api/jobs/{job.pk}/")
    jobs.run(job.pk)
    listing = client.get(reverse("api:dependencyimport-list")).json()
    assert listing["count"] == 1 and listing["results"][0]["edges"] == 1
    bad = client.post(reverse("api:dependencyimport-list"), {"file": SimpleUploadedFile("x.pdf", b"%PDF")})
    assert bad.status_code == 400 and "x.pdf is not a dependency export" in bad.json()["file"][0]
