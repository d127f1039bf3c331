"""Any file into the three importers (RVTools, dependencies, wave plan): a clear error of the importer's
own type, or a valid result; never another exception, and an error leaves the database as it was.

The files are built by Hypothesis from a valid shape, then broken: sheets and columns dropped or
renamed, cells of the wrong type, empty, huge or non-Latin text, duplicated rows, truncated or
foreign zips, random bytes. Each example runs inside a savepoint that is rolled back, so the
examples start from the same seeded database and do not see each other's imports.
"""

import csv
import datetime as dt
import io
import os
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import VCenter, VirtualMachine
from inventory.rvtools.importer import import_export
from inventory.rvtools.problems import RVToolsError
from migrations_app.dependencies.importer import import_file
from migrations_app.dependencies.problems import DependencyImportError
from migrations_app.models import Dependency, DependencyImport, Endpoint, GroupMember, Wave, WaveItem
from migrations_app.waves.planfile import PlanFileError, import_plan
from tests.factories import make_estate, make_group, make_wave

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 40)),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# --- shared helpers -----------------------------------------------------------------------------


@contextmanager
def rolled_back():
    """One example's database changes, undone when it ends."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def snapshot(*models) -> dict:
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def assert_clear(exc: Exception):
    """The error a user sees: it names at least one problem, in words."""
    assert str(exc).strip(), type(exc)
    assert exc.problems, type(exc)
    assert all(str(p).strip() for p in exc.problems)


# Text as spreadsheets hold it: empty, very long, accents, CJK, right-to-left, emoji; no control
# characters (openpyxl refuses to write them, and Excel never does).
cell_text = st.one_of(
    st.just(""),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30),
    st.sampled_from(["ä-vm", "虚拟机", "שרת", "🙂 vm", " padded ", "=cmd|' /C calc'!A0", "x" * 5000]),
)
cell_value = st.one_of(
    cell_text,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
)


def to_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y/%m/%d %H:%M:%S")
    return str(value)


@st.composite
def broken_table(draw, header: list[str], good_rows: list[list], *, max_rows: int = 6):
    """`header` and `good_rows`, then damaged: columns dropped or renamed, cells replaced, rows
    duplicated or added blank."""
    header = list(header)
    rows = (
        [list(r) for r in draw(st.lists(st.sampled_from(good_rows), max_size=max_rows))] if good_rows else []
    )
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["drop", "rename", "cell", "duplicate", "blank", "ragged"]))
        if action == "drop" and header:
            index = draw(st.integers(0, len(header) - 1))
            del header[index]
            for r in rows:
                if index < len(r):
                    del r[index]
        elif action == "rename" and header:
            header[draw(st.integers(0, len(header) - 1))] = draw(cell_text)
        elif action == "cell" and rows:
            r = draw(st.sampled_from(rows))
            if r:
                r[draw(st.integers(0, len(r) - 1))] = draw(cell_value)
        elif action == "duplicate" and rows:
            rows.append(list(draw(st.sampled_from(rows))))
        elif action == "blank":
            rows.insert(draw(st.integers(0, len(rows))), [None] * len(header))
        elif action == "ragged" and rows:
            r = draw(st.sampled_from(rows))
            del r[draw(st.integers(0, len(r))) :]
    return [header, *rows]


def xlsx_bytes(sheets: dict) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, table in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in table:
            sheet.append(list(row))
    if not sheets:
        workbook.create_sheet("Notes")  # a workbook has at least one sheet
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(table, *, delimiter=",", encoding="utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    for row in table:
        writer.writerow([to_text(v) for v in row])
    return out.getvalue().encode(encoding, errors="replace")


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """The file as built, or cut short, or with bytes overwritten."""
    # Positions are drawn independently of the length: a workbook's size varies with the time it
    # was written, and Hypothesis needs the same draws to replay an example.
    how = draw(st.sampled_from(["as is", "as is", "as is", "truncated", "flipped"]))
    if how == "truncated" and data:
        return data[: draw(st.integers(0, 2**20)) % len(data)]
    if how == "flipped" and data:
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, 2**20)) % len(data)] = draw(st.integers(0, 255))
        return bytes(data)
    return data


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --- RVTools ------------------------------------------------------------------------------------

SDK = ["VI SDK Server", "VI SDK UUID"]
VC = ["vc-fuzz.example.com", "uuid-vc-fuzz"]
RVTOOLS = {
    "vInfo": (
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
            "Cluster",
            "Host",
            "OS according to the configuration file",
            "VM ID",
            "VM UUID",
            "CBT",
            "Annotation",
            *SDK,
        ],
        [
            [
                f"app-{i}",
                "poweredOn",
                "False",
                2,
                4096,
                40960,
                20480,
                19,
                f"10.0.0.{i}",
                "CL",
                "esx-1",
                "Ubuntu Linux (64-bit)",
                f"vm-{i}",
                f"50{i:030}",
                "True",
                "",
                *VC,
            ]
            for i in range(1, 4)
        ],
    ),
    "vTools": (
        ["VM", "Tools", "Tools Version", "VM ID", *SDK],
        [[f"app-{i}", "toolsOk", 12389, f"vm-{i}", *VC] for i in range(1, 4)],
    ),
    "vDisk": (
        ["VM", "Disk", "Disk Key", "Capacity MiB", "Raw", "Disk Mode", "Thin", "Path", "VM ID", *SDK],
        [
            [
                f"app-{i}",
                "Hard disk 1",
                2000,
                20480,
                "False",
                "persistent",
                "True",
                f"[ds1] app-{i}/app-{i}.vmdk",
                f"vm-{i}",
                *VC,
            ]
            for i in range(1, 4)
        ],
    ),
    "vNetwork": (
        ["VM", "NIC label", "Adapter", "Network", "Connected", "Mac Address", "VM ID", *SDK],
        [
            [
                f"app-{i}",
                "Network adapter 1",
                "Vmxnet3",
                "pg-dv",
                "True",
                f"00:50:56:00:00:0{i}",
                f"vm-{i}",
                *VC,
            ]
            for i in range(1, 4)
        ],
    ),
    "vSnapshot": (
        ["VM", "Name", "Date / time", "Size MiB (total)", "Quiesced", "VM ID", *SDK],
        [["app-1", "before patch", dt.datetime(2025, 1, 2, 3, 4, 5), 1024.5, "False", "vm-1", *VC]],
    ),
    "vHost": (
        ["Host", "Datacenter", "Cluster", "CPU Model", "# CPU", "# Cores", "# Memory", "Object ID", *SDK],
        [["esx-1", "DC", "CL", "AMD EPYC 7763", 2, 64, 1048576, "host-1", *VC]],
    ),
    "vCluster": (
        ["Name", "NumHosts", "HA enabled", "Object ID", *SDK],
        [["CL", 1, "True", "domain-c1", *VC]],
    ),
    "vDatastore": (
        ["Name", "Type", "Capacity MiB", "Object ID", *SDK],
        [["ds1", "VMFS", 4194304, "datastore-1", *VC]],
    ),
    "dvPort": (["Port", "Switch", "VLAN", "Object ID", *SDK], [["pg-dv", "dvs", 100, "dvportgroup-1", *VC]]),
    "vSource": (["Version", "Build", *SDK], [["8.0.2", "24321653", *VC]]),
}
INVENTORY = (VCenter, VirtualMachine)


@st.composite
def rvtools_file(draw) -> tuple[str, bytes | dict]:
    """(file name, content): an .xlsx, a zip of CSVs, a lone vInfo CSV, a folder of CSVs (a dict of
    file name -> bytes), or something that is none of these."""
    names = draw(st.lists(st.sampled_from(sorted(RVTOOLS)), unique=True, min_size=0, max_size=len(RVTOOLS)))
    if draw(st.booleans()) and "vInfo" not in names:
        names.append("vInfo")  # most examples should get past "no vInfo sheet"
    sheets = {name: draw(broken_table(*RVTOOLS[name])) for name in names}
    shape = draw(st.sampled_from(["xlsx", "zip", "csv", "folder", "odd"]))
    if shape == "xlsx":
        return "export.xlsx", draw(damaged(xlsx_bytes(sheets)))
    encoding = draw(st.sampled_from(["utf-8-sig", "cp1252"]))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    csvs = {
        f"RVTools_tab{n}.csv": csv_bytes(t, delimiter=delimiter, encoding=encoding) for n, t in sheets.items()
    }
    if shape == "zip":
        buffer = io.BytesIO()
        prefix = draw(st.sampled_from(["", "export/", "../", "a/b/"]))
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in csvs.items():
                archive.writestr(prefix + name, data)
            if draw(st.booleans()):
                archive.writestr("readme.txt", draw(st.binary(max_size=50)))
        return "export.zip", draw(damaged(buffer.getvalue()))
    if shape == "csv":
        return draw(st.sampled_from(["vinfo.csv", "RVTools_tabvInfo.csv"])), csvs.get(
            "RVTools_tabvInfo.csv", b""
        )
    if shape == "folder":
        return "export", csvs
    odd = draw(st.sampled_from(["random", "empty", "nul", "fake xlsx", "no members"]))
    if odd == "random":
        return draw(st.sampled_from(["export.xlsx", "export.zip", "export.csv", "export.bin"])), draw(
            st.binary(max_size=300)
        )
    if odd == "empty":
        return draw(st.sampled_from(["export.xlsx", "export.csv"])), b""
    if odd == "nul":
        return "export.csv", b"VM,VM ID\x00,Powerstate\n\x00\x00\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if odd == "fake xlsx":
            archive.writestr("xl/workbook.xml", draw(st.binary(max_size=80)))
        else:
            archive.writestr("notes/RVTools_tabvInfo.txt", b"not it")
    return "export.xlsx" if odd == "fake xlsx" else "export.zip", buffer.getvalue()


@pytest.fixture
def inventory_before(db):
    """An inventory already there, which a failed import must leave alone."""
    make_estate(vms=3, devices=False)
    import_export(
        Path(
            write(
                Path(tempfile.mkdtemp()),
                "base.xlsx",
                xlsx_bytes({k: [v[0], *v[1]] for k, v in RVTOOLS.items()}),
            )
        )
    )
    return snapshot(*INVENTORY)


@FUZZ
@given(case=rvtools_file())
def test_an_rvtools_export_of_any_shape_is_imported_or_refused_with_a_clear_error(inventory_before, case):
    filename, content = case
    with tempfile.TemporaryDirectory() as folder, rolled_back():
        if isinstance(content, dict):
            path = Path(folder) / filename
            path.mkdir()
            for name, data in content.items():
                write(path, name, data)
        else:
            path = write(Path(folder), "upload.bin", content)
        try:
            summary = import_export(path, filename)
        except RVToolsError as exc:
            assert_clear(exc)
            assert snapshot(*INVENTORY) == inventory_before
            return
        assert summary["vcenters_imported"]
        for name in summary["vcenters_imported"]:
            vcenter = VCenter.objects.get(name__iexact=name)
            assert VirtualMachine.objects.filter(vcenter=vcenter).exists()
        for counts in (v for k, v in summary.items() if isinstance(v, dict)):
            assert all(isinstance(n, int) and n >= 0 for n in counts.values())


# The real export, damaged as disks, downloads and mail gateways damage files: cut short anywhere, or one
# member's compressed bytes overwritten. Each example imports a real export, so there are fewer of them.
REAL_EXPORT = Path(__file__).parent / "data" / "rvtools-4.7.1-vcenter-8.0.2.xlsx"
REAL_FUZZ = settings(FUZZ, max_examples=max(FUZZ.max_examples // 4, 5))
with zipfile.ZipFile(REAL_EXPORT) as _archive:
    REAL_MEMBERS = [
        (i.filename, i.header_offset, i.compress_size) for i in _archive.infolist() if i.compress_size
    ]
    _workbook = openpyxl.load_workbook(REAL_EXPORT, read_only=True)
    # member -> sheet title, as the importer names a sheet it could not read
    REAL_SHEETS = {ws._worksheet_path: ws.title for ws in _workbook.worksheets}
    _workbook.close()


@FUZZ
@given(keep=st.integers(len(b"PK\x03\x04"), REAL_EXPORT.stat().st_size - 1))
def test_a_real_export_cut_short_anywhere_is_told_damaged_or_incomplete(db, keep):
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "upload.bin", REAL_EXPORT.read_bytes()[:keep])
        with pytest.raises(RVToolsError) as error:
            import_export(path, "export.xlsx")
    assert str(error.value.problems[0]).startswith("export.xlsx is damaged or incomplete: ")
    assert not VirtualMachine.objects.exists()


@REAL_FUZZ
@given(member=st.sampled_from(REAL_MEMBERS), where=st.floats(0, 1), size=st.integers(1, 64))
def test_a_real_export_with_a_damaged_member_names_it_or_never_needed_it(db, member, where, size):
    name, offset, compressed = member
    data = bytearray(REAL_EXPORT.read_bytes())
    name_length, extra = (int.from_bytes(data[offset + i : offset + i + 2], "little") for i in (26, 28))
    start = offset + 30 + name_length + extra + int(where * (compressed - 1))
    end = min(start + size, offset + 30 + name_length + extra + compressed)
    data[start:end] = bytes(255 - b for b in data[start:end])
    with tempfile.TemporaryDirectory() as folder, rolled_back():
        path = write(Path(folder), "upload.bin", bytes(data))
        try:
            import_export(path, "export.xlsx")
        except RVToolsError as exc:
            [problem] = exc.problems
            assert str(problem).startswith("export.xlsx is damaged or incomplete: ")
            # a sheet found damaged while it is read is named with its member; one found on opening, by the member
            named = f"sheet {REAL_SHEETS[name]} ({name})" if name in REAL_SHEETS else name
            assert f": {named} could not be read" in str(problem) or f": {name} could not be read" in str(
                problem
            )
            assert not VirtualMachine.objects.exists()
            return
    # a member the importer does not read (vHealth, docProps...) may be damaged without harm
    assert name not in {"xl/workbook.xml", "xl/sharedStrings.xml"}


# --- dependencies -------------------------------------------------------------------------------

AZURE_HEADER = [
    "Time slot",
    "Source server name",
    "Source IP",
    "Source application",
    "Source process",
    "Destination server name",
    "Destination IP",
    "Destination application",
    "Destination process",
    "Destination port",
]
PLAIN_HEADER = ["source", "destination", "port", "protocol"]
sides = st.sampled_from(
    [
        "vm-00000",
        "vm-00001",
        "VM-00002",
        "10.1.2.3",
        "fe80::1",
        "outside.example",
        "",
        "ä-host",
        "x" * 400,
        "999.1.1.1",
    ]
)
ports = st.one_of(st.integers(-5, 70000), st.sampled_from(["", "https", "443.0", "1e3", " 22 "]))
protocols = st.sampled_from(["tcp", "udp", "TCP", "", "icmp", "a-very-long-protocol"])
DEPENDENCY_MODELS = (Endpoint, Dependency, DependencyImport)


@st.composite
def dependency_file(draw) -> tuple[str, bytes]:
    if draw(st.booleans()):
        good = [
            [
                "2025-10-01 10:00",
                draw(sides),
                draw(sides),
                "app",
                "proc",
                draw(sides),
                draw(sides),
                "db",
                "sqlservr",
                draw(ports),
            ]
            for _ in range(draw(st.integers(0, 5)))
        ]
        table = draw(broken_table(AZURE_HEADER, good or [["", "", "", "", "", "", "", "", "", ""]]))
    else:
        good = [
            [draw(sides), draw(sides), draw(ports), draw(protocols)] for _ in range(draw(st.integers(0, 5)))
        ]
        table = draw(broken_table(PLAIN_HEADER, good or [["", "", "", ""]]))
    if draw(st.booleans()):
        table.insert(0, ["Dependencies exported on 2025-10-01"])  # a title line above the header
    shape = draw(st.sampled_from(["csv", "csv", "xlsx", "bytes"]))
    if shape == "xlsx":
        return "deps.xlsx", draw(damaged(xlsx_bytes({"Dependencies": table})))
    if shape == "bytes":
        return draw(st.sampled_from(["deps.csv", "deps.xlsx"])), draw(st.binary(max_size=200))
    encoding = draw(st.sampled_from(["utf-8-sig", "cp1252", "utf-16"]))
    return "deps.csv", draw(
        damaged(csv_bytes(table, delimiter=draw(st.sampled_from([",", ";"])), encoding=encoding))
    )


@pytest.fixture
def dependencies_before(db, admin_user):
    estate = make_estate(vms=3, devices=False)
    Dependency.objects.create(
        source=Endpoint.objects.create(vm=estate.vms[0], name=estate.vms[0].name),
        destination=Endpoint.objects.create(name="outside.example"),
        port=443,
        seen=4,
    )
    return snapshot(*DEPENDENCY_MODELS)


@FUZZ
@given(case=dependency_file())
def test_a_dependency_file_of_any_shape_is_imported_or_refused_with_a_clear_error(
    dependencies_before, admin_user, case
):
    filename, content = case
    with tempfile.TemporaryDirectory() as folder, rolled_back():
        path = write(Path(folder), filename, content)
        try:
            record = import_file(path, filename, user=admin_user)
        except DependencyImportError as exc:
            assert_clear(exc)
            assert snapshot(*DEPENDENCY_MODELS) == dependencies_before
            return
        assert DependencyImport.objects.filter(pk=record.pk).exists()
        for edge in Dependency.objects.all():
            assert 1 <= edge.port <= 65535 and edge.source_id != edge.destination_id and edge.seen >= 1


# --- wave plan ----------------------------------------------------------------------------------

PLAN_HEADER = ["VM", "VM ID", "vCenter", "Group", "Wave", "Migration type"]
PLAN_MODELS = (Wave, WaveItem, GroupMember)


@pytest.fixture
def plan_before(db):
    """Two vCenters (one VM name in both), a group, two draft waves and a running (locked) one."""
    first = make_estate(vms=4, devices=False)
    second = make_estate(vms=2, devices=False)
    vms = first.vms
    make_group("web", vms=vms[:2])
    make_wave("Wave 1", vms=[vms[0], vms[1]])
    make_wave("Locked", status="running")
    make_wave("Wave 2")
    rows = [
        [vm.name, vm.moid, vm.vcenter.name, "web" if i < 2 else "", "Wave 1" if i < 2 else "", ""]
        for i, vm in enumerate(vms + second.vms)
    ]
    return snapshot(*PLAN_MODELS), rows


@st.composite
def plan_file(draw, rows) -> tuple[str, bytes]:
    good = [list(r) for r in rows]
    for r in good:
        if draw(st.booleans()):
            r[4] = draw(st.sampled_from(["", "Wave 1", "wave 2", "Locked", "No such wave"]))
            r[5] = draw(st.sampled_from(["", "bulk", "vMotion", "RAV", "cold", "teleport"]))
        if draw(st.integers(0, 5)) == 0:
            r[1] = ""  # found by name, which two vCenters share
    table = draw(broken_table(PLAN_HEADER, good, max_rows=8))
    shape = draw(st.sampled_from(["csv", "csv", "xlsx", "bytes"]))
    if shape == "xlsx":
        return "plan.xlsx", draw(damaged(xlsx_bytes({draw(st.sampled_from(["Wave plan", "Sheet1"])): table})))
    if shape == "bytes":
        return draw(st.sampled_from(["plan.csv", "plan.xlsx"])), draw(st.binary(max_size=200))
    encoding = draw(st.sampled_from(["utf-8-sig", "cp1252", "utf-16"]))
    return "plan.csv", draw(
        damaged(csv_bytes(table, delimiter=draw(st.sampled_from([",", ";", "\t"])), encoding=encoding))
    )


@FUZZ
@given(data=st.data())
def test_a_wave_plan_file_of_any_shape_is_applied_or_refused_with_a_clear_error(
    plan_before, admin_user, data
):
    before, rows = plan_before
    filename, content = data.draw(plan_file(rows))
    check_only = data.draw(st.booleans())
    with rolled_back():
        try:
            result = import_plan(content, filename, acting_user=admin_user, check_only=check_only)
        except PlanFileError as exc:
            assert_clear(exc)
            assert snapshot(*PLAN_MODELS) == before
            return
        if check_only:
            assert not result.applied
            assert snapshot(*PLAN_MODELS) == before
        else:
            assert result.applied
        # A group moves whole, and a locked wave neither gains nor loses VMs.
        for group_waves in _waves_per_group().values():
            assert len(group_waves - {None}) <= 1
        locked = Wave.objects.get(name="Locked")
        assert not WaveItem.objects.filter(wave=locked).exists()


def _waves_per_group() -> dict:
    found: dict = {}
    for group_id, wave_id in GroupMember.objects.values_list("group_id", "vm__wave_item__wave_id"):
        found.setdefault(group_id, set()).add(wave_id)
    return found
