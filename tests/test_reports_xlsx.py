"""Every XLSX the portal produces is one a stakeholder forwards as it is: numbers are numbers, times are
real Excel dates with a number format, the header row is frozen and auto-filtered, and the columns are
wide enough to read (but a long message does not make a 300-character column)."""

import datetime
import io

import pytest
from openpyxl import load_workbook

from core.models import AuditEntry
from migrations_app.choices import WaveStatus
from tests.factories import make_estate, make_vm, make_wave
from tests.test_dashboard import running_wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate():
    estate = make_estate(vms=4)
    long_name = make_vm(
        estate.vcenter, "a-virtual-machine-with-a-rather-long-name-00001", used_mib=5 * 1024 * 1024
    )
    wave = running_wave([long_name, *estate.vms], "Wave 1")
    make_wave("Later", vms=[], status=WaveStatus.DRAFT)
    return wave


def sheet_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content)).active


def records(sheet) -> tuple[list[str], list[dict]]:
    """The header, and each row as {column: cell} (cells, to look at their types and formats)."""
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return header, [dict(zip(header, row, strict=False)) for row in rows[1:]]


def assert_forwardable(sheet, header):
    """Frozen and filtered header, bold, every column given a readable width."""
    last = sheet.cell(row=1, column=len(header)).column_letter
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}"
    assert all(c.font.b for c in sheet[1])
    for index, title in enumerate(header, start=1):
        width = sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width
        assert len(title) <= width <= 60, (title, width)


def is_number(cell) -> bool:
    return cell.data_type == "n" and isinstance(cell.value, int | float) and not isinstance(cell.value, bool)


def is_date(cell) -> bool:
    return cell.is_date and isinstance(cell.value, datetime.datetime) and "yy" in cell.number_format


def test_it_types_the_waves_export(client_for, stakeholder, estate):
    sheet = sheet_of(client_for(stakeholder).get("/plan/reports/export/waves/?format=xlsx"))
    header, rows = records(sheet)
    assert_forwardable(sheet, header)
    wave = next(r for r in rows if r["Wave"].value == "Wave 1")
    for column in ("Order", "VMs", "Used TiB", "Migrated", "Failed", "Revision"):
        assert is_number(wave[column]), column
    assert wave["VMs"].value == 5 and 5 < wave["Used TiB"].value < 6  # the 5 TiB VM and four small ones
    for column in ("Window start (UTC)", "Window end (UTC)"):
        assert is_date(wave[column]), column
    start = estate.window_start.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)
    assert wave["Window start (UTC)"].value.replace(microsecond=0) == start
    later = next(r for r in rows if r["Wave"].value == "Later")
    assert later["Window start (UTC)"].value is None  # no window: an empty cell, not ""


def test_it_types_the_vm_export_and_sizes_its_columns(client_for, planner, estate):
    sheet = sheet_of(client_for(planner).get("/plan/reports/export/vms/?format=xlsx"))
    header, rows = records(sheet)
    assert_forwardable(sheet, header)
    big = next(r for r in rows if r["VM"].value.startswith("a-virtual-machine"))
    assert is_number(big["Used GiB"]) and big["Used GiB"].value == 5120.0
    assert is_number(big["Attempt"]) and big["Attempt"].value == 1
    assert is_date(big["Ended (UTC)"])
    # The VM column is as wide as its longest name, so the name reads whole.
    assert sheet.column_dimensions["A"].width >= len(big["VM"].value)


def test_it_types_the_results_export(client_for, engineer, estate):
    sheet = sheet_of(client_for(engineer).get(f"/plan/reports/export/results/?format=xlsx&wave={estate.pk}"))
    header, rows = records(sheet)
    assert_forwardable(sheet, header)
    done = [r for r in rows if r["State"].value == "Complete"]
    assert done
    for row in done:
        for column in ("Sent (UTC)", "Started (UTC)", "Ended (UTC)"):
            assert is_date(row[column]), column
        assert is_number(row["Attempt"])
    measured = [r["Throughput (Mbit/s)"] for r in rows if r["Throughput (Mbit/s)"].value is not None]
    assert measured and all(is_number(c) for c in measured) and 640.0 in [c.value for c in measured]


def test_a_negative_number_stays_a_number_and_text_that_looks_like_one_stays_text(client_for, stakeholder):
    """A number is never a formula: no apostrophe before it. Text stays text, formula-like or not."""
    estate = make_estate(vms=1)
    make_vm(estate.vcenter, "-1+2", used_mib=1024)
    sheet = sheet_of(client_for(stakeholder).get("/plan/reports/export/vms/?format=xlsx"))
    _, rows = records(sheet)
    hostile = next(r for r in rows if r["VM"].value == "'-1+2")
    assert hostile["VM"].data_type == "s" and is_number(hostile["Used GiB"])


def test_the_audit_log_export_has_real_dates(client_for, admin_user):
    AuditEntry.record(admin_user, "wave.create", None, note="x" * 500)
    sheet = sheet_of(client_for(admin_user).get("/audit/?export=xlsx"))
    header, rows = records(sheet)
    assert_forwardable(sheet, header)
    assert rows and all(is_date(r["When (UTC)"]) for r in rows)


def test_the_wave_plan_export_is_filtered_and_frozen(client_for, planner, estate):
    sheet = sheet_of(client_for(planner).get("/plan/waves/plan/export/?file=xlsx"))
    header, rows = records(sheet)
    assert rows
    assert_forwardable(sheet, header)
