"""RVTools import: the real export taken whole, re-imports that write nothing, CSV forms, bad files."""

import csv
import datetime as dt
import io
import zipfile
from collections import Counter
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.choices import SwitchType
from inventory.models import (
    CdRom,
    Cluster,
    Datastore,
    Host,
    Network,
    Snapshot,
    VCenter,
    VirtualDisk,
    VirtualMachine,
    VirtualNic,
)
from inventory.rvtools.importer import import_export
from inventory.rvtools.problems import RVToolsError

ROOT = Path(__file__).resolve().parents[1]
# A real export (RVTools 4.7.1 of a vCenter 8.0.2), kept in the repository so that every clone tests it.
REAL_EXPORT = ROOT / "tests" / "data" / "rvtools-4.7.1-vcenter-8.0.2.xlsx"
MODELS = (
    VCenter,
    Cluster,
    Host,
    Datastore,
    Network,
    VirtualMachine,
    VirtualDisk,
    VirtualNic,
    CdRom,
    Snapshot,
)


# --- building exports ----------------------------------------------------------------------


def read_sheet(path, name) -> list[dict]:
    """A sheet of a workbook as dicts, read with openpyxl alone (independently of the importer)."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = workbook[name].iter_rows(values_only=True)
    header = next(rows)
    found = [dict(zip(header, r, strict=False)) for r in rows if any(v is not None for v in r)]
    workbook.close()
    return found


def write_xlsx(path, sheets: dict) -> Path:
    """`sheets`: name -> [header, row, row...]."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return Path(path)


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def xlsx_to_csv_zip(
    source,
    target,
    rename=lambda sheet, header: header,
    encoding=lambda sheet: "utf-8-sig",
    delimiter=",",
    cell=lambda header, value: cell_text(value),
):
    """What RVTools' "export all to csv" gives for the same estate, zipped. `cell(header, value)` writes a cell."""
    workbook = openpyxl.load_workbook(source, read_only=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in workbook.worksheets:
            out = io.StringIO()
            writer = csv.writer(out, delimiter=delimiter)
            header = ()
            for number, row in enumerate(sheet.iter_rows(values_only=True)):
                if number == 0:
                    header = row
                    writer.writerow([rename(sheet.title, h) for h in row])
                    continue
                writer.writerow([cell(h, v) for h, v in zip(header, row, strict=False)])
            archive.writestr(
                f"export/RVTools_tab{sheet.title}.csv", out.getvalue().encode(encoding(sheet.title))
            )
    workbook.close()
    return Path(target)


def generated_estate(vms: int, server="vc-gen.example.com", skip=()) -> dict:
    """A small but complete RVTools-shaped export with `vms` VMs, two disks and one NIC each."""
    sdk = ["VI SDK Server", "VI SDK UUID"]
    vc = [server, f"uuid-{server}"]
    sheets = {
        "vInfo": [
            [
                "VM",
                "Powerstate",
                "Template",
                "CPUs",
                "Memory",
                "Provisioned MiB",
                "In Use MiB",
                "HW version",
                "Primary IP Address",
                "Datacenter",
                "Cluster",
                "Host",
                "OS according to the configuration file",
                "VM ID",
                "VM UUID",
                "SMBIOS UUID",
                "Backup status",
                *sdk,
            ]
        ],
        "vTools": [["VM", "Tools", "Tools Version", "VM ID", *sdk]],
        "vDisk": [
            ["VM", "Disk", "Disk Key", "Capacity MiB", "Raw", "Disk Mode", "Thin", "Path", "VM ID", *sdk]
        ],
        "vNetwork": [["VM", "NIC label", "Adapter", "Network", "Connected", "Mac Address", "VM ID", *sdk]],
        "vCD": [["VM", "Device Node", "Connected", "Device Type", "VM ID", *sdk]],
        "vSnapshot": [["VM", "Name", "Date / time", "Size MiB (total)", "Quiesced", "VM ID", *sdk]],
        "vHost": [
            ["Host", "Datacenter", "Cluster", "CPU Model", "# CPU", "# Cores", "# Memory", "Object ID", *sdk],
            ["esx-1", "DC", "CL", "AMD EPYC 7763", 2, 64, 1048576, "host-1", *vc],
        ],
        "vCluster": [
            ["Name", "NumHosts", "HA enabled", "Object ID", *sdk],
            ["CL", 1, "True", "domain-c1", *vc],
        ],
        "vDatastore": [
            ["Name", "Type", "Capacity MiB", "Object ID", *sdk],
            ["ds1", "VMFS", 4194304, "datastore-1", *vc],
        ],
        "vPort": [["Host", "Port Group", "Switch", "VLAN", *sdk], ["esx-1", "pg-std", "vSwitch0", "0", *vc]],
        "dvPort": [
            ["Port", "Switch", "VLAN", "Object ID", *sdk],
            ["pg-dv", "dvs", 100, "dvportgroup-1", *vc],
        ],
        "vSource": [["Version", "Build", *sdk], ["8.0.2", "24321653", *vc]],
    }
    for i in range(1, vms + 1):
        moid, name = f"vm-{i}", f"app-{i:03}"
        sheets["vInfo"].append(
            [
                name,
                "poweredOn",
                "False",
                2,
                4096,
                40960,
                20480,
                19,
                f"10.0.{i // 250}.{i % 250 + 1}",
                "DC",
                "CL",
                "esx-1",
                "Ubuntu Linux (64-bit)",
                moid,
                f"50{i:030}",
                f"42{i:030}",
                "OK",
                *vc,
            ]
        )
        sheets["vTools"].append([name, "toolsOk", 12389, moid, *vc])
        for d in (0, 1):
            sheets["vDisk"].append(
                [
                    name,
                    f"Hard disk {d + 1}",
                    2000 + d,
                    20480,
                    "False",
                    "persistent",
                    "True",
                    f"[ds1] {name}/{name}_{d}.vmdk",
                    moid,
                    *vc,
                ]
            )
        sheets["vNetwork"].append(
            [name, "Network adapter 1", "Vmxnet3", "pg-dv", "True", "00:50:56:00:00:01", moid, *vc]
        )
        sheets["vCD"].append([name, "CD/DVD drive 1", "False", "Remote ATAPI", moid, *vc])
        sheets["vSnapshot"].append(
            [name, "before patch", dt.datetime(2025, 1, 2, 3, 4, 5), 1024.5, "False", moid, *vc]
        )
    for name in skip:
        del sheets[name]
    return sheets


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def nothing_stored():
    return all(n == 0 for n in counts().values())


@pytest.fixture
def real_import(db):
    if not REAL_EXPORT.exists():
        pytest.skip(f"the real RVTools export is not at {REAL_EXPORT}")
    return import_export(REAL_EXPORT)


# --- the real export -----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_takes_the_real_export_whole(real_import):
    vinfo = read_sheet(REAL_EXPORT, "vInfo")
    expected = {
        VirtualMachine: len(vinfo),
        VirtualDisk: len(read_sheet(REAL_EXPORT, "vDisk")),
        VirtualNic: len(read_sheet(REAL_EXPORT, "vNetwork")),
        CdRom: len(read_sheet(REAL_EXPORT, "vCD")),
        Snapshot: len(read_sheet(REAL_EXPORT, "vSnapshot")),
        Host: len(read_sheet(REAL_EXPORT, "vHost")),
        Cluster: len(read_sheet(REAL_EXPORT, "vCluster")),
        Datastore: len(read_sheet(REAL_EXPORT, "vDatastore")),
        Network: len(
            {r["Port Group"] for r in read_sheet(REAL_EXPORT, "vPort")}
            | {r["Port"] for r in read_sheet(REAL_EXPORT, "dvPort")}
        ),
    }
    assert {model: model.objects.count() for model in expected} == expected
    assert VirtualMachine.objects.filter(is_template=True).count() == sum(
        r["Template"] == "True" for r in vinfo
    )
    assert real_import["vms"]["created"] == len(vinfo)

    vc = VCenter.objects.get()
    assert (vc.name, vc.instance_uuid, vc.origin) == (
        vinfo[0]["VI SDK Server"],
        vinfo[0]["VI SDK UUID"],
        "rvtools",
    )
    assert vc.version.startswith(read_sheet(REAL_EXPORT, "vSource")[0]["Version"])

    stored = {vm.moid: vm for vm in VirtualMachine.objects.select_related("cluster", "host")}
    tools = {r["VM ID"]: r for r in read_sheet(REAL_EXPORT, "vTools")}
    assert Counter(vm.tools_status for vm in stored.values()) == Counter(r["Tools"] for r in tools.values())
    for row in vinfo[::10]:
        vm = stored[row["VM ID"]]
        assert vm.hw_version == row["HW version"]
        assert vm.tools_status == tools[row["VM ID"]]["Tools"]
        assert vm.power_state == row["Powerstate"]
        assert (vm.instance_uuid, vm.bios_uuid) == (row["VM UUID"], row["SMBIOS UUID"])
        assert vm.cluster.name == row["Cluster"] and vm.host.name == row["Host"]
        assert vm.provisioned_mib == row["Provisioned MiB"] and vm.used_mib == row["In Use MiB"]
        # vCenter custom attributes are columns RVTools does not know; they stay on the VM
        assert vm.attributes.get("Backup status") == row["Backup status"]
        assert vm.attributes.get("ClusterInvariantVMMId") == row["ClusterInvariantVMMId"]
        assert "Powerstate" not in vm.attributes


@pytest.mark.django_db
def test_devices_and_networks_keep_what_readiness_reads(real_import):
    disk_row = read_sheet(REAL_EXPORT, "vDisk")[0]
    disk = VirtualDisk.objects.select_related("datastore", "vm").get(
        vm__moid=disk_row["VM ID"], label=disk_row["Disk"]
    )
    assert disk.datastore.name == disk_row["Path"][1:].split("]")[0]
    assert disk.capacity_mib == disk_row["Capacity MiB"] and disk.controller == disk_row["Label"]
    assert VirtualDisk.objects.filter(mode="independent_nonpersistent").count() == sum(
        r["Disk Mode"] == "independent_nonpersistent" for r in read_sheet(REAL_EXPORT, "vDisk")
    )

    isos = [r for r in read_sheet(REAL_EXPORT, "vCD") if r["Device Type"].startswith("ISO ")]
    assert sum(cd.has_iso for cd in CdRom.objects.all()) == len(isos)

    dvport = next(r for r in read_sheet(REAL_EXPORT, "dvPort") if isinstance(r["VLAN"], int))
    network = Network.objects.get(name=dvport["Port"])
    assert (network.switch_type, network.vlan_id) == (SwitchType.DISTRIBUTED, dvport["VLAN"])
    nic_rows = read_sheet(REAL_EXPORT, "vNetwork")
    linked = sum(r["Network"] in set(Network.objects.values_list("name", flat=True)) for r in nic_rows)
    assert VirtualNic.objects.filter(network__isnull=False).count() == linked
    # RVTools says "Direct Path IO: True" for VMXNET3 adapters: their UPT option, not a passthrough device.
    assert any(r["Adapter"] == "Vmxnet3" and r["Direct Path IO"] == "True" for r in nic_rows)
    assert not VirtualNic.objects.filter(direct_path_io=True).exists()

    snapshot_row = read_sheet(REAL_EXPORT, "vSnapshot")[0]
    snapshot = Snapshot.objects.get(vm__moid=snapshot_row["VM ID"], name=snapshot_row["Name"])
    assert snapshot.created_at.replace(tzinfo=None) == snapshot_row["Date / time"]
    assert snapshot.size_mib == pytest.approx(snapshot_row["Size MiB (total)"])


@pytest.mark.django_db
def test_importing_the_same_file_again_writes_nothing(real_import):
    before = dict(VirtualMachine.objects.values_list("pk", "last_updated"))
    with CaptureQueriesContext(connection) as queries:
        summary = import_export(REAL_EXPORT)
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert dict(VirtualMachine.objects.values_list("pk", "last_updated")) == before
    for name, result in summary.items():
        if isinstance(result, dict):
            assert result["created"] == result["updated"] == result["vanished"] == 0, name


@pytest.mark.django_db
def test_a_zip_of_csvs_with_mb_headers_in_odd_case_imports_the_same_estate(real_import, tmp_path):
    custom_attributes = {
        "Backup status",
        "Last backup",
        "ClusterInvariantVMMId",
    }  # their names are kept as written

    def older_headers(sheet, header):
        if header in custom_attributes:
            return header
        return header.replace("MiB", "MB").upper() if sheet in ("vInfo", "vDisk") else header.lower()

    archive = xlsx_to_csv_zip(
        REAL_EXPORT,
        tmp_path / "rvtools.zip",
        rename=older_headers,
        encoding=lambda sheet: "cp1252" if sheet == "vHost" else "utf-8-sig",
    )
    summary = import_export(archive)
    # every stored field compares equal to the xlsx import: nothing to create, change or remove
    for name, result in summary.items():
        if isinstance(result, dict):
            assert result["created"] == result["updated"] == result["vanished"] == 0, name
    assert summary["vms"]["unchanged"] == len(read_sheet(REAL_EXPORT, "vInfo"))


@pytest.mark.django_db
def test_the_command_imports_a_folder_of_csvs_and_prints_the_summary(tmp_path):
    with zipfile.ZipFile(xlsx_to_csv_zip(REAL_EXPORT, tmp_path / "x.zip")) as archive:
        archive.extractall(tmp_path / "unpacked")
    out = StringIO()
    call_command("import_rvtools", str(tmp_path / "unpacked" / "export"), stdout=out)
    vms = len(read_sheet(REAL_EXPORT, "vInfo"))
    assert VirtualMachine.objects.count() == vms
    assert f"vms            {vms} created" in out.getvalue()


# --- generated exports ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_vm_missing_from_a_later_export_is_marked_vanished_and_comes_back(tmp_path):
    import_export(write_xlsx(tmp_path / "a.xlsx", generated_estate(3)))
    VirtualMachine.objects.filter(moid="vm-3").update(attributes={"planned": True})
    summary = import_export(write_xlsx(tmp_path / "b.xlsx", generated_estate(2)))
    gone = VirtualMachine.objects.get(moid="vm-3")
    assert summary["vms"]["vanished"] == 1 and gone.removed is not None
    assert not gone.disks.exists()  # its devices are no longer known
    assert VirtualMachine.objects.filter(removed__isnull=True).count() == 2

    import_export(write_xlsx(tmp_path / "c.xlsx", generated_estate(3)))
    gone.refresh_from_db()
    assert gone.removed is None and gone.disks.count() == 2


@pytest.mark.django_db
def test_direct_path_io_on_vmxnet3_is_the_upt_option_and_readiness_does_not_call_it_passthrough(tmp_path):
    from hcx.choices import MigrationType
    from migrations_app.readiness.facts import load
    from migrations_app.readiness.rules import RULES_BY_NAME
    from tests.factories import make_wave

    sheets = generated_estate(3)
    header, *rows = sheets["vNetwork"]
    header.insert(4, "Direct Path IO")
    for row, (adapter, flag) in zip(
        rows, [("Vmxnet3", "True"), ("SriovEthernetCard", "False"), ("E1000e", "False")], strict=True
    ):
        row[2] = adapter
        row.insert(4, flag)
    import_export(write_xlsx(tmp_path / "x.xlsx", sheets))
    assert dict(VirtualNic.objects.values_list("vm__name", "direct_path_io")) == {
        "app-001": False,
        "app-002": True,
        "app-003": False,
    }

    facts, vms = load(make_wave("W1", VirtualMachine.objects.all()))
    directpath = {
        vm.name: RULES_BY_NAME["directpath"](vm, facts, MigrationType.BULK) is not None for vm in vms
    }
    assert directpath == {"app-001": False, "app-002": True, "app-003": False}


@pytest.mark.django_db
def test_csv_files_in_utf8_with_bom_and_in_cp1252_read_alike(tmp_path):
    sheets = generated_estate(1)
    sheets["vInfo"][1][0] = "Zürich-Café"
    source = write_xlsx(tmp_path / "x.xlsx", sheets)
    for encoding in ("utf-8-sig", "cp1252"):
        VCenter.objects.all().delete()
        import_export(
            xlsx_to_csv_zip(source, tmp_path / f"{encoding}.zip", encoding=lambda sheet, e=encoding: e)
        )
        assert VirtualMachine.objects.get().name == "Zürich-Café"


@pytest.mark.django_db
def test_a_lone_vinfo_csv_imports_the_vms(tmp_path):
    sheets = generated_estate(4)
    out = io.StringIO()
    csv.writer(out).writerows([[cell_text(v) for v in row] for row in sheets["vInfo"]])
    path = tmp_path / "RVTools_tabvInfo.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    import_export(path)
    assert VirtualMachine.objects.count() == 4 and not VirtualDisk.objects.exists()


@pytest.mark.django_db
def test_the_statement_count_does_not_grow_with_the_number_of_vms(tmp_path):
    # Sizes stay within one bulk batch on SQLite too (999 parameters per statement there).
    def statements(vms, server):
        path = write_xlsx(tmp_path / f"{vms}.xlsx", generated_estate(vms, server=server))
        with CaptureQueriesContext(connection) as queries:
            import_export(path)
        return len(queries)

    small, large = statements(2, "vc-small"), statements(20, "vc-large")
    assert VirtualMachine.objects.count() == 22 and VirtualDisk.objects.count() == 44
    assert large == small


# --- bad files -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_that_is_not_a_spreadsheet_is_refused(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_bytes(b"%PDF-1.7 this is not a workbook")
    with pytest.raises(RVToolsError, match="not an RVTools export"):
        import_export(path)
    assert nothing_stored()


@pytest.mark.django_db
def test_a_workbook_without_vinfo_is_refused(tmp_path):
    sheets = generated_estate(2)
    del sheets["vInfo"]
    with pytest.raises(RVToolsError, match="no vInfo sheet"):
        import_export(write_xlsx(tmp_path / "x.xlsx", sheets))
    assert nothing_stored()


@pytest.mark.django_db
def test_a_missing_required_column_is_named(tmp_path):
    sheets = generated_estate(2)
    sheets["vInfo"] = [row[:1] + row[2:] for row in sheets["vInfo"]]  # drop "Powerstate"
    with pytest.raises(RVToolsError) as error:
        import_export(write_xlsx(tmp_path / "x.xlsx", sheets))
    assert [str(p) for p in error.value.problems] == [
        'sheet vInfo, row 1, column "Powerstate": required column is missing'
    ]
    assert nothing_stored()


@pytest.mark.django_db
def test_bad_cells_are_each_reported_by_sheet_row_and_column_and_nothing_is_written(tmp_path):
    sheets = generated_estate(3)
    sheets["vDisk"][2][3] = "abc"  # Capacity MiB of the second disk row: Excel row 3
    sheets["vSnapshot"][3][2] = "yesterday"  # Date / time, Excel row 4
    with pytest.raises(RVToolsError) as error:
        import_export(write_xlsx(tmp_path / "x.xlsx", sheets))
    assert [str(p) for p in error.value.problems] == [
        'sheet vDisk, row 3, column "Capacity MiB": "abc" is not a number',
        'sheet vSnapshot, row 4, column "Date / time": "yesterday" is not a date and time',
    ]
    assert "nothing was imported" in str(error.value)
    assert nothing_stored()


@pytest.mark.django_db
def test_a_bad_file_leaves_an_earlier_import_as_it_was(tmp_path):
    import_export(write_xlsx(tmp_path / "good.xlsx", generated_estate(3)))
    before = counts(), list(VirtualMachine.objects.values_list("name", "num_cpu", "last_updated"))
    sheets = generated_estate(5)
    sheets["vInfo"][1][3] = 16  # a real change...
    sheets["vDisk"][-1][3] = "n/a"  # ...and a bad cell further on
    with pytest.raises(RVToolsError):
        import_export(write_xlsx(tmp_path / "bad.xlsx", sheets))
    assert (counts(), list(VirtualMachine.objects.values_list("name", "num_cpu", "last_updated"))) == before


@pytest.mark.django_db
def test_a_long_list_of_problems_is_capped(tmp_path):
    sheets = generated_estate(60)
    for row in sheets["vInfo"][1:]:
        row[3] = "many"
    with pytest.raises(RVToolsError) as error:
        import_export(write_xlsx(tmp_path / "x.xlsx", sheets))
    lines = error.value.lines()
    assert len(error.value.problems) == 60 and len(lines) == 51
    assert lines[0] == 'sheet vInfo, row 2, column "CPUs": "many" is not a number'
    assert lines[-1] == "and 10 more"


@pytest.mark.django_db
def test_the_command_fails_with_the_messages(tmp_path):
    sheets = generated_estate(2)
    sheets["vInfo"][2][4] = "lots"
    with pytest.raises(CommandError, match='sheet vInfo, row 3, column "Memory": "lots" is not a number'):
        call_command("import_rvtools", str(write_xlsx(tmp_path / "x.xlsx", sheets)), stdout=StringIO())
    assert nothing_stored()


# --- files as teams have them ------------------------------------------------------------------

# Columns RVTools writes numbers in (and the importer reads as numbers), across the sheets it reads
NUMERIC_HEADERS = {
    "CPUs", "Memory", "Provisioned MiB", "In Use MiB", "Disk Key", "Capacity MiB", "Size MiB (total)",
    "Size MiB (vmsn)", "# CPU", "# Cores", "# Memory", "Speed", "NumHosts", "NumCpuCores", "TotalCpu",
    "TotalMemory", "Free MiB",
}  # fmt: skip


def locale_cell(swap: bool):
    """Cells as a Windows locale writes them: "16,384" and "5.25" (en-US), or "16.384" and "5,25" (de-DE)."""

    def cell(header, value):
        if header in NUMERIC_HEADERS and isinstance(value, int | float) and not isinstance(value, bool):
            text = f"{value:,}"
            return text.translate(str.maketrans(",.", ".,")) if swap else text
        return cell_text(value)

    return cell


def assert_unchanged(summary):
    for name, result in summary.items():
        if isinstance(result, dict):
            assert result["created"] == result["updated"] == result["vanished"] == 0, name


@pytest.mark.django_db
@pytest.mark.parametrize(
    "delimiter, swap, sample",
    [(",", False, b'"12,288"'), (";", True, b";12.288;")],
    ids=["en-US: 16,384 in quoted fields", "de-DE: 16.384 and 1,5 with ; between fields"],
)
def test_csvs_with_grouped_numbers_import_the_same_estate_as_the_workbook(
    real_import, tmp_path, delimiter, swap, sample
):
    archive = xlsx_to_csv_zip(
        REAL_EXPORT, tmp_path / "grouped.zip", delimiter=delimiter, cell=locale_cell(swap)
    )
    with zipfile.ZipFile(archive) as opened:
        assert sample in opened.read("export/RVTools_tabvInfo.csv")  # the first VM's memory, grouped
    assert_unchanged(import_export(archive))


def lone_vinfo_csv(tmp_path, rows: list[list], delimiter: str) -> Path:
    sheets = generated_estate(len(rows))
    for row, (memory, provisioned, in_use) in zip(sheets["vInfo"][1:], rows, strict=True):
        row[4:7] = [memory, provisioned, in_use]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([[cell_text(v) for v in row] for row in sheets["vInfo"]])
    path = tmp_path / "RVTools_tabvInfo.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


@pytest.mark.django_db
def test_a_semicolon_file_reads_1_5_as_a_decimal_and_a_comma_file_1_234_as_a_thousand(tmp_path):
    import_export(lone_vinfo_csv(tmp_path, [["4.096", "40.960,6", "1,5"]], ";"))
    assert VirtualMachine.objects.values_list("memory_mib", "provisioned_mib", "used_mib").get() == (
        4096,
        40961,
        2,
    )
    import_export(lone_vinfo_csv(tmp_path, [["1,234", "40,960.4", "2.5"]], ","))
    assert VirtualMachine.objects.values_list("memory_mib", "provisioned_mib", "used_mib").get() == (
        1234,
        40960,
        2,
    )


@pytest.mark.django_db
def test_a_number_the_file_does_not_settle_is_refused_with_its_row_and_column(tmp_path):
    # "0.5" can only be a dot decimal and "1,5" only a comma one: "4.096" could be either
    path = lone_vinfo_csv(
        tmp_path, [["4.096", "40960", "20480"], ["4096", "0.5", "20480"], ["4096", "40960", "1,5"]], ";"
    )
    with pytest.raises(RVToolsError) as error:
        import_export(path)
    assert [str(p) for p in error.value.problems] == [
        'sheet vInfo, row 2, column "Memory": "4.096" could be 4.096 or 4096: this file writes decimals both as '
        '"0.5" (row 3, column "Provisioned MiB") and as "1,5" (row 4, column "In Use MiB")'
    ]
    assert nothing_stored()


def trimmed(sheets: dict, drop=("VI SDK Server", "VI SDK UUID", "VM ID")) -> dict:
    """A sizing-workshop sample: columns that name the vCenter or the VM IDs cut from every sheet."""
    cut = {}
    for name, (header, *rows) in sheets.items():
        keep = [i for i, h in enumerate(header) if h not in drop]
        cut[name] = [[row[i] for i in keep] for row in (header, *rows)]
    return cut


@pytest.mark.django_db
def test_a_trimmed_export_takes_its_vcenter_from_vmetadata_and_keys_vms_by_uuid(tmp_path):
    sheets = trimmed(generated_estate(3))
    sheets["vMetaData"] = [
        ["RVTools major version", "RVTools version", "xlsx creation datetime", "Server"],
        [4.7, "4.7.1.4", dt.datetime(2025, 12, 17, 16, 35, 29), "vc-anon.example.com"],
    ]
    path = write_xlsx(tmp_path / "sample.xlsx", sheets)
    lines = []
    summary = import_export(path, log=lines.append)
    assert VCenter.objects.get().name == "vc-anon.example.com"
    vms = {vm.name: vm for vm in VirtualMachine.objects.all()}
    assert {vm.moid for vm in vms.values()} == {vm.instance_uuid for vm in vms.values()}
    assert vms["app-002"].disks.count() == 2 and vms["app-002"].nics.count() == 1
    assert vms["app-002"].tools_status == "toolsOk" and vms["app-002"].snapshots.count() == 1
    notes = summary["notes"]
    assert len(notes) == 2 and all(note in lines for note in notes)
    assert (
        "no VI SDK Server column: every row is taken as vCenter vc-anon.example.com (from the Server cell "
        "of vMetaData)" in notes[0]
    )
    assert "no VM ID column: VMs are keyed by their VM UUID" in notes[1]
    assert "A later export with VM IDs will not match them" in notes[1]
    assert "discovery of the vCenter will not merge with them" in notes[1]

    with CaptureQueriesContext(connection) as queries:
        assert_unchanged(import_export(path))
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


@pytest.mark.django_db
def test_the_real_export_trimmed_for_a_workshop_imports_every_vm_and_device(tmp_path):
    workbook = openpyxl.load_workbook(REAL_EXPORT, read_only=True)
    sheets = {
        name: [list(row) for row in workbook[name].iter_rows(values_only=True)]
        for name in (
            "vInfo",
            "vTools",
            "vDisk",
            "vNetwork",
            "vCD",
            "vSnapshot",
            "vHost",
            "vCluster",
            "vMetaData",
        )
    }
    workbook.close()
    import_export(write_xlsx(tmp_path / "workshop.xlsx", trimmed(sheets)))
    vinfo = read_sheet(REAL_EXPORT, "vInfo")
    assert VCenter.objects.get().name == read_sheet(REAL_EXPORT, "vMetaData")[0]["Server"]
    assert set(VirtualMachine.objects.values_list("moid", flat=True)) == {r["VM UUID"] for r in vinfo}
    assert VirtualDisk.objects.count() == len(sheets["vDisk"]) - 1
    assert VirtualNic.objects.count() == len(sheets["vNetwork"]) - 1
    assert Snapshot.objects.count() == len(sheets["vSnapshot"]) - 1
    assert Host.objects.count() == len(sheets["vHost"]) - 1


@pytest.mark.django_db
def test_an_export_that_names_no_vcenter_is_refused_until_one_is_named_on_import(tmp_path):
    path = write_xlsx(
        tmp_path / "sample.xlsx", trimmed(generated_estate(2), drop=("VI SDK Server", "VM ID", "VM UUID"))
    )
    with pytest.raises(RVToolsError) as error:
        import_export(path)
    assert [str(p) for p in error.value.problems] == [
        'sheet vInfo, row 1, column "VI SDK Server": required column is missing, and the export does not name '
        "its vCenter elsewhere (the Server cell of vMetaData): name the vCenter on import"
    ]
    assert nothing_stored()

    out = StringIO()
    call_command("import_rvtools", str(path), "--vcenter", "vc-named.example.com", stdout=out)
    assert VCenter.objects.get().name == "vc-named.example.com"
    assert sorted(VirtualMachine.objects.values_list("moid", flat=True)) == ["app-001", "app-002"]
    assert VirtualDisk.objects.count() == 4
    assert "every row is taken as vCenter vc-named.example.com (as named on import)" in out.getvalue()
    assert "VMs are keyed by their name, and found in the other sheets by name" in out.getvalue()


@pytest.mark.django_db
def test_two_vms_of_one_name_without_vm_id_or_uuid_are_refused(tmp_path):
    sheets = generated_estate(3)
    sheets["vInfo"][3][0] = "app-001"
    path = write_xlsx(tmp_path / "sample.xlsx", trimmed(sheets, drop=("VI SDK Server", "VM ID", "VM UUID")))
    with pytest.raises(RVToolsError) as error:
        import_export(path, vcenter="vc-named.example.com")
    assert [str(p) for p in error.value.problems] == [
        'sheet vInfo, row 4, column "VM": "app-001" is also in row 2: without VM ID, VMs are told apart by it'
    ]
    assert nothing_stored()


def rewritten(source, target, member: str, change) -> Path:
    """The zip `source` with `member`'s content passed through `change`, as a valid zip."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, change(data) if info.filename == member else data)
    return Path(target)


def central_record(data: bytes, member: str) -> int:
    """Where `member`'s entry in the zip's central directory begins."""
    start = data.index(b"PK\x05\x06")  # end of central directory
    offset = int.from_bytes(data[start + 16 : start + 20], "little")
    while data[offset : offset + 4] == b"PK\x01\x02":
        name_length, extra, comment = (
            int.from_bytes(data[offset + i : offset + i + 2], "little") for i in (28, 30, 32)
        )
        if data[offset + 46 : offset + 46 + name_length].decode() == member:
            return offset
        offset += 46 + name_length + extra + comment
    raise KeyError(member)


def flipped_in(source, target, member: str) -> Path:
    """`source` with bytes in the middle of `member`'s compressed data overwritten."""
    data = bytearray(Path(source).read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(member)
    name_length, extra = (
        int.from_bytes(data[info.header_offset + i : info.header_offset + i + 2], "little") for i in (26, 28)
    )
    middle = info.header_offset + 30 + name_length + extra + info.compress_size // 2
    data[middle : middle + 16] = bytes(255 - b for b in data[middle : middle + 16])
    Path(target).write_bytes(data)
    return Path(target)


def bad_crc(source, target, member: str) -> Path:
    data = bytearray(Path(source).read_bytes())
    crc = central_record(data, member) + 16
    data[crc : crc + 4] = bytes(b ^ 0xFF for b in data[crc : crc + 4])
    Path(target).write_bytes(data)
    return Path(target)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda s, t: t.write_bytes(s.read_bytes()[: s.stat().st_size // 2]) and t, "was it cut short?"),
        (lambda s, t: flipped_in(s, t, "xl/worksheets/sheet1.xml"), "sheet vInfo (xl/worksheets/sheet1.xml)"),
        (lambda s, t: bad_crc(s, t, "xl/worksheets/sheet14.xml"), "sheet vHost (xl/worksheets/sheet14.xml)"),
        (
            lambda s, t: rewritten(s, t, "xl/worksheets/sheet4.xml", lambda d: d[: len(d) // 3]),
            "sheet vDisk (xl/worksheets/sheet4.xml)",
        ),
        (
            lambda s, t: rewritten(s, t, "xl/sharedStrings.xml", lambda d: d[: len(d) // 2]),
            "xl/sharedStrings.xml",
        ),
    ],
    ids=["truncated", "flipped bytes in vInfo", "bad CRC of vHost", "cut XML of vDisk", "cut shared strings"],
)
def test_a_damaged_workbook_is_named_damaged_with_the_part_that_could_not_be_read(tmp_path, damage, expected):
    path = damage(REAL_EXPORT, tmp_path / "rvtools.xlsx")
    with pytest.raises(RVToolsError) as error:
        import_export(path, "rvtools.xlsx")
    [problem] = error.value.problems
    assert str(problem).startswith("rvtools.xlsx is damaged or incomplete: ") and expected in str(problem)
    assert "not an RVTools export" not in str(problem)
    assert nothing_stored()


@pytest.mark.django_db
def test_a_damaged_zip_of_csvs_names_the_member(tmp_path):
    archive = xlsx_to_csv_zip(REAL_EXPORT, tmp_path / "csv.zip")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size - 2000])
    with pytest.raises(RVToolsError, match="cut.zip is damaged or incomplete: .*was it cut short"):
        import_export(cut)
    with pytest.raises(
        RVToolsError, match=r"damaged or incomplete: export/RVTools_tabvDisk.csv could not be read"
    ):
        import_export(bad_crc(archive, tmp_path / "crc.zip", "export/RVTools_tabvDisk.csv"))
    assert nothing_stored()


@pytest.mark.django_db
def test_a_totals_row_is_skipped_with_its_row_and_why(tmp_path):
    sheets = generated_estate(2)
    sheets["vHost"].append([None, None, None, None, 2, 64, 1048576, None, None, None])  # a SUM row, no host
    sheets["vDatastore"].append(["ds2", "VMFS", 1024, "datastore-2", None, None])  # a row without its vCenter
    sheets["vInfo"].append([None, None, None, 4, 8192, 81920, 40960] + [None] * 12)  # totals under the VMs
    lines = []
    summary = import_export(write_xlsx(tmp_path / "x.xlsx", sheets), log=lines.append)
    assert "vInfo row 4: VM and VM ID are empty (a totals or notes row?); skipped" in lines
    assert "vHost row 3: Host is empty (a totals or notes row?); skipped" in lines
    assert (
        "vDatastore row 3: VI SDK Server is empty, so the row belongs to no vCenter (a totals or notes "
        "row?); skipped"
    ) in lines
    assert not any("vCenter  has" in line for line in lines)
    assert summary["warnings"] == 3 and Host.objects.count() == 1 and Datastore.objects.count() == 1
    assert VirtualMachine.objects.count() == 2


@pytest.mark.django_db
def test_a_formula_without_a_saved_value_refuses_its_row(tmp_path):
    sheets = generated_estate(2)
    sheets["vInfo"][2][0] = '=CONCAT("app-", "002")'  # openpyxl saves formulas without a computed value
    with pytest.raises(RVToolsError) as error:
        import_export(write_xlsx(tmp_path / "x.xlsx", sheets))
    assert [str(p) for p in error.value.problems] == [
        'sheet vInfo, row 3, column "VM": is empty: every VM needs its name (a formula cell reads as empty when '
        "the file was saved without its calculated values: open it in Excel and save it again)"
    ]
    assert nothing_stored()
