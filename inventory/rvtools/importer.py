"""An RVTools export into the inventory: map and validate every sheet first, then write it all at once.

Mapping turns sheets into plain rows per vCenter and collects every problem; if there is any,
`RVToolsError` is raised before the database is touched. Writing goes through
`inventory.estate.write_estate`, one model at a time, in a single transaction, so the statement
count depends on the number of object types, not of VMs, and a repeat import writes nothing.
A sheet missing from the export (a zip with only some CSVs) is left as None in the estate,
which leaves that part of the inventory as it was.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from ..choices import DiskMode, PowerState, RdmMode, SourceKind, SwitchType, ToolsStatus
from ..estate import RVTOOLS, SECTIONS, Estate, write_estate
from ..models import VCenter
from .columns import STANDARD_VINFO, normalize
from .problems import Problem, ProblemList, RVToolsError
from .reader import NOT_AN_EXPORT, open_export
from .values import SheetReader, normalize_ip, stringify

SHEETS = (
    "vinfo", "vtools", "vdisk", "vnetwork", "vcd", "vsnapshot", "vusb",
    "vhost", "vcluster", "vdatastore", "vport", "dvport", "vsource", "vmetadata",
)  # fmt: skip
MAX_WARNINGS = 50
POWER_STATES = {value.lower(): value for value in PowerState.values}
TOOLS_STATES = {value.lower(): value for value in ToolsStatus.values if value}
DISK_MODES = {value.lower(): value for value in DiskMode.values}
DATASTORE_PREFIX = re.compile(r"^\[([^\]]*)\]")
LINUX_WORDS = (
    "linux",
    "centos",
    "ubuntu",
    "debian",
    "red hat",
    "rhel",
    "suse",
    "photon",
    "rocky",
    "alma",
    "fedora",
)
NO_FT = {"", "notconfigured", "disabled"}


@dataclass
class VCenterExport(Estate):
    """What the export says about one vCenter: who it is, and its estate with links by name."""

    name: str = ""
    uuid: str = ""
    version: str = ""
    vm_names: dict = field(default_factory=dict)  # name -> moid, for sheets without "VM ID"
    by_vm_id: bool = True  # False when vInfo has no "VM ID" and VMs are keyed by UUID or name


# Filled in by hand or by formulas, exports also hold rows that are not objects: totals, notes.
NOT_AN_OBJECT = "(a totals or notes row?); skipped"


@dataclass
class Mapped:
    estates: dict
    warnings: list
    notes: list = field(default_factory=list)  # what the export lacks and what that costs, said once


def import_export(
    path,
    filename: str | None = None,
    *,
    vcenter: str = "",
    progress: Callable | None = None,
    log: Callable | None = None,
    check_cancelled: Callable | None = None,
):
    """Read, validate and store the export at `path`; returns the summary. Raises RVToolsError.

    `vcenter` names the vCenter of an export whose sheets do not (no "VI SDK Server" column).
    `check_cancelled()` is called every IMPORT_CANCEL_CHECK_ROWS rows read, and raises to stop the import."""
    progress = progress or (lambda percent, text: None)
    log = log or (lambda message: None)
    done = []

    def on_sheet(sheet):
        done.append(sheet.name)
        log(f"Read {sheet.name}: {len(sheet.rows)} rows")
        progress(50 * len(done) / len(SHEETS), f"Read {sheet.name}")

    # the sheets are read from the file as they are mapped: it stays open until the mapping is done
    with open_export(path, filename, SHEETS, on_sheet, tick=check_cancelled) as sheets:
        mapped = map_sheets(sheets, vcenter=vcenter)
    for line in [*mapped.notes, *mapped.warnings[:MAX_WARNINGS]]:
        log(line)
    if check_cancelled:
        check_cancelled()  # the last moment to stop with nothing written
    summary = write_estates(mapped.estates, progress, log)
    if mapped.warnings:
        summary["warnings"] = len(mapped.warnings)
    if mapped.notes:
        summary["notes"] = mapped.notes
    return summary


# --- mapping -------------------------------------------------------------------------------


def map_sheets(sheets: dict, vcenter: str = "") -> Mapped:
    if "vinfo" not in sheets:
        raise RVToolsError([Problem(message=f"no vInfo sheet: {NOT_AN_EXPORT}")])
    problems = ProblemList()
    readers = {key: SheetReader(key, sheet, problems) for key, sheet in sheets.items()}
    notes: list[str] = []
    server = _export_vcenter(readers, vcenter.strip(), problems, notes)
    problems.raise_if_any()  # a missing column would make every row of that sheet a problem

    estates: dict[str, VCenterExport] = {}
    warnings: list[str] = []
    _map_vinfo(readers, estates, problems, server, notes, warnings)
    single = next(iter(estates)) if len(estates) == 1 else None

    def estate_of(row):
        if row.reader.has("server"):
            server = row.text("server").lower()
            if not server:
                warnings.append(
                    f"{row.reader.sheet.name} row {row.number}: VI SDK Server is empty, so the row belongs "
                    f"to no vCenter {NOT_AN_OBJECT}"
                )
                return None
        else:
            server = single
        if server is None:
            row.problem("server", "column VI SDK Server is needed when the export covers several vCenters")
            return None
        estate = estates.get(server)
        if estate is None:
            warnings.append(
                f"{row.reader.sheet.name} row {row.number}: vCenter {server} has no VMs in vInfo; skipped"
            )
        return estate

    if "vsource" in readers:
        for row in readers["vsource"]:
            if estate := estate_of(row):
                version, build = row.text("version"), row.text("build")
                estate.version = f"{version} build {build}" if version and build else version
                estate.uuid = estate.uuid or row.text("server_uuid")
    _map_infrastructure(readers, estates, estate_of, warnings)
    _map_devices(readers, estates, estate_of, warnings)
    problems.raise_if_any()
    return Mapped(estates, warnings, notes)


def _export_vcenter(readers, named: str, problems, notes) -> str:
    """The vCenter of every row when vInfo does not name it per row: named on import, or vMetaData's Server.
    Empty when vInfo has the "VI SDK Server" column."""
    vinfo = readers["vinfo"]
    if vinfo.has("server"):
        if named:
            notes.append(
                f"The export names its vCenter in the VI SDK Server column; the vCenter named on import "
                f"({named}) was not used."
            )
        return ""
    metadata = next((row.text("server") for row in readers.get("vmetadata", ()) if row.text("server")), "")
    server = named or metadata
    if not server:
        problems.add(
            vinfo.sheet.name,
            1,
            "VI SDK Server",
            "required column is missing, and the export does not name its vCenter elsewhere (the Server cell "
            "of vMetaData): name the vCenter on import",
        )
        return ""
    source = "as named on import" if named else "from the Server cell of vMetaData"
    by_name = (
        "" if vinfo.has("server_uuid") else ", and without VI SDK UUID the vCenter is matched by name only"
    )
    notes.append(
        f"{vinfo.sheet.name} has no VI SDK Server column: every row is taken as vCenter {server} ({source}). "
        f"An export without it cannot hold several vCenters{by_name}."
    )
    return server


def _map_vinfo(readers, estates, problems, export_server, notes, warnings):
    vinfo = readers["vinfo"]
    headers = vinfo.sheet.headers
    custom = [(i, h) for i, h in enumerate(headers) if h and normalize(h) not in STANDARD_VINFO]

    def server_of(row):
        return row.text("server") if row.reader.has("server") else export_server

    by_vm_id = vinfo.has("vm_id")
    first_row = {}  # key -> row, when VMs are keyed by UUID or name: two VMs may have one name
    if not by_vm_id:
        key = "their VM UUID, or by their name where it is empty" if vinfo.has("vm_uuid") else "their name"
        notes.append(
            f"{vinfo.sheet.name} has no VM ID column: VMs are keyed by {key}, and found in the other sheets by "
            "name. A later export with VM IDs will not match them "
            "(its VMs are created anew and these marked vanished), discovery of the vCenter will not merge "
            "with them, and a VM renamed without a UUID comes back as a new one."
        )
    # a row without a name or anything else that names a VM is not one (a totals row); one with an ID but no
    # name is, and is refused
    identifying = [f for f in ("vm_id", "vm_uuid", "server") if vinfo.has(f)]
    tools = {}
    if "vtools" in readers:
        for row in readers["vtools"]:
            for key in (row.text("vm_id"), row.text("vm")):
                tools.setdefault((server_of(row).lower(), key), row)
    for row in vinfo:
        name = row.text("vm", 300)
        if not name and identifying and not any(row.text(f) for f in identifying):
            warnings.append(f"{vinfo.sheet.name} row {row.number}: VM and VM ID are empty {NOT_AN_OBJECT}")
            continue
        if not name:
            row.problem(
                "vm",
                "is empty: every VM needs its name (a formula cell reads as empty when the file was saved "
                "without its calculated values: open it in Excel and save it again)",
            )
            continue
        moid = row.text("vm_id") if by_vm_id else (row.text("vm_uuid") or name)[:100]
        if not moid:
            row.problem("vm_id", "is empty")
            continue
        if not by_vm_id:
            if moid in first_row:
                field = "vm_uuid" if row.text("vm_uuid") else "vm"
                row.problem(
                    field,
                    f'"{moid}" is also in row {first_row[moid]}: without VM ID, VMs are told apart by it',
                )
                continue
            first_row[moid] = row.number
        server = server_of(row)
        if not server:
            row.problem("server", "is empty")
            continue
        estate = estates.get(server.lower())
        if estate is None:
            estate = estates[server.lower()] = VCenterExport(
                name=server, uuid=row.text("server_uuid"), by_vm_id=by_vm_id
            )
        power = row.text("power")
        if power.lower() not in POWER_STATES:
            row.problem("power", f'"{power}" is not poweredOn, poweredOff or suspended')
        guest_os, guest_os_tools = row.text("guest_os", 200), row.text("guest_os_tools", 200)
        vm = {
            "moid": moid,
            "name": name,
            "instance_uuid": row.text("vm_uuid", 64),
            "bios_uuid": row.text("bios_uuid", 64),
            "power_state": POWER_STATES.get(power.lower(), PowerState.OFF),
            "is_template": bool(row.bool("template")),
            "datacenter": row.text("datacenter", 200),
            "folder": row.text("folder", 500),
            "resource_pool": row.text("resource_pool", 500),
            "guest_os": guest_os,
            "guest_os_tools": guest_os_tools,
            "guest_family": guest_family(guest_os_tools or guest_os),
            "num_cpu": row.int("cpus", 0),
            "memory_mib": row.int("memory", 0),
            "provisioned_mib": row.int("provisioned", 0),
            "used_mib": row.int("in_use", 0),
            "hw_version": _hw_version(row, "hw_version"),
            "firmware": row.text("firmware", 20).lower(),
            "primary_ip": row.ip("primary_ip"),
            "dns_name": row.text("dns_name", 300),
            "annotation": row.text("annotation"),
            "cbt_enabled": row.bool("cbt"),
            "ft_enabled": row.text("ft_state").lower() not in NO_FT,
            "attributes": {h: _attribute(row.values[i]) for i, h in custom if _present(row.values, i)},
            "cluster_name": row.text("cluster"),
            "host_name": row.text("host"),
        }
        if "vtools" in readers:
            tool_row = tools.get((server.lower(), moid)) or tools.get((server.lower(), vm["name"]))
            status = tool_row.text("tools") if tool_row else ""
            vm["tools_status"] = TOOLS_STATES.get(status.lower(), ToolsStatus.UNKNOWN)
            vm["tools_version"] = tool_row.text("tools_version", 50) if tool_row else ""
            if tool_row and vm["hw_version"] is None:
                vm["hw_version"] = _hw_version(tool_row, "hw_version")
            if tool_row and not vm["folder"]:
                # RVTools 4.7 leaves vInfo's Folder empty and writes the path on the other VM sheets
                vm["folder"] = tool_row.text("folder", 500)
        if "vusb" in readers:
            vm["usb_devices"] = 0
        estate.vms.append(vm)
        estate.vm_names.setdefault(vm["name"], moid)
    if not estates and not problems:
        problems.add(vinfo.sheet.name, None, "", "holds no VMs")


def _named(row, warnings) -> bool:
    """Whether an infrastructure row names its object; a row that does not is skipped with a warning."""
    if row.text("name"):
        return True
    header = row.reader.sheet.headers[row.reader.columns["name"]]
    warnings.append(f"{row.reader.sheet.name} row {row.number}: {header} is empty {NOT_AN_OBJECT}")
    return False


def _map_infrastructure(readers, estates, estate_of, warnings):
    for estate in estates.values():
        for key, attr in (("vcluster", "clusters"), ("vhost", "hosts"), ("vdatastore", "datastores")):
            if key in readers:
                setattr(estate, attr, [])
        if "vport" in readers or "dvport" in readers:
            estate.networks = []
    cluster_datacenter = {}
    for row in readers.get("vhost", ()):
        if _named(row, warnings) and (estate := estate_of(row)):
            name = row.text("name", 300)
            cluster_datacenter.setdefault((estate.name, row.text("cluster")), row.text("datacenter"))
            model = row.text("cpu_model", 200)
            estate.hosts.append(
                {
                    "moid": row.text("moid", 100) or name,
                    "name": name,
                    "datacenter": row.text("datacenter", 200),
                    "cpu_model": model,
                    "cpu_vendor": cpu_vendor(model),
                    "num_cpu_sockets": row.int("sockets", 0),
                    "num_cpu_cores": row.int("cores", 0),
                    "cpu_mhz": row.int("cpu_mhz", 0),
                    "memory_mib": row.int("memory", 0),
                    "esx_version": row.text("esx_version", 200),
                    "vendor": row.text("vendor", 200),
                    "model": row.text("model", 200),
                    "in_maintenance": bool(row.bool("in_maintenance")),
                    "cluster_name": row.text("cluster"),
                }
            )
    for estate in estates.values():
        for vm in estate.vms:
            cluster_datacenter.setdefault((estate.name, vm["cluster_name"]), vm["datacenter"])
    for row in readers.get("vcluster", ()):
        if _named(row, warnings) and (estate := estate_of(row)):
            name = row.text("name", 300)
            estate.clusters.append(
                {
                    "moid": row.text("moid", 100) or name,
                    "name": name,
                    "datacenter": cluster_datacenter.get((estate.name, name), "")[:200],
                    "num_hosts": row.int("num_hosts", 0),
                    "num_cpu_cores": row.int("cores", 0),
                    "total_cpu_mhz": row.int("cpu_mhz", 0),
                    "total_memory_mib": row.int("memory", 0),
                    "ha_enabled": row.bool("ha_enabled"),
                    "drs_enabled": row.bool("drs_enabled"),
                }
            )
    for row in readers.get("vdatastore", ()):
        if _named(row, warnings) and (estate := estate_of(row)):
            name = row.text("name", 300)
            estate.datastores.append(
                {
                    "moid": row.text("moid", 100) or name,
                    "name": name,
                    "type": row.text("type", 50),
                    "capacity_mib": row.int("capacity", 0),
                    "free_mib": row.int("free", 0),
                    "provisioned_mib": row.int("provisioned", 0),
                    "url": row.text("url", 500),
                }
            )
    # A name can be both a distributed and a standard port group (left behind after a move to the
    # vDS); the model keeps one network per name, and the distributed one is what VMs are moved on.
    for key, switch_type in (("dvport", SwitchType.DISTRIBUTED), ("vport", SwitchType.STANDARD)):
        for row in readers.get(key, ()):
            if estate := estate_of(row):
                vlan = row.text("vlan", 100)
                estate.networks.append(
                    {
                        "name": row.text("name", 300),
                        "moid": row.text("moid", 100) if key == "dvport" else "",
                        "switch_name": row.text("switch", 200),
                        "switch_type": switch_type,
                        "vlan": vlan,
                        "vlan_id": int(vlan) if vlan.isdigit() and int(vlan) <= 4095 else None,
                    }
                )


def _map_devices(readers, estates, estate_of, warnings):
    def vm_of(row):
        estate = estate_of(row)
        if estate is None:
            return None, None
        by_id = row.reader.has("vm_id") and estate.by_vm_id
        moid = row.text("vm_id") if by_id else estate.vm_names.get(row.text("vm"))
        if not moid or (moid not in known[estate.name]):
            warnings.append(
                f"{row.reader.sheet.name} row {row.number}: VM {row.text('vm')} is not in vInfo; skipped"
            )
            return None, None
        return estate, moid

    known = {estate.name: {vm["moid"] for vm in estate.vms} for estate in estates.values()}
    for key, attr in (
        ("vdisk", "disks"),
        ("vnetwork", "nics"),
        ("vcd", "cdroms"),
        ("vsnapshot", "snapshots"),
    ):
        if key in readers:
            for estate in estates.values():
                setattr(estate, attr, [])

    for row in readers.get("vdisk", ()):
        estate, moid = vm_of(row)
        if estate is None:
            continue
        path = row.text("path", 1000)
        datastore = DATASTORE_PREFIX.match(path)
        mode = row.text("mode")
        if mode and mode.lower() not in DISK_MODES:
            row.problem("mode", f'"{mode}" is not a disk mode ({", ".join(DiskMode.values)})')
        estate.disks.append(
            {
                "vm_moid": moid,
                "label": row.text("label", 100),
                "key": row.int("key", None, minimum=None),
                "capacity_mib": row.int("capacity", 0),
                "datastore_name": datastore.group(1) if datastore else "",
                "path": path,
                "thin": row.bool("thin"),
                "mode": DISK_MODES.get(mode.lower(), DiskMode.PERSISTENT),
                "sharing": row.text("sharing", 30),
                "rdm_mode": rdm_mode(row.bool("raw"), row.text("raw_mode")),
                "controller": row.text("controller", 100),
                "controller_type": row.text("controller_type", 100),
                "bus_sharing": row.text("bus_sharing", 30),
            }
        )
    for row in readers.get("vnetwork", ()):
        estate, moid = vm_of(row)
        if estate is None:
            continue
        addresses = [a for f in ("ipv4", "ipv6") for a in re.split(r"[,\s]+", row.text(f)) if a]
        estate.nics.append(
            {
                "vm_moid": moid,
                "label": row.text("label", 100),
                "adapter": row.text("adapter", 50),
                "network_name": row.text("network", 300),
                "mac_address": row.text("mac", 20),
                "connected": bool(row.bool("connected")),
                "start_connected": bool(row.bool("start_connected")),
                "ip_addresses": [normalize_ip(a) or a for a in addresses],
                "direct_path_io": directpath_nic(row.text("adapter"), row.bool("direct_path_io")),
            }
        )
    for row in readers.get("vcd", ()):
        estate, moid = vm_of(row)
        if estate is None:
            continue
        device_type = row.text("device_type")
        is_iso = device_type[:4].lower() == "iso "
        estate.cdroms.append(
            {
                "vm_moid": moid,
                "label": row.text("label", 100),
                "connected": bool(row.bool("connected")),
                "start_connected": bool(row.bool("start_connected")),
                "device_type": "ISO" if is_iso else device_type[:100],
                "iso_path": device_type[4:1004] if is_iso else "",
            }
        )
    for row in readers.get("vsnapshot", ()):
        estate, moid = vm_of(row)
        if estate is None:
            continue
        size = row.decimal("size")
        estate.snapshots.append(
            {
                "vm_moid": moid,
                "name": row.text("name", 300),
                "description": row.text("description"),
                "created_at": row.datetime("created_at"),
                "size_mib": size if size is not None else row.decimal("size_vmsn"),
                "quiesced": bool(row.bool("quiesced")),
                "state": row.text("state", 20),
            }
        )
    usb = {}
    for row in readers.get("vusb", ()):
        estate, moid = vm_of(row)
        if estate is not None:
            usb[(estate.name, moid)] = usb.get((estate.name, moid), 0) + 1
    for estate in estates.values():
        for vm in estate.vms:
            if "usb_devices" in vm:
                vm["usb_devices"] = usb.get((estate.name, vm["moid"]), 0)


def _hw_version(row, field):
    text = row.text(field)
    if not text:
        return None
    match = re.fullmatch(r"(?:vmx-)?(\d+)(?:\.0)?", text, re.IGNORECASE)
    if match is None:
        row.problem(field, f'"{text}" is not a hardware version (a number, or vmx-NN)')
        return None
    return int(match.group(1))


def _present(values, index) -> bool:
    return index < len(values) and values[index] is not None and str(values[index]).strip() != ""


def _attribute(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return stringify(value).strip()


def guest_family(guest_os: str) -> str:
    text = guest_os.lower()
    if not text:
        return ""
    if "windows" in text:
        return "windows"
    if any(word in text for word in LINUX_WORDS):
        return "linux"
    return "other"


def cpu_vendor(model: str) -> str:
    text = model.lower()
    if "intel" in text:
        return "intel"
    if "amd" in text:
        return "amd"
    return ""


def directpath_nic(adapter: str, flag: bool | None) -> bool:
    """Whether the adapter is a passthrough device, as `VirtualNic.direct_path_io` means it (and discovery
    stores it): an SR-IOV adapter. RVTools' "Direct Path IO" column is a VMXNET3 adapter's UPT option
    (VMDirectPath Gen2, on by default), which needs no device and does not stop a migration: for VMXNET3
    it is not stored, so neither the VM page nor readiness reads it as passthrough. The model has no
    field of its own for UPT."""
    kind = adapter.lower()
    if "sriov" in kind or "passthr" in kind:
        return True
    if "vmxnet3" in kind:
        return False
    return bool(flag)


def rdm_mode(raw: bool | None, mode: str) -> str:
    text = mode.lower()
    if "physical" in text:
        return RdmMode.PHYSICAL
    if "virtual" in text:
        return RdmMode.VIRTUAL
    # a raw disk whose mode RVTools left blank is taken as physical: that is the one readiness blocks
    return RdmMode.PHYSICAL if raw else RdmMode.NONE


# --- writing -------------------------------------------------------------------------------

TYPES = ("vcenters", *(kind for kind in SECTIONS if kind != "tags"))  # an export carries no vSphere tags
LOGGED = ("vms", "disks", "nics", "cdroms", "snapshots")


def write_estates(estates: dict, progress: Callable, log: Callable) -> dict:
    totals = {name: {"created": 0, "updated": 0, "unchanged": 0, "vanished": 0} for name in TYPES}
    steps = len(estates) * len(SECTIONS) or 1
    step = 0

    def written(vc, name, result):
        nonlocal step
        step += 1
        label = "VMs" if name == "vms" else name
        if result is not None and name in LOGGED:
            log(f"{vc}: {label} {_describe(result)}")
        progress(55 + 45 * step / steps, f"{vc}: {label}")

    with transaction.atomic():
        for export in estates.values():
            vc, state = _vcenter(export)
            totals["vcenters"][state] += 1
            results = write_estate(
                vc, export, options=RVTOOLS, on_written=lambda n, r, vc=vc: written(vc, n, r)
            )
            for name, result in results.items():
                for key, value in result.as_dict().items():
                    totals[name]["vanished" if key == "removed" else key] += value
    return {"vcenters_imported": sorted(e.name for e in estates.values()), **totals}


def _vcenter(estate: VCenterExport) -> tuple[VCenter, str]:
    """The vCenter row, found by instance UUID or name; created for an export of a new one."""
    vc = VCenter.objects.filter(instance_uuid=estate.uuid).first() if estate.uuid else None
    vc = vc or VCenter.objects.filter(name__iexact=estate.name).first()
    if vc is None:
        vc = VCenter.objects.create(
            name=estate.name[:200],
            instance_uuid=estate.uuid[:64],
            version=estate.version[:100],
            origin=SourceKind.RVTOOLS,
        )
        return vc, "created"
    changed = []
    if estate.uuid and vc.instance_uuid != estate.uuid[:64]:
        vc.instance_uuid = estate.uuid[:64]
        changed.append("instance_uuid")
    if estate.version and vc.version != estate.version[:100]:
        vc.version = estate.version[:100]
        changed.append("version")
    if changed:
        vc.save(update_fields=[*changed, "last_updated"])
        return vc, "updated"
    return vc, "unchanged"


def _describe(result) -> str:
    return f"{result.created} new, {result.updated} changed, {result.unchanged} unchanged, {result.removed} vanished"
