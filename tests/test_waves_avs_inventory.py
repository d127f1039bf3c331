"""The AVS inventory of a site (hcx/avs_inventory.py): a planner or engineer reads it from HCX's remote
inventory (the simulator over HTTP), it is kept per site, and the wave form offers what the AVS side has
as the wave's datastore, resource pool and folder, still taking the wave's current value; the wave page
offers the AVS segments as network mapping targets."""

import re

import pytest

from hcx.models import AvsInventory
from migrations_app.choices import WaveStatus
from migrations_app.models import TargetCluster, WaveItem
from tests.factories import make_vm, make_wave
from tests.hcx_migrations import Meshed
from tests.hcx_setup import make_setup_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(hcxsim_fast):
    Meshed(hcxsim_fast)  # paired and meshed
    return make_setup_plan(hcxsim_fast)


@pytest.fixture
def wave(site):
    cluster = TargetCluster.objects.create(site=site, name="Cluster-1", hosts=3)
    return make_wave(
        "Wave A",
        [],
        status=WaveStatus.DRAFT,
        site=site,
        target_cluster=cluster,
        target_datastore="old-datastore",
    )


def read(client, site, back: str):
    return client.post(f"/hcx/plans/{site.pk}/avs-inventory/read/", {"next": back})


def options(page: str, field: str) -> list[str]:
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"{field} is not offered as a choice"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_a_planner_reads_the_avs_inventory_and_the_wave_form_offers_its_datastores(
    client_for, planner, site, wave, hcxsim_fast
):
    client = client_for(planner)
    edit = f"/plan/waves/{wave.pk}/edit/"
    before = client.get(edit).content.decode()

    response = read(client, site, edit)
    page = client.get(edit).content.decode()

    assert "was never read from HCX" in before and 'name="target_datastore"' in before
    assert '<select name="target_datastore"' not in before
    assert response.status_code == 302 and response["Location"] == edit
    inventory = AvsInventory.objects.get(site=site)
    avs = hcxsim_fast.control.state()["pairings"][0]["endpointId"]
    assert (inventory.read_by, inventory.endpoint_id) == (planner, avs)
    assert inventory.names("datastores") == ["anf-datastore-01", "vsanDatastore"]
    assert inventory.names("folders") == ["Discovered virtual machine", "Migrated", "Workloads"]
    assert inventory.names("resource_pools") == ["Resources", "Workloads-RP"]
    assert inventory.names("networks") == ["TNT-HCX-MGMT", "TNT-HCX-UPLINK"]
    # The AVS side's datastores only (nfs-01 is on-premises), and the wave's current value kept.
    assert options(page, "target_datastore") == ["", "old-datastore", "anf-datastore-01", "vsanDatastore"]
    assert "old-datastore (not in the AVS inventory)" in page
    assert options(page, "target_resource_pool") == ["", "Resources", "Workloads-RP"]
    assert options(page, "target_folder") == ["", "Discovered virtual machine", "Migrated", "Workloads"]
    assert "chosen from the AVS inventory of Amsterdam" in page


def test_the_wave_page_offers_the_extended_networks_then_the_avs_segments_as_mapping_targets(
    client_for, planner, site, wave
):
    net = site.networks.get(name="App-VLAN101")
    WaveItem.objects.create(wave=wave, vm=make_vm(site.vcenter, "web-1", nics=[net]))
    client = client_for(planner)
    before = client.get(f"/plan/waves/{wave.pk}/").content.decode()
    read(client, site, "/")

    page = client.get(f"/plan/waves/{wave.pk}/").content.decode()

    # Before the reading: the extended networks, and a typed segment as the fallback.
    assert options(before, "target") == ["", "extended:App-VLAN101", "extended:App-VLAN102"]
    assert 'aria-label="AVS segment not listed for App-VLAN101"' in before
    assert options(page, "target") == [
        "",
        "extended:App-VLAN101",
        "extended:App-VLAN102",
        "segment:TNT-HCX-MGMT",
        "segment:TNT-HCX-UPLINK",
    ]
    assert 'aria-label="AVS segment not listed for App-VLAN101"' not in page


def test_an_inventory_that_cannot_be_read_says_why_and_keeps_the_last_reading(
    client_for, engineer, site, wave, hcxsim_fast
):
    client = client_for(engineer)
    read(client, site, "/")
    first = AvsInventory.objects.get(site=site).read_at
    hcxsim_fast.control.reset("configured")  # no site pairing any more

    response = read(client, site, f"/plan/waves/{wave.pk}/")
    page = client.get(response["Location"]).content.decode()

    assert AvsInventory.objects.get(site=site).read_at == first
    assert (
        "The AVS inventory of Amsterdam could not be read from HCX: HCX is not paired with the AVS HCX Cloud "
        "Manager"
    ) in page


def test_a_stakeholder_cannot_ask_hcx_for_it(client_for, stakeholder, site):
    response = read(client_for(stakeholder), site, "/")

    assert response.status_code == 403 and not AvsInventory.objects.exists()


def test_the_site_page_shows_the_avs_inventory_and_reads_it_again(client_for, engineer, site):
    client = client_for(engineer)
    before = client.get(f"/hcx/plans/{site.pk}/").content.decode()

    response = read(client, site, f"/hcx/plans/{site.pk}/")
    after = client.get(response["Location"]).content.decode()

    assert "Never read from HCX" in before and "Read AVS inventory from HCX" in before
    assert (
        "2 datastores (anf-datastore-01, vsanDatastore), 2 resource pools, 3 folders, 2 networks."
        in " ".join(after.split())
    )
