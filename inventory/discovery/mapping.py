"""From PropertyCollector results to rows for inventory.sync.sync_rows.

Pure functions of what vCenter said: no database, no network. References to other objects
stay managed-object ids here (`host_moid`, `datastore_moid`...); the writer turns them into
primary keys once those rows exist.
"""

import datetime
import ipaddress
from dataclasses import dataclass, field

from pyVmomi import vim

from ..choices import DiskMode, PowerState, SwitchType, ToolsStatus

MIB = 1024 * 1024

# What each type's rows are made of: the properties read in bulk for it.
ENTITY_TYPES = [vim.Folder, vim.Datacenter, vim.ComputeResource, vim.ResourcePool]
ENTITY_PROPS = {vim.ManagedEntity: {"name", "parent"}, vim.ResourcePool: {"owner"}}
CLUSTER_PROPS = {
    vim.ClusterComputeResource: {
        "name",
        "summary",
        "configurationEx",
    }
}
HOST_PROPS = {
    vim.HostSystem: {
        "name",
        "parent",
        "hardware.cpuInfo",
        "hardware.memorySize",
        "summary.hardware",
        "config.product.fullName",
        "runtime.inMaintenanceMode",
        "config.network.portgroup",
    }
}
DATASTORE_PROPS = {vim.Datastore: {"name", "summary"}}
NETWORK_PROPS = {
    vim.Network: {"name"},
    vim.dvs.DistributedVirtualPortgroup: {
        "key",
        "config.defaultPortConfig",
        "config.distributedVirtualSwitch",
        "config.uplink",
    },
    vim.OpaqueNetwork: {"summary"},
}
SWITCH_PROPS = {vim.DistributedVirtualSwitch: {"name"}}
VM_PROPS = {
    vim.VirtualMachine: {
        "name",
        "config.instanceUuid",
        "config.uuid",
        "config.template",
        "config.guestFullName",
        "config.version",
        "config.firmware",
        "config.hardware.numCPU",
        "config.hardware.memoryMB",
        "config.hardware.device",
        "config.ftInfo",
        "config.changeTrackingEnabled",
        "config.annotation",
        "runtime.powerState",
        "runtime.host",
        "resourcePool",
        "parent",
        "summary.storage.committed",
        "summary.storage.uncommitted",
        "guest.toolsStatus",
        "guest.toolsRunningStatus",
        "guest.toolsVersion",
        "guest.ipAddress",
        "guest.hostName",
        "guest.guestFullName",
        "guest.guestFamily",
        "guest.net",
        "snapshot",
        "customValue",
    }
}


def moid(ref) -> str | None:
    return ref._moId if ref is not None else None


class Tree:
    """Names and parents of folders, datacenters, clusters and pools, read once, walked in memory."""

    def __init__(self, entities):
        self.nodes = {}
        for obj, props in entities:
            self.nodes[obj._moId] = (
                obj._wsdlName,
                props.get("name", ""),
                moid(props.get("parent")),
                moid(props.get("owner")),
            )
        self._dc = {}

    def datacenter(self, ref_moid: str | None) -> str:
        if ref_moid is None or ref_moid not in self.nodes:
            return ""
        if ref_moid not in self._dc:
            kind, name, parent, _ = self.nodes[ref_moid]
            self._dc[ref_moid] = name if kind == "Datacenter" else self.datacenter(parent)
        return self._dc[ref_moid]

    def path(self, ref_moid: str | None) -> str:
        """Folder or pool path below the datacenter: `vm/Prod/Web`, `Resources/Gold`."""
        names = []
        while ref_moid in self.nodes:
            kind, name, parent, _ = self.nodes[ref_moid]
            if kind == "Datacenter" or kind.endswith("ComputeResource"):
                break
            names.append(name)
            ref_moid = parent
        return "/".join(reversed(names))

    def cluster_of_pool(self, pool_moid: str | None) -> str | None:
        node = self.nodes.get(pool_moid)
        if node and node[3] and self.nodes.get(node[3], ("",))[0] == "ClusterComputeResource":
            return node[3]
        return None


def cluster_row(obj, props, tree: Tree) -> dict:
    summary = props.get("summary")
    config = props.get("configurationEx")
    das = getattr(config, "dasConfig", None)
    drs = getattr(config, "drsConfig", None)
    return {
        "moid": obj._moId,
        "name": props.get("name", obj._moId),
        "datacenter": tree.datacenter(obj._moId),
        "num_hosts": getattr(summary, "numHosts", 0) or 0,
        "num_cpu_cores": getattr(summary, "numCpuCores", 0) or 0,
        "total_cpu_mhz": getattr(summary, "totalCpu", 0) or 0,
        "total_memory_mib": (getattr(summary, "totalMemory", 0) or 0) // MIB,
        "ha_enabled": getattr(das, "enabled", None),
        "drs_enabled": getattr(drs, "enabled", None),
    }


def cpu_vendor(cpu_model: str) -> str:
    text = (cpu_model or "").lower()
    for vendor in ("intel", "amd"):
        if vendor in text:
            return vendor
    return ""


def host_row(obj, props, tree: Tree) -> tuple[dict, str | None]:
    """The host's row, and the moid of its cluster (None for a standalone host)."""
    cpu = props.get("hardware.cpuInfo")
    hw = props.get("summary.hardware")
    parent = moid(props.get("parent"))
    cluster = parent if tree.nodes.get(parent, ("",))[0] == "ClusterComputeResource" else None
    cpu_model = getattr(hw, "cpuModel", "") or ""
    row = {
        "moid": obj._moId,
        "name": props.get("name", obj._moId),
        "datacenter": tree.datacenter(parent),
        "cpu_model": cpu_model,
        "cpu_vendor": cpu_vendor(cpu_model),
        "num_cpu_sockets": getattr(cpu, "numCpuPackages", 0) or 0,
        "num_cpu_cores": getattr(cpu, "numCpuCores", 0) or 0,
        "cpu_mhz": (getattr(cpu, "hz", 0) or 0) // 1_000_000,
        "memory_mib": (props.get("hardware.memorySize") or 0) // MIB,
        "esx_version": props.get("config.product.fullName") or "",
        "vendor": getattr(hw, "vendor", "") or "",
        "model": getattr(hw, "model", "") or "",
        "in_maintenance": bool(props.get("runtime.inMaintenanceMode")),
    }
    return row, cluster


def datastore_row(obj, props) -> dict:
    summary = props.get("summary")
    capacity = getattr(summary, "capacity", 0) or 0
    free = getattr(summary, "freeSpace", 0) or 0
    uncommitted = getattr(summary, "uncommitted", 0) or 0
    return {
        "moid": obj._moId,
        "name": props.get("name") or getattr(summary, "name", obj._moId),
        "type": getattr(summary, "type", "") or "",
        "capacity_mib": capacity // MIB,
        "free_mib": free // MIB,
        "provisioned_mib": max(0, capacity - free + uncommitted) // MIB,
        "url": getattr(summary, "url", "") or "",
    }


def vlan_text(vlan) -> tuple[str, int | None]:
    """A distributed port group's VLAN setting as text, and the id when it is a single VLAN."""
    if isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec):
        return str(vlan.vlanId), vlan.vlanId
    if isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.TrunkVlanSpec):
        ranges = [f"{r.start}-{r.end}" if r.start != r.end else str(r.start) for r in vlan.vlanId or []]
        return "trunk " + ",".join(ranges), None
    if isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.PvlanSpec):
        return f"pvlan {vlan.pvlanId}", None
    return "", None


@dataclass
class Networks:
    """Network rows keyed by name, and how a NIC backing finds its network."""

    rows: list = field(default_factory=list)
    by_moid: dict = field(default_factory=dict)  # moid -> name
    by_dvpg_key: dict = field(default_factory=dict)  # portgroup key -> name
    by_opaque_id: dict = field(default_factory=dict)  # NSX segment id -> name


def network_rows(networks, switches, host_portgroups: dict) -> Networks:
    """`host_portgroups`: standard port group name -> (vSwitch name, VLAN id), from the hosts."""
    switch_names = {obj._moId: props.get("name", "") for obj, props in switches}
    result = Networks()
    for obj, props in networks:
        name = props.get("name", obj._moId)
        row = {
            "moid": obj._moId,
            "name": name,
            "switch_name": "",
            "switch_type": SwitchType.STANDARD,
            "vlan": "",
            "vlan_id": None,
        }
        if isinstance(obj, vim.dvs.DistributedVirtualPortgroup):
            if props.get("config.uplink"):
                continue  # the switch's uplinks, not a network a VM can use
            config = props.get("config.defaultPortConfig")
            row["vlan"], row["vlan_id"] = vlan_text(getattr(config, "vlan", None))
            row["switch_type"] = SwitchType.DISTRIBUTED
            row["switch_name"] = switch_names.get(moid(props.get("config.distributedVirtualSwitch")), "")
            if props.get("key"):
                result.by_dvpg_key[props["key"]] = name
        elif isinstance(obj, vim.OpaqueNetwork):
            row["switch_type"] = SwitchType.NSX
            opaque_id = getattr(props.get("summary"), "opaqueNetworkId", None)
            if opaque_id:
                result.by_opaque_id[opaque_id] = name
        elif name in host_portgroups:
            switch, vlan_id = host_portgroups[name]
            row["switch_name"] = switch
            row["vlan"], row["vlan_id"] = str(vlan_id), vlan_id
        result.by_moid[obj._moId] = name
        result.rows.append(row)
    return result


def host_portgroups(hosts) -> dict:
    found = {}
    for _, props in hosts:
        for pg in props.get("config.network.portgroup") or []:
            spec = pg.spec
            found.setdefault(spec.name, (spec.vswitchName or "", spec.vlanId or 0))
    return found


CONTROLLER_TYPES = {
    vim.vm.device.ParaVirtualSCSIController: "pvscsi",
    vim.vm.device.VirtualLsiLogicSASController: "lsilogic-sas",
    vim.vm.device.VirtualLsiLogicController: "lsilogic",
    vim.vm.device.VirtualBusLogicController: "buslogic",
    vim.vm.device.VirtualAHCIController: "sata",
    vim.vm.device.VirtualNVMEController: "nvme",
    vim.vm.device.VirtualIDEController: "ide",
}
ADAPTER_TYPES = {
    vim.vm.device.VirtualVmxnet3: "vmxnet3",
    vim.vm.device.VirtualVmxnet2: "vmxnet2",
    vim.vm.device.VirtualE1000e: "e1000e",
    vim.vm.device.VirtualE1000: "e1000",
    vim.vm.device.VirtualPCNet32: "pcnet32",
    vim.vm.device.VirtualSriovEthernetCard: "sriov",
}


def _kind(device, table) -> str:
    for cls, name in table.items():
        if isinstance(device, cls):
            return name
    return type(device).__name__.rsplit(".", 1)[-1]


def _label(device) -> str:
    info = device.deviceInfo
    return (info.label if info and info.label else f"device {device.key}")[:100]


def _ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _utc(value):
    return value.astimezone(datetime.UTC) if value and value.tzinfo else value


TOOLS = {s.value for s in ToolsStatus}
DISK_MODES = {m.value for m in DiskMode}


@dataclass
class VmRecord:
    """One VM as rows: the VM's own fields, and those of its parts, with moid references."""

    row: dict
    host_moid: str | None
    cluster_moid: str | None
    disks: list = field(default_factory=list)  # rows with "datastore_moid"
    nics: list = field(default_factory=list)  # rows with "network_name"
    cdroms: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)


def vm_record(obj, props, tree: Tree, host_cluster: dict, networks: Networks, field_names: dict) -> VmRecord:
    devices = props.get("config.hardware.device") or []
    controllers = {d.key: d for d in devices if isinstance(d, vim.vm.device.VirtualController)}
    guest_ips = {}
    for nic in props.get("guest.net") or []:
        if nic.deviceConfigId is not None:
            guest_ips[nic.deviceConfigId] = [ip for ip in (nic.ipAddress or []) if _ip(ip)]

    record = VmRecord(row={}, host_moid=moid(props.get("runtime.host")), cluster_moid=None)
    usb = passthrough = 0
    for device in devices:
        if isinstance(device, vim.vm.device.VirtualDisk):
            record.disks.append(_disk_row(device, controllers))
        elif isinstance(device, vim.vm.device.VirtualEthernetCard):
            record.nics.append(_nic_row(device, networks, guest_ips))
        elif isinstance(device, vim.vm.device.VirtualCdrom):
            record.cdroms.append(_cdrom_row(device))
        elif isinstance(device, vim.vm.device.VirtualUSB):
            usb += 1
        elif isinstance(device, vim.vm.device.VirtualPCIPassthrough):
            passthrough += 1

    pool = moid(props.get("resourcePool"))
    record.cluster_moid = host_cluster.get(record.host_moid) or tree.cluster_of_pool(pool)
    parent = moid(props.get("parent"))
    committed = props.get("summary.storage.committed") or 0
    uncommitted = props.get("summary.storage.uncommitted") or 0
    version = props.get("config.version") or ""
    tools = props.get("guest.toolsStatus") or ""
    if tools == ToolsStatus.OK and props.get("guest.toolsRunningStatus") == "guestToolsNotRunning":
        tools = ToolsStatus.NOT_RUNNING
    family = (props.get("guest.guestFamily") or "").lower()
    power = props.get("runtime.powerState") or PowerState.OFF
    attributes = {}
    for value in props.get("customValue") or []:
        name = field_names.get(value.key, str(value.key))
        attributes[name] = getattr(value, "value", "")
    record.row = {
        "moid": obj._moId,
        "name": props.get("name", obj._moId)[:300],
        "instance_uuid": props.get("config.instanceUuid") or "",
        "bios_uuid": props.get("config.uuid") or "",
        "power_state": power if power in PowerState.values else PowerState.OFF,
        "is_template": bool(props.get("config.template")),
        "datacenter": tree.datacenter(parent or pool),
        "folder": tree.path(parent)[:500],
        "resource_pool": tree.path(pool)[:500],
        "guest_os": (props.get("config.guestFullName") or "")[:200],
        "guest_os_tools": (props.get("guest.guestFullName") or "")[:200],
        "guest_family": next((f for f in ("windows", "linux") if f in family), "other" if family else ""),
        "num_cpu": props.get("config.hardware.numCPU") or 0,
        "memory_mib": props.get("config.hardware.memoryMB") or 0,
        "provisioned_mib": (committed + uncommitted) // MIB,
        "used_mib": committed // MIB,
        "hw_version": int(version[4:]) if version.startswith("vmx-") and version[4:].isdigit() else None,
        "firmware": props.get("config.firmware") or "",
        "tools_status": tools if tools in TOOLS else "",
        "tools_version": str(props.get("guest.toolsVersion") or "")[:50],
        "primary_ip": _ip(props.get("guest.ipAddress")),
        "dns_name": (props.get("guest.hostName") or "")[:300],
        "annotation": props.get("config.annotation") or "",
        "cbt_enabled": props.get("config.changeTrackingEnabled"),
        "ft_enabled": props.get("config.ftInfo") is not None,
        "usb_devices": usb,
        "passthrough_devices": passthrough,
        "attributes": attributes,
        "removed": None,
    }
    snapshot = props.get("snapshot")
    if snapshot is not None:
        record.snapshots = list(_snapshot_rows(snapshot.rootSnapshotList or []))
    return record


def _disk_row(disk, controllers) -> dict:
    backing = disk.backing
    controller = controllers.get(disk.controllerKey)
    capacity = disk.capacityInBytes or (disk.capacityInKB or 0) * 1024
    mode = getattr(backing, "diskMode", "") or DiskMode.PERSISTENT
    rdm = isinstance(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo)
    return {
        "label": _label(disk),
        "key": disk.key,
        "capacity_mib": capacity // MIB,
        "datastore_moid": moid(getattr(backing, "datastore", None)),
        "path": (getattr(backing, "fileName", "") or "")[:1000],
        "thin": getattr(backing, "thinProvisioned", None),
        "mode": mode if mode in DISK_MODES else DiskMode.PERSISTENT,
        "sharing": getattr(backing, "sharing", "") or "",
        "rdm_mode": (backing.compatibilityMode or "") if rdm else "",
        "controller": _label(controller) if controller else "",
        "controller_type": _kind(controller, CONTROLLER_TYPES) if controller else "",
        "bus_sharing": getattr(controller, "sharedBus", "") or "",
    }


def _nic_row(nic, networks: Networks, guest_ips: dict) -> dict:
    backing = nic.backing
    name = ""
    if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
        name = networks.by_dvpg_key.get(getattr(backing.port, "portgroupKey", None), "")
    elif isinstance(backing, vim.vm.device.VirtualEthernetCard.OpaqueNetworkBackingInfo):
        name = networks.by_opaque_id.get(backing.opaqueNetworkId, "")
    elif isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
        name = networks.by_moid.get(moid(backing.network), "") or backing.deviceName or ""
    connectable = nic.connectable
    return {
        "label": _label(nic),
        "adapter": _kind(nic, ADAPTER_TYPES)[:50],
        "network_name": name[:300],
        "mac_address": nic.macAddress or "",
        "connected": bool(getattr(connectable, "connected", False)),
        "start_connected": bool(getattr(connectable, "startConnected", False)),
        "ip_addresses": guest_ips.get(nic.key, []),
        "direct_path_io": isinstance(nic, vim.vm.device.VirtualSriovEthernetCard),
    }


def _cdrom_row(cdrom) -> dict:
    backing = cdrom.backing
    iso = isinstance(backing, vim.vm.device.VirtualCdrom.IsoBackingInfo)
    if iso:
        kind = "ISO"
    elif isinstance(
        backing,
        (
            vim.vm.device.VirtualCdrom.RemotePassthroughBackingInfo,
            vim.vm.device.VirtualCdrom.RemoteAtapiBackingInfo,
        ),
    ):
        kind = "client device"
    elif backing is not None:
        kind = "host device"
    else:
        kind = ""
    connectable = cdrom.connectable
    return {
        "label": _label(cdrom),
        "connected": bool(getattr(connectable, "connected", False)),
        "start_connected": bool(getattr(connectable, "startConnected", False)),
        "device_type": kind,
        "iso_path": (backing.fileName or "")[:1000] if iso else "",
    }


def _snapshot_rows(trees):
    for tree in trees:
        yield {
            "name": (tree.name or "")[:300],
            "description": tree.description or "",
            "created_at": _utc(tree.createTime),
            "quiesced": bool(tree.quiesced),
            "state": tree.state or "",
        }
        yield from _snapshot_rows(tree.childSnapshotList or [])
