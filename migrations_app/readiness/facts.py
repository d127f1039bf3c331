"""What the readiness rules read about a wave and its VMs, loaded in a fixed number of queries.

Each kind of device is read with one query joined through the wave (`vm__wave_item__wave`), not with
an `IN (...)` list of VM ids: the query count and the query size stay the same for 10 VMs or 10,000
(a prefetch would send every id, and SQLite caps the parameters of one query). Rows come back as
plain values, not model instances, because the rules only read a few fields and 1,000 VMs bring
several thousand device rows.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Max, Min

from inventory.choices import PowerState
from inventory.models import CdRom, Snapshot, VirtualDisk, VirtualNic
from migrations_app.models import NetworkMapping, Wave, WaveItem
from migrations_app.waves.network_targets import AvsTargets, avs_targets
from migrations_app.waves.networks import Landing, landing


@dataclass(frozen=True)
class Disk:
    label: str
    capacity_mib: int
    mode: str
    sharing: str
    rdm_mode: str
    controller_type: str
    bus_sharing: str
    path: str


@dataclass(frozen=True)
class Nic:
    label: str
    network_id: int | None
    network_name: str
    switch_type: str
    vlan: str
    vlan_id: int | None
    direct_path_io: bool
    adapter: str = ""
    ip_addresses: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.network_name or "(no network)"


@dataclass(frozen=True)
class Cdrom:
    label: str
    connected: bool
    device_type: str
    iso_path: str

    @property
    def has_media(self) -> bool:
        # The inventory's own test (CdRom.has_iso): an ISO path, or an ISO backing.
        return self.connected or bool(self.iso_path) or "iso" in self.device_type.lower()


@dataclass
class Vm:
    """One VM of the wave with the devices the rules look at."""

    id: int
    name: str
    vcenter_id: int
    item_type: str  # WaveItem.migration_type: empty means the wave's default
    power_state: str
    hw_version: int | None
    tools_status: str
    ft_enabled: bool
    usb_devices: int
    passthrough_devices: int
    provisioned_mib: int
    removed: datetime | None
    host_name: str
    host_cpu_vendor: str
    host_cpu_model: str
    disks: list[Disk] = field(default_factory=list)
    nics: list[Nic] = field(default_factory=list)
    cdroms: list[Cdrom] = field(default_factory=list)
    snapshots: int = 0

    @property
    def powered_on(self) -> bool:
        return self.power_state == PowerState.ON

    def migration_type(self, wave: Wave) -> str:
        return self.item_type or wave.migration_type


@dataclass
class WaveFacts:
    """The wave-wide facts: its network mappings, the networks its site extends, shared disk files."""

    wave: Wave
    # source network id -> (target kind, target name)
    mappings: dict[int, tuple[str, str]] = field(default_factory=dict)
    # networks the wave's site plan extends to AVS (hcx.HcxPlan.networks)
    extended: set[int] = field(default_factory=set)
    # what the wave's site offers to land on: its extended networks and the AVS inventory's segments
    targets: AvsTargets = field(default_factory=AvsTargets)

    def lands(self, nic: "Nic") -> Landing:
        """Where the NIC's network lands in the wave: the same answer the wave page gives."""
        return landing(nic.network_id, nic.network_name, self.mappings, self.extended)

    # (vCenter id, disk file) of disks that more than one VM of the inventory uses
    shared_paths: set[tuple[int, str]] = field(default_factory=set)


_VM_FIELDS = {
    "vm_id": "id",
    "vm__name": "name",
    "vm__vcenter_id": "vcenter_id",
    "migration_type": "item_type",
    "vm__power_state": "power_state",
    "vm__hw_version": "hw_version",
    "vm__tools_status": "tools_status",
    "vm__ft_enabled": "ft_enabled",
    "vm__usb_devices": "usb_devices",
    "vm__passthrough_devices": "passthrough_devices",
    "vm__provisioned_mib": "provisioned_mib",
    "vm__removed": "removed",
    "vm__host__name": "host_name",
    "vm__host__cpu_vendor": "host_cpu_vendor",
    "vm__host__cpu_model": "host_cpu_model",
}


def load(wave: Wave, vm_ids=None) -> tuple[WaveFacts, list[Vm]]:
    """The wave's facts and its VMs (all of them, or those of `vm_ids`), in name order."""
    items = WaveItem.objects.filter(wave=wave)
    if vm_ids is not None:
        items = items.filter(vm_id__in=list(vm_ids))
    vms = {}
    for row in items.order_by("vm__name", "vm_id").values(*_VM_FIELDS):
        values = {name: row[key] for key, name in _VM_FIELDS.items()}
        for text in ("host_name", "host_cpu_vendor", "host_cpu_model", "tools_status"):
            values[text] = values[text] or ""
        vms[values["id"]] = Vm(**values)

    def devices(model):
        rows = model.objects.filter(vm__wave_item__wave=wave)
        if vm_ids is not None:
            rows = rows.filter(vm_id__in=list(vm_ids))
        return rows.order_by("vm_id", "label")

    for row in devices(VirtualDisk).values(
        "vm_id",
        "label",
        "capacity_mib",
        "mode",
        "sharing",
        "rdm_mode",
        "controller_type",
        "bus_sharing",
        "path",
    ):
        vms[row.pop("vm_id")].disks.append(Disk(**row))
    for row in devices(VirtualNic).values(
        "vm_id",
        "label",
        "network_id",
        "network_name",
        "network__switch_type",
        "network__vlan",
        "network__vlan_id",
        "direct_path_io",
        "adapter",
        "ip_addresses",
    ):
        vms[row["vm_id"]].nics.append(
            Nic(
                label=row["label"],
                network_id=row["network_id"],
                network_name=row["network_name"],
                switch_type=row["network__switch_type"] or "",
                vlan=row["network__vlan"] or "",
                vlan_id=row["network__vlan_id"],
                direct_path_io=row["direct_path_io"],
                adapter=row["adapter"] or "",
                ip_addresses=tuple(str(ip) for ip in row["ip_addresses"] or () if ip)
                if isinstance(row["ip_addresses"], list)
                else (),
            )
        )
    for row in devices(CdRom).values("vm_id", "label", "connected", "device_type", "iso_path"):
        vms[row.pop("vm_id")].cdroms.append(Cdrom(**row))
    snapshots = Snapshot.objects.filter(vm__wave_item__wave=wave)
    if vm_ids is not None:
        snapshots = snapshots.filter(vm_id__in=list(vm_ids))
    for row in snapshots.order_by().values("vm_id").annotate(n=Count("pk")):
        vms[row["vm_id"]].snapshots = row["n"]

    facts = WaveFacts(wave=wave)
    facts.mappings = {
        row["source_id"]: (row["target_kind"], row["target_name"])
        for row in NetworkMapping.objects.filter(wave=wave).values("source_id", "target_kind", "target_name")
    }
    facts.targets = avs_targets(wave)
    facts.extended = set(facts.targets.extended_ids)
    facts.shared_paths = _shared_paths()
    return facts, list(vms.values())


def _shared_paths() -> set[tuple[int, str]]:
    """Disk files that more than one VM of the same vCenter uses (a shared VMDK); vanished VMs do not count.

    One grouped scan of the disks, kept apart from the wave: joined to the wave's disks, PostgreSQL
    without fresh statistics picks a nested loop that compares every disk with every other. "More than
    one VM" is MIN(vm) != MAX(vm), which hashes, where COUNT(DISTINCT vm) would sort."""
    rows = (
        VirtualDisk.objects.exclude(path="")
        .filter(vm__removed__isnull=True)
        .order_by()
        .values("vm__vcenter_id", "path")
        .annotate(first=Min("vm_id"), last=Max("vm_id"))
        .filter(first__lt=F("last"))
        .values_list("vm__vcenter_id", "path")
    )
    return set(rows)
