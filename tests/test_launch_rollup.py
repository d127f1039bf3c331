"""A wave's progress rolled up from its VMs' latest attempts (counts, bytes, percent, health), at a
fixed query cost; and a running wave that is done becomes COMPLETED, once, with an audit row.

Migrations are put in their states the way the reconciler does it: HCX readings through
`transitions.observe()`."""

import dataclasses
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from hcx.client.migrations import MigrationProgress, Phase
from inventory.models import VirtualMachine
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.launch.rollup import batch_progress, finish_waves, wave_progress
from migrations_app.launch.transitions import observe
from migrations_app.models import MigrationEvent, VmMigration, Wave
from tests.factories import make_batch, make_estate, make_link_site, make_wave

S = MigrationState
GiB = 1024**3
NOW = datetime.datetime(2031, 1, 5, 12, tzinfo=datetime.UTC)
pytestmark = pytest.mark.django_db

PHASES = {
    S.VALIDATING: Phase.VALIDATING,
    S.INITIAL_SYNC: Phase.INITIAL_SYNC,
    S.WAITING_FOR_SWITCHOVER: Phase.WAITING_FOR_SWITCHOVER,
    S.DELTA_SYNC: Phase.DELTA_SYNC,
    S.SWITCHOVER: Phase.SWITCHOVER,
    S.COMPLETE: Phase.COMPLETE,
    S.FAILED: Phase.FAILED,
}


def hcx_says(m: VmMigration, state: str, *, started=None, moved: int = 0, total: int = 10 * GiB, **changes):
    """Take an HCX reading of `m` in `state` as the reconciler would, and save it."""
    base = MigrationProgress(
        id=f"m-{m.pk}",
        group_id=None,
        vm_id=None,
        vm_name=None,
        migration_type=None,
        state=state.upper(),
        phase=PHASES[state],
        percent=0,
        bytes_transferred=moved,
        bytes_total=total,
        throughput_mbps=None,
        eta_seconds=None,
        message="",
        events=(),
        errors=("Disk copy failed",) if state == S.FAILED else (),
        switchover_start=None,
        switchover_end=None,
        waiting_for_window=False,
        reschedule_allowed=False,
        created=None,
        updated=None,
        started=started or NOW - datetime.timedelta(minutes=1),
        ended=None,
    )
    _, events = observe(m, dataclasses.replace(base, **changes))
    m.submitted = m.submitted or base.started  # when dispatch handed it to HCX, by the portal's clock
    m.save()
    MigrationEvent.objects.bulk_create(events)
    return m


def running_wave(vms: int, *, name="Wave 1", migration_type="bulk", batch_vms=None, site=None):
    estate = make_estate(vms=vms, devices=False, prefix=f"{name.replace(' ', '')}-")
    VirtualMachine.objects.filter(pk__in=[v.pk for v in estate.vms]).update(used_mib=10 * 1024)
    wave = make_wave(
        name,
        vms=estate.vms,
        status=WaveStatus.RUNNING,
        migration_type=migration_type,
        site=site or make_link_site(name=f"{name} site", bandwidth_mbps=1000),
    )
    batch = make_batch(wave, estate.vms[:batch_vms] if batch_vms is not None else None)
    return wave, batch, list(batch.migrations.order_by("pk"))


def retry(m: VmMigration, *, direction=MigrationDirection.FORWARD) -> VmMigration:
    return VmMigration.objects.create(
        batch=m.batch,
        wave=m.wave,
        vm=m.vm,
        migration_type=m.migration_type,
        attempt=m.attempt + 1,
        retry_of=m,
        direction=direction,
    )


def test_a_wave_rolls_up_each_vm_by_its_latest_attempt():
    wave, _batch, (done, copying, retried, waiting) = running_wave(5, batch_vms=4)
    hcx_says(done, S.COMPLETE, moved=10 * GiB)
    hcx_says(copying, S.INITIAL_SYNC, moved=4 * GiB)
    hcx_says(retried, S.FAILED)
    retry(retried)  # its latest attempt waits to be sent: the VM is not failed any more

    p = wave_progress(wave, now=NOW)

    assert (p.vms, p.done, p.in_flight, p.waiting, p.failed) == (5, 1, 1, 3, 0)  # the 5th VM is in no batch
    assert p.states == {S.COMPLETE: 1, S.INITIAL_SYNC: 1, S.WAITING: 2}
    assert (p.bytes_done, p.bytes_total) == (14 * GiB, 50 * GiB)  # unsent VMs count by their used storage
    assert p.percent == 28 and p.health == "healthy"
    assert p.elapsed_seconds == 60 and p.estimate_seconds > 0
    assert p.as_dict()["percent"] == 28 and p.as_dict()["health"] == "healthy"


def test_a_vm_whose_latest_attempt_failed_makes_the_wave_failed():
    wave, _batch, (failed, copying) = running_wave(2)
    hcx_says(failed, S.FAILED)
    hcx_says(copying, S.INITIAL_SYNC, moved=GiB)

    p = wave_progress(wave, now=NOW)

    assert (p.failed, p.in_flight, p.health) == (1, 1, "failed")


def test_a_migration_slower_than_its_estimate_makes_the_wave_lagging():
    # 10 GiB over a 1 Gbps link: the slow end of the estimate is 172 s (at 50 %); lagging past 1.25x.
    wave, _batch, (copying,) = running_wave(1)
    hcx_says(copying, S.INITIAL_SYNC, moved=GiB, started=NOW - datetime.timedelta(seconds=200))
    assert wave_progress(wave, now=NOW).health == "healthy"
    assert wave_progress(wave, now=NOW + datetime.timedelta(seconds=30)).health == "lagging"
    assert wave_progress(wave, now=NOW + datetime.timedelta(seconds=30)).lagging == 1


def test_a_bulk_waiting_for_its_window_is_not_late_but_a_long_vmotion_is():
    bulk_wave, _batch, (waiting,) = running_wave(1, name="Bulk")
    hcx_says(waiting, S.WAITING_FOR_SWITCHOVER, moved=10 * GiB, started=NOW - datetime.timedelta(hours=6))
    assert wave_progress(bulk_wave, now=NOW).health == "healthy"

    vmotion_wave, _batch, (moving,) = running_wave(1, name="vMotion", migration_type="vmotion")
    hcx_says(moving, S.SWITCHOVER, moved=10 * GiB, started=NOW - datetime.timedelta(hours=6))
    assert wave_progress(vmotion_wave, now=NOW).health == "lagging"


def test_a_batch_rolls_up_its_own_vms():
    wave, batch, (done, copying) = running_wave(3, batch_vms=2)
    hcx_says(done, S.COMPLETE, moved=10 * GiB)
    hcx_says(copying, S.INITIAL_SYNC, moved=5 * GiB)

    p = batch_progress(batch, now=NOW)

    assert (p.vms, p.done, p.in_flight, p.waiting) == (2, 1, 1, 0)
    assert (p.bytes_done, p.bytes_total, p.percent) == (15 * GiB, 20 * GiB, 75)
    assert wave_progress(wave, now=NOW).vms == 3


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured)


def test_the_rollup_costs_the_same_queries_for_5_or_50_vms():
    site = make_link_site(name="Shared", bandwidth_mbps=1000)
    sizes = {}
    for vms in (5, 50):
        wave, batch, migrations = running_wave(vms, name=f"Wave {vms}", site=site)
        for i, m in enumerate(migrations):
            hcx_says(m, [S.INITIAL_SYNC, S.COMPLETE, S.FAILED][i % 3], moved=GiB)
        sizes[vms] = (Wave.objects.get(pk=wave.pk), batch)

    waves = {vms: count_queries(lambda w=w: wave_progress(w, now=NOW)) for vms, (w, _b) in sizes.items()}
    batches = {vms: count_queries(lambda b=b: batch_progress(b, now=NOW)) for vms, (_w, b) in sizes.items()}

    assert waves[5] == waves[50] and batches[5] == batches[50]
    assert wave_progress(sizes[50][0], now=NOW).vms == 50


def test_a_running_wave_whose_vms_all_moved_completes_once_with_an_audit_row():
    wave, _batch, (first, second) = running_wave(2)
    hcx_says(first, S.COMPLETE)
    hcx_says(second, S.FAILED)
    assert finish_waves(Wave.objects.all()) == 0  # a VM failed: not done

    hcx_says(retry(second), S.COMPLETE)  # its retry moved it
    assert finish_waves(Wave.objects.all()) == 1
    assert finish_waves(Wave.objects.all()) == 0

    wave.refresh_from_db()
    assert wave.status == WaveStatus.COMPLETED
    [audit] = AuditEntry.objects.filter(action="wave.complete")
    assert (audit.object_id, audit.user, audit.detail["vms"]) == (wave.pk, None, 2)


def test_a_wave_with_a_vm_not_sent_running_or_rolled_back_stays_running():
    unsent, _batch, (moved,) = running_wave(2, name="Unsent", batch_vms=1)
    hcx_says(moved, S.COMPLETE)
    active, _batch, (m1, m2) = running_wave(2, name="Active")
    hcx_says(m1, S.COMPLETE)
    hcx_says(m2, S.SWITCHOVER)
    rolled, _batch, (r1,) = running_wave(1, name="Rolled")
    hcx_says(r1, S.COMPLETE)
    hcx_says(retry(r1, direction=MigrationDirection.REVERSE), S.COMPLETE)

    assert finish_waves(Wave.objects.all()) == 0
    assert set(Wave.objects.values_list("status", flat=True)) == {WaveStatus.RUNNING}


def test_only_running_waves_are_completed():
    wave, _batch, (m,) = running_wave(1)
    hcx_says(m, S.COMPLETE)
    Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.APPROVED)

    assert finish_waves(Wave.objects.all()) == 0
    assert Wave.objects.get(pk=wave.pk).status == WaveStatus.APPROVED


def test_it_counts_each_vm_in_the_phase_a_person_follows():
    wave, _batch, (copying, waiting, syncing, switching, done, failed) = running_wave(7, batch_vms=6)
    hcx_says(copying, S.INITIAL_SYNC, moved=GiB)
    hcx_says(waiting, S.WAITING_FOR_SWITCHOVER, moved=10 * GiB)
    hcx_says(syncing, S.WAITING_FOR_SWITCHOVER, moved=10 * GiB)
    hcx_says(syncing, S.DELTA_SYNC, moved=10 * GiB)  # a periodic delta sync while it waits for the window
    hcx_says(switching, S.SWITCHOVER, moved=10 * GiB)
    hcx_says(done, S.COMPLETE, moved=10 * GiB)
    hcx_says(failed, S.FAILED)

    p = wave_progress(wave, now=NOW)

    assert p.phases == {
        "not_started": 1,
        "copying": 1,
        "waiting_window": 2,
        "switching_over": 1,
        "done": 1,
        "rolled_back": 0,
        "stopped": 1,
    }
    assert p.ready == 2  # the two copied Bulk migrations waiting for their switchover
    assert p.as_dict()["phases"] == p.phases and p.as_dict()["ready"] == 2


def test_a_rolled_back_vm_counts_as_rolled_back_not_done():
    wave, _batch, (moved,) = running_wave(1)
    hcx_says(moved, S.COMPLETE, moved=10 * GiB)
    back = retry(moved, direction=MigrationDirection.REVERSE)
    hcx_says(back, S.COMPLETE, moved=10 * GiB)

    p = wave_progress(wave, now=NOW)

    assert (p.phases["done"], p.phases["rolled_back"], p.done) == (0, 1, 0)


def test_the_bar_reads_100_only_when_every_vm_is_done():
    wave, _batch, (first, second) = running_wave(2)
    hcx_says(first, S.WAITING_FOR_SWITCHOVER, moved=10 * GiB)
    hcx_says(second, S.WAITING_FOR_SWITCHOVER, moved=10 * GiB)

    copied = wave_progress(wave, now=NOW)
    assert (copied.bytes_done, copied.bytes_total, copied.done) == (20 * GiB, 20 * GiB, 0)
    assert copied.percent == 99  # every byte copied, no VM switched over: not a finished wave

    hcx_says(first, S.COMPLETE, moved=10 * GiB)
    hcx_says(second, S.COMPLETE, moved=10 * GiB)
    assert wave_progress(wave, now=NOW).percent == 100


def test_an_empty_wave_reads_0_percent():
    wave = make_wave("Empty", vms=[], status=WaveStatus.RUNNING)
    assert wave_progress(wave, now=NOW).percent == 0
