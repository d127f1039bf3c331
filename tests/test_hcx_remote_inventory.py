"""HCX's remote inventory (hcx-wire.md §4) through the HCX client, on the simulator over HTTP: the AVS
side's containers, datastores and VMs, told apart from the local site's by `_origin.endpointId`,
read the same whichever id field, type spelling or filter handling HCX answers with (the variants
inventory_ids, inventory_type_names, inventory_cloud_filter); and the launch's placement built from
them, with a clear refusal when the AVS side lacks what the wave names."""

import itertools

import pytest

from hcx.client import HcxService, Retry, Waiter
from hcx.simulator.variants import VARIANTS
from migrations_app.launch.errors import LaunchError
from migrations_app.launch.site import SiteContext
from tests.hcx_migrations import GiB, Meshed
from tests.launch_helpers import (
    AVS_CLUSTER,
    AVS_DATACENTER,
    AVS_DATASTORE,
    AVS_FOLDER,
    AVS_FOLDER_ID,
    make_launch_setup,
)

SHAPES = [
    dict(zip(("inventory_ids", "inventory_type_names", "inventory_cloud_filter"), values, strict=True))
    for values in itertools.product(
        *(VARIANTS[n].values for n in ("inventory_ids", "inventory_type_names", "inventory_cloud_filter"))
    )
]
WHOLE_RUN = 31 + 10 + 300 + 60 + 5  # a 1 GiB Bulk migration without a window


def shape_id(shape: dict) -> str:
    return "-".join(shape.values())


@pytest.fixture
def meshed(hcxsim):
    return Meshed(hcxsim)


@pytest.fixture
def hcx(meshed, hcxsim):
    client = HcxService(
        hcxsim.service_url,
        hcxsim.username,
        hcxsim.password,
        waiter=Waiter(interval=0),
        retry=Retry(attempts=2, backoff=0.01),
        timeout=10,
    )
    yield client
    client.close()


def seen(found) -> list[tuple]:
    return sorted((i.id, i.name, i.kind, i.endpoint_id) for i in found)


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_it_reads_the_avs_side_s_containers_and_datastores_in_every_shape(meshed, hcx, hcxsim, shape):
    hcxsim.control.set_variants(**shape)

    containers = seen(hcx.remote_inventory("containers", meshed.remote))
    datastores = seen(hcx.remote_inventory("datastores", meshed.remote))
    local = seen(hcx.local_inventory("datastores", meshed.local))

    avs = meshed.remote
    assert containers == sorted(
        [
            ("datacenter-3", "SDDC-Datacenter", "Datacenter", avs),
            ("domain-c8", "Cluster-1", "ClusterComputeResource", avs),
            ("group-v31", "Workloads", "Folder", avs),
            ("group-v32", "Migrated", "Folder", avs),
            ("group-v4", "Discovered virtual machine", "Folder", avs),
            ("resgroup-31", "Workloads-RP", "ResourcePool", avs),
            ("resgroup-9", "Resources", "ResourcePool", avs),
        ]
    )
    assert datastores == [
        (
            "datastore-1011",
            "vsanDatastore",
            "Datastore" if shape["inventory_type_names"] == "vsphere" else "datastore",
            avs,
        ),
        (
            "datastore-1012",
            "anf-datastore-01",
            "Datastore" if shape["inventory_type_names"] == "vsphere" else "datastore",
            avs,
        ),
    ]
    assert {i[3] for i in local} == {meshed.local} and "datastore-1011" not in {i[0] for i in local}


@pytest.mark.parametrize("ids", VARIANTS["inventory_ids"].values)
def test_a_migrated_vm_shows_in_avs_under_a_new_id_and_leaves_the_local_list(meshed, hcx, hcxsim, ids):
    hcxsim.control.set_variants(inventory_ids=ids)
    meshed.register(
        {"id": "vm-1", "name": "app-1", "diskBytes": GiB}, {"id": "vm-2", "name": "app-2", "diskBytes": GiB}
    )
    before = seen(hcx.remote_inventory("virtualmachines", meshed.remote))
    hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.advance(WHOLE_RUN)

    after = hcx.remote_inventory("virtualmachines", meshed.remote)
    local = hcx.local_inventory("virtualmachines")

    assert before == []
    [vm] = after
    assert (vm.name, vm.endpoint_id) == ("app-1", meshed.remote) and vm.id not in ("vm-1", "")
    assert [(v.id, v.name) for v in local] == [("vm-2", "app-2")]


# --- the launch's placement ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("shape", SHAPES[:1] + SHAPES[-1:], ids=shape_id)
def test_a_wave_s_target_is_placed_by_the_ids_of_the_avs_side_s_inventory(hcxsim_fast, shape):
    setup = make_launch_setup(hcxsim_fast, vms=1, target_resource_pool="Workloads-RP")
    hcxsim_fast.control.set_variants(**shape)
    lower = shape["inventory_type_names"] == "lower"

    where = SiteContext.load(setup.site).target(setup.wave)

    assert [(c["id"], c["name"]) for c in where.containers] == [
        ("resgroup-31", "Workloads-RP"),
        (AVS_FOLDER_ID, AVS_FOLDER),
        AVS_DATACENTER,
    ]
    # The type of each entry is what HCX's inventory calls it, as AYA echoes it.
    assert [c["type"] for c in where.containers] == (
        ["resourcePool", "folder", "datacenter"] if lower else ["ResourcePool", "Folder", "Datacenter"]
    )
    assert (where.datastore_id, where.datastore_name) == AVS_DATASTORE


@pytest.mark.django_db
@pytest.mark.parametrize("clusters", VARIANTS["inventory_clusters"].values)
def test_without_a_resource_pool_the_wave_lands_in_its_cluster(hcxsim_fast, clusters):
    # When the containers list no cluster, the AVS compute profile's clusters are used.
    setup = make_launch_setup(hcxsim_fast, vms=1, target_datastore="anf-datastore-01")
    hcxsim_fast.control.set_variants(inventory_clusters=clusters)

    where = SiteContext.load(setup.site).target(setup.wave)

    assert where.containers[0] == {
        "id": AVS_CLUSTER[0],
        "name": AVS_CLUSTER[1],
        "type": "ClusterComputeResource",
    }
    assert (where.datastore_id, where.datastore_name) == ("datastore-1012", "anf-datastore-01")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        (
            "target_datastore",
            "nfs-01",
            "no datastore 'nfs-01' (HCX knows anf-datastore-01, vsanDatastore): fix the "
            "wave's target datastore.",
        ),
        (
            "target_folder",
            "Apps",
            "no folder 'Apps' (HCX knows Discovered virtual machine, Migrated, Workloads): fix "
            "the wave's target folder.",
        ),
        (
            "target_resource_pool",
            "Gold",
            "no resource pool 'Gold' (HCX knows Resources, Workloads-RP): fix the wave's "
            "target resource pool.",
        ),
    ],
)
def test_a_target_the_avs_side_lacks_is_refused_with_what_it_has(hcxsim_fast, field, value, said):
    # nfs-01 and Apps are the local site's: the remote inventory must not offer them.
    setup = make_launch_setup(hcxsim_fast, vms=1, **{field: value})

    with pytest.raises(LaunchError) as caught:
        SiteContext.load(setup.site).target(setup.wave)

    assert str(caught.value) == f"The AVS side of {setup.site} has {said}"
