"""The auto-planner on any graph of groups, with any caps and change windows the form accepts: it
never fails, places every unit at most once, keeps every wave within its caps, puts what a unit
depends on in the same or an earlier wave, and says why for what it leaves out.

The first test runs the algorithm alone (plain data, as the benchmark times it); the second goes
through `do_propose` with groups and connections in the database, and checks the stored proposal.
"""

import os
from contextlib import contextmanager
from datetime import UTC, date, datetime

import networkx as nx
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hcx.choices import MigrationType
from migrations_app.choices import Risk
from migrations_app.models import PlanProposal, Wave
from migrations_app.planner.autoplan import PlanInputs, Unit, describe, plan_waves
from migrations_app.planner.calendar import WindowCalendar
from migrations_app.planner.estimates import (
    MIB_PER_TB,
    PARALLEL_TYPES,
    Load,
    assumptions_for,
    replication_slots,
)
from migrations_app.planner.proposals import NothingToPlan, ProposalRequest, do_propose
from tests.factories import make_dependency, make_group, make_link_site, make_vcenter, make_vm

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GIB = 1024
TYPES = list(MigrationType.values)
ZONES = ["UTC", "Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]


@st.composite
def loads(draw) -> dict:
    found = {}
    for mtype in draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True)):
        vms = draw(st.integers(1, 30))
        largest = draw(st.integers(0, 20 * 1024 * GIB))  # up to 20 TiB for one VM
        total = largest * vms if draw(st.booleans()) else largest + draw(st.integers(0, 50 * GIB)) * (vms - 1)
        found[mtype] = Load(mtype, vms, total, largest)
    return found


@st.composite
def units_and_edges(draw):
    count = draw(st.integers(0, 25))
    units = []
    for i in range(count):
        unit_loads = draw(loads())
        vms = sum(load.vms for load in unit_loads.values())
        grouped = draw(st.booleans())
        units.append(
            Unit(
                key=f"{'g' if grouped else 'v'}{i}",
                name=draw(st.sampled_from([f"unit-{i}", f"Ünit {i}", f"单元{i}"])),
                vm_ids=list(range(i * 1000, i * 1000 + vms)),
                loads=unit_loads,
                group_id=i if grouped else None,
                priority=draw(st.integers(0, 1000)),
                risk=draw(st.sampled_from([None, *Risk.values])),
                external=draw(st.integers(0, 5)),
                connections=draw(st.integers(0, 5)),
            )
        )
    pairs = st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)) if count else st.nothing()
    edges = draw(st.lists(pairs, max_size=count * 3)) if count else []
    return units, edges


@st.composite
def plan_settings(draw):
    inputs = PlanInputs(
        migration_type=draw(st.sampled_from(TYPES)),
        max_vms=draw(st.integers(1, 200)),
        max_tb=draw(st.sampled_from([0.01, 0.5, 2.0, 25.0, 10000.0])),
        pilot_max_vms=draw(st.integers(1, 50)),
        pilot_max_tb=draw(st.sampled_from([0.01, 1.0, 2.0, 100.0])),
        include_ungrouped=draw(st.booleans()),
        name_prefix=draw(st.sampled_from(["Wave", "Vague", "波"])),
    )
    first = draw(
        st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC))
    )
    blackouts = draw(
        st.frozensets(st.dates(min_value=date(2030, 1, 1), max_value=date(2033, 6, 30)), max_size=40)
    )
    calendar = WindowCalendar(
        first_start=first,
        hours=draw(st.sampled_from([0.5, 1, 4, 8, 23.5, 72])),
        weekdays=draw(st.frozensets(st.integers(0, 6), max_size=7)),
        time_zone=draw(st.sampled_from(ZONES)),
        blackouts=blackouts,
        max_windows=draw(st.integers(1, 20)),
    )
    bandwidth = draw(st.sampled_from([None, 10, 1000, 10000]))
    return inputs, calendar, bandwidth


@FUZZ
@given(graph=units_and_edges(), plan=plan_settings())
def test_any_graph_with_any_caps_and_windows_gets_a_consistent_plan(graph, plan):
    units, edges = graph
    inputs, calendar, bandwidth = plan
    assumptions = assumptions_for(None, bandwidth_mbps=bandwidth)

    result = plan_waves(units, edges, inputs, assumptions, calendar)

    # Every unit is placed once, or listed as not placed with a reason; nothing else.
    placed = [u.key for w in result.waves for u in w.units]
    left = [u.key for u, _ in result.unplaced]
    assert len(placed) == len(set(placed))
    assert sorted(placed + left) == sorted(u.key for u in units)
    assert all(why.strip() for _, why in result.unplaced)

    # Waves are numbered in order, each in its own later window, and each within its caps.
    assert [w.number for w in result.waves] == list(range(1, len(result.waves) + 1))
    starts = [w.window.start for w in result.waves]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    slots = replication_slots()
    for wave in result.waves:
        assert wave.units and (not wave.pilot or wave.number == 1)
        max_vms = min(inputs.max_vms, inputs.pilot_max_vms) if wave.pilot else inputs.max_vms
        max_tb = min(inputs.max_tb, inputs.pilot_max_tb) if wave.pilot else inputs.max_tb
        assert sum(u.vms for u in wave.units) == wave.vms <= max_vms
        assert sum(u.mib for u in wave.units) == wave.mib <= max_tb * MIB_PER_TB
        assert sum(load.vms for t, load in wave.loads.items() if t in PARALLEL_TYPES) <= slots
        if wave.pilot:
            assert all(u.group_id is not None and u.risk == Risk.LOW for u in wave.units)
        assert describe(wave, inputs).strip()

    # What a unit depends on moves in the same wave or earlier, except into the pilot (which reaches
    # back over the link) and inside a cycle too big for one wave (placed one by one).
    wave_of = {u.key: w.number for w in result.waves for u in w.units}
    pilot = {u.key for w in result.waves if w.pilot for u in w.units}
    graph = nx.DiGraph((i, j) for i, j in edges if i != j)
    graph.add_nodes_from(range(len(units)))
    component = {n: c for c, members in enumerate(nx.strongly_connected_components(graph)) for n in members}
    for i, j in edges:
        a, b = units[i].key, units[j].key
        if i == j or a not in wave_of or b not in wave_of or a in pilot:
            continue
        if component[i] != component[j]:
            assert wave_of[b] <= wave_of[a], (a, b, wave_of)
    for cycle in result.cycles:
        if cycle["together"]:
            assert len({wave_of.get(k) for k in cycle["units"]}) == 1


# --- through the database -------------------------------------------------------------------------


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def estate(db):
    vcenter = make_vcenter()
    vms = [
        make_vm(
            vcenter, f"app-{i:02d}", used_mib=(i % 7) * 300 * GIB, provisioned_mib=(i % 7 + 1) * 300 * GIB
        )
        for i in range(24)
    ]
    return make_link_site(bandwidth_mbps=1000, vcenter=vcenter), vms


@settings(FUZZ, max_examples=max(10, FUZZ.max_examples // 3))
@given(data=st.data())
def test_a_proposal_from_any_groups_and_connections_is_stored_whole_or_not_at_all(estate, admin_user, data):
    site, vms = estate
    inputs, calendar, _ = data.draw(plan_settings())
    with rolled_back():
        free = list(vms)
        groups = []
        for g in range(data.draw(st.integers(0, 6))):
            size = data.draw(st.integers(1, 4))
            members, free = free[:size], free[size:]
            if members:
                groups.append(
                    make_group(
                        f"group-{g}",
                        members,
                        risk=data.draw(st.sampled_from(Risk.values)),
                        priority=data.draw(st.integers(1, 500)),
                    )
                )
        pairs = st.tuples(st.sampled_from(vms), st.sampled_from(vms), st.sampled_from([22, 443, 1433]))
        for source, destination, port in data.draw(st.lists(pairs, max_size=20, unique=True)):
            if source != destination:
                make_dependency(source, destination, port=port)
        waves_before = Wave.objects.count()
        try:
            proposal = do_propose(
                ProposalRequest(inputs=inputs, calendar=calendar, site=site), acting_user=admin_user
            )
        except NothingToPlan as exc:
            assert str(exc).startswith("Nothing to plan")
            assert not PlanProposal.objects.exists()
            return
        stored = PlanProposal.objects.get(pk=proposal.pk).data
        assert Wave.objects.count() == waves_before  # a proposal creates no wave until it is accepted
        planned = [v for w in stored["waves"] for v in w["vms"]]
        assert len(planned) == len(set(planned)) and set(planned) <= {vm.pk for vm in vms}
        for wave in stored["waves"]:
            assert wave["why"].strip() and wave["vm_count"] == len(wave["vms"])
        for group in groups:
            waves_of_group = {w["number"] for w in stored["waves"] if group.pk in w["groups"]}
            assert len(waves_of_group) <= 1  # a group never spans two waves
        assert all(item["why"].strip() for item in stored["unplaced"])
