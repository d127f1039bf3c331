"""The programme dashboard: every role reads it (stakeholders land on it), an outsider is refused, its
numbers are right on a small built estate (migrations moved through the state machine), and its query
count does not grow with the estate."""

import dataclasses
import datetime
import itertools

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hcx.client.migrations import MigrationProgress, Phase
from migrations_app.choices import FindingSeverity, MigrationDirection, MigrationState, WaveStatus
from migrations_app.launch.transitions import OBSERVED_FIELDS, move, observe
from migrations_app.models import MigrationEvent, ReadinessFinding, VmMigration
from migrations_app.reports.dashboard import MIB_PER_TB, figures
from tests.factories import make_batch, make_estate, make_wave

pytestmark = pytest.mark.django_db
S = MigrationState
_hcx_ids = itertools.count(1)
HOUR = datetime.timedelta(hours=1)


def reading(m: VmMigration, phase: str, **changes) -> MigrationProgress:
    base = dict(
        id=m.hcx_id,
        group_id="g-1",
        vm_id=m.vm.moid,
        vm_name=m.vm.name,
        migration_type=m.migration_type,
        state=phase.upper(),
        phase=phase,
        percent=50,
        bytes_transferred=10 * 1024**3,
        bytes_total=20 * 1024**3,
        throughput_mbps=800.0,
        eta_seconds=60,
        message="",
        events=(),
        errors=(),
        switchover_start=None,
        switchover_end=None,
        waiting_for_window=False,
        reschedule_allowed=True,
        created=None,
        updated=None,
        started=timezone.now() - 2 * HOUR,
        ended=None,
    )
    return dataclasses.replace(MigrationProgress(**base), **changes)


def _save(m: VmMigration, p: MigrationProgress):
    changed, events = observe(m, p)
    assert changed
    with transaction.atomic():
        VmMigration.objects.bulk_update([m], OBSERVED_FIELDS)
        MigrationEvent.objects.bulk_create(events)


def send(m: VmMigration) -> VmMigration:
    """Through the portal's moves into HCX, as the launcher does."""
    move(m, S.SUBMITTING)
    move(m, S.INITIAL_SYNC, hcx_id=f"hcx-{next(_hcx_ids)}", submitted=timezone.now() - 3 * HOUR)
    return m


def run(m: VmMigration, **changes) -> VmMigration:
    """In HCX, copying (as the reconciler would record it)."""
    send(m)
    _save(m, reading(m, Phase.INITIAL_SYNC, **changes))
    return m


def complete(m: VmMigration, *, took=HOUR, moved=20 * 1024**3) -> VmMigration:
    send(m)
    ended = timezone.now()
    _save(
        m,
        reading(
            m,
            Phase.COMPLETE,
            percent=100,
            bytes_transferred=moved,
            bytes_total=moved,
            started=ended - took,
            ended=ended,
        ),
    )
    return m


def fail(m: VmMigration, message="Switchover refused: the VM would not shut down") -> VmMigration:
    send(m)
    _save(m, reading(m, Phase.FAILED, errors=(message,), ended=timezone.now()))
    return m


def roll_back(m: VmMigration) -> VmMigration:
    back = VmMigration.objects.create(
        batch=m.batch,
        wave=m.wave,
        vm=m.vm,
        direction=MigrationDirection.REVERSE,
        attempt=m.attempt + 1,
        migration_type=m.migration_type,
    )
    return complete(back)


def mib(vm) -> int:
    return vm.used_mib or vm.provisioned_mib


def running_wave(estate_vms, name="Wave 1", *, window_end=None):
    """A running wave of `estate_vms` (at least 4): two moved (one of them rolled back), one failed, one
    copying, the rest waiting."""
    now = timezone.now()
    wave = make_wave(
        name,
        vms=estate_vms,
        status=WaveStatus.RUNNING,
        migration_type="bulk",
        window_start=(window_end or now) - 4 * HOUR,
        window_end=window_end or now + HOUR,
    )
    first, second, third, fourth, *_ = make_batch(wave).migrations.select_related("vm").order_by("vm__name")
    complete(first)
    complete(second)
    roll_back(second)
    fail(third)
    run(fourth, throughput_mbps=640.0)
    return wave


@pytest.fixture
def estate():
    """Six VMs: four in a running wave, two in a draft wave whose window is next week; one blocker."""
    estate = make_estate(vms=6)
    running = running_wave(estate.vms[:4])
    later = timezone.now() + datetime.timedelta(days=7)
    draft = make_wave("Wave 2", vms=estate.vms[4:], window_start=later, window_end=later + 4 * HOUR)
    ReadinessFinding.objects.create(
        wave=draft,
        vm=estate.vms[4],
        rule="vm_power_state",
        severity=FindingSeverity.BLOCKER,
        message="Powered off",
        migration_type="bulk",
    )
    return estate, running, draft


def test_the_numbers_are_right_on_a_small_estate(estate):
    e, running, draft = estate
    f = figures()
    assert f.planned_vms == 6
    assert f.planned_tb == round(sum(mib(vm) for vm in e.vms) / MIB_PER_TB, 3)
    # Two completed, one of them rolled back: one VM stays moved.
    assert f.migrated_vms == 1
    assert f.migrated_tb == round(mib(e.vms[0]) / MIB_PER_TB, 3)
    assert {s["status"]: s["waves"] for s in f.status_counts} == {
        "draft": 1,
        "submitted": 0,
        "approved": 0,
        "rejected": 0,
        "running": 1,
        "completed": 0,
    }
    [live] = f.live
    assert live.name == "Wave 1" and live.health == "failed"
    assert live.progress["done"] == 1 and live.progress["failed"] == 1 and live.progress["in_flight"] == 1
    assert f.failed == 1 and f.failed_rows[0]["vm"] == e.vms[2].name
    assert "would not shut down" in f.failed_rows[0]["message"]
    assert f.blocked_vms == 1 and f.blocked_by_rule[0]["vms"] == 1
    assert [w.name for w in f.next_windows] == ["Wave 1", "Wave 2"]
    # Two forward migrations completed (a rollback later does not undo the bytes they moved), 20 GiB
    # in an hour each; one runs at 640 Mbit/s now.
    assert f.throughput.completed == 2
    assert f.throughput.average_mbps == round(20 * 1024**3 * 8 / 3600 / 1e6, 1)
    assert f.throughput.running == 1 and f.throughput.current_mbps == 640.0
    # The burn-up: the plan reaches 6 VMs by Wave 2's window end; the actual line ends at 1.
    points = f.burnup.points
    assert points[-1].planned_vms == 6 and points[-1].actual_vms == 1
    # Wave 1's window ends first (an hour from now: after midnight the migrated VM's day comes before it).
    assert next(p.planned_vms for p in points if p.planned_vms) == 4


def test_a_rolled_back_vm_leaves_the_burn_up(estate):
    e, running, draft = estate
    before = figures().migrated_vms
    m = VmMigration.objects.get(vm=e.vms[0], direction=MigrationDirection.FORWARD)
    roll_back(m)
    assert figures().migrated_vms == before - 1 == 0


@pytest.mark.parametrize("role", ["planner", "engineer", "stakeholder", "admin_user"])
def test_every_role_reads_the_dashboard_and_its_api(request, client_for, estate, role):
    client = client_for(request.getfixturevalue(role))
    page = client.get("/plan/dashboard/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="migrated-vms">1 ' in body
    assert "VMs migrated against plan" in body and "Waves by status" in body  # the charts, as SVG text
    assert "<svg" in body and 'hx-trigger="every 3s"' in body  # a wave runs: poll often
    assert client.get("/plan/dashboard/live/").status_code == 200
    data = client.get("/api/dashboard/").json()
    assert data["migrated"]["vms"] == 1 and data["planned"]["vms"] == 6
    assert data["risks"]["failed_migrations"] == 1 and data["health"]["failed"] == 1


def test_an_outsider_is_refused_and_a_stranger_sent_to_sign_in(client, client_for, outsider, estate):
    assert client.get("/plan/dashboard/").status_code == 302
    assert client.get("/api/dashboard/").status_code in (401, 403)
    c = client_for(outsider)
    for url in ("/plan/dashboard/", "/plan/dashboard/live/", "/api/dashboard/"):
        assert c.get(url).status_code == 403, url


def test_stakeholders_land_on_the_dashboard(client_for, stakeholder, planner):
    home = client_for(stakeholder).get("/")
    assert home.status_code == 200 and 'data-testid="dashboard-live"' in home.content.decode()
    other = client_for(planner).get("/")  # the others keep their home page, with the dashboard in the menu
    assert other.status_code == 200 and 'data-testid="dashboard-live"' not in other.content.decode()
    assert "Programme dashboard" in other.content.decode()


def test_an_empty_programme_says_what_to_do_first(client_for, stakeholder):
    body = client_for(stakeholder).get("/plan/dashboard/").content.decode()
    assert "No waves yet: plan one under" in body and "Planning → Waves" in body
    assert 'hx-trigger="every 30s"' in body  # nothing runs: poll rarely


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_estate(client_for, stakeholder):
    client = client_for(stakeholder)
    small = make_estate(vms=5, prefix="s-")
    running_wave(small.vms, "Small running")
    urls = ("/plan/dashboard/", "/plan/dashboard/live/", "/api/dashboard/")
    before = {url: _queries(client, url) for url in urls}

    # Twelve times the VMs, a finished wave of 30 moved VMs, and six more waves with windows and blockers.
    big = make_estate(vms=60, prefix="b-")
    done = make_wave(
        "Moved",
        vms=big.vms[:30],
        status=WaveStatus.COMPLETED,
        migration_type="bulk",
        window_start=timezone.now() - 30 * HOUR,
        window_end=timezone.now() - 26 * HOUR,
    )
    for m in make_batch(done).migrations.select_related("vm"):
        complete(m)
    for n in range(6):
        start = timezone.now() + datetime.timedelta(days=n + 1)
        wave = make_wave(
            f"Later {n}",
            vms=big.vms[30 + 5 * n : 35 + 5 * n],
            window_start=start,
            window_end=start + HOUR,
            status=[WaveStatus.DRAFT, WaveStatus.APPROVED, WaveStatus.SUBMITTED][n % 3],
        )
        ReadinessFinding.objects.create(
            wave=wave,
            vm=big.vms[30 + 5 * n],
            rule="vm_power_state",
            severity=FindingSeverity.BLOCKER,
            message="x",
            migration_type="bulk",
        )
    assert figures().migrated_vms == 31
    assert {url: _queries(client, url) for url in urls} == before


def test_its_api_answer_is_the_documented_one(client_for, stakeholder, estate):
    """With a running wave, a failure, a blocker and windows ahead, every part of the answer is filled."""
    from tests.schema_check import assert_documented

    data = assert_documented(client_for(stakeholder).get("/api/dashboard/"), "GET", "/api/dashboard/")
    [live] = data["running_waves"]
    assert live["health"] == "failed" and live["progress"]["in_flight"] == 1
    assert data["risks"]["failed"][0]["state"] == "failed" and data["risks"]["blocked_by_rule"][0]["vms"] == 1
    assert data["burnup"]["points"][-1]["planned_vms"] == 6 and len(data["next_windows"]) == 2
