"""The readiness rules, each with a VM built for it, per migration type; switching a VM's type; and a
run over 1,000 VMs in a fixed number of queries."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry
from hcx.choices import MigrationType
from inventory.choices import DiskMode, PowerState, RdmMode, SwitchType, ToolsStatus
from migrations_app.choices import FindingSeverity, MappingTarget
from migrations_app.models import NetworkMapping, ReadinessFinding, WaveItem
from migrations_app.readiness.actions import do_run_readiness, do_switch_migration_type
from migrations_app.readiness.evaluate import evaluate
from migrations_app.readiness.facts import load
from migrations_app.readiness.rules import RULES_BY_NAME, VM_RULES, WAVE_RULES
from tests.factories import (
    make_estate,
    make_host,
    make_link_site,
    make_network,
    make_target_cluster,
    make_vcenter,
    make_vm,
    make_wave,
)

pytestmark = pytest.mark.django_db

BULK, VMOTION, COLD, RAV = MigrationType.BULK, MigrationType.VMOTION, MigrationType.COLD, MigrationType.RAV
BLOCKER, WARNING = FindingSeverity.BLOCKER, FindingSeverity.WARNING


def make_scene(**wave_fields) -> SimpleNamespace:
    """A vCenter with an Intel host and a distributed VLAN network that the wave's site extends, and an
    empty wave into a roomy target cluster: a VM added with add_vm() has no finding for Bulk."""
    vc = make_vcenter()
    host = make_host(vc, "esx01", cpu_vendor="intel", cpu_model="Intel(R) Xeon(R) Gold 6248")
    net = make_network(vc, "App-VLAN100", switch_type=SwitchType.DISTRIBUTED, vlan_id=100)
    site = make_link_site(f"site-{vc.pk}")
    site.networks.add(net)
    cluster = make_target_cluster(site, hosts=6)
    wave_fields.setdefault("remove_isos", False)
    wave = make_wave(f"Wave {vc.pk}", site=site, target_cluster=cluster, migration_type=BULK, **wave_fields)
    return SimpleNamespace(vc=vc, host=host, net=net, site=site, cluster=cluster, wave=wave)


def add_vm(scene, name="app01", *, migration_type="", **fields):
    fields.setdefault("power_state", PowerState.ON)
    fields.setdefault("hw_version", 19)
    fields.setdefault("tools_status", ToolsStatus.OK)
    fields.setdefault("host", scene.host)
    fields.setdefault("nics", [scene.net])
    fields.setdefault("provisioned_mib", 100 * 1024)
    fields.setdefault("used_mib", 50 * 1024)
    vm = make_vm(scene.vc, name, **fields)
    WaveItem.objects.create(wave=scene.wave, vm=vm, migration_type=migration_type)
    return vm


def hits(scene, vm, migration_type) -> dict:
    """{rule: Hit} for one VM under one migration type, as a run would find them."""
    scene.wave.refresh_from_db()
    facts, vms = load(scene.wave)
    return {h.rule: h for h in evaluate(next(v for v in vms if v.id == vm.pk), facts, migration_type)}


def severities(scene, vm) -> dict:
    """{migration type: {rule: severity}} for every type."""
    return {t: {r: h.severity for r, h in hits(scene, vm, t).items()} for t in MigrationType.values}


@pytest.fixture
def scene(db):
    return make_scene()


def test_a_sound_vm_has_no_finding_for_live_types_and_cold_asks_for_power_off(scene):
    vm = add_vm(scene)
    found = severities(scene, vm)
    assert found[BULK] == found[VMOTION] == found[RAV] == {}
    assert found[COLD] == {"power-state": WARNING}


def test_every_rule_has_a_name_a_title_and_a_description():
    names = [r.name for r in VM_RULES + WAVE_RULES]
    assert len(names) == len(set(names)) == len(RULES_BY_NAME)
    for rule in VM_RULES + WAVE_RULES:
        assert rule.title and rule.description, rule.name


@pytest.mark.parametrize(
    "hw,expected",
    [
        (8, {BULK: None, VMOTION: BLOCKER, COLD: BLOCKER, RAV: BLOCKER}),
        (6, {BULK: BLOCKER, VMOTION: BLOCKER, COLD: BLOCKER, RAV: BLOCKER}),
        (9, {BULK: None, VMOTION: None, COLD: None, RAV: None}),
    ],
)
def test_hardware_version_below_the_types_minimum_blocks(scene, hw, expected):
    vm = add_vm(scene, hw_version=hw, power_state=PowerState.OFF)
    for migration_type, severity in expected.items():
        found = hits(scene, vm, migration_type).get("hardware-version")
        assert (found.severity if found else None) == severity, migration_type
    message = hits(scene, vm, VMOTION).get("hardware-version")
    if hw < 9:
        assert f"Hardware version {hw} is below 9" in message.message and "Upgrade" in message.fix


def test_an_unknown_hardware_version_is_a_warning(scene):
    vm = add_vm(scene, hw_version=None)
    assert hits(scene, vm, BULK)["hardware-version"].severity == WARNING


def test_the_minimum_hardware_versions_are_settings(scene, settings):
    settings.READINESS = {
        **settings.READINESS,
        "MIN_HW_VERSION": {**settings.READINESS["MIN_HW_VERSION"], BULK: 10},
    }
    vm = add_vm(scene, hw_version=9)
    assert hits(scene, vm, BULK)["hardware-version"].severity == BLOCKER


@pytest.mark.parametrize("tools", [ToolsStatus.NOT_INSTALLED, ToolsStatus.NOT_RUNNING])
def test_tools_missing_blocks_a_graceful_bulk_switchover_and_warns_with_force_power_off(tools):
    graceful = make_scene(force_power_off=False)
    vm = add_vm(graceful, tools_status=tools)
    found = hits(graceful, vm, BULK)["vmware-tools"]
    assert found.severity == BLOCKER and "force power-off" in found.fix
    assert "vmware-tools" not in hits(graceful, vm, VMOTION) and "vmware-tools" not in hits(graceful, vm, RAV)
    forced = make_scene(force_power_off=True)
    vm = add_vm(forced, "app02", tools_status=tools)
    assert hits(forced, vm, BULK)["vmware-tools"].severity == WARNING


def test_tools_are_not_asked_of_a_powered_off_vm(scene):
    vm = add_vm(scene, tools_status=ToolsStatus.NOT_RUNNING, power_state=PowerState.OFF)
    assert "vmware-tools" not in hits(scene, vm, BULK)


def test_a_mounted_iso_blocks_vmotion_and_cold_unless_the_wave_removes_isos():
    keep = make_scene(remove_isos=False)
    vm = add_vm(keep, cdroms=[{"connected": True, "device_type": "ISO", "iso_path": "[ds1] iso/win.iso"}])
    found = severities(keep, vm)
    assert found[VMOTION]["mounted-media"] == found[COLD]["mounted-media"] == BLOCKER
    assert found[BULK]["mounted-media"] == found[RAV]["mounted-media"] == WARNING
    assert "[ds1] iso/win.iso" in hits(keep, vm, VMOTION)["mounted-media"].message
    remove = make_scene(remove_isos=True)
    vm = add_vm(
        remove, "app02", cdroms=[{"connected": True, "device_type": "ISO", "iso_path": "[ds1] iso/win.iso"}]
    )
    assert not any("mounted-media" in rules for rules in severities(remove, vm).values())


def test_a_disconnected_client_cd_drive_is_fine(scene):
    vm = add_vm(scene, cdroms=[{"connected": False, "device_type": "Client Device"}])
    assert "mounted-media" not in hits(scene, vm, VMOTION)


def test_snapshots_warn_for_vmotion_rav_and_cold_and_bulk_removes_them():
    keep = make_scene(remove_snapshots=False)
    vm = add_vm(
        keep, snapshots=[{"name": "before-patch", "created_at": timezone.now()}], power_state=PowerState.OFF
    )
    found = severities(keep, vm)
    assert found[VMOTION]["snapshots"] == found[RAV]["snapshots"] == found[COLD]["snapshots"] == WARNING
    assert "snapshots" not in found[BULK]
    remove = make_scene(remove_snapshots=True)
    vm = add_vm(remove, "app02", snapshots=[{"name": "s1", "created_at": timezone.now()}])
    assert "snapshots" not in hits(remove, vm, VMOTION)


def test_a_physical_rdm_blocks_every_type_and_a_virtual_one_none(scene):
    vm = add_vm(scene, disks=[{"capacity_mib": 1024, "rdm_mode": RdmMode.PHYSICAL}])
    assert all(found["physical-rdm"] == BLOCKER for found in severities(scene, vm).values())
    other = add_vm(scene, "app02", disks=[{"capacity_mib": 1024, "rdm_mode": RdmMode.VIRTUAL}])
    assert "physical-rdm" not in hits(scene, other, BULK)


def test_a_vmdk_shared_with_another_vm_of_the_same_vcenter_blocks(scene):
    path = "[san01] cluster/quorum.vmdk"
    vm = add_vm(scene, disks=[{"capacity_mib": 1024, "path": path}])
    make_vm(scene.vc, "partner", disks=[{"capacity_mib": 1024, "path": path}])  # not in the wave
    found = hits(scene, vm, VMOTION)["shared-vmdk"]
    assert found.severity == BLOCKER and "Hard disk 1" in found.message
    assert all(rules["shared-vmdk"] == BLOCKER for rules in severities(scene, vm).values())


def test_the_same_path_in_another_vcenter_or_on_a_vanished_vm_is_not_shared(scene):
    path = "[datastore1] app/app.vmdk"
    vm = add_vm(scene, disks=[{"capacity_mib": 1024, "path": path}])
    make_vm(make_vcenter(), "lookalike", disks=[{"capacity_mib": 1024, "path": path}])
    make_vm(scene.vc, "gone", removed=timezone.now(), disks=[{"capacity_mib": 1024, "path": path}])
    assert "shared-vmdk" not in hits(scene, vm, BULK)


@pytest.mark.parametrize(
    "rule,disk",
    [
        ("multi-writer", {"sharing": "sharingMultiWriter"}),
        ("scsi-bus-sharing", {"bus_sharing": "physicalSharing"}),
        ("scsi-bus-sharing", {"bus_sharing": "virtualSharing"}),
        ("vnvme", {"controller_type": "VirtualNVMEController"}),
    ],
)
def test_shared_or_nvme_disks_block_every_type(scene, rule, disk):
    vm = add_vm(scene, disks=[{"capacity_mib": 1024, **disk}])
    assert all(found.get(rule) == BLOCKER for found in severities(scene, vm).values())


def test_unshared_scsi_disks_are_fine(scene):
    vm = add_vm(
        scene,
        disks=[
            {
                "capacity_mib": 1024,
                "sharing": "sharingNone",
                "bus_sharing": "noSharing",
                "controller_type": "ParaVirtualSCSIController",
            }
        ],
    )
    assert hits(scene, vm, BULK) == {}


def test_an_independent_disk_is_a_warning(scene):
    vm = add_vm(scene, disks=[{"capacity_mib": 1024, "mode": DiskMode.INDEPENDENT_PERSISTENT}])
    assert all(found["independent-disk"] == WARNING for found in severities(scene, vm).values())


def test_directpath_devices_block_every_type(scene):
    passthrough = add_vm(scene, passthrough_devices=1)
    sriov = add_vm(
        scene, "app02", nics=[{"network": scene.net, "network_name": scene.net.name, "direct_path_io": True}]
    )
    from inventory.models import VirtualNic

    VirtualNic.objects.filter(vm=sriov).update(adapter="sriov")
    for vm in (passthrough, sriov):
        assert all(found["directpath"] == BLOCKER for found in severities(scene, vm).values())
    assert "Network adapter 1 (DirectPath I/O)" in hits(scene, sriov, BULK)["directpath"].message


def test_the_upt_option_of_a_vmxnet3_adapter_is_not_a_passthrough_device(scene):
    # RVTools reports "Direct Path IO: True" for every VMXNET3 adapter (its UPT option, on by default).
    vm = add_vm(scene, nics=[{"network": scene.net, "network_name": scene.net.name, "direct_path_io": True}])
    assert "directpath" not in hits(scene, vm, VMOTION)


def test_a_pci_passthrough_device_blocks_and_the_vmxnet3_upt_option_beside_it_is_not_named(scene):
    # What discovery stores for a VM with a PCI device (a GPU) and a VMXNET3 adapter with UPT on.
    vm = add_vm(
        scene,
        passthrough_devices=1,
        nics=[{"network": scene.net, "network_name": scene.net.name, "direct_path_io": True}],
    )
    found = severities(scene, vm)
    assert all(rules["directpath"] == BLOCKER for rules in found.values())
    message = hits(scene, vm, VMOTION)["directpath"].message
    assert message.startswith("1 PCI passthrough device:") and "Network adapter" not in message


def test_a_network_the_site_plan_extends_lands_there_without_a_mapping(scene):
    vm = add_vm(scene)  # on scene.net, which the site extends; the wave maps nothing
    facts, vms = load(scene.wave)
    lands = facts.lands(vms[0].nics[0])
    assert (lands.by, lands.target_kind, lands.target_name) == (
        "site_plan",
        MappingTarget.EXTENDED,
        scene.net.name,
    )
    assert "network-unmapped" not in hits(scene, vm, BULK)


def test_usb_devices_block_vmotion_and_rav_and_warn_bulk_and_cold(scene):
    vm = add_vm(scene, usb_devices=2, power_state=PowerState.OFF)
    found = severities(scene, vm)
    assert found[VMOTION]["usb-devices"] == found[RAV]["usb-devices"] == BLOCKER
    assert found[BULK]["usb-devices"] == found[COLD]["usb-devices"] == WARNING


def test_fault_tolerance_blocks_every_type(scene):
    vm = add_vm(scene, ft_enabled=True)
    assert all(found["fault-tolerance"] == BLOCKER for found in severities(scene, vm).values())


@pytest.mark.parametrize("power", [PowerState.OFF, PowerState.SUSPENDED])
def test_a_vm_that_is_not_running_only_goes_cold(scene, power):
    vm = add_vm(scene, power_state=power)
    found = severities(scene, vm)
    assert found[BULK]["power-state"] == found[VMOTION]["power-state"] == found[RAV]["power-state"] == BLOCKER
    assert "power-state" not in found[COLD]
    assert "Switch it to Cold" in hits(scene, vm, VMOTION)["power-state"].fix


def test_a_network_without_mapping_or_extension_blocks(scene):
    lonely = make_network(scene.vc, "DMZ-VLAN300", vlan_id=300)
    vm = add_vm(scene, nics=[lonely])
    found = hits(scene, vm, BULK)["network-unmapped"]
    assert (
        found.severity == BLOCKER and "DMZ-VLAN300" in found.message and "does not extend it" in found.message
    )
    NetworkMapping.objects.create(
        wave=scene.wave, source=lonely, target_kind=MappingTarget.EXTENDED, target_name="DMZ-ext"
    )
    assert "network-unmapped" not in hits(scene, vm, BULK)


def test_a_nic_on_a_network_the_inventory_does_not_know_cannot_be_mapped(scene):
    vm = add_vm(scene, nics=["Legacy-PG"])
    found = hits(scene, vm, BULK)["network-unmapped"]
    assert "Legacy-PG is not among the inventory's networks" in found.message


def test_without_a_site_no_network_counts_as_extended(db):
    scene = make_scene()
    scene.wave.site = None
    scene.wave.save()
    vm = add_vm(scene)
    assert "the wave has no site pair" in hits(scene, vm, BULK)["network-unmapped"].message


def test_a_standard_vswitch_network_blocks_unless_mapped_to_a_segment(scene):
    standard = make_network(scene.vc, "VM Network", switch_type=SwitchType.STANDARD, vlan_id=20)
    scene.site.networks.add(standard)
    vm = add_vm(scene, nics=[standard])
    found = hits(scene, vm, BULK)
    assert found["standard-vswitch"].severity == BLOCKER and "network-unmapped" not in found
    NetworkMapping.objects.create(
        wave=scene.wave, source=standard, target_kind=MappingTarget.SEGMENT, target_name="seg-app"
    )
    assert "standard-vswitch" not in hits(scene, vm, BULK)


@pytest.mark.parametrize("vlan_id,vlan", [(0, "0"), (None, "0-4094"), (None, "")])
def test_an_untagged_or_trunk_port_group_blocks_unless_mapped_to_a_segment(scene, vlan_id, vlan):
    untagged = make_network(scene.vc, f"PG-{vlan or 'none'}", vlan_id=vlan_id, vlan=vlan)
    scene.site.networks.add(untagged)
    vm = add_vm(scene, nics=[untagged])
    assert hits(scene, vm, BULK)["vlan-untagged"].severity == BLOCKER
    NetworkMapping.objects.create(
        wave=scene.wave, source=untagged, target_kind=MappingTarget.SEGMENT, target_name="seg"
    )
    assert "vlan-untagged" not in hits(scene, vm, BULK)


def test_an_nsx_segment_needs_no_vlan(scene):
    segment = make_network(scene.vc, "seg-web", switch_type=SwitchType.NSX)
    scene.site.networks.add(segment)
    vm = add_vm(scene, nics=[segment])
    assert hits(scene, vm, BULK) == {}


def test_a_non_intel_source_host_only_goes_cold(scene):
    amd = make_host(scene.vc, "esx-amd", cpu_vendor="AuthenticAMD", cpu_model="AMD EPYC 7543")
    vm = add_vm(scene, host=amd, power_state=PowerState.OFF)
    found = severities(scene, vm)
    assert found[BULK]["cpu-vendor"] == found[VMOTION]["cpu-vendor"] == found[RAV]["cpu-vendor"] == BLOCKER
    assert "cpu-vendor" not in found[COLD]
    unknown = add_vm(scene, "app02", host=make_host(scene.vc, "esx-?", cpu_vendor="", cpu_model=""))
    assert "cpu-vendor" not in hits(scene, unknown, BULK)


def test_a_very_large_vm_warns_and_the_threshold_is_a_setting(scene, settings):
    vm = add_vm(scene, provisioned_mib=11 * 1024 * 1024)
    found = hits(scene, vm, BULK)["large-vm"]
    assert found.severity == WARNING and "11.0 TB provisioned, above 10 TB" in found.message
    settings.READINESS = {**settings.READINESS, "LARGE_VM_TB": 20}
    assert "large-vm" not in hits(scene, vm, BULK)


def test_a_vanished_vm_has_one_blocker_and_nothing_else(scene):
    vm = add_vm(scene, removed=timezone.now(), hw_version=4, power_state=PowerState.OFF)
    for migration_type in MigrationType.values:
        assert list(hits(scene, vm, migration_type)) == ["vm-vanished"]


# --- the wave-level rules and a whole run ---


def test_a_run_writes_findings_per_vm_and_type_and_stamps_the_revision(scene, planner):
    add_vm(scene, "ok")
    old = add_vm(scene, "old", hw_version=8, migration_type=VMOTION)
    off = add_vm(scene, "off", power_state=PowerState.OFF)
    result = do_run_readiness(scene.wave, acting_user=planner)
    scene.wave.refresh_from_db()
    assert scene.wave.readiness_revision == scene.wave.revision == result.revision
    rows = set(
        ReadinessFinding.objects.filter(wave=scene.wave).values_list(
            "vm__name", "migration_type", "rule", "severity"
        )
    )
    assert rows == {("old", VMOTION, "hardware-version", BLOCKER), ("off", BULK, "power-state", BLOCKER)}
    assert (result.blockers, result.warnings, result.blocked_vms) == (2, 0, 2)
    fixes = dict(ReadinessFinding.objects.filter(wave=scene.wave).values_list("vm_id", "fix"))
    assert fixes[off.pk].count("Cold") == 1  # the rule's own fix names Cold: no second hint
    assert "switch the VM to Bulk" in fixes[old.pk]
    entry = AuditEntry.objects.get(action="wave.check_readiness")
    assert (
        entry.user == planner
        and entry.detail["blockers"] == 2
        and entry.detail["revision"] == scene.wave.revision
    )


def test_a_second_run_replaces_the_findings(scene, planner):
    vm = add_vm(scene, power_state=PowerState.OFF)
    do_run_readiness(scene.wave, acting_user=planner)
    vm.power_state = PowerState.ON
    vm.save()
    result = do_run_readiness(scene.wave, acting_user=planner)
    assert result.blockers == 0 and not ReadinessFinding.objects.filter(wave=scene.wave).exists()


def test_an_empty_wave_is_blocked_and_no_target_cluster_is_a_warning(planner):
    scene = make_scene()
    scene.wave.target_cluster = None
    scene.wave.save()
    do_run_readiness(scene.wave, acting_user=planner)
    rows = set(ReadinessFinding.objects.filter(wave=scene.wave).values_list("vm", "rule", "severity"))
    assert rows == {(None, "empty-wave", BLOCKER), (None, "target-capacity", WARNING)}


def test_a_wave_that_does_not_fit_its_target_cluster_is_blocked(planner):
    scene = make_scene()
    scene.wave.target_cluster = make_target_cluster(scene.site, "Small", sku="AV36", hosts=3)
    scene.wave.save()
    add_vm(scene, "big-db", used_mib=40 * 1024 * 1024, provisioned_mib=40 * 1024 * 1024)
    do_run_readiness(scene.wave, acting_user=planner)
    finding = ReadinessFinding.objects.get(wave=scene.wave, rule="target-capacity")
    assert finding.vm_id is None and finding.severity == BLOCKER
    assert "does not fit Small" in finding.message and "vSAN storage" in finding.message


def test_going_over_the_waves_own_caps_is_a_warning(planner):
    scene = make_scene(max_vms=1)
    add_vm(scene, "a")
    add_vm(scene, "b")
    do_run_readiness(scene.wave, acting_user=planner)
    finding = ReadinessFinding.objects.get(wave=scene.wave, rule="wave-caps")
    assert finding.severity == WARNING and "over the cap of 1" in finding.message


# --- switching a VM's migration type ---


def test_switching_a_powered_off_vm_to_cold_clears_its_blocker(scene, planner):
    vm = add_vm(scene, "batch01", power_state=PowerState.OFF)
    first = do_run_readiness(scene.wave, acting_user=planner)
    assert first.blockers == 1
    revision = scene.wave.revision
    change, result = do_switch_migration_type(scene.wave, vm.pk, COLD, acting_user=planner, revision=revision)
    item = WaveItem.objects.get(vm=vm)
    scene.wave.refresh_from_db()
    assert item.migration_type == COLD and scene.wave.revision == revision + 1 == change.revision
    assert result.blockers == 0 and result.current and scene.wave.readiness_revision == scene.wave.revision
    assert ReadinessFinding.objects.filter(wave=scene.wave, severity=BLOCKER).count() == 0
    assert AuditEntry.objects.filter(action="wave.change", object_id=scene.wave.pk).exists()


def test_switching_back_to_the_waves_type_follows_the_wave_again(scene, planner):
    vm = add_vm(scene, migration_type=COLD, power_state=PowerState.OFF)
    do_switch_migration_type(scene.wave, vm.pk, BULK, acting_user=planner)
    assert WaveItem.objects.get(vm=vm).migration_type == ""


def test_a_bad_switch_is_refused_and_changes_nothing(scene, planner):
    from migrations_app.readiness.errors import BadInput, StaleRevision

    vm = add_vm(scene)
    outsider_vm = make_vm(scene.vc, "elsewhere")
    revision = scene.wave.revision
    with pytest.raises(BadInput, match="already migrates with Bulk"):
        do_switch_migration_type(scene.wave, vm.pk, BULK, acting_user=planner)
    with pytest.raises(BadInput, match="not in"):
        do_switch_migration_type(scene.wave, outsider_vm.pk, COLD, acting_user=planner)
    with pytest.raises(BadInput, match="not a migration type"):
        do_switch_migration_type(scene.wave, vm.pk, "teleport", acting_user=planner)
    with pytest.raises(StaleRevision):
        do_switch_migration_type(scene.wave, vm.pk, COLD, acting_user=planner, revision=revision + 5)
    scene.wave.refresh_from_db()
    assert scene.wave.revision == revision and WaveItem.objects.get(vm=vm).migration_type == ""


# --- size ---


def _non_insert_queries(wave, user) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        do_run_readiness(wave, acting_user=user)
    sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    return sum(1 for s in sql if not s.startswith("INSERT")), sum(1 for s in sql if s.startswith("INSERT"))


def test_readiness_on_1000_vms_costs_the_same_reads_as_on_10(planner, django_assert_max_num_queries):
    small, large = make_estate(10, prefix="s-"), make_estate(1000, prefix="l-")
    waves = []
    for name, estate in (("small", small), ("large", large)):
        wave = make_wave(name, estate.vms, remove_isos=False)
        waves.append(wave)
    _non_insert_queries(
        waves[0], planner
    )  # warms the per-process caches (content types, the user's permissions)
    small_reads, _ = _non_insert_queries(waves[0], planner)
    large_reads, large_inserts = _non_insert_queries(waves[1], planner)
    assert small_reads == large_reads <= 25
    findings = ReadinessFinding.objects.filter(wave=waves[1]).count()
    assert findings > 1000  # the estate's spread of power states, tools, hardware versions and ISOs
    assert large_inserts <= findings // 100 + 1  # batched inserts, not one per finding
