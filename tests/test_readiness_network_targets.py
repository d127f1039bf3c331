"""Readiness of a wave's network mappings (issue 14): a network lands on what the wave's site offers (an
extended network of its own VLAN, or a segment of the AVS inventory read from HCX), and on its subnet.
Another VLAN's extension and a target AVS does not offer block; what cannot be checked, and a landing
whose subnet differs, warn. The mapping form refuses a target the site does not offer."""

import pytest
from django.utils import timezone

from hcx.choices import MigrationType
from hcx.models import AvsInventory
from migrations_app.choices import FindingSeverity, MappingTarget
from migrations_app.models import NetworkMapping
from migrations_app.readiness.actions import do_run_readiness
from migrations_app.waves.actions import do_save_mapping
from migrations_app.waves.errors import WaveError
from migrations_app.waves.networks import wave_networks
from tests.factories import make_network
from tests.test_readiness_rules import add_vm, hits, make_scene

pytestmark = pytest.mark.django_db

BULK = MigrationType.BULK
BLOCKER, WARNING = FindingSeverity.BLOCKER, FindingSeverity.WARNING
EXTENDED, SEGMENT = MappingTarget.EXTENDED, MappingTarget.SEGMENT


@pytest.fixture
def scene(db):
    """The site extends App-VLAN100 (10.10.100.1/24) and App-VLAN101 (10.10.101.1/24); its AVS inventory
    lists the segment seg-db and the HCX segments."""
    scene = make_scene()
    scene.other = make_network(scene.vc, "App-VLAN101", vlan_id=101)
    scene.site.networks.add(scene.other)
    scene.site.extension_gateways = {"App-VLAN100": "10.10.100.1/24", "App-VLAN101": "10.10.101.1/24"}
    scene.site.save()
    read_inventory(scene.site, ["TNT-HCX-MGMT", "seg-db"])
    return scene


def read_inventory(site, networks):
    AvsInventory.objects.update_or_create(
        site=site,
        defaults={
            "items": {"networks": [{"id": f"/infra/segments/{n}", "name": n} for n in networks]},
            "read_at": timezone.now(),
        },
    )


def vm_on(scene, network, ips=("10.10.100.21",), name="app01"):
    return add_vm(
        scene, name, nics=[{"network": network, "network_name": network.name, "ip_addresses": list(ips)}]
    )


def mapping(scene, source, kind, name):
    NetworkMapping.objects.update_or_create(
        wave=scene.wave, source=source, defaults={"target_kind": kind, "target_name": name}
    )


def test_a_network_on_its_own_extension_has_no_finding(scene):
    vm = vm_on(scene, scene.net)
    assert hits(scene, vm, BULK) == {}
    mapping(scene, scene.net, EXTENDED, "App-VLAN100")  # said explicitly: the same
    assert hits(scene, vm, BULK) == {}


def test_a_vlan_mapped_to_another_vlans_extension_blocks_and_says_how_to_fix_it(scene):
    vm = vm_on(scene, scene.net)
    mapping(scene, scene.net, EXTENDED, "App-VLAN101")
    found = hits(scene, vm, BULK)["network-target"]
    assert found.severity == BLOCKER
    assert "App-VLAN100 (VLAN 100) is mapped to App-VLAN101, the extension of VLAN 101" in found.message
    assert "another VLAN's network" in found.message
    assert "Map App-VLAN100 to its own extension App-VLAN100" in found.fix
    assert "network-unmapped" not in hits(scene, vm, BULK)


def test_a_vlan_that_is_not_extended_landing_on_an_extension_is_told_to_extend_it(scene):
    lonely = make_network(scene.vc, "DMZ-VLAN300", vlan_id=300)
    vm = vm_on(scene, lonely, ips=["10.10.101.40"])
    mapping(scene, lonely, EXTENDED, "App-VLAN101")
    found = hits(scene, vm, BULK)["network-target"]
    assert found.severity == BLOCKER and "Extend DMZ-VLAN300 in the HCX plan of" in found.fix


def test_a_second_port_group_of_the_same_vlan_may_land_on_the_first_ones_extension(scene):
    twin = make_network(scene.vc, "App-VLAN100-dvs2", vlan_id=100)
    vm = vm_on(scene, twin)
    mapping(scene, twin, EXTENDED, "App-VLAN100")
    assert hits(scene, vm, BULK) == {}


def test_a_target_that_is_neither_extended_nor_in_the_avs_inventory_blocks(scene):
    vm = vm_on(scene, scene.net)
    mapping(scene, scene.net, SEGMENT, "seg-typo")
    found = hits(scene, vm, BULK)["network-target"]
    assert found.severity == BLOCKER and "seg-typo, which AVS does not offer" in found.message
    assert "read the AVS inventory from HCX again" in found.fix
    mapping(scene, scene.net, EXTENDED, "App-VLAN999")  # an "extended network" the site does not extend
    found = hits(scene, vm, BULK)["network-target"]
    assert found.severity == BLOCKER
    assert (
        "not a network the site site-" in found.message
        and "extends (it extends: App-VLAN100, App-VLAN101)" in found.message
    )


def test_a_free_text_segment_before_the_inventory_is_read_is_a_warning_not_a_crash(scene):
    AvsInventory.objects.filter(site=scene.site).delete()
    vm = vm_on(scene, scene.net)
    mapping(scene, scene.net, SEGMENT, "seg-anything")  # as saved before the target was checked
    found = hits(scene, vm, BULK)
    assert found["network-target"].severity == WARNING
    assert "cannot be checked: the AVS inventory of" in found["network-target"].message
    assert "Read the AVS inventory from HCX" in found["network-target"].fix
    assert found["network-subnet"].severity == WARNING


def test_a_segment_of_the_inventory_warns_that_the_vms_keep_their_addresses(scene):
    vm = vm_on(scene, scene.net, ips=["10.10.100.21", "fe80::1"])
    mapping(scene, scene.net, SEGMENT, "seg-db")
    found = hits(scene, vm, BULK)
    assert "network-target" not in found
    subnet = found["network-subnet"]
    assert subnet.severity == WARNING
    assert "lands on the AVS segment seg-db, not on an extension of its own network" in subnet.message
    assert "(10.10.100.21)" in subnet.message and "fe80" not in subnet.message
    assert "Make sure seg-db has the subnet and gateway of App-VLAN100" in subnet.fix


def test_vm_addresses_outside_the_extensions_subnet_warn(scene):
    vm = vm_on(scene, scene.net, ips=["10.10.55.7"])
    found = hits(scene, vm, BULK)["network-subnet"]
    assert found.severity == WARNING
    assert "app01's address 10.10.55.7 on App-VLAN100 is outside 10.10.100.0/24" in found.message
    assert "correct the gateway of App-VLAN100" in found.fix


def test_same_vlan_port_groups_with_different_gateways_warn(scene):
    twin = make_network(scene.vc, "App-VLAN100-dvs2", vlan_id=100)
    scene.site.networks.add(twin)
    scene.site.extension_gateways["App-VLAN100-dvs2"] = "10.20.100.1/24"
    scene.site.save()
    vm = vm_on(scene, twin, ips=[])
    mapping(scene, twin, EXTENDED, "App-VLAN100")
    found = hits(scene, vm, BULK)["network-subnet"]
    assert "subnet 10.20.100.0/24 differs from 10.10.100.0/24" in found.message


def test_without_a_site_a_mapping_cannot_be_checked_and_warns(scene):
    scene.wave.site = None
    scene.wave.target_cluster = None
    scene.wave.save()
    vm = vm_on(scene, scene.net)
    mapping(scene, scene.net, SEGMENT, "seg-web")
    found = hits(scene, vm, BULK)["network-target"]
    assert found.severity == WARNING and "the wave has no site" in found.message


def test_a_run_saves_the_block_and_the_wave_page_notes_say_the_same(scene, planner):
    vm_on(scene, scene.net)
    mapping(scene, scene.net, EXTENDED, "App-VLAN101")
    do_run_readiness(scene.wave, acting_user=planner)
    finding = scene.wave.findings.get(rule="network-target")
    assert finding.severity == BLOCKER and "the extension of VLAN 101" in finding.message
    row = next(n for n in wave_networks(scene.wave) if n.name == "App-VLAN100")
    assert row.problem == BLOCKER and any("the extension of VLAN 101" in note for note in row.notes)


def test_the_mapping_action_refuses_a_target_the_site_does_not_offer_and_takes_an_offered_one(scene, planner):
    with pytest.raises(WaveError, match="App-VLAN999 is not a network the site .* extends"):
        do_save_mapping(scene.wave.pk, scene.net, EXTENDED, "App-VLAN999", acting_user=planner)
    with pytest.raises(WaveError, match="AVS offers no segment seg-typo"):
        do_save_mapping(scene.wave.pk, scene.net, SEGMENT, "seg-typo", acting_user=planner)
    assert not NetworkMapping.objects.exists()
    # Offered, even if wrong for this VLAN: saved, and readiness blocks it with what to do.
    do_save_mapping(scene.wave.pk, scene.net, EXTENDED, "App-VLAN101", acting_user=planner)
    do_save_mapping(scene.wave.pk, scene.other, SEGMENT, "seg-db", acting_user=planner)
    assert NetworkMapping.objects.count() == 2


def test_before_the_inventory_is_read_a_typed_segment_is_taken(scene, planner):
    AvsInventory.objects.filter(site=scene.site).delete()
    do_save_mapping(scene.wave.pk, scene.net, SEGMENT, "seg-new", acting_user=planner)
    assert NetworkMapping.objects.get().target_name == "seg-new"


def test_the_api_refuses_a_target_the_site_does_not_offer_as_the_page_does(scene, client_for, planner):
    client = client_for(planner)
    body = {
        "wave": scene.wave.pk,
        "source": scene.net.pk,
        "target_kind": "segment",
        "target_name": "seg-typo",
    }
    response = client.post("/api/network-mappings/", body, content_type="application/json")
    assert response.status_code == 400 and "AVS offers no segment seg-typo" in response.json()["detail"]
    body["target_name"] = "seg-db"
    assert client.post("/api/network-mappings/", body, content_type="application/json").status_code == 201
    assert NetworkMapping.objects.get().target_name == "seg-db"
