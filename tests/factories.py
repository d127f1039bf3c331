"""Inventory test data as plain functions: a whole estate in bulk (`make_estate`), or one VM with
exactly the devices a test needs (`make_vm`).

Values cycle with the VM's index, so that an estate of any size has a spread of power states,
tools states, hardware versions, guest families, shared networks and datastores.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count

from django.utils import timezone

from inventory.choices import DiskMode, PowerState, SourceKind, SwitchType, ToolsStatus
from inventory.models import (
    CdRom,
    Cluster,
    Datastore,
    Host,
    Network,
    Snapshot,
    Tag,
    VCenter,
    VirtualDisk,
    VirtualMachine,
    VirtualNic,
)

_serial = count(1)

GUESTS = [
    ("Red Hat Enterprise Linux 8 (64-bit)", "linux"),
    ("Microsoft Windows Server 2019 (64-bit)", "windows"),
    ("Ubuntu Linux (64-bit)", "linux"),
    ("Other (32-bit)", "other"),
]
POWER = [PowerState.ON, PowerState.ON, PowerState.OFF, PowerState.SUSPENDED]
TOOLS = [
    ToolsStatus.OK,
    ToolsStatus.OLD,
    ToolsStatus.NOT_RUNNING,
    ToolsStatus.NOT_INSTALLED,
    ToolsStatus.UNKNOWN,
]
HW_VERSIONS = [19, 14, 13, 11, 9, 8, 7]


@dataclass
class Estate:
    vcenter: VCenter
    clusters: list = field(default_factory=list)
    hosts: list = field(default_factory=list)
    datastores: list = field(default_factory=list)
    networks: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    vms: list = field(default_factory=list)


def make_vcenter(name: str | None = None, **fields) -> VCenter:
    name = name or f"vc{next(_serial):02d}.example.com"
    fields.setdefault("origin", SourceKind.DISCOVERY)
    return VCenter.objects.create(name=name, **fields)


def make_cluster(vcenter: VCenter, name: str, **fields) -> Cluster:
    return Cluster.objects.create(vcenter=vcenter, moid=f"domain-c{next(_serial)}", name=name, **fields)


def make_host(vcenter: VCenter, name: str, cluster: Cluster | None = None, **fields) -> Host:
    fields.setdefault("cpu_vendor", "intel")
    fields.setdefault("num_cpu_cores", 32)
    fields.setdefault("memory_mib", 512 * 1024)
    return Host.objects.create(
        vcenter=vcenter, moid=f"host-{next(_serial)}", name=name, cluster=cluster, **fields
    )


def make_datastore(vcenter: VCenter, name: str, **fields) -> Datastore:
    fields.setdefault("type", "VMFS")
    fields.setdefault("capacity_mib", 4 * 1024 * 1024)
    fields.setdefault("free_mib", 1024 * 1024)
    return Datastore.objects.create(vcenter=vcenter, moid=f"datastore-{next(_serial)}", name=name, **fields)


def make_network(vcenter: VCenter, name: str, **fields) -> Network:
    fields.setdefault("switch_type", SwitchType.DISTRIBUTED)
    fields.setdefault(
        "switch_name", "dvs-01" if fields["switch_type"] == SwitchType.DISTRIBUTED else "vSwitch0"
    )
    if "vlan_id" in fields:
        fields.setdefault("vlan", str(fields["vlan_id"]))
    return Network.objects.create(vcenter=vcenter, moid=f"dvportgroup-{next(_serial)}", name=name, **fields)


def make_vm(
    vcenter: VCenter,
    name: str,
    *,
    disks=(),
    nics=(),
    cdroms=(),
    snapshots=(),
    tags=(),
    **fields,
) -> VirtualMachine:
    """One VM. `disks`: (datastore or None, capacity MiB) or dicts of VirtualDisk fields; `nics`: Network,
    a network name (an RVTools row with no Network row), or dicts; `cdroms`/`snapshots`: dicts; `tags`: names."""
    fields.setdefault("moid", f"vm-{next(_serial)}")
    vm = VirtualMachine.objects.create(vcenter=vcenter, name=name, **fields)
    for n, disk in enumerate(disks, 1):
        if not isinstance(disk, dict):
            datastore, capacity = disk
            disk = {"datastore": datastore, "capacity_mib": capacity}
        disk.setdefault("path", f"[{disk.get('datastore') or 'local'}] {name}/{name}_{n}.vmdk")
        VirtualDisk.objects.create(vm=vm, label=f"Hard disk {n}", key=2000 + n, **disk)
    for n, nic in enumerate(nics, 1):
        if isinstance(nic, Network):
            nic = {"network": nic, "network_name": nic.name}
        elif isinstance(nic, str):
            nic = {"network_name": nic}
        nic.setdefault("mac_address", f"00:50:56:{vm.pk % 256:02x}:{n:02x}:01")
        nic.setdefault("connected", True)
        VirtualNic.objects.create(vm=vm, label=f"Network adapter {n}", adapter="vmxnet3", **nic)
    for n, cdrom in enumerate(cdroms, 1):
        CdRom.objects.create(vm=vm, label=f"CD/DVD drive {n}", **cdrom)
    for snapshot in snapshots:
        Snapshot.objects.create(vm=vm, **snapshot)
    if tags:
        vm.tags.add(*[Tag.objects.get_or_create(name=t)[0] for t in tags])
    return vm


def make_estate(
    vms: int = 10,
    *,
    clusters: int = 2,
    hosts_per_cluster: int = 2,
    datastores: int = 3,
    networks: int = 3,
    devices: bool = True,
    vcenter: VCenter | None = None,
    prefix: str = "",
) -> Estate:
    """A vCenter with clusters, hosts, datastores, networks and `vms` VMs, written with bulk inserts.

    With `devices`, each VM gets two disks on neighbouring datastores, a NIC (every third VM a second
    one), a CD-ROM (every fifth with an ISO mounted), a snapshot every fourth VM and an `app:` tag.
    VM names are `<prefix>vm-00001`..., so the name order is the creation order.
    """
    vcenter = vcenter or make_vcenter()
    estate = Estate(vcenter=vcenter)
    serial = next(_serial)
    estate.clusters = Cluster.objects.bulk_create(
        Cluster(
            vcenter=vcenter,
            moid=f"domain-c{serial}-{c}",
            name=f"{prefix}cluster-{c + 1:02d}",
            datacenter="DC1",
            num_hosts=hosts_per_cluster,
            num_cpu_cores=32 * hosts_per_cluster,
            ha_enabled=True,
            drs_enabled=True,
        )
        for c in range(clusters)
    )
    estate.hosts = Host.objects.bulk_create(
        Host(
            vcenter=vcenter,
            moid=f"host-{serial}-{c}-{h}",
            name=f"{prefix}esx-{c + 1:02d}-{h + 1:02d}",
            cluster=cluster,
            cpu_vendor="intel",
            num_cpu_cores=32,
            memory_mib=512 * 1024,
            esx_version="7.0.3",
        )
        for c, cluster in enumerate(estate.clusters)
        for h in range(hosts_per_cluster)
    )
    estate.datastores = Datastore.objects.bulk_create(
        Datastore(
            vcenter=vcenter,
            moid=f"datastore-{serial}-{d}",
            name=f"{prefix}ds-{d + 1:02d}",
            type="VMFS",
            capacity_mib=8 * 1024 * 1024,
            free_mib=2 * 1024 * 1024,
        )
        for d in range(datastores)
    )
    estate.networks = Network.objects.bulk_create(
        Network(
            vcenter=vcenter,
            moid=f"dvportgroup-{serial}-{n}",
            name=f"{prefix}net-{100 + n}",
            switch_type=SwitchType.DISTRIBUTED if n % 2 == 0 else SwitchType.STANDARD,
            switch_name="dvs-01" if n % 2 == 0 else "vSwitch0",
            vlan=str(100 + n),
            vlan_id=100 + n,
        )
        for n in range(networks)
    )
    estate.vms = VirtualMachine.objects.bulk_create(_vm(estate, i, serial, prefix) for i in range(vms))
    if devices and estate.vms:
        _add_devices(estate, prefix)
    return estate


def _vm(estate: Estate, i: int, serial: int, prefix: str) -> VirtualMachine:
    cluster = estate.clusters[i % len(estate.clusters)] if estate.clusters else None
    hosts = [h for h in estate.hosts if h.cluster_id == (cluster.pk if cluster else None)]
    guest_os, family = GUESTS[i % len(GUESTS)]
    return VirtualMachine(
        vcenter=estate.vcenter,
        moid=f"vm-{serial}-{i}",
        name=f"{prefix}vm-{i + 1:05d}",
        power_state=POWER[i % len(POWER)],
        cluster=cluster,
        host=hosts[i % len(hosts)] if hosts else None,
        datacenter="DC1",
        guest_os=guest_os,
        guest_family=family,
        num_cpu=1 + i % 8,
        memory_mib=1024 * (1 + i % 16),
        provisioned_mib=40 * 1024 + 1024 * (i % 100),
        used_mib=20 * 1024 + 512 * (i % 100),
        hw_version=HW_VERSIONS[i % len(HW_VERSIONS)],
        tools_status=TOOLS[i % len(TOOLS)],
        primary_ip=f"10.{20 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}",
        dns_name=f"{prefix}vm-{i + 1:05d}.corp.example",
        attributes={"owner": f"team-{i % 4}"},
    )


def _add_devices(estate: Estate, prefix: str) -> None:
    stores, nets = estate.datastores, estate.networks
    disks, nics, cdroms, snapshots, tagged = [], [], [], [], []
    names = [f"app:{prefix}app-{a}" for a in range(3)]
    # Two estates without a prefix share their tags, as two vCenters share vSphere tag names.
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    tags = estate.tags = list(Tag.objects.filter(name__in=names).order_by("name"))
    taken = timezone.now() - timedelta(days=30)
    for i, vm in enumerate(estate.vms):
        for n in range(2):
            store = stores[(i + n) % len(stores)] if stores else None
            disks.append(
                VirtualDisk(
                    vm=vm,
                    label=f"Hard disk {n + 1}",
                    key=2000 + n,
                    capacity_mib=20 * 1024,
                    datastore=store,
                    path=f"[{store.name if store else 'local'}] {vm.name}/{n}.vmdk",
                    thin=bool(n),
                    mode=DiskMode.PERSISTENT,
                )
            )
        for n in range(2 if i % 3 == 0 else 1):
            net = nets[(i + n) % len(nets)] if nets else None
            nics.append(
                VirtualNic(
                    vm=vm,
                    label=f"Network adapter {n + 1}",
                    adapter="vmxnet3",
                    network=net,
                    network_name=net.name if net else "",
                    mac_address=f"00:50:56:{i % 256:02x}:{n:02x}:01",
                    connected=True,
                    ip_addresses=[vm.primary_ip] if n == 0 else [],
                )
            )
        iso = i % 5 == 0
        cdroms.append(
            CdRom(
                vm=vm,
                label="CD/DVD drive 1",
                connected=iso,
                device_type="ISO" if iso else "Client Device",
                iso_path=f"[{stores[0].name}] iso/tools.iso" if iso and stores else "",
            )
        )
        if i % 4 == 0:
            snapshots.append(Snapshot(vm=vm, name="before-patch", created_at=taken, size_mib=512.0))
        tagged.append(VirtualMachine.tags.through(virtualmachine=vm, tag=tags[i % len(tags)]))
    VirtualDisk.objects.bulk_create(disks)
    VirtualNic.objects.bulk_create(nics)
    CdRom.objects.bulk_create(cdroms)
    Snapshot.objects.bulk_create(snapshots)
    VirtualMachine.tags.through.objects.bulk_create(tagged)


def make_link_site(name: str = "Amsterdam", bandwidth_mbps: int = 1000, **fields):
    """An HCX deployment plan (a site) with just what the planner's estimates read: its link."""
    from hcx.models import HcxPlan

    values = {
        "connector_hostname": "hcx-connector",
        "connector_ip": "192.168.10.9",
        "connector_gateway": "192.168.10.1",
        "avs_block": "10.100.0.0/22",
        "latency_ms": 20,
    }
    values.update(fields)
    return HcxPlan.objects.create(name=name, bandwidth_mbps=bandwidth_mbps, **values)


# --- dependency groups and connections (migrations_app.dependencies) ---


def make_group(name: str, vms=(), **fields):
    """A dependency group holding `vms` (VirtualMachine objects), each with the reason "test"."""
    from migrations_app.models import DependencyGroup, GroupMember

    group = DependencyGroup.objects.create(name=name, **fields)
    GroupMember.objects.bulk_create([GroupMember(group=group, vm=vm, reason="test") for vm in vms])
    return group


def make_endpoint(side):
    """The Endpoint of a VM, or an external one from a name or an IP string."""
    import ipaddress

    from migrations_app.models import Endpoint

    if isinstance(side, VirtualMachine):
        return Endpoint.objects.get_or_create(vm=side, defaults={"name": side.name})[0]
    try:
        ipaddress.ip_address(side)
        return Endpoint.objects.get_or_create(vm=None, name="", ip=side)[0]
    except ValueError:
        return Endpoint.objects.get_or_create(vm=None, name=side, ip=None)[0]


def make_dependency(source, destination, port: int = 443, *, seen: int = 1, protocol: str = "tcp"):
    """A connection from `source` to `destination` (VMs, or names/IPs of external endpoints)."""
    from migrations_app.models import Dependency

    return Dependency.objects.create(
        source=make_endpoint(source),
        destination=make_endpoint(destination),
        port=port,
        protocol=protocol,
        seen=seen,
    )


# --- waves and target clusters (migrations_app.waves) ---


def make_target_cluster(
    site=None, name: str = "Cluster-1", *, sku: str = "AV36P", hosts: int = 4, ftt: int = 1, **fields
):
    """An AVS target cluster of `site` (a site is made when none is given)."""
    from migrations_app.models import TargetCluster

    site = site or make_link_site(f"site-{next(_serial)}")
    return TargetCluster.objects.create(
        site=site, name=name, sku=sku, hosts=hosts, failures_to_tolerate=ftt, **fields
    )


def make_wave(name: str = "Wave 1", vms=(), **fields):
    """A wave (draft unless `status` says otherwise) holding `vms` as single VMs, written directly (no revision bump)."""
    from migrations_app.models import Wave, WaveItem

    wave = Wave.objects.create(name=name, **fields)
    WaveItem.objects.bulk_create([WaveItem(wave=wave, vm=vm) for vm in vms])
    return wave


def make_batch(wave, vms=None, *, number: int | None = None, migration_type: str | None = None, **fields):
    """A batch of `wave` with a WAITING migration per VM (default: every VM of the wave), written
    directly: no HCX call, no job."""
    from migrations_app.models import Batch, VmMigration

    number = number or (wave.batches.count() + 1)
    batch = Batch.objects.create(
        wave=wave,
        number=number,
        name=fields.pop("name", f"Batch {number}"),
        hcx_group_name=f"avsportal-wave{wave.pk}-batch{number}",
        **fields,
    )
    items = {i.vm_id: i for i in wave.items.all()}
    vms = list(vms) if vms is not None else [i.vm for i in wave.items.select_related("vm")]
    VmMigration.objects.bulk_create(
        [
            VmMigration(
                batch=batch,
                wave=wave,
                vm=vm,
                migration_type=migration_type
                or (items[vm.pk].effective_migration_type if vm.pk in items else wave.migration_type),
            )
            for vm in vms
        ]
    )
    return batch
