"""The wave plan as CSV and XLSX: exported, edited, imported back. Every bad row is reported with its row
and column and nothing changes; importing what was exported changes nothing."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEntry
from hcx.choices import MigrationType
from migrations_app.choices import WaveStatus
from migrations_app.models import Wave, WaveItem
from migrations_app.waves.planfile import PlanFileError, import_plan, plan_rows, write_csv, write_xlsx
from tests.factories import make_estate, make_group, make_vcenter, make_vm, make_wave

pytestmark = pytest.mark.django_db

HEADER = ["VM", "VM ID", "vCenter", "Group", "Wave", "Migration type"]


@pytest.fixture
def plan(db):
    """Eight VMs: two groups, two waves (one VM with a type of its own), one VM in no group or wave."""
    estate = make_estate(vms=8, devices=False)
    vms = estate.vms
    make_group("billing", vms[:3])
    make_group("crm", vms[3:5])
    w1 = make_wave("W1", vms[:3], sequence=1, migration_type=MigrationType.BULK)
    w2 = make_wave("W2", vms[3:5] + [vms[5]], sequence=2, migration_type=MigrationType.VMOTION)
    WaveItem.objects.filter(vm=vms[0]).update(migration_type=MigrationType.COLD)
    return {"vms": vms, "vc": estate.vcenter.name, "w1": w1, "w2": w2}


def csv_table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def to_csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def state():
    return sorted(WaveItem.objects.values_list("vm__name", "wave__name", "migration_type")), sorted(
        Wave.objects.values_list("name", "revision", "status")
    )


def test_the_export_lists_every_vm_in_a_wave_or_a_group_with_its_effective_type(plan):
    table = csv_table(write_csv(plan_rows()))
    vc = plan["vc"]
    moid = {vm.name: vm.moid for vm in plan["vms"]}
    assert table[0] == HEADER
    assert table[1:] == [
        ["vm-00001", moid["vm-00001"], vc, "billing", "W1", "cold"],
        ["vm-00002", moid["vm-00002"], vc, "billing", "W1", "bulk"],
        ["vm-00003", moid["vm-00003"], vc, "billing", "W1", "bulk"],
        ["vm-00004", moid["vm-00004"], vc, "crm", "W2", "vmotion"],
        ["vm-00005", moid["vm-00005"], vc, "crm", "W2", "vmotion"],
        ["vm-00006", moid["vm-00006"], vc, "", "W2", "vmotion"],
    ]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_importing_the_exported_file_changes_nothing(plan, planner, kind):
    data = write_csv(plan_rows()) if kind == "csv" else write_xlsx(plan_rows())
    before = state()
    result = import_plan(data, f"plan.{kind}", acting_user=planner)
    assert result.rows == 6 and result.changes == 0 and result.unchanged == 6
    assert state() == before
    assert not AuditEntry.objects.exists()
    assert "nothing to change" in result.summary()


def test_cells_that_look_like_formulas_are_written_as_text_and_read_back(planner):
    vc = make_vcenter("vc-x")
    evil = make_vm(vc, '=HYPERLINK("http://evil","x")')
    dash = make_vm(vc, "-web-01")
    make_group("@apps", [evil, dash])
    make_wave("+Wave", [evil, dash])
    table = csv_table(write_csv(plan_rows()))
    assert table[1][0] == "'-web-01" and table[2][0] == '\'=HYPERLINK("http://evil","x")'
    assert table[1][3] == "'@apps" and table[1][4] == "'+Wave"
    sheet = openpyxl.load_workbook(io.BytesIO(write_xlsx(plan_rows()))).active
    cell = sheet.cell(row=3, column=1)
    assert cell.value == '\'=HYPERLINK("http://evil","x")' and cell.data_type == "s"
    for data, name in ((write_csv(plan_rows()), "p.csv"), (write_xlsx(plan_rows()), "p.xlsx")):
        assert import_plan(data, name, acting_user=planner).changes == 0


def test_an_edited_plan_moves_vms_between_waves_and_withdraws_an_approval(client_for, planner, plan):
    Wave.objects.filter(pk=plan["w2"].pk).update(status=WaveStatus.APPROVED)
    table = csv_table(write_csv(plan_rows()))
    for row in table[1:]:
        if row[3] == "crm":
            row[4], row[5] = "W1", ""  # the crm group moves to W1 with W1's default type
        if row[0] == "vm-00006":
            row[4], row[5] = "", ""  # out of its wave
        if row[0] == "vm-00002":
            row[5] = "rav"
    table.append(["vm-00007", "", plan["vc"], "", "W2", "Cold"])  # a VM in no wave joins W2
    upload = SimpleUploadedFile("plan.csv", to_csv(table), content_type="text/csv")
    response = client_for(planner).post("/plan/waves/plan/import/", {"file": upload})
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.added, result.removed, result.moved, result.retyped, result.unchanged) == (1, 1, 2, 1, 2)
    page = response.content.decode()
    assert (
        "changed: 1 VM added to a wave, 1 VM taken out of a wave, 2 VMs moved to another wave, 1 VM given another "
        "migration type (waves W1, W2)."
    ) in page
    assert "W2: Approval withdrawn: the wave changed" in page
    items = dict(WaveItem.objects.values_list("vm__name", "wave__name"))
    assert items == {
        "vm-00001": "W1",
        "vm-00002": "W1",
        "vm-00003": "W1",
        "vm-00004": "W1",
        "vm-00005": "W1",
        "vm-00007": "W2",
    }
    types = dict(WaveItem.objects.values_list("vm__name", "migration_type"))
    assert types["vm-00002"] == "rav" and types["vm-00004"] == "" and types["vm-00007"] == "cold"
    waves = {w.name: w for w in Wave.objects.all()}
    assert waves["W1"].revision == 2 and waves["W2"].revision == 2
    assert waves["W2"].status == WaveStatus.DRAFT
    assert AuditEntry.objects.filter(action="wave.withdraw_approval").count() == 1


def test_every_bad_row_is_reported_and_nothing_changes(plan, planner):
    Wave.objects.filter(pk=plan["w2"].pk).update(status=WaveStatus.RUNNING)
    vc = plan["vc"]
    rows = [
        HEADER,
        ["vm-00001", "", vc, "billing", "W1", "teleport"],  # 2: bad type
        ["ghost", "", vc, "", "W1", ""],  # 3: unknown VM
        ["vm-00002", "", "vc-nowhere", "billing", "W1", ""],  # 4: unknown vCenter
        ["vm-00003", "", vc, "billing", "Wave 99", ""],  # 5: unknown wave
        ["vm-00001", "", vc, "billing", "W1", ""],  # 6: twice
        ["vm-00007", "", vc, "", "W2", ""],  # 7: into a running wave
        ["vm-00008", "", vc, "crm", "", ""],  # 8: wrong group
    ]
    before = state()
    with pytest.raises(PlanFileError) as refused:
        import_plan(to_csv(rows), "plan.csv", acting_user=planner)
    found = [(p.row, p.column) for p in refused.value.problems]
    assert found == [
        (2, "Migration type"),
        (3, "VM"),
        (4, "vCenter"),
        (5, "Wave"),
        (6, "VM"),
        (7, "Wave"),
        (8, "Group"),
    ]
    messages = [p.message for p in refused.value.problems]
    assert "'teleport' is not a migration type; use one of bulk, vmotion, cold, rav" in messages[0]
    assert messages[3].startswith("no wave named 'Wave 99'; the import does not create waves")
    assert messages[4] == "vm-00001 is listed twice (also on row 2); list each VM once"
    assert messages[5] == "vm-00007 cannot move into W2: it is running"
    assert "is in no group; the import does not change groups" in messages[6]
    assert state() == before and not AuditEntry.objects.exists()


def test_a_plan_that_splits_a_group_is_refused_on_each_of_its_rows(plan, planner):
    vc = plan["vc"]
    rows = [HEADER, ["vm-00001", "", vc, "billing", "W2", "vmotion"]]  # the other two billing VMs stay in W1
    with pytest.raises(PlanFileError) as refused:
        import_plan(to_csv(rows), "plan.csv", acting_user=planner)
    (problem,) = refused.value.problems
    assert (problem.row, problem.column) == (2, "Wave")
    assert (
        problem.message
        == "the group billing would be split across waves: W1 (2 VMs), W2 (1 VM); a group moves whole"
    )


def test_a_vm_is_found_by_its_id_when_names_repeat(planner):
    vc = make_vcenter("vc-dup")
    first, second = make_vm(vc, "app", moid="vm-1"), make_vm(vc, "app", moid="vm-2")
    wave = make_wave("W1")
    with pytest.raises(PlanFileError) as refused:
        import_plan(to_csv([HEADER, ["app", "", "vc-dup", "", "W1", ""]]), "p.csv", acting_user=planner)
    assert "2 VMs are named 'app' in vc-dup: fill in the VM ID column" in refused.value.problems[0].message
    result = import_plan(
        to_csv([HEADER, ["app", "vm-2", "vc-dup", "", "W1", ""]]), "p.csv", acting_user=planner
    )
    assert result.added == 1 and WaveItem.objects.get().vm == second and first.pk != second.pk
    wave.refresh_from_db()
    assert wave.revision == 2


def test_check_only_changes_nothing(plan, planner):
    table = csv_table(write_csv(plan_rows()))
    table[6][4] = ""
    result = import_plan(to_csv(table), "plan.csv", acting_user=planner, check_only=True)
    assert result.removed == 1 and not result.applied
    assert (
        result.summary()
        == "6 rows read; would change (checked only, nothing changed): 1 VM taken out of a wave (waves W2)."
    )
    assert WaveItem.objects.filter(vm__name="vm-00006").exists()


@pytest.mark.parametrize(
    "data,name,message",
    [
        (b"", "plan.csv", "plan.csv is empty"),
        (b"VM,Wave\nvm-1,W1\n", "plan.csv", "missing column"),
        (b"PK\x03\x04 not really a zip", "plan.xlsx", "plan.xlsx is not an .xlsx workbook."),
        (b"\xff\xfe\x00\x00binary", "plan.csv", "not a CSV file"),
    ],
)
def test_a_file_that_is_not_a_wave_plan_is_refused(planner, data, name, message):
    with pytest.raises(PlanFileError) as refused:
        import_plan(data, name, acting_user=planner)
    assert message in str(refused.value.problems[0])


def test_semicolon_separated_csv_from_excel_is_read(plan, planner):
    table = csv_table(write_csv(plan_rows()))
    text = "\n".join(";".join(row) for row in table).encode("cp1252")
    assert import_plan(text, "plan.csv", acting_user=planner).changes == 0


def test_the_upload_page_lists_the_problems_and_refuses_other_roles(client_for, planner, stakeholder, plan):
    bad = to_csv([HEADER, ["ghost", "", plan["vc"], "", "W1", ""]])
    response = client_for(planner).post(
        "/plan/waves/plan/import/", {"file": SimpleUploadedFile("p.csv", bad)}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "1 problem in the wave plan; nothing was changed." in page and "no VM named &#x27;ghost&#x27;" in page
    )
    response = client_for(planner).post(
        "/plan/waves/plan/import/", {"file": SimpleUploadedFile("p.txt", b"x")}
    )
    assert response.status_code == 400 and "is not a wave plan" in response.content.decode()
    assert (
        client_for(stakeholder)
        .post("/plan/waves/plan/import/", {"file": SimpleUploadedFile("p.csv", bad)})
        .status_code
        == 403
    )


def test_the_export_downloads_as_csv_or_xlsx(client_for, stakeholder, plan):
    client = client_for(stakeholder)
    response = client.get("/plan/waves/plan/export/", {"file": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="wave-plan-' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Wave plan"]
    assert [c.value for c in next(sheet.iter_rows())] == HEADER and sheet.max_row == 7
    response = client.get("/plan/waves/plan/export/")
    assert response["Content-Type"].startswith("text/csv") and csv_table(response.content)[0] == HEADER


def test_a_large_estate_round_trips(planner):
    estate = make_estate(vms=600, devices=False)
    make_group("big", estate.vms[:300])
    make_wave("W1", estate.vms[:300])
    make_wave("W2", estate.vms[300:])
    data = write_xlsx(plan_rows())
    result = import_plan(data, "p.xlsx", acting_user=planner)
    assert result.rows == 600 and result.changes == 0
