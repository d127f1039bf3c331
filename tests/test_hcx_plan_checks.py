"""The HCX deployment-plan checks: each rule fires on a plan that breaks it, with a fix, and a
sound plan has no errors. Expected figures are computed from the inputs and the settings."""

import math

import pytest
from django.conf import settings
from django.utils import timezone

from hcx.choices import LinkType, ManagerSize, MigrationType, ProfileKind, Severity
from hcx.models import HcxNetworkProfilePlan, HcxPlan
from hcx.planning.checks import RULES, check_plan
from inventory.choices import SwitchType
from inventory.models import Network, VCenter, VirtualMachine

LIMITS = settings.HCX_LIMITS

SOUND_PROFILES = {
    ProfileKind.MANAGEMENT: {
        "port_group": "HCX-Mgmt",
        "gateway": "192.168.10.1",
        "prefix_length": 24,
        "ip_ranges": [{"start": "192.168.10.20", "end": "192.168.10.29"}],
    },
    ProfileKind.UPLINK: {
        "port_group": "HCX-Uplink",
        "gateway": "192.168.20.1",
        "prefix_length": 24,
        "ip_ranges": [{"start": "192.168.20.20", "end": "192.168.20.29"}],
    },
    ProfileKind.VMOTION: {
        "port_group": "vMotion",
        "gateway": "192.168.30.1",
        "prefix_length": 24,
        "ip_ranges": [{"start": "192.168.30.20", "end": "192.168.30.22"}],
    },
    ProfileKind.REPLICATION: {
        "port_group": "Replication",
        "gateway": "192.168.40.1",
        "prefix_length": 24,
        "ip_ranges": [{"start": "192.168.40.20", "end": "192.168.40.22"}],
    },
}


def make_network(vcenter, name, switch_type=SwitchType.DISTRIBUTED, vlan_id=100):
    return Network.objects.create(
        vcenter=vcenter,
        name=name,
        switch_type=switch_type,
        vlan_id=vlan_id,
        vlan="" if vlan_id is None else str(vlan_id),
    )


def make_plan(name="Amsterdam", networks=2, profiles=None, **fields) -> HcxPlan:
    """A sound plan; `profiles={"uplink": {...}}` changes a profile, `{"uplink": None}` leaves it out."""
    vcenter = VCenter.objects.get_or_create(name="vc01.example.com")[0]
    values = {
        "name": name,
        "vcenter": vcenter,
        "connector_hostname": "hcx-connector",
        "connector_ip": "192.168.10.9",
        "connector_prefix_length": 24,
        "connector_gateway": "192.168.10.1",
        "dns_servers": ["192.168.1.53"],
        "ntp_servers": ["pool.ntp.org"],
        "avs_block": "10.100.0.0/22",
        "link_type": LinkType.EXPRESSROUTE,
        "bandwidth_mbps": 1000,
        "latency_ms": 20,
        "concurrent_migrations": 50,
        "estate_vm_count": 120,
        # a sound plan gives each network it extends a gateway (rule extension_gateways_given)
        "extension_gateways": {
            f"{name}-VLAN-{100 + number}": f"10.50.{number}.1/24" for number in range(networks)
        },
    }
    values.update(fields)
    plan = HcxPlan(**values)
    plan.full_clean()
    plan.save()
    for number in range(networks):
        plan.networks.add(make_network(vcenter, f"{name}-VLAN-{100 + number}", vlan_id=100 + number))
    merged = {kind: dict(base) for kind, base in SOUND_PROFILES.items()}
    for kind, change in (profiles or {}).items():
        merged[kind] = None if change is None else {**merged[kind], **change}
    for kind, data in merged.items():
        if data is not None:
            profile = HcxNetworkProfilePlan(plan=plan, kind=kind, **data)
            profile.full_clean()
            profile.save()
    return plan


def findings(plan, rule=None, severity=None):
    return [
        f
        for f in check_plan(plan).findings
        if (rule is None or f.rule == rule) and (severity is None or f.severity == severity)
    ]


@pytest.fixture
def sound_plan(db):
    return make_plan()


def test_a_sound_plan_has_no_errors_nor_warnings_and_is_ready(sound_plan):
    report = check_plan(sound_plan)
    assert [f for f in report.findings if f.severity != Severity.INFO] == []
    assert report.ready


def test_every_rule_is_a_named_function_in_the_list():
    names = [r.__name__ for r in RULES]
    assert len(names) == len(set(names)) and all(callable(r) for r in RULES)


def test_every_error_and_warning_says_how_to_fix_it(db):
    broken = make_plan(
        avs_block="8.8.0.0/23",
        link_type=LinkType.VPN,
        bandwidth_mbps=50,
        latency_ms=400,
        networks=17,
        profiles={
            ProfileKind.UPLINK: {
                "mtu": 1500,
                "ip_ranges": [{"start": "192.168.10.25", "end": "192.168.10.40"}],
            },
            ProfileKind.VMOTION: None,
        },
    )
    report = check_plan(broken)
    serious = [f for f in report.findings if f.severity != Severity.INFO]
    assert not report.ready and serious
    assert all(f.fix and f.message and f.subject for f in serious), [f for f in serious if not f.fix]


def test_a_range_overlapping_the_avs_block_is_an_error(db):
    plan = make_plan(
        profiles={
            ProfileKind.UPLINK: {
                "gateway": "10.100.1.1",
                "ip_ranges": [{"start": "10.100.1.10", "end": "10.100.1.20"}],
            }
        }
    )
    [finding] = findings(plan, "avs-overlap")
    assert finding.severity == Severity.ERROR
    assert "10.100.1.10-10.100.1.20" in finding.message and "10.100.0.0/22" in finding.message
    assert "Uplink" in finding.subject and finding.fix
    assert not check_plan(plan).ready


def test_the_connector_inside_the_avs_block_is_an_error(db):
    plan = make_plan(avs_block="192.168.8.0/22")
    messages = [f.message for f in findings(plan, "avs-overlap")]
    assert any("Connector address 192.168.10.9" in m for m in messages)


def test_a_range_outside_its_subnet_is_an_error(db):
    plan = make_plan(
        profiles={ProfileKind.MANAGEMENT: {"ip_ranges": [{"start": "192.168.11.20", "end": "192.168.11.29"}]}}
    )
    [finding] = findings(plan, "range-subnet")
    assert finding.severity == Severity.ERROR and "192.168.10.0/24" in finding.message
    assert "192.168.10.1" in finding.fix and "192.168.10.254" in finding.fix


def test_a_range_holding_the_broadcast_address_is_an_error(db):
    plan = make_plan(
        profiles={ProfileKind.VMOTION: {"ip_ranges": [{"start": "192.168.30.250", "end": "192.168.30.255"}]}}
    )
    [finding] = findings(plan, "range-subnet")
    assert "broadcast" in finding.message


def test_a_gateway_inside_a_range_is_an_error(db):
    plan = make_plan(profiles={ProfileKind.REPLICATION: {"gateway": "192.168.40.21"}})
    [finding] = findings(plan, "gateway")
    assert finding.severity == Severity.ERROR and "192.168.40.21" in finding.message and finding.fix


def test_overlapping_ranges_within_and_across_profiles_are_errors(db):
    within = make_plan(
        "Within",
        profiles={
            ProfileKind.UPLINK: {
                "ip_ranges": [
                    {"start": "192.168.20.20", "end": "192.168.20.29"},
                    {"start": "192.168.20.25", "end": "192.168.20.40"},
                ]
            }
        },
    )
    assert len(findings(within, "range-overlap", Severity.ERROR)) == 1
    # vMotion reusing the management port group with a range that collides with the management pool
    across = make_plan(
        "Across",
        profiles={
            ProfileKind.VMOTION: {
                "gateway": "192.168.10.1",
                "ip_ranges": [{"start": "192.168.10.28", "end": "192.168.10.30"}],
            }
        },
    )
    [finding] = findings(across, "range-overlap")
    assert "Management" in finding.subject and "vMotion" in finding.subject


def test_the_avs_block_must_be_a_private_22(db):
    assert findings(make_plan("Wide", avs_block="10.100.0.0/21"), "avs-block", Severity.ERROR)
    public = findings(make_plan("Public", avs_block="8.8.0.0/22"), "avs-block", Severity.ERROR)
    assert [f.message for f in public] == ["8.8.0.0/22 is not a private (RFC 1918) range."]


def test_the_connector_must_be_on_the_management_subnet_and_outside_its_pool(db):
    outside = make_plan("Outside", connector_ip="192.168.99.9")
    assert any(
        "not inside the management subnet" in f.message
        for f in findings(outside, "connector", Severity.ERROR)
    )
    inside_pool = make_plan("InPool", connector_ip="192.168.10.25")
    assert any(
        "inside the Management profile range" in f.message
        for f in findings(inside_pool, "connector", Severity.ERROR)
    )


@pytest.mark.parametrize("wan_opt", [False, True])
def test_seventeen_extended_networks_need_three_network_extenders_worth_of_addresses(db, wan_opt):
    per_ne = LIMITS["NETWORKS_PER_NE_APPLIANCE"]
    needed = 1 + math.ceil(17 / per_ne) + (1 if wan_opt else 0)  # IX + NEs (+ WAN-opt)
    last = 20 + needed - 2  # one address short
    plan = make_plan(
        networks=17,
        wan_opt=wan_opt,
        profiles={
            ProfileKind.UPLINK: {"ip_ranges": [{"start": "192.168.20.20", "end": f"192.168.20.{last}"}]}
        },
    )
    [finding] = findings(plan, "addresses")
    assert finding.severity == Severity.ERROR and "Uplink" in finding.subject
    assert f"holds {needed - 1} address" in finding.message and f"needs {needed}" in finding.message
    # The count is explained in words a reader checks, not in a formula.
    assert (
        f"{math.ceil(17 / per_ne)} Network Extension (17 extended networks, up to {per_ne} per appliance)"
        in finding.message
    )
    assert "ceil(" not in finding.message and "IX " not in finding.message
    assert ("1 WAN Optimization" in finding.message) == wan_opt
    assert "Add 1 more address" in finding.fix


def test_exactly_enough_addresses_is_enough(db):
    needed = 1 + math.ceil(17 / LIMITS["NETWORKS_PER_NE_APPLIANCE"])
    plan = make_plan(
        networks=17,
        profiles={
            ProfileKind.UPLINK: {
                "ip_ranges": [{"start": "192.168.20.20", "end": f"192.168.20.{20 + needed - 1}"}]
            },
            ProfileKind.VMOTION: {"ip_ranges": [{"start": "192.168.30.20", "end": "192.168.30.20"}]},
        },
    )
    assert findings(plan, "addresses") == []


def test_vpn_with_uplink_mtu_1500_is_an_error(db):
    plan = make_plan(link_type=LinkType.VPN, profiles={ProfileKind.UPLINK: {"mtu": 1500}})
    [finding] = findings(plan, "mtu")
    assert finding.severity == Severity.ERROR and str(LIMITS["VPN_UPLINK_MTU_MAX"]) in finding.fix
    fixed = make_plan(
        "Fixed", link_type=LinkType.VPN, profiles={ProfileKind.UPLINK: {"mtu": LIMITS["VPN_UPLINK_MTU_MAX"]}}
    )
    assert findings(fixed, "mtu") == []


def test_mtu_outside_the_supported_range_is_an_error(db):
    plan = make_plan(
        profiles={
            ProfileKind.VMOTION: {"mtu": LIMITS["MTU_MAX"] + 1},
            ProfileKind.REPLICATION: {"mtu": LIMITS["MTU_MIN"] - 1},
        }
    )
    assert sorted(f.subject for f in findings(plan, "mtu", Severity.ERROR)) == [
        "Replication profile",
        "vMotion profile",
    ]


def test_a_50_mbps_link_allows_neither_vmotion_nor_rav(db):
    plan = make_plan(bandwidth_mbps=50)
    report = check_plan(plan)
    assert MigrationType.VMOTION not in report.facts.allowed_migration_types
    assert MigrationType.RAV not in report.facts.allowed_migration_types
    assert MigrationType.BULK in report.facts.allowed_migration_types
    warned = {f.subject for f in findings(plan, "link", Severity.WARNING)}
    assert {"HCX vMotion over the link", "Replication Assisted vMotion over the link"} <= warned
    [summary] = findings(plan, "link", Severity.INFO)
    assert "allows: Bulk." in summary.message


def test_a_link_between_the_vmotion_and_rav_minimums_allows_vmotion_only(db):
    between = (LIMITS["MIN_MBPS_VMOTION"] + LIMITS["MIN_MBPS_RAV"]) // 2
    assert LIMITS["MIN_MBPS_VMOTION"] <= between < LIMITS["MIN_MBPS_RAV"]
    allowed = check_plan(make_plan(bandwidth_mbps=between)).facts.allowed_migration_types
    assert (
        MigrationType.VMOTION in allowed
        and MigrationType.COLD in allowed
        and MigrationType.RAV not in allowed
    )


def test_high_latency_rules_out_vmotion(db):
    plan = make_plan(latency_ms=LIMITS["MAX_LATENCY_MS_VMOTION"] + 1)
    assert MigrationType.VMOTION not in check_plan(plan).facts.allowed_migration_types
    assert any("round trip" in f.message for f in findings(plan, "link", Severity.WARNING))


def test_a_standard_vswitch_network_cannot_be_extended(db):
    plan = make_plan(networks=0)
    plan.networks.add(make_network(plan.vcenter, "VM Network", switch_type=SwitchType.STANDARD, vlan_id=12))
    [finding] = findings(plan, "extend")
    assert finding.severity == Severity.ERROR and "standard vSwitch" in finding.message and finding.fix


@pytest.mark.parametrize("vlan_id", [None, 0])
def test_a_network_without_a_vlan_cannot_be_extended(db, vlan_id):
    plan = make_plan(networks=0)
    plan.networks.add(make_network(plan.vcenter, "Untagged", vlan_id=vlan_id))
    [finding] = findings(plan, "extend")
    assert finding.severity == Severity.ERROR and "no single VLAN" in finding.message


def test_missing_uplink_is_an_error_but_vmotion_on_management_only_a_warning(db):
    no_uplink = make_plan("NoUplink", profiles={ProfileKind.UPLINK: None})
    assert [f.subject for f in findings(no_uplink, "profiles", Severity.ERROR)] == ["Uplink profile"]
    shared = make_plan("Shared", profiles={ProfileKind.VMOTION: None, ProfileKind.REPLICATION: None})
    report = check_plan(shared)
    assert report.ready
    assert sorted(f.subject for f in findings(shared, "profiles", Severity.WARNING)) == [
        "Replication profile",
        "vMotion profile",
    ]


@pytest.mark.parametrize(
    "vms",
    [
        LIMITS["MANAGER_MEDIUM_FROM_VMS"] - 1,
        LIMITS["MANAGER_MEDIUM_FROM_VMS"],
        LIMITS["MANAGER_LARGE_ABOVE_VMS"],
        LIMITS["MANAGER_LARGE_ABOVE_VMS"] + 1,
    ],
)
def test_the_cloud_manager_size_follows_the_estate(db, vms):
    expected = (
        ManagerSize.SMALL
        if vms < LIMITS["MANAGER_MEDIUM_FROM_VMS"]
        else ManagerSize.MEDIUM
        if vms <= LIMITS["MANAGER_LARGE_ABOVE_VMS"]
        else ManagerSize.LARGE
    )
    [finding] = findings(make_plan(estate_vm_count=vms), "manager-size")
    assert f"{vms} VMs" in finding.message and str(ManagerSize(expected).label) in finding.message
    assert (f"ScaleFormFactor {expected}" in finding.fix) == (expected != ManagerSize.SMALL)


def test_the_estate_defaults_to_the_vcenters_vms_that_still_exist(db):
    plan = make_plan(estate_vm_count=None)
    for number in range(5):
        VirtualMachine.objects.create(
            vcenter=plan.vcenter,
            moid=f"vm-{number}",
            name=f"vm{number}",
            removed=timezone.now() if number == 0 else None,
        )
    assert check_plan(plan).facts.vm_count == 4


def test_the_required_ports_are_listed(sound_plan):
    ports = {f.subject: f.message for f in findings(sound_plan, "ports", Severity.INFO)}
    assert "UDP 4500" in ports and "192.168.20.20-192.168.20.29" in ports["UDP 4500"]
    assert {"TCP 443", "TCP 9443", "TCP 902", "TCP 8000"} <= set(ports)
    assert any(
        "10.100.0.9" in f.message for f in findings(sound_plan, "ports")
    )  # the Cloud Manager at x.x.x.9


def test_checking_a_plan_takes_the_same_queries_whatever_its_size(db, django_assert_max_num_queries):
    small, large = make_plan("Small", networks=1), make_plan("Large", networks=40)
    for plan in (small, large):
        with django_assert_max_num_queries(3):  # the plan with its vCenter, its profiles, its networks
            check_plan(HcxPlan.objects.select_related("vcenter").get(pk=plan.pk))


def test_a_network_to_extend_without_a_gateway_is_an_error_saying_where_to_give_it(db):
    plan = make_plan(networks=2, extension_gateways={"Amsterdam-VLAN-100": "10.50.0.1/24"})
    [finding] = findings(plan, "extension-gateway")
    assert finding.severity == Severity.ERROR and finding.subject == "Network Amsterdam-VLAN-101"
    assert "gives no gateway" in finding.message
    assert (
        '"gateways of the extended networks"' in finding.fix
        and '{"Amsterdam-VLAN-101": "10.10.41.1/24"}' in finding.fix
    )
    assert not check_plan(plan).ready


def test_a_gateway_for_a_network_not_selected_is_a_warning(db):
    gateways = {"Amsterdam-VLAN-100": "10.50.0.1/24", "Old-VLAN-7": "10.7.0.1/24"}
    plan = make_plan(networks=1, extension_gateways=gateways)
    [finding] = findings(plan, "extension-gateway")
    assert finding.severity == Severity.WARNING and finding.subject == "Gateway of Old-VLAN-7"
    assert "not among the networks to extend" in finding.message and "Select Old-VLAN-7" in finding.fix
    assert check_plan(plan).ready
