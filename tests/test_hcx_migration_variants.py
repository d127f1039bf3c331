"""Every shape real HCX may answer the migration calls in (hcx/simulator/variants.py, the switches of
docs/hcx-wire.md §6), one at a time: the HCX client reads each right, and an engineer's journey at the
client and reconciler level (launch, switchover now, a moved window, cancel, retry, to the end) works
against each."""

import pytest

from hcx.client import HcxService, Retry, Waiter, bodies
from hcx.client.migrations import Phase
from hcx.simulator.variants import VARIANTS
from migrations_app.choices import MigrationState
from migrations_app.launch.reconcile import forget_clients
from tests.hcx_migrations import GiB, Meshed
from tests.launch_helpers import make_launch_setup, walk_launch_journey

S = MigrationState
MIGRATION_VARIANTS = (
    "running_state",
    "progress_total",
    "percent_complete",
    "progress_extras",
    "warnings_shape",
    "query_paging",
    "group_fields",
)
CASES = [
    pytest.param(name, value, id=f"{name}={value}")
    for name in MIGRATION_VARIANTS
    for value in VARIANTS[name].values
]


def client(sim) -> HcxService:
    return HcxService(
        sim.service_url,
        sim.username,
        sim.password,
        waiter=Waiter(interval=0),
        retry=Retry(attempts=2, backoff=0.01),
        timeout=10,
    )


def test_every_variant_of_the_migration_answers_is_covered_here():
    assert {name for name in VARIANTS if name not in ("hcx_version",)} >= set(MIGRATION_VARIANTS)


@pytest.mark.parametrize(("variant", "value"), CASES)
def test_the_client_reads_each_shape_right(hcxsim, variant, value):
    meshed = Meshed(hcxsim, variants={variant: value})
    hcx = client(hcxsim)
    meshed.register(
        {"id": "vm-1", "diskBytes": 10 * GiB},
        {"id": "vm-2", "diskBytes": GiB},
        {"id": "vm-3", "diskBytes": GiB},
        {"id": "vm-snap", "snapshots": 1},
    )
    [warned] = hcx.validate_migrations([meshed.spec("vm-snap", "vMotion")])
    window = meshed.at(3600)
    group = hcx.create_mobility_group(
        bodies.mobility_group(name="wave-1", source=meshed.site(), destination=meshed.site(remote=True)),
        migrations=[meshed.spec("vm-1", switchover_start=window), meshed.spec("vm-2"), meshed.spec("vm-3")],
    )
    found = hcx.find_mobility_group("wave-1")
    hcx.start_mobility_group(group.id)
    ids = [m.id for m in hcx.iter_migrations(group_ids=[group.id], page_size=2)]

    seen = [hcx.get_migration(ids[0])]
    hcxsim.control.advance(31 + 20)
    seen.append(hcx.get_migration(ids[0]))
    hcxsim.control.advance(600)
    seen.append(hcx.get_migration(ids[0]))
    hcx.switchover_now(ids[:1])
    seen.append(hcx.get_migration(ids[0]))
    for seconds in (300, 60):
        hcxsim.control.advance(seconds)
        seen.append(hcx.get_migration(ids[0]))

    assert [w.code for w in warned.warnings] == ["SNAPSHOTS"]
    assert (found["migrationGroupId"], found["name"]) == (group.id, "wave-1")
    assert len(ids) == 3 and ids == [m.id for m in hcx.iter_migrations(group_ids=[group.id])]
    assert [p.phase for p in seen] == [
        Phase.VALIDATING,
        Phase.INITIAL_SYNC,
        Phase.WAITING_FOR_SWITCHOVER,
        Phase.SWITCHOVER,
        Phase.CLEANUP,
        Phase.COMPLETE,
    ]
    copying = seen[1]
    assert 0 < copying.bytes_transferred < copying.bytes_total == 10 * GiB
    assert 0 < copying.percent < 90
    assert copying.throughput_mbps and copying.eta_seconds
    assert seen[2].waiting_for_window and abs((seen[2].switchover_start - window).total_seconds()) < 0.001
    assert seen[2].bytes_transferred == seen[2].bytes_total == 10 * GiB
    assert (seen[-1].done, seen[-1].percent) == (True, 100)


@pytest.fixture
def _fresh_clients():
    forget_clients()
    yield
    forget_clients()


@pytest.mark.django_db
@pytest.mark.usefixtures("_fresh_clients")
@pytest.mark.parametrize(("variant", "value"), CASES)
def test_the_launch_journey_works_whatever_shape_hcx_answers_in(hcxsim, engineer, variant, value):
    setup = make_launch_setup(hcxsim, vms=3)
    hcxsim.control.set_variants(**{variant: value})
    walk_launch_journey(setup, engineer)
    groups = setup.hcx()["mobilityGroups"]
    assert len(groups) == 2 and all(g["isArchived"] for g in groups)
