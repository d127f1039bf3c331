"""The one estate writer: what discovery, RVTools imports and the demo rely on when they store a vCenter."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.choices import SourceKind
from inventory.estate import DEMO, DISCOVERY, RVTOOLS, Estate, write_estate
from inventory.models import (
    CdRom,
    Cluster,
    Host,
    Network,
    Snapshot,
    Tag,
    VirtualDisk,
    VirtualMachine,
    VirtualNic,
)
from tests.factories import make_vcenter

pytestmark = pytest.mark.django_db

OPTIONS = pytest.mark.parametrize("options", [DISCOVERY, RVTOOLS, DEMO], ids=["discovery", "rvtools", "demo"])
TAKEN = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
PARTS = (VirtualDisk, VirtualNic, CdRom, Snapshot)


def estate(*vms: str, by: str = "moid", networks=("pg-web", "pg-db"), tags=None) -> Estate:
    """An estate of one cluster, host and datastore, with `vms` each holding one of every part.

    `by` says how VMs and disks point at their cluster, host and datastore: by "moid" as
    discovery does, or by "name" as an RVTools export does.
    """
    link = {"moid": ("domain-c1", "host-1", "datastore-1"), "name": ("CL01", "esx01", "DS01")}[by]
    return Estate(
        clusters=[{"moid": "domain-c1", "name": "CL01", "datacenter": "DC1", "num_hosts": 1}],
        hosts=[{"moid": "host-1", "name": "esx01", "datacenter": "DC1", f"cluster_{by}": link[0]}],
        datastores=[{"moid": "datastore-1", "name": "DS01", "capacity_mib": 4096}],
        networks=[{"name": n, "moid": f"dvportgroup-{n}", "vlan": "10", "vlan_id": 10} for n in networks],
        vms=[
            {
                "moid": vm,
                "name": f"app-{vm}",
                "num_cpu": 2,
                "datacenter": "DC1",
                f"cluster_{by}": link[0],
                f"host_{by}": link[1],
            }
            for vm in vms
        ],  # fmt: skip
        disks=[
            {"vm_moid": vm, "label": "Hard disk 1", "capacity_mib": 100, f"datastore_{by}": link[2]}
            for vm in vms
        ],
        nics=[{"vm_moid": vm, "label": "Network adapter 1", "network_name": "pg-web"} for vm in vms],
        cdroms=[{"vm_moid": vm, "label": "CD/DVD drive 1", "device_type": "ISO"} for vm in vms],
        snapshots=[{"vm_moid": vm, "name": "before patching", "created_at": TAKEN} for vm in vms],
        tags=tags,
    )


def parts_of(moid: str) -> list[int]:
    return [model.objects.filter(vm__moid=moid).count() for model in PARTS]


@OPTIONS
def test_it_links_every_row_and_writes_nothing_the_second_time(options):
    vc = make_vcenter()

    first = write_estate(vc, estate("vm-1", "vm-2"), options=options)

    vm = VirtualMachine.objects.select_related("host", "cluster").get(vcenter=vc, moid="vm-1")
    assert (vm.host.moid, vm.cluster.moid, vm.origin, vm.removed) == (
        "host-1",
        "domain-c1",
        options.origin,
        None,
    )
    assert Host.objects.get(moid="host-1").cluster.moid == "domain-c1"
    assert VirtualDisk.objects.get(vm=vm).datastore.name == "DS01"
    assert VirtualNic.objects.get(vm=vm).network.name == "pg-web"
    assert parts_of("vm-2") == [1, 1, 1, 1]
    assert first["vms"].created == 2 and first["snapshots"].created == 2

    with CaptureQueriesContext(connection) as queries:
        second = write_estate(vc, estate("vm-1", "vm-2"), options=options)
    assert [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ] == []
    assert all(r.writes == 0 for r in second.values()), second
    assert second["vms"].unchanged == 2


def test_links_by_name_resolve_as_links_by_moid_do():
    vc = make_vcenter()

    write_estate(vc, estate("vm-1", by="name"), options=RVTOOLS)

    vm = VirtualMachine.objects.get(vcenter=vc, moid="vm-1")
    assert (vm.host.name, vm.cluster.name, vm.disks.get().datastore.name) == ("esx01", "CL01", "DS01")
    assert Host.objects.get(moid="host-1").cluster.name == "CL01"


def test_under_discovery_a_vanished_vm_is_marked_and_keeps_its_parts():
    vc = make_vcenter()
    write_estate(vc, estate("vm-1", "vm-2"), options=DISCOVERY)

    results = write_estate(vc, estate("vm-1"), options=DISCOVERY)

    gone = VirtualMachine.objects.get(vcenter=vc, moid="vm-2")
    assert gone.removed is not None and results["vms"].removed == 1
    assert parts_of("vm-2") == [1, 1, 1, 1], "a vanished VM keeps its last known parts"
    assert all(r.writes == 0 for r in write_estate(vc, estate("vm-1"), options=DISCOVERY).values())

    write_estate(vc, estate("vm-1", "vm-2"), options=DISCOVERY)
    gone.refresh_from_db()
    assert gone.removed is None, "a VM seen again is no longer vanished"


@pytest.mark.parametrize("options", [RVTOOLS, DEMO], ids=["rvtools", "demo"])
def test_under_an_import_a_vanished_vm_is_marked_and_its_parts_go(options):
    vc = make_vcenter()
    write_estate(vc, estate("vm-1", "vm-2"), options=options)

    write_estate(vc, estate("vm-1"), options=options)

    assert VirtualMachine.objects.get(vcenter=vc, moid="vm-2").removed is not None
    assert parts_of("vm-2") == [0, 0, 0, 0]
    assert parts_of("vm-1") == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("options", "kept"),
    [(DISCOVERY, True), (RVTOOLS, False), (DEMO, False)],
    ids=["discovery", "rvtools", "demo"],
)
def test_a_network_gone_from_the_source_is_kept_only_by_discovery(options, kept):
    vc = make_vcenter()
    write_estate(vc, estate("vm-1", networks=("pg-web", "pg-old")), options=options)

    results = write_estate(vc, estate("vm-1", networks=("pg-web",)), options=options)

    assert Network.objects.filter(vcenter=vc, name="pg-old").exists() == kept
    assert results["networks"].removed == (0 if kept else 1)


def test_a_vanished_cluster_is_deleted_and_its_hosts_and_vms_lose_the_link():
    vc = make_vcenter()
    write_estate(vc, estate("vm-1"), options=DISCOVERY)
    moved = estate("vm-1")
    moved.clusters = []

    write_estate(vc, moved, options=DISCOVERY)

    assert not Cluster.objects.filter(vcenter=vc).exists()
    assert VirtualMachine.objects.get(moid="vm-1").cluster is None
    assert Host.objects.get(moid="host-1").cluster is None


def test_a_section_left_out_is_left_as_stored_and_still_linked():
    vc = make_vcenter()
    write_estate(vc, estate("vm-1", "vm-2", by="name"), options=RVTOOLS)
    # an export with only vInfo: no hosts, clusters, datastores, networks or device sheets
    vinfo_only = estate("vm-1", "vm-2", by="name")
    for section in ("clusters", "hosts", "datastores", "networks", "disks", "nics", "cdroms", "snapshots"):
        setattr(vinfo_only, section, None)
    vinfo_only.vms[0]["num_cpu"] = 8

    results = write_estate(vc, vinfo_only, options=RVTOOLS)

    assert set(results) == {"vms"}
    assert results["vms"].updated == 1
    vm = VirtualMachine.objects.get(vcenter=vc, moid="vm-1")
    assert (vm.num_cpu, vm.host.name, vm.cluster.name) == (8, "esx01", "CL01")
    assert Host.objects.filter(vcenter=vc).count() == 1 and Network.objects.filter(vcenter=vc).count() == 2
    assert parts_of("vm-1") == [1, 1, 1, 1]


def test_a_nic_on_a_network_with_no_port_group_keeps_the_network_name():
    vc = make_vcenter()
    lone = estate("vm-1")
    lone.nics[0]["network_name"] = "Legacy VLAN 50"

    write_estate(vc, lone, options=RVTOOLS)

    nic = VirtualNic.objects.get(vm__moid="vm-1")
    assert (nic.network, nic.network_name) == (None, "Legacy VLAN 50")


@pytest.mark.parametrize("stored", [False, True], ids=["given", "stored"])
def test_a_cluster_name_links_to_the_cluster_in_the_rows_own_datacenter(stored):
    vc = make_vcenter()
    both = estate("vm-1", by="name")
    both.clusters.append({"moid": "domain-c2", "name": "CL01", "datacenter": "DC2"})
    both.vms[0]["datacenter"] = "DC2"
    write_estate(vc, both, options=RVTOOLS)
    if stored:
        both.clusters = None

    write_estate(vc, both, options=RVTOOLS)

    assert VirtualMachine.objects.get(moid="vm-1").cluster.moid == "domain-c2"
    assert Host.objects.get(moid="host-1").cluster.moid == "domain-c1"


def test_tags_are_created_once_and_follow_the_vms():
    vc = make_vcenter()
    tags = [("vm-1", "Env:Prod"), ("vm-1", "App:EHR"), ("vm-2", "Env:Prod")]
    first = write_estate(vc, estate("vm-1", "vm-2", tags=tags), options=DEMO)
    assert (first["tags"].created, first["vm_tags"].created) == (2, 3)

    again = write_estate(vc, estate("vm-1", "vm-2", tags=tags[1:]), options=DEMO)

    assert (again["tags"].created, again["tags"].unchanged, again["vm_tags"].removed) == (0, 2, 1)
    assert list(VirtualMachine.objects.get(moid="vm-1").tags.values_list("name", flat=True)) == ["App:EHR"]
    assert Tag.objects.filter(name="Env:Prod").exists()


def test_sources_without_tags_leave_them_alone():
    vc = make_vcenter()
    write_estate(vc, estate("vm-1", tags=[("vm-1", "Env:Prod")]), options=DEMO)

    results = write_estate(vc, estate("vm-1"), options=DISCOVERY)

    assert "vm_tags" not in results
    assert VirtualMachine.objects.get(moid="vm-1").tags.count() == 1


def test_rewriting_costs_one_read_per_kind_whatever_the_size(django_assert_max_num_queries):
    vc = make_vcenter()
    big = estate(*(f"vm-{i}" for i in range(40)), tags=[(f"vm-{i}", "Env:Prod") for i in range(40)])
    write_estate(vc, big, options=DEMO)

    with django_assert_max_num_queries(11):  # nine kinds, the tags and the VMs' tags
        write_estate(vc, big, options=DEMO)


@pytest.mark.django_db(transaction=True)
def test_a_part_of_a_vm_not_in_the_estate_is_refused_and_nothing_is_written():
    vc = make_vcenter()
    broken = estate("vm-1")
    broken.snapshots.append({"vm_moid": "vm-404", "name": "orphan", "created_at": TAKEN})

    with pytest.raises(ValueError, match="snapshots: VM 'vm-404' is not in the estate"):
        write_estate(vc, broken, options=RVTOOLS)

    assert not VirtualMachine.objects.exists() and not Cluster.objects.exists()


def test_a_vm_keeps_its_origin_from_the_source_that_last_saw_it():
    vc = make_vcenter()
    write_estate(vc, estate("vm-1"), options=DISCOVERY)

    write_estate(vc, estate("vm-1"), options=RVTOOLS)

    assert VirtualMachine.objects.get(moid="vm-1").origin == SourceKind.RVTOOLS
