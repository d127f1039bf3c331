"""The auto-planner and the target cluster: a proposal shares what the cluster has left (usable after
N+1, FTT and slack, less every wave already planned into it) between its waves, plans only VMs the
site's HCX reaches, says why anything was left out, and accepting it never blocks a wave planned
before. The capacity figures come from waves/capacity.py, so every expectation is read from there."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.choices import PowerState
from migrations_app.choices import FindingSeverity, Risk, WaveStatus
from migrations_app.models import DependencyGroup, GroupMember, PlanProposal, ReadinessFinding, Wave, WaveItem
from migrations_app.planner.autoplan import PlanInputs, Room, Unit, plan_waves
from migrations_app.planner.calendar import WindowCalendar
from migrations_app.planner.estimates import Load, assumptions_for, estimate_loads
from migrations_app.planner.proposals import AcceptRefused, CannotPlan, ProposalRequest, do_accept, do_propose
from migrations_app.readiness.actions import do_run_readiness
from migrations_app.waves.capacity import fit_for_wave, other_waves_totals, usable_capacity
from tests.factories import make_link_site, make_target_cluster, make_vcenter, make_vm, make_wave

pytestmark = pytest.mark.django_db

GIB = 1024
TB = 1024 * 1024
SATURDAY_NIGHT = datetime(2031, 1, 4, 22, 0, tzinfo=UTC)


@pytest.fixture
def vc():
    return make_vcenter("vc1.example.com")


@pytest.fixture
def site(vc):
    return make_link_site(bandwidth_mbps=10000, vcenter=vc)


@pytest.fixture
def cluster(site):
    # AV36, 3 hosts: 288 vCPUs, 1152 GB, about 15.55 TB of vSAN (waves/capacity.py).
    return make_target_cluster(site, "Cluster-1", sku="AV36", hosts=3, ftt=1)


def group_of(vc, name, vms=2, *, tb=1.0, vcpus=2, memory_gib=8):
    group = DependencyGroup.objects.create(name=name)
    members = [
        make_vm(
            vc,
            f"{name}-{i}",
            used_mib=int(tb * TB),
            provisioned_mib=int(tb * TB),
            num_cpu=vcpus,
            memory_mib=memory_gib * GIB,
            power_state=PowerState.ON,
        )
        for i in range(vms)
    ]
    GroupMember.objects.bulk_create(GroupMember(group=group, vm=vm) for vm in members)
    return group, members


def propose(site, cluster=None, user=None, **inputs):
    calendar = WindowCalendar(first_start=SATURDAY_NIGHT, hours=8, weekdays=frozenset({5}), time_zone="UTC")
    inputs.setdefault("max_tb", 100)
    request = ProposalRequest(
        inputs=PlanInputs(**inputs), calendar=calendar, site=site, target_cluster=cluster
    )
    return do_propose(request, acting_user=user)


def tb_text(tb: float) -> str:
    return f"{tb:,.1f} TiB" if tb >= 1 else f"{tb:.2f} TiB"


# --- the cluster's room -----------------------------------------------------------------------


def test_it_proposes_no_more_than_the_cluster_has_left_and_says_what_did_not_fit(vc, site, cluster, planner):
    earlier = make_wave(
        "Earlier",
        [make_vm(vc, f"old-{i}", used_mib=TB, num_cpu=2, memory_mib=8 * GIB) for i in range(5)],
        target_cluster=cluster,
        site=site,
        sequence=10,
    )
    for i in range(8):
        group_of(vc, f"app-{i}", tb=1.0)  # 16 TB asked for, about 10.5 TB left
    usable = usable_capacity(cluster)
    planned, _ = other_waves_totals(cluster)
    data = propose(site, cluster, planner, max_vms=4, include_ungrouped=False).data

    use = data["cluster_use"]
    assert use["cluster"] == "Cluster-1" and use["planned"]["waves"] == 1
    assert use["usable"]["storage_tb"] == pytest.approx(usable.storage_tb, abs=1e-3)
    assert use["planned"]["storage_tb"] == pytest.approx(planned.used_tb, abs=1e-3)
    # Wave by wave, already planned + proposed so far, never above usable.
    running = planned.used_tb
    for wave, row in zip(data["waves"], use["waves"], strict=True):
        running += wave["need"]["storage_tb"]
        assert row["name"] == wave["name"] and row["total"]["storage_tb"] == pytest.approx(running, abs=1e-2)
        assert row["total"]["storage_tb"] <= usable.storage_tb
        assert row["total"]["vcpus"] <= usable.vcpus and row["total"]["memory_gb"] <= usable.memory_gb
    placed = sum(w["vm_count"] for w in data["waves"])
    assert placed == 2 * int(
        (usable.storage_tb - planned.used_tb) // 2
    )  # whole groups of 2 TB, as many as fit
    # Each group left out says it needs 2 TB and how much was left after the wave that could not take it.
    left_out = data["unplaced"]
    assert len(left_out) == 8 - placed // 2 and all(u["group"] for u in left_out)
    totals = {row["name"]: row["total"]["storage_tb"] for row in use["waves"]}
    for u in left_out:
        match = re.fullmatch(
            r"no room left in Cluster-1: needs 2\.0 TiB of vSAN storage, (.+) left after (Wave \d\d)",
            u["why"],
        )
        assert match, u["why"]
        assert match[1] == tb_text(usable.storage_tb - totals[match[2]])
    assert data["summary"]["fit"] is True
    assert data["waves"][-1]["why"].endswith(
        "Closed because Cluster-1 has no room left for the rest (see Not placed)."
    )

    # Accepted, every wave into the cluster fits, the earlier one included: nothing is blocked.
    created = do_accept(PlanProposal.objects.get(), None, acting_user=planner)
    for wave in [earlier, *created]:
        assert fit_for_wave(wave).fits, wave.name
    do_run_readiness(earlier, acting_user=planner)
    assert not ReadinessFinding.objects.filter(wave=earlier, rule="target-capacity").exists()


def test_vcpus_and_memory_count_as_well(vc, site, cluster, planner):
    make_wave(
        "Earlier",
        [make_vm(vc, "old", used_mib=GIB, num_cpu=200, memory_mib=1000 * GIB)],
        target_cluster=cluster,
        sequence=10,
    )
    cpu_hungry, _ = group_of(vc, "cpu-hungry", vms=1, tb=0.01, vcpus=100, memory_gib=8)
    memory_hungry, _ = group_of(vc, "memory-hungry", vms=1, tb=0.01, vcpus=2, memory_gib=200)
    small, _ = group_of(vc, "small", vms=1, tb=0.01, vcpus=8, memory_gib=16)
    data = propose(site, cluster, planner, include_ungrouped=False).data
    usable = usable_capacity(cluster)
    why = {u["name"]: u["why"] for u in data["unplaced"]}
    assert why["cpu-hungry"] == (
        f"no room left in Cluster-1: needs 100 vCPUs, {usable.vcpus - 200:,.0f} left "
        "after the 1 wave already planned into it"
    )
    assert why["memory-hungry"] == (
        f"no room left in Cluster-1: needs 200 GiB of memory, {usable.memory_gb - 1000:,.0f} GiB "
        "left after the 1 wave already planned into it"
    )
    assert [w["groups"] for w in data["waves"]] == [[small.pk]]


def test_without_room_at_all_nothing_is_proposed_into_the_cluster(vc, site, cluster, planner):
    usable = usable_capacity(cluster)
    make_wave(
        "Full", [make_vm(vc, "huge", used_mib=int(usable.storage_tb * TB) + TB)], target_cluster=cluster
    )
    group_of(vc, "app", vms=1, tb=0.5)
    data = propose(site, cluster, planner, include_ungrouped=False).data
    assert data["waves"] == [] and data["cluster_use"]["waves"] == []
    assert data["unplaced"][0]["why"] == (
        "no room left in Cluster-1: needs 0.50 TiB of vSAN storage, 0.00 TiB left "
        "after the 1 wave already planned into it"
    )


def test_the_rule_in_memory_room_shrinks_wave_by_wave():
    """The algorithm alone: 1-TB units into 3.5 TB, two per wave; the fourth finds 0.5 TB after wave 2."""

    class Link:
        bandwidth_mbps = 10000

    units = [
        Unit(key=f"v{i}", name=f"vm-{i}", vm_ids=[i], loads={"bulk": Load("bulk", 1, TB, TB)}, storage_mib=TB)
        for i in range(5)
    ]
    room = Room("C", usable=(100, 100 * GIB, 3.5 * TB), planned=(0, 0, 0), label=lambda n: f"W{n}")
    calendar = WindowCalendar(first_start=SATURDAY_NIGHT, hours=8, weekdays=frozenset({5}))
    result = plan_waves(units, [], PlanInputs(max_vms=2, max_tb=100), assumptions_for(Link()), calendar, room)
    assert [len(w.units) for w in result.waves] == [2, 1]
    assert [why for _, why in result.unplaced] == [
        "no room left in C: needs 1.0 TiB of vSAN storage, 0.50 TiB left after W2"
    ] * 2


def test_the_pilot_takes_its_share_of_the_room_too():
    class Link:
        bandwidth_mbps = 10000

    units = [
        Unit(
            key=f"g{i}",
            name=f"low-{i}",
            vm_ids=[i],
            group_id=i,
            risk=Risk.LOW,
            storage_mib=TB,
            loads={"bulk": Load("bulk", 1, TB, TB)},
        )
        for i in range(2)
    ]
    room = Room("C", usable=(100, 100 * GIB, 2.5 * TB), planned=(0, 0, 1 * TB), planned_waves=1)
    calendar = WindowCalendar(first_start=SATURDAY_NIGHT, hours=8, weekdays=frozenset({5}))
    result = plan_waves(units, [], PlanInputs(pilot_max_tb=5), assumptions_for(Link()), calendar, room)
    assert [(w.pilot, [u.name for u in w.units]) for w in result.waves] == [(True, ["low-0"])]
    assert (
        result.waves[0].closed_because == "C has no room left for the other low-risk groups (see Not placed)"
    )
    assert [why for _, why in result.unplaced] == [
        "no room left in C: needs 1.0 TiB of vSAN storage, 0.50 TiB left after wave 1"
    ]


def test_without_a_target_cluster_the_proposal_says_capacity_is_not_checked(vc, site, planner, client_for):
    group_of(vc, "app", vms=1)
    proposal = propose(site, None, planner, include_ungrouped=False)
    assert proposal.data["cluster_use"] is None
    page = client_for(planner).get(f"/plan/proposals/{proposal.pk}/").content.decode()
    assert "does not check capacity" in page


# --- what the site's HCX reaches --------------------------------------------------------------


def test_vms_of_a_vcenter_the_sites_hcx_does_not_manage_are_left_out_with_why(vc, site, cluster, planner):
    vc2 = make_vcenter("vc2.example.com")
    near, _ = group_of(vc, "near", vms=2, tb=0.1)
    far, _ = group_of(vc2, "far", vms=2, tb=0.1)
    mixed = DependencyGroup.objects.create(name="mixed")
    GroupMember.objects.create(group=mixed, vm=make_vm(vc, "mixed-here", used_mib=GIB))
    GroupMember.objects.create(group=mixed, vm=make_vm(vc2, "mixed-there", used_mib=GIB))
    loose_near = make_vm(vc, "loose-near", used_mib=GIB)
    make_vm(vc2, "loose-far", used_mib=GIB)
    data = propose(site, cluster, planner).data

    planned_vms = {v for w in data["waves"] for v in w["vms"]}
    assert planned_vms == set(near.members.values_list("vm_id", flat=True)) | {loose_near.pk}
    why = {u["name"]: u["why"] for u in data["unplaced"]}
    assert why == {
        "far": "2 of its 2 VMs (far-0, far-1) are in vCenter vc2.example.com, which this site's HCX does not manage "
        "(it manages vc1.example.com); the group moves whole or not at all",
        "mixed": "1 of its 2 VMs (mixed-there) are in vCenter vc2.example.com, which this site's HCX does not manage "
        "(it manages vc1.example.com); the group moves whole or not at all",
        "loose-far": "vCenter vc2.example.com is not managed by this site's HCX (it manages vc1.example.com)",
    }
    assert {u.get("group") for u in data["unplaced"] if "group" in u} == {far.pk, mixed.pk}


def test_a_site_whose_hcx_plan_names_no_vcenter_cannot_be_planned(vc, planner, client_for):
    group_of(vc, "app", vms=1)
    site = make_link_site("Nowhere")
    with pytest.raises(CannotPlan, match="names no on-premises vCenter"):
        propose(site, None, planner)
    from tests.test_planner_pages import form_data

    response = client_for(planner).post("/plan/autoplan/", form_data(site))
    assert response.status_code == 400 and "names no on-premises vCenter" in response.content.decode()
    assert not PlanProposal.objects.exists()


# --- accepting never blocks a wave planned before ----------------------------------------------


def test_a_later_wave_does_not_count_against_an_earlier_one(vc, cluster, planner):
    usable = usable_capacity(cluster)
    half = int(usable.storage_tb * 0.6 * TB)
    first = make_wave("First", [make_vm(vc, "a", used_mib=half)], target_cluster=cluster, sequence=10)
    second = make_wave("Second", [make_vm(vc, "b", used_mib=half)], target_cluster=cluster, sequence=20)
    assert fit_for_wave(first).fits  # Second moves later: it is the one the cluster has no room for
    assert not fit_for_wave(second).fits
    do_run_readiness(first, acting_user=planner)
    assert not ReadinessFinding.objects.filter(wave=first, rule="target-capacity").exists()
    do_run_readiness(second, acting_user=planner)
    assert (
        ReadinessFinding.objects.get(wave=second, rule="target-capacity").severity == FindingSeverity.BLOCKER
    )
    # Waves already running or completed count whatever their order: their VMs are there.
    Wave.objects.filter(pk=second.pk).update(status=WaveStatus.COMPLETED)
    assert not fit_for_wave(first).fits


def test_accepting_is_refused_when_the_cluster_filled_up_since_the_proposal(vc, site, cluster, planner):
    group_of(vc, "app", vms=2, tb=3.0)
    proposal = propose(site, cluster, planner, include_ungrouped=False)
    assert proposal.data["waves"]
    usable = usable_capacity(cluster)
    make_wave(
        "Meanwhile",
        [make_vm(vc, "big", used_mib=int((usable.storage_tb - 4) * TB))],
        target_cluster=cluster,
        sequence=1,
    )
    with pytest.raises(
        AcceptRefused, match=r"Wave 01 no longer fits Cluster-1: vSAN storage \(used\).*Nothing was created"
    ):
        do_accept(proposal, None, acting_user=planner)
    assert list(Wave.objects.values_list("name", flat=True)) == ["Meanwhile"]


def test_accepting_is_refused_when_it_would_leave_a_wave_planned_after_it_without_room(
    vc, site, cluster, planner
):
    group_of(vc, "app", vms=2, tb=3.0)
    proposal = propose(site, cluster, planner, include_ungrouped=False)
    usable = usable_capacity(cluster)
    later = make_wave(
        "Later",
        [make_vm(vc, "big", used_mib=int((usable.storage_tb - 4) * TB))],
        target_cluster=cluster,
        sequence=proposal.data["waves"][-1]["sequence"] + 100,
    )
    assert fit_for_wave(later).fits
    with pytest.raises(AcceptRefused, match="would leave no room in Cluster-1 for Later"):
        do_accept(proposal, None, acting_user=planner)
    assert fit_for_wave(later).fits and Wave.objects.count() == 1


def test_accepting_checks_capacity_in_the_same_queries_however_many_waves(vc, site, cluster, planner):
    def accept_all(groups):
        Wave.objects.all().delete()
        PlanProposal.objects.all().delete()
        DependencyGroup.objects.all().delete()
        for i in range(groups):
            group_of(vc, f"g{groups}-{i}", vms=1, tb=0.01)
        proposal = propose(site, cluster, planner, max_vms=1, include_ungrouped=False)
        with CaptureQueriesContext(connection) as captured:
            waves = do_accept(proposal, None, acting_user=planner)
        assert len(waves) == groups
        return len(captured)

    assert accept_all(2) == accept_all(9)


def test_proposing_costs_the_same_queries_however_many_vms_and_vcenters(vc, site, cluster, planner):
    def queries(groups):
        PlanProposal.objects.all().delete()
        for i in range(groups):
            group_of(
                make_vcenter(f"vc-{groups}-{i}.example.com") if i % 2 else vc,
                f"g{groups}-{i}",
                vms=3,
                tb=0.01,
            )
        with CaptureQueriesContext(connection) as captured:
            data = propose(site, cluster, planner, include_ungrouped=False).data
        assert len(data["unplaced"]) >= groups // 2
        return len(captured)

    assert queries(4) == queries(20)


# --- estimates ---------------------------------------------------------------------------------


def test_an_empty_wave_does_not_fit_its_window(site, planner, client_for):
    class Link:
        bandwidth_mbps = 1000

    estimate = estimate_loads({}, assumptions_for(Link()), 8 * 3600)
    assert estimate.fits is None and estimate.verdict == "No VMs yet."
    wave = make_wave(
        "Empty", site=site, window_start=SATURDAY_NIGHT, window_end=SATURDAY_NIGHT.replace(hour=23)
    )
    page = client_for(planner).get(wave.get_absolute_url()).content.decode()
    assert "Fits its window" not in page and "No VMs yet." in page
    assert WaveItem.objects.count() == 0
