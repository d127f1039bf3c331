"""One discovery of one vCenter: connect, read everything in bulk, write it in one transaction.

`discover()` is shared by the job handler and the management command. It reads first and
writes after, so a failure while reading leaves the database as it was, and a second run
over an unchanged vCenter writes nothing (inventory.sync.sync_rows compares before writing).
"""

import http.client
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pyVmomi import vim, vmodl

from core.jobs import JobError

from ..estate import DISCOVERY, Estate, write_estate
from ..models import VCenter
from . import mapping
from .collector import Collector
from .connect import connect, disconnect, parse_url, timeout_seconds

DEFAULT_PAGE_SIZE = 500


def page_size() -> int:
    return int(getattr(settings, "DISCOVERY_PAGE_SIZE", DEFAULT_PAGE_SIZE))


def _quiet(percent: float, text: str):
    pass


@dataclass
class Reading(Estate):
    """What one read of a vCenter found: its estate, links by moid (NICs by network name), and
    what the read cost."""

    instance_uuid: str = ""
    version: str = ""
    round_trips: int = 0
    vm_pages: int = 0


def read_estate(
    si, *, report: Callable = _quiet, check_cancelled: Callable = lambda: None, size: int | None = None
) -> Reading:
    collector = Collector(si, page_size=size or page_size())
    about = collector.content.about
    # every section is read in full: an empty list means vCenter has none of them now
    reading = Reading(
        instance_uuid=about.instanceUuid or "",
        version=about.fullName or "",
        disks=[],
        nics=[],
        cdroms=[],
        snapshots=[],
    )

    report(10, "Reading datacenters, clusters, hosts, datastores and networks")
    tree = mapping.Tree(collector.all(mapping.ENTITY_TYPES, mapping.ENTITY_PROPS))
    reading.clusters = [
        mapping.cluster_row(o, p, tree)
        for o, p in collector.all([vim.ClusterComputeResource], mapping.CLUSTER_PROPS)
    ]
    hosts = collector.all([vim.HostSystem], mapping.HOST_PROPS)
    host_rows = [mapping.host_row(o, p, tree) for o, p in hosts]
    reading.hosts = [{**row, "cluster_moid": cluster} for row, cluster in host_rows]
    reading.datastores = [
        mapping.datastore_row(o, p) for o, p in collector.all([vim.Datastore], mapping.DATASTORE_PROPS)
    ]
    switches = collector.all([vim.DistributedVirtualSwitch], mapping.SWITCH_PROPS)
    networks = mapping.network_rows(
        collector.all([vim.Network], mapping.NETWORK_PROPS), switches, mapping.host_portgroups(hosts)
    )
    reading.networks = networks.rows
    field_names = _custom_field_names(collector.content)
    host_cluster = {row["moid"]: cluster for row, cluster in host_rows}
    check_cancelled()
    report(
        20,
        f"Found {len(reading.clusters)} clusters, {len(reading.hosts)} hosts, "
        f"{len(reading.datastores)} datastores, {len(reading.networks)} networks",
    )

    for page in collector.pages([vim.VirtualMachine], mapping.VM_PROPS):
        for o, p in page:
            _add_vm(reading, mapping.vm_record(o, p, tree, host_cluster, networks, field_names))
        reading.vm_pages += 1
        check_cancelled()
        # the total is not known up front; creep towards 80% as pages arrive
        report(
            80 - 60 / (1 + reading.vm_pages / 4), f"Read {len(reading.vms)} VMs ({reading.vm_pages} pages)"
        )
    reading.round_trips = collector.counter.calls
    return reading


def _add_vm(reading: Reading, vm: mapping.VmRecord):
    reading.vms.append({**vm.row, "host_moid": vm.host_moid, "cluster_moid": vm.cluster_moid})
    part_of = {"vm_moid": vm.row["moid"]}
    reading.disks.extend({**d, **part_of} for d in vm.disks)
    reading.nics.extend({**n, **part_of} for n in vm.nics)
    reading.cdroms.extend({**c, **part_of} for c in vm.cdroms)
    reading.snapshots.extend({**s, **part_of} for s in vm.snapshots)


def _custom_field_names(content) -> dict:
    manager = content.customFieldsManager
    if manager is None:
        return {}
    return {f.key: f.name for f in (manager.field or [])}


def store(vcenter: VCenter, reading: Reading) -> dict:
    """Store what was read, in one transaction: a repeat of the same reading writes nothing."""
    now = timezone.now()
    with transaction.atomic():
        vc = VCenter.objects.select_for_update().get(pk=vcenter.pk)
        _check_identity(vc, reading)
        changed = [
            f
            for f, v in (("instance_uuid", reading.instance_uuid), ("version", reading.version))
            if getattr(vc, f) != v
        ]
        for f in changed:
            setattr(vc, f, getattr(reading, f))
        if changed:
            vc.save(update_fields=[*changed, "last_updated"])
        # last_synced says when we looked, not that anything changed: no bump of last_updated
        VCenter.objects.filter(pk=vc.pk).update(last_synced=now)
        results = write_estate(vc, reading, options=DISCOVERY)

    summary = {
        "vcenter": vc.name,
        "instance_uuid": vc.instance_uuid,
        "version": vc.version,
        "round_trips": reading.round_trips,
        "vm_pages": reading.vm_pages,
    }
    for name, result in results.items():
        counts = {"found": len(getattr(reading, name)), **result.as_dict()}
        if name == "vms":
            counts["vanished"] = counts.pop("removed")
        summary[name] = counts
    summary["writes"] = sum(r.writes for r in results.values())
    return summary


def _check_identity(vc: VCenter, estate: Reading):
    if vc.instance_uuid and estate.instance_uuid and vc.instance_uuid != estate.instance_uuid:
        raise JobError(
            f"{vc.url} now answers as a different vCenter (instance UUID {estate.instance_uuid}, "
            f"not {vc.instance_uuid}); add it as a new vCenter instead"
        )
    other = VCenter.objects.filter(instance_uuid=estate.instance_uuid).exclude(pk=vc.pk).first()
    if estate.instance_uuid and other:
        raise JobError(
            f"This vCenter (instance UUID {estate.instance_uuid}) is already known as {other.name!r}"
        )


def discover(
    vcenter: VCenter,
    *,
    report: Callable = _quiet,
    check_cancelled: Callable = lambda: None,
    size: int | None = None,
) -> dict:
    """Discover `vcenter` with its stored connection details; returns the summary of what changed."""
    if not vcenter.can_discover:
        raise JobError(f"vCenter {vcenter.name!r} has no URL or user name to connect with")
    report(2, f"Connecting to {vcenter.url} as {vcenter.username}")
    si = connect(vcenter.url, vcenter.username, vcenter.password, verify_tls=vcenter.verify_tls)
    try:
        reading = read_estate(si, report=report, check_cancelled=check_cancelled, size=size)
    except (OSError, http.client.HTTPException, vmodl.MethodFault) as exc:
        raise JobError(
            f"vCenter {vcenter.name} ({parse_url(vcenter.url)}) failed while its inventory was being "
            f"read: {_what_happened(exc)}. Nothing was changed; discover again when it answers"
        ) from None
    finally:
        disconnect(si)
    check_cancelled()
    report(85, f"Writing {len(reading.vms)} VMs and their parts")
    summary = store(vcenter, reading)
    report(100, describe(summary))
    return summary


def _what_happened(exc: Exception) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_seconds():g} seconds"
    if isinstance(exc, vmodl.MethodFault):
        return f"it answered an error ({exc.msg or type(exc).__name__})"
    if isinstance(exc, (ConnectionError, http.client.RemoteDisconnected)):
        return f"the connection was closed ({exc or type(exc).__name__})"
    if isinstance(exc, http.client.HTTPException):
        return f"it answered HTTP {exc}"
    return f"the connection failed ({exc or type(exc).__name__})"


def describe(summary: dict) -> str:
    vms = summary["vms"]
    return (
        f"{vms['found']} VMs ({vms['created']} new, {vms['updated']} changed, {vms['vanished']} vanished), "
        f"{summary['hosts']['found']} hosts, {summary['clusters']['found']} clusters, "
        f"{summary['datastores']['found']} datastores, {summary['networks']['found']} networks; "
        f"{summary['writes']} rows written"
    )
