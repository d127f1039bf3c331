"""One discovery of one vCenter: connect, read everything in bulk, write it in one transaction.

`discover()` is shared by the job handler and the management command. It reads first and
writes after, so a failure while reading leaves the database as it was, and a second run
over an unchanged vCenter writes nothing (inventory.sync.sync_rows compares before writing).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pyVmomi import vim

from core.jobs import JobError

from ..choices import SourceKind
from ..models import (
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
from ..sync import sync_rows
from . import mapping
from .collector import Collector
from .connect import connect, disconnect

DEFAULT_PAGE_SIZE = 500


def page_size() -> int:
    return int(getattr(settings, "DISCOVERY_PAGE_SIZE", DEFAULT_PAGE_SIZE))


def _quiet(percent: float, text: str):
    pass


@dataclass
class Estate:
    """What one read of a vCenter found, as rows with moid references."""

    instance_uuid: str = ""
    version: str = ""
    clusters: list = field(default_factory=list)
    hosts: list = field(default_factory=list)  # (row, cluster moid)
    datastores: list = field(default_factory=list)
    networks: mapping.Networks = field(default_factory=mapping.Networks)
    vms: list = field(default_factory=list)  # VmRecord
    round_trips: int = 0
    vm_pages: int = 0


def read_estate(si, *, report: Callable = _quiet, check_cancelled: Callable = lambda: None,
                size: int | None = None) -> Estate:
    collector = Collector(si, page_size=size or page_size())
    about = collector.content.about
    estate = Estate(instance_uuid=about.instanceUuid or "", version=about.fullName or "")

    report(10, "Reading datacenters, clusters, hosts, datastores and networks")
    tree = mapping.Tree(collector.all(mapping.ENTITY_TYPES, mapping.ENTITY_PROPS))
    estate.clusters = [mapping.cluster_row(o, p, tree)
                       for o, p in collector.all([vim.ClusterComputeResource], mapping.CLUSTER_PROPS)]
    hosts = collector.all([vim.HostSystem], mapping.HOST_PROPS)
    estate.hosts = [mapping.host_row(o, p, tree) for o, p in hosts]
    estate.datastores = [mapping.datastore_row(o, p) for o, p in collector.all([vim.Datastore],
                                                                                 mapping.DATASTORE_PROPS)]
    switches = collector.all([vim.DistributedVirtualSwitch], mapping.SWITCH_PROPS)
    estate.networks = mapping.network_rows(collector.all([vim.Network], mapping.NETWORK_PROPS), switches,
                                           mapping.host_portgroups(hosts))
    field_names = _custom_field_names(collector.content)
    host_cluster = {row["moid"]: cluster for row, cluster in estate.hosts}
    check_cancelled()
    report(20, f"Found {len(estate.clusters)} clusters, {len(estate.hosts)} hosts, "
               f"{len(estate.datastores)} datastores, {len(estate.networks.rows)} networks")

    for page in collector.pages([vim.VirtualMachine], mapping.VM_PROPS):
        estate.vms.extend(mapping.vm_record(o, p, tree, host_cluster, estate.networks, field_names) for o, p in page)
        estate.vm_pages += 1
        check_cancelled()
        # the total is not known up front; creep towards 80% as pages arrive
        report(80 - 60 / (1 + estate.vm_pages / 4), f"Read {len(estate.vms)} VMs ({estate.vm_pages} pages)")
    estate.round_trips = collector.counter.calls
    return estate


def _custom_field_names(content) -> dict:
    manager = content.customFieldsManager
    if manager is None:
        return {}
    return {f.key: f.name for f in (manager.field or [])}


def write_estate(vcenter: VCenter, estate: Estate) -> dict:
    """Store what was read, in one transaction: a repeat of the same estate writes nothing."""
    now = timezone.now()
    with transaction.atomic():
        vc = VCenter.objects.select_for_update().get(pk=vcenter.pk)
        _check_identity(vc, estate)
        changed = [f for f, v in (("instance_uuid", estate.instance_uuid), ("version", estate.version))
                   if getattr(vc, f) != v]
        for f in changed:
            setattr(vc, f, getattr(estate, f))
        if changed:
            vc.save(update_fields=[*changed, "last_updated"])
        # last_synced says when we looked, not that anything changed: no bump of last_updated
        VCenter.objects.filter(pk=vc.pk).update(last_synced=now)

        scope = {"vcenter": vc}
        own = {"vcenter_id": vc.pk}
        results = {"clusters": sync_rows(Cluster, scope, ("moid",), [{**r, **own} for r in estate.clusters])}
        clusters = {k[0]: pk for k, pk in results["clusters"].pks.items()}
        results["hosts"] = sync_rows(Host, scope, ("moid",), [
            {**row, **own, "cluster_id": clusters.get(cluster)} for row, cluster in estate.hosts])
        hosts = {k[0]: pk for k, pk in results["hosts"].pks.items()}
        results["datastores"] = sync_rows(Datastore, scope, ("moid",), [{**r, **own} for r in estate.datastores])
        datastores = {k[0]: pk for k, pk in results["datastores"].pks.items()}
        # kept when gone from vCenter: network mappings planned against them must not vanish
        results["networks"] = sync_rows(Network, scope, ("name",), [{**r, **own} for r in estate.networks.rows],
                                        missing="keep")
        networks = {k[0]: pk for k, pk in results["networks"].pks.items()}

        results["vms"] = sync_rows(VirtualMachine, scope, ("moid",), [
            {**vm.row, **own, "origin": SourceKind.DISCOVERY, "host_id": hosts.get(vm.host_moid),
             "cluster_id": clusters.get(vm.cluster_moid)} for vm in estate.vms], missing="mark")
        vms = {k[0]: pk for k, pk in results["vms"].pks.items()}

        # parts of VMs seen now only: a vanished VM keeps its last known disks and NICs
        parts = {"vm__vcenter": vc, "vm__removed__isnull": True}
        disks, nics, cdroms, snapshots = [], [], [], []
        for vm in estate.vms:
            vm_id = vms[vm.row["moid"]]
            for d in vm.disks:
                row = {k: v for k, v in d.items() if k != "datastore_moid"}
                disks.append({**row, "vm_id": vm_id, "datastore_id": datastores.get(d["datastore_moid"])})
            for n in vm.nics:
                nics.append({**n, "vm_id": vm_id, "network_id": networks.get(n["network_name"]) if n["network_name"]
                             else None})
            cdroms.extend({**c, "vm_id": vm_id} for c in vm.cdroms)
            snapshots.extend({**s, "vm_id": vm_id} for s in vm.snapshots)
        results["disks"] = sync_rows(VirtualDisk, parts, ("vm_id", "label"), disks)
        results["nics"] = sync_rows(VirtualNic, parts, ("vm_id", "label"), nics)
        results["cdroms"] = sync_rows(CdRom, parts, ("vm_id", "label"), cdroms)
        results["snapshots"] = sync_rows(Snapshot, parts, ("vm_id", "name", "created_at"), snapshots)

    summary = {"vcenter": vc.name, "instance_uuid": vc.instance_uuid, "version": vc.version,
               "round_trips": estate.round_trips, "vm_pages": estate.vm_pages}
    found = {"clusters": len(estate.clusters), "hosts": len(estate.hosts), "datastores": len(estate.datastores),
             "networks": len(estate.networks.rows), "vms": len(estate.vms), "disks": len(disks),
             "nics": len(nics), "cdroms": len(cdroms), "snapshots": len(snapshots)}
    for name, result in results.items():
        counts = {"found": found[name], **result.as_dict()}
        if name == "vms":
            counts["vanished"] = counts.pop("removed")
        summary[name] = counts
    summary["writes"] = sum(r.writes for r in results.values())
    return summary


def _check_identity(vc: VCenter, estate: Estate):
    if vc.instance_uuid and estate.instance_uuid and vc.instance_uuid != estate.instance_uuid:
        raise JobError(
            f"{vc.url} now answers as a different vCenter (instance UUID {estate.instance_uuid}, "
            f"not {vc.instance_uuid}); add it as a new vCenter instead"
        )
    other = VCenter.objects.filter(instance_uuid=estate.instance_uuid).exclude(pk=vc.pk).first()
    if estate.instance_uuid and other:
        raise JobError(f"This vCenter (instance UUID {estate.instance_uuid}) is already known as {other.name!r}")


def discover(vcenter: VCenter, *, report: Callable = _quiet, check_cancelled: Callable = lambda: None,
             size: int | None = None) -> dict:
    """Discover `vcenter` with its stored connection details; returns the summary of what changed."""
    if not vcenter.can_discover:
        raise JobError(f"vCenter {vcenter.name!r} has no URL or user name to connect with")
    report(2, f"Connecting to {vcenter.url} as {vcenter.username}")
    si = connect(vcenter.url, vcenter.username, vcenter.password, verify_tls=vcenter.verify_tls)
    try:
        estate = read_estate(si, report=report, check_cancelled=check_cancelled, size=size)
    finally:
        disconnect(si)
    check_cancelled()
    report(85, f"Writing {len(estate.vms)} VMs and their parts")
    summary = write_estate(vcenter, estate)
    report(100, describe(summary))
    return summary


def describe(summary: dict) -> str:
    vms = summary["vms"]
    return (f"{vms['found']} VMs ({vms['created']} new, {vms['updated']} changed, {vms['vanished']} vanished), "
            f"{summary['hosts']['found']} hosts, {summary['clusters']['found']} clusters, "
            f"{summary['datastores']['found']} datastores, {summary['networks']['found']} networks; "
            f"{summary['writes']} rows written")
