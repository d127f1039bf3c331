"""The auto-planner: groups stay whole, caps and windows hold, the pilot goes first, dependencies
order the waves, and what cannot be placed says why."""

from datetime import UTC, date, datetime

import pytest

from hcx.choices import MigrationType
from inventory.choices import PowerState
from migrations_app.choices import Risk
from migrations_app.models import (
    Dependency,
    DependencyGroup,
    Endpoint,
    GroupMember,
    PlanProposal,
    Wave,
    WaveItem,
)
from migrations_app.planner.autoplan import PlanInputs, Unit, plan_waves
from migrations_app.planner.calendar import WindowCalendar, parse_blackouts
from migrations_app.planner.estimates import Load, assumptions_for
from migrations_app.planner.proposals import NothingToPlan, ProposalRequest, do_propose
from tests.factories import make_link_site, make_vcenter, make_vm

GIB = 1024
TB = 1024 * 1024
SATURDAY_NIGHT = datetime(2031, 1, 4, 22, 0, tzinfo=UTC)  # a Saturday


@pytest.fixture
def vc(db):
    return make_vcenter()


@pytest.fixture
def site(vc):
    return make_link_site(bandwidth_mbps=1000, vcenter=vc)  # its HCX manages vc


def make_group(vc, name, vms=2, *, priority=100, risk=Risk.MEDIUM, gib=50, power=PowerState.ON):
    group = DependencyGroup.objects.create(name=name, priority=priority, risk=risk)
    members = [
        make_vm(vc, f"{name}-{i}", used_mib=gib * GIB, provisioned_mib=gib * GIB, power_state=power)
        for i in range(vms)
    ]
    GroupMember.objects.bulk_create(GroupMember(group=group, vm=vm) for vm in members)
    return group, members


def connect(source_vm, destination_vm, port=443):
    """source_vm calls destination_vm: the source's group depends on the destination's."""
    src = Endpoint.objects.get_or_create(vm=source_vm)[0]
    dst = Endpoint.objects.get_or_create(vm=destination_vm)[0]
    Dependency.objects.create(source=src, destination=dst, port=port)


def propose(site, user=None, *, hours=8, weekdays=(5,), blackouts=(), max_windows=52, **inputs):
    calendar = WindowCalendar(
        first_start=SATURDAY_NIGHT,
        hours=hours,
        weekdays=frozenset(weekdays),
        time_zone="UTC",
        blackouts=frozenset(blackouts),
        max_windows=max_windows,
    )
    request = ProposalRequest(inputs=PlanInputs(**inputs), calendar=calendar, site=site)
    return do_propose(request, acting_user=user).data


def wave_of_group(data):
    return {g: w["number"] for w in data["waves"] for g in w["groups"]}


def test_it_never_splits_a_group_and_respects_the_caps(vc, site):
    groups = [make_group(vc, f"app-{i}", vms=3 + i % 4, gib=200)[0] for i in range(12)]
    data = propose(site, max_vms=10, max_tb=1.5, include_ungrouped=False)
    placed = wave_of_group(data)
    assert sorted(placed) == sorted(g.pk for g in groups)
    for w in data["waves"]:
        assert w["vm_count"] <= 10 and w["tb"] <= 1.5
        for unit in w["units"]:
            members = set(GroupMember.objects.filter(group_id=unit["group"]).values_list("vm_id", flat=True))
            assert set(unit["vm_ids"]) == members  # the whole group, in this wave
    all_vms = [v for w in data["waves"] for v in w["vms"]]
    assert len(all_vms) == len(set(all_vms))


def test_the_pilot_goes_first_and_is_small_and_low_risk(vc, site):
    make_group(vc, "payroll", vms=4, priority=1, risk=Risk.HIGH)
    make_group(vc, "wiki", vms=2, priority=300, risk=Risk.LOW)
    make_group(vc, "intranet", vms=3, priority=300, risk=Risk.LOW)
    big_low, _ = make_group(vc, "archive", vms=12, priority=300, risk=Risk.LOW)
    data = propose(site, pilot_max_vms=6, include_ungrouped=False)
    pilot = data["waves"][0]
    assert pilot["pilot"] is True and pilot["number"] == 1
    names = [u["name"] for u in pilot["units"]]
    assert names == ["wiki", "intranet"]
    assert all(u["risk"] == Risk.LOW for u in pilot["units"])
    assert "Pilot" in pilot["why"] and "low-risk" in pilot["why"]
    # After the pilot, priority decides: payroll (priority 1) leads the next wave.
    assert data["waves"][1]["units"][0]["name"] == "payroll"
    assert big_low.pk not in pilot["groups"]  # low risk, but bigger than the pilot's cap
    assert not any(w["pilot"] for w in data["waves"][1:])


def test_without_low_risk_groups_there_is_no_pilot_and_it_says_why(vc, site):
    make_group(vc, "erp", vms=2, risk=Risk.HIGH)
    data = propose(site, include_ungrouped=False)
    assert not data["waves"][0]["pilot"]
    assert "No pilot" in data["pilot_note"]


def test_a_dependency_moves_with_or_before_what_needs_it(vc, site):
    # web calls db; db has a lower urgency but web's priority pulls it forward.
    db, db_vms = make_group(vc, "db", vms=4, priority=500)
    web, web_vms = make_group(vc, "web", vms=4, priority=10)
    other, _ = make_group(vc, "other", vms=4, priority=50)
    connect(web_vms[0], db_vms[0], 1433)
    data = propose(site, max_vms=4, include_ungrouped=False)
    placed = wave_of_group(data)
    assert placed[db.pk] < placed[web.pk] < placed[other.pk]
    web_wave = next(w for w in data["waves"] if web.pk in w["groups"])
    assert "follows what it depends on" in web_wave["why"]


def test_connected_groups_move_together_when_they_fit(vc, site):
    db, db_vms = make_group(vc, "db", vms=2, priority=500)
    web, web_vms = make_group(vc, "web", vms=2, priority=10)
    make_group(vc, "filler", vms=2, priority=20)
    connect(web_vms[0], db_vms[0])
    data = propose(site, max_vms=4, include_ungrouped=False)
    placed = wave_of_group(data)
    assert placed[db.pk] == placed[web.pk]


def test_a_cycle_between_groups_is_reported(vc, site):
    a, a_vms = make_group(vc, "a", vms=2)
    b, b_vms = make_group(vc, "b", vms=2)
    connect(a_vms[0], b_vms[0])
    connect(b_vms[1], a_vms[1])
    data = propose(site, include_ungrouped=False)
    assert len(data["cycles"]) == 1
    assert sorted(data["cycles"][0]["names"]) == ["a", "b"] and data["cycles"][0]["together"] is True
    assert wave_of_group(data)[a.pk] == wave_of_group(data)[b.pk]
    # Too big to move together: reported, and placed one by one.
    data = propose(site, max_vms=2, include_ungrouped=False)
    assert data["cycles"][0]["together"] is False and "one by one" in data["cycles"][0]["why"]
    assert wave_of_group(data)[a.pk] != wave_of_group(data)[b.pk]


def test_what_cannot_be_placed_is_listed_with_why(vc, site):
    too_many, _ = make_group(vc, "too-many", vms=6)
    too_big, _ = make_group(vc, "too-big", vms=1, gib=3 * 1024)
    slow, _ = make_group(
        vc, "slow", vms=1, gib=2 * 1024, power=PowerState.OFF
    )  # Cold: 2 TB inside the window
    planned, planned_vms = make_group(vc, "half-planned", vms=2)
    empty = DependencyGroup.objects.create(name="empty")
    fine, _ = make_group(vc, "fine", vms=2)
    wave = Wave.objects.create(name="Earlier")
    WaveItem.objects.create(wave=wave, vm=planned_vms[0])
    data = propose(site, max_vms=5, max_tb=2.5, include_ungrouped=False)
    why = {u["name"]: u["why"] for u in data["unplaced"]}
    assert "more than the cap of 5 VMs" in why["too-many"]
    assert "more than the cap of 2.5 TiB" in why["too-big"]
    assert "longer than the 8 h 00 min window" in why["slow"]
    assert "1 of its 2 VMs are already in wave Earlier" in why["half-planned"]
    assert why["empty"] == "it has no VMs to move"
    assert wave_of_group(data) == {fine.pk: 1}
    assert {u.get("group") for u in data["unplaced"]} == {
        too_many.pk,
        too_big.pk,
        slow.pk,
        planned.pk,
        empty.pk,
    }


def test_hcx_concurrent_replications_cap_a_bulk_wave(vc, site, settings):
    settings.HCX_LIMITS = {
        **settings.HCX_LIMITS,
        "MAX_REPLICATIONS_PER_MESH": 3,
        "MAX_REPLICATIONS_PER_MANAGER": 300,
    }
    make_group(vc, "a", vms=2)
    make_group(vc, "b", vms=2)
    make_group(vc, "c", vms=4)
    data = propose(site, max_vms=50, include_ungrouped=False)
    assert all(w["vm_count"] <= 3 for w in data["waves"])
    assert "more than the 3 replications HCX runs at once" in data["unplaced"][0]["why"]


def test_vmotion_waves_close_when_the_serial_transfers_fill_the_window(vc, site):
    # 300 GiB per group over 1 Gbps at 50-80%: about 43-69 min each, one VM at a time.
    for i in range(6):
        make_group(vc, f"app-{i}", vms=1, gib=300)
    data = propose(site, hours=3, migration_type=MigrationType.VMOTION, include_ungrouped=False)
    assert all(w["estimate"]["fits"] for w in data["waves"])
    assert [w["vm_count"] for w in data["waves"]] == [2, 2, 2]
    assert "would not fit" in data["waves"][0]["why"] and "change window" in data["waves"][0]["why"]


def test_blackout_dates_are_skipped(vc, site):
    for i in range(3):
        make_group(vc, f"app-{i}", vms=2)
    data = propose(site, max_vms=2, blackouts=[date(2031, 1, 11)], include_ungrouped=False)
    starts = [w["window_start"][:10] for w in data["waves"]]
    assert starts == ["2031-01-04", "2031-01-18", "2031-01-25"]
    assert data["skipped_windows"][0]["blackout"] == "2031-01-11"


def test_a_window_crossing_midnight_into_a_blackout_is_skipped():
    calendar = WindowCalendar(
        first_start=SATURDAY_NIGHT,
        hours=8,
        weekdays=frozenset({5}),
        blackouts=frozenset({date(2031, 1, 5)}),
        max_windows=2,
    )
    skipped = []
    assert [w.start.date() for w in calendar.windows(skipped)] == [date(2031, 1, 11), date(2031, 1, 18)]
    assert skipped[0][1] == date(2031, 1, 5)


def test_blackout_ranges_parse_and_bad_ones_say_why():
    assert parse_blackouts("2031-01-01..2031-01-03, 2031-02-01") == [
        date(2031, 1, 1),
        date(2031, 1, 2),
        date(2031, 1, 3),
        date(2031, 2, 1),
    ]
    with pytest.raises(ValueError, match="not a date"):
        parse_blackouts("next tuesday")
    with pytest.raises(ValueError, match="earlier date to a later"):
        parse_blackouts("2031-01-03..2031-01-01")


def test_ungrouped_vms_are_single_units_unless_left_out(vc, site):
    make_group(vc, "app", vms=2)
    loose = make_vm(vc, "loose", used_mib=GIB, power_state=PowerState.ON)
    off = make_vm(vc, "off", used_mib=GIB, power_state=PowerState.OFF)
    make_vm(vc, "gone", used_mib=GIB, removed=datetime(2030, 1, 1, tzinfo=UTC))
    data = propose(site)
    singles = [u for w in data["waves"] for u in w["units"] if "group" not in u]
    assert sorted(u["name"] for u in singles) == ["loose", "off"]
    # A powered-off VM moves Cold.
    assert [off.pk] == [v for w in data["waves"] for v in w["vm_types"].get("cold", [])]
    assert loose.pk in [v for w in data["waves"] for v in w["vms"]]
    data = propose(site, include_ungrouped=False)
    assert all("group" in u for w in data["waves"] for u in w["units"])


def test_nothing_to_plan_is_said_and_nothing_is_stored(vc, site):
    with pytest.raises(NothingToPlan):
        propose(site, include_ungrouped=False)
    assert not PlanProposal.objects.exists()


def test_it_plans_in_memory_without_a_database(settings):
    """The algorithm alone, as the benchmark times it."""

    class Link:
        bandwidth_mbps = 1000

    units = [
        Unit(key=f"g{i}", name=f"g{i}", vm_ids=[i], group_id=i, loads={"bulk": Load("bulk", 1, GIB, GIB)})
        for i in range(5)
    ]
    calendar = WindowCalendar(first_start=SATURDAY_NIGHT, hours=8, weekdays=frozenset({5}))
    result = plan_waves(units, [(0, 1), (1, 2)], PlanInputs(max_vms=2), assumptions_for(Link()), calendar)
    order = {u.key: w.number for w in result.waves for u in w.units}
    assert order["g2"] <= order["g1"] <= order["g0"]
    assert sum(len(w.units) for w in result.waves) == 5


def test_the_pilot_prefers_groups_that_depend_on_nothing(vc, site):
    needy, needy_vms = make_group(vc, "needy", vms=2, risk=Risk.LOW)
    service, service_vms = make_group(vc, "service", vms=2, risk=Risk.HIGH)
    connect(needy_vms[0], service_vms[0])
    free, _ = make_group(vc, "free", vms=2, risk=Risk.LOW, priority=900)
    data = propose(site, pilot_max_vms=2, include_ungrouped=False)
    assert data["waves"][0]["pilot"] and data["waves"][0]["groups"] == [free.pk]
    # With only a group that depends on something, it still pilots, and the proposal says what it reaches back to.
    DependencyGroup.objects.filter(pk=free.pk).delete()
    data = propose(site, pilot_max_vms=2, include_ungrouped=False)
    pilot = data["waves"][0]
    assert pilot["pilot"] and pilot["groups"] == [needy.pk]
    assert "needy depends on service, which move later" in pilot["why"]


def test_a_group_whose_dependency_cannot_be_placed_is_still_placed_with_a_note(vc, site):
    huge, huge_vms = make_group(vc, "huge", vms=6)
    client, client_vms = make_group(vc, "client", vms=2)
    connect(client_vms[0], huge_vms[0])
    data = propose(site, max_vms=5, include_ungrouped=False)
    assert wave_of_group(data) == {client.pk: 1}
    assert "client depends on huge, which could not be placed" in data["waves"][0]["why"]
    assert [u["name"] for u in data["unplaced"]] == ["huge"]
