"""RVTools import of a generated 10,000-VM export, beside a baseline measured in the same run.

    .venv/bin/python bench/rvtools_import.py [--vms 10000] [--fresh]

The export: every sheet the importer reads (vInfo, vTools, vDisk, vNetwork, vCD, vSnapshot, vUSB,
vHost, vCluster, vDatastore, vPort, dvPort, vSource), with the columns RVTools 4.7 writes under the
names the importer knows plus the usual columns it ignores and two custom attributes; per VM two
disks, one or two NICs, a CD-ROM and (every fourth VM) a snapshot; 20 clusters of 8 hosts, 40
datastores, 60 port groups. Written once with openpyxl in write-only mode to
var/bench/rvtools-<vms>.xlsx and reused; `--fresh` rewrites it.

1. baseline: reading every cell of the same sheets with openpyxl (read-only, values only), the floor
   any importer of an .xlsx pays;
2. import: `inventory.rvtools.importer.import_export()` as the job runs it, into an empty
   inventory: read, map, validate, write; rows written;
3. again: the same file imported a second time (target: 0 rows written).
Target (product.md §7): "a 10,000-VM export in seconds, not minutes". Runs on a scratch SQLite
database under var/bench/ (rebuilt each time) unless DATABASE_URL is set (its inventory is cleared).
"""

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SCRATCH, report, setup_django, timed  # noqa: E402

SERVER, SERVER_UUID = "vc-bench.example.com", "b4509789-2388-4298-aee8-97cf83caf1ba"
CLUSTERS, HOSTS_PER_CLUSTER, DATASTORES, PORTGROUPS = 20, 8, 40, 60
TARGET_S = 60  # "seconds, not minutes"
# Columns RVTools writes on vInfo that the importer does not read: they make the sheet as wide as a
# real one (93 columns in 4.7), which is what reading it costs.
IGNORED_VINFO = [
    "Config status", "Connection state", "Guest state", "Heartbeat", "Consolidation Needed", "PowerOn",
    "Suspended To Memory", "Suspend time", "Creation date", "Change Version", "Overall Cpu Readiness",
    "Active Memory", "NICs", "Disks", "Total disk capacity MiB", "Latency Sensitivity", "EnableUUID",
    "Network #1", "Network #2", "Num Monitors", "Video Ram KiB", "Boot Required", "Boot delay",
    "Boot retry delay", "Boot retry enabled", "Boot BIOS setup", "Firmware", "HW upgrade status",
    "HW upgrade policy", "HW target", "Path", "Log directory", "Snapshot directory", "Suspend directory",
]  # fmt: skip
CUSTOM = ["Backup status", "Owner"]
SHEETS = {
    "vInfo": [
        "VM", "Powerstate", "Template", "DNS Name", "CPUs", "Memory", "CBT", "Primary IP Address",
        "Resource pool", "Folder", "FT State", "Provisioned MiB", "In Use MiB", "HW version", "Annotation",
        "Datacenter", "Cluster", "Host", "OS according to the configuration file",
        "OS according to the VMware Tools", "VM ID", "VM UUID", "SMBIOS UUID",
        *[c for c in IGNORED_VINFO if c != "Firmware"], "Firmware", *CUSTOM, "VI SDK Server", "VI SDK UUID",
    ],
    "vTools": ["VM", "Tools", "Tools Version", "VM Version", "Folder", "VM ID", "VI SDK Server", "VI SDK UUID"],
    "vDisk": ["VM", "Disk", "Disk Key", "Capacity MiB", "Raw", "Disk Mode", "Sharing mode", "Thin", "Controller",
              "Label", "Shared Bus", "Path", "Raw Comp. Mode", "VM ID", "VI SDK Server", "VI SDK UUID"],
    "vNetwork": ["VM", "NIC label", "Adapter", "Network", "Connected", "Starts Connected", "Mac Address",
                 "IPv4 Address", "IPv6 Address", "Direct Path IO", "VM ID", "VI SDK Server", "VI SDK UUID"],
    "vCD": ["VM", "Device Node", "Connected", "Starts Connected", "Device Type", "VM ID", "VI SDK Server",
            "VI SDK UUID"],
    "vSnapshot": ["VM", "Name", "Description", "Date / time", "Size MiB (vmsn)", "Size MiB (total)", "Quiesced",
                  "State", "VM ID", "VI SDK Server", "VI SDK UUID"],
    "vUSB": ["VM", "Device Node", "Connected", "VM ID", "VI SDK Server", "VI SDK UUID"],
    "vHost": ["Host", "Datacenter", "Cluster", "in Maintenance Mode", "CPU Model", "Speed", "# CPU", "# Cores",
              "# Memory", "ESX Version", "Vendor", "Model", "Object ID", "VI SDK Server", "VI SDK UUID"],
    "vCluster": ["Name", "NumHosts", "NumCpuCores", "TotalCpu", "TotalMemory", "HA enabled", "DRS enabled",
                 "Object ID", "VI SDK Server", "VI SDK UUID"],
    "vDatastore": ["Name", "Type", "Capacity MiB", "Free MiB", "Provisioned MiB", "URL", "Object ID",
                   "VI SDK Server", "VI SDK UUID"],
    "vPort": ["Host", "Port Group", "Switch", "VLAN", "VI SDK Server", "VI SDK UUID"],
    "dvPort": ["Port", "Switch", "VLAN", "Object ID", "VI SDK Server", "VI SDK UUID"],
    "vSource": ["Version", "Build", "VI SDK Server", "VI SDK UUID"],
}  # fmt: skip
GUESTS = [
    "Red Hat Enterprise Linux 8 (64-bit)",
    "Microsoft Windows Server 2019 (64-bit)",
    "Ubuntu Linux (64-bit)",
    "Other 2.6.x Linux (64-bit)",
]
POWER = ["poweredOn", "poweredOn", "poweredOff", "suspended"]
TOOLS = ["toolsOk", "toolsOld", "toolsNotRunning", "toolsNotInstalled"]


def write_export(path: Path, vms: int):
    """The export, streamed row by row (write-only mode): memory stays flat whatever `vms` is."""
    import openpyxl

    sdk = [SERVER, SERVER_UUID]
    hosts = [(c, h) for c in range(CLUSTERS) for h in range(HOSTS_PER_CLUSTER)]
    workbook = openpyxl.Workbook(write_only=True)
    sheets = {}
    for title, header in SHEETS.items():
        sheets[title] = workbook.create_sheet(title)
        sheets[title].append(header)
    filler = ["ok"] * (len(SHEETS["vInfo"]) - 23 - 1 - len(CUSTOM) - 2)
    taken = dt.datetime(2025, 3, 21, 11, 46, 21)
    for i in range(vms):
        name, moid = f"bench-vm-{i + 1:05d}", f"vm-{1000 + i}"
        cluster, host = hosts[i % len(hosts)]
        host_name = f"esx-{cluster + 1:02d}-{host + 1:02d}.example.com"
        store = f"ds-{i % DATASTORES + 1:02d}"
        ip = f"10.{20 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"
        sheets["vInfo"].append(
            [
                name,
                POWER[i % 4],
                "False",
                f"{name}.corp.example",
                1 + i % 8,
                1024 * (1 + i % 16),
                "True",
                ip,
                f"/DC1/cluster-{cluster + 1:02d}/Resources",
                "/DC1/vm",
                "notConfigured",
                40960 + 1024 * (i % 100),
                20480 + 512 * (i % 100),
                19 - i % 7,
                f"application {i % 300}" if i % 3 == 0 else None,
                "DC1",
                f"cluster-{cluster + 1:02d}",
                host_name,
                GUESTS[i % 4],
                GUESTS[(i + 1) % 4],
                moid,
                f"5034ec9f-fe95-9c95-240a-{i:012x}",
                f"423471f1-2494-7dba-d451-{i:012x}",
                *filler,
                "efi" if i % 2 else "bios",
                "OK" if i % 5 else "Failed",
                f"team-{i % 12}",
                *sdk,
            ]
        )
        sheets["vTools"].append([name, TOOLS[i % 4], 12389, 19 - i % 7, "/DC1/vm", moid, *sdk])
        for d in range(2):
            sheets["vDisk"].append(
                [
                    name,
                    f"Hard disk {d + 1}",
                    str(2000 + d),
                    20480 + 1024 * d,
                    "False",
                    "persistent",
                    "sharingNone",
                    "True" if d else "False",
                    "VMware paravirtual SCSI",
                    "SCSI controller 0",
                    "noSharing",
                    f"[{store}] {name}/{name}_{d}.vmdk",
                    None,
                    moid,
                    *sdk,
                ]
            )
        for n in range(2 if i % 3 == 0 else 1):
            sheets["vNetwork"].append(
                [
                    name,
                    f"Network adapter {n + 1}",
                    "Vmxnet3",
                    f"pg-{(i + n) % PORTGROUPS + 100}",
                    "True",
                    "True",
                    f"00:50:56:{i // 65536 % 256:02x}:{i // 256 % 256:02x}:{(i + n * 128) % 256:02x}",
                    ip if n == 0 else None,
                    None,
                    "False",
                    moid,
                    *sdk,
                ]
            )
        iso = i % 5 == 0
        sheets["vCD"].append(
            [
                name,
                "CD/DVD drive 1",
                "True" if iso else "False",
                "True",
                "ISO" if iso else "Remote device",
                moid,
                *sdk,
            ]
        )
        if i % 4 == 0:
            sheets["vSnapshot"].append(
                [name, "before patch", None, taken, 5.27, 49982.0, "False", "poweredOn", moid, *sdk]
            )
    for c in range(CLUSTERS):
        sheets["vCluster"].append(
            [
                f"cluster-{c + 1:02d}",
                HOSTS_PER_CLUSTER,
                36 * HOSTS_PER_CLUSTER,
                82800 * HOSTS_PER_CLUSTER,
                784897 * HOSTS_PER_CLUSTER,
                "True",
                "True",
                f"domain-c{c + 8}",
                *sdk,
            ]
        )
    for n, (c, h) in enumerate(hosts):
        sheets["vHost"].append(
            [
                f"esx-{c + 1:02d}-{h + 1:02d}.example.com",
                "DC1",
                f"cluster-{c + 1:02d}",
                "False",
                "Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz",
                2300,
                2,
                36,
                784897,
                "VMware ESXi 8.0.3 build-24022510",
                "Cisco Systems Inc",
                "UCSB-B200-M5",
                f"host-{500 + n}",
                *sdk,
            ]
        )
        sheets["vPort"].append(
            [f"esx-{c + 1:02d}-{h + 1:02d}.example.com", "VM Network", "vSwitch0", "0", *sdk]
        )
    for d in range(DATASTORES):
        sheets["vDatastore"].append(
            [
                f"ds-{d + 1:02d}",
                "VMFS",
                4194048,
                1250670,
                4655071,
                f"ds:///vmfs/volumes/{d:08x}-7be02e18/",
                f"datastore-{2700 + d}",
                *sdk,
            ]
        )
    for p in range(PORTGROUPS):
        sheets["dvPort"].append([f"pg-{p + 100}", "dvs-01", str(p + 100), f"dvportgroup-{1600 + p}", *sdk])
    sheets["vSource"].append(["8.0.2", "24321653", *sdk])
    workbook.save(path)


def read_only(path: Path) -> int:
    """The baseline: every cell of the sheets the importer reads, and nothing done with them."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    cells = 0
    try:
        for title in SHEETS:
            for row in workbook[title].iter_rows(values_only=True):
                cells += len(row)
    finally:
        workbook.close()
    return cells


def rows_written(summary: dict) -> int:
    """Created, updated and vanished rows over every object type of the importer's summary."""
    return sum(
        count
        for totals in summary.values()
        if isinstance(totals, dict)
        for key, count in totals.items()
        if key != "unchanged"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--fresh", action="store_true", help="rewrite the export even if it is there")
    args = parser.parse_args(argv)
    setup_django("rvtools", fresh=True)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.models import VCenter
    from inventory.rvtools.importer import import_export

    export = SCRATCH / f"rvtools-{args.vms}.xlsx"
    if args.fresh or not export.exists():
        print(f"writing {export.name} ({args.vms:,} VMs, write-only mode) ...", flush=True)
        seconds, _ = timed(lambda: write_export(export, args.vms))
        print(f"  written in {seconds:.1f} s")
    print(f"export: {export.stat().st_size / 2**20:.1f} MB")
    VCenter.objects.filter(name=SERVER).delete()  # cascades to its estate

    read_only(export)  # warm the file cache, so that the baseline is not charged for the first read
    base_s, cells = timed(lambda: read_only(export))
    print(f"baseline, openpyxl reading every cell: {base_s:.1f} s for {cells:,} cells")

    def import_counting():
        with CaptureQueriesContext(connection) as queries:
            summary = import_export(export)
        writes = sum(
            1
            for q in queries.captured_queries
            if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
        )
        return summary, writes

    first_s, (summary, statements) = timed(import_counting)
    rows = rows_written(summary)
    print(
        f"import: {first_s:.1f} s, {rows:,} rows written in {statements} statements; "
        f"{first_s / base_s:.1f}x the bare read"
    )
    print(f"  {summary}")
    again_s, (again, _) = timed(import_counting)
    again_rows = rows_written(again)
    print(
        f"again: {again_s:.1f} s, {again_rows} rows written (target 0): {'met' if again_rows == 0 else 'MISSED'}"
    )
    report(
        "rvtools",
        f"import of a {args.vms:,}-VM export ({export.stat().st_size / 2**20:.1f} MB, 13 sheets)",
        f"{first_s:.1f} s = {first_s / base_s:.1f}x the bare read; {rows:,} rows written in {statements} "
        "statements",
        baseline=f"openpyxl reading every cell: {base_s:.1f} s",
        target=f"seconds (< {TARGET_S} s)",
        met=first_s < TARGET_S,
    )
    report(
        "rvtools",
        "the same export imported again",
        f"{again_rows} rows written in {again_s:.1f} s",
        baseline=f"{rows:,} rows the first time",
        target="0 rows",
        met=again_rows == 0,
    )


if __name__ == "__main__":
    main()
