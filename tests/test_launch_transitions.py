"""The one place a migration's state changes: the portal's moves are checked, HCX's readings are taken,
and a finished migration never comes back from a stale reading."""

import dataclasses
import datetime

import pytest
from django.db import IntegrityError, transaction

from hcx.client.migrations import MigrationProgress, Phase
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.launch.transitions import IllegalTransition, move, observe
from migrations_app.models import MigrationEvent, VmMigration
from tests.factories import make_batch, make_estate, make_wave

pytestmark = pytest.mark.django_db


def reading(**changes) -> MigrationProgress:
    base = dict(
        id="m-1",
        group_id="g-1",
        vm_id="vm-1",
        vm_name="app-1",
        migration_type="Bulk",
        state="INITIAL_SYNC",
        phase=Phase.INITIAL_SYNC,
        percent=40,
        bytes_transferred=4_000,
        bytes_total=10_000,
        throughput_mbps=800.0,
        eta_seconds=60,
        message="Copying disks",
        events=(),
        errors=(),
        switchover_start=None,
        switchover_end=None,
        waiting_for_window=False,
        reschedule_allowed=True,
        created=None,
        updated=None,
        started=datetime.datetime(2026, 11, 26, 1, 0, tzinfo=datetime.UTC),
        ended=None,
    )
    return dataclasses.replace(MigrationProgress(**base), **changes)


@pytest.fixture
def migration():
    estate = make_estate(vms=1)
    wave = make_wave(vms=estate.vms, status=WaveStatus.APPROVED, migration_type="bulk")
    return make_batch(wave).migrations.get()


def test_the_portal_moves_only_along_allowed_paths(migration):
    move(migration, MigrationState.SUBMITTING)
    move(migration, MigrationState.VALIDATING, hcx_id="m-1")
    with pytest.raises(IllegalTransition, match="cannot go from validating to waiting"):
        move(migration, MigrationState.WAITING)
    migration.refresh_from_db()
    assert (migration.state, migration.hcx_id) == (MigrationState.VALIDATING, "m-1")
    assert list(MigrationEvent.objects.filter(migration=migration).values_list("state", flat=True)) == [
        MigrationState.SUBMITTING,
        MigrationState.VALIDATING,
    ]


def test_a_reading_from_hcx_is_taken_and_logged_once(migration):
    changed, events = observe(migration, reading())
    assert changed and [e.state for e in events] == [MigrationState.INITIAL_SYNC]
    assert (migration.percent, migration.bytes_transferred, migration.message) == (40, 4_000, "Copying disks")
    changed, events = observe(migration, reading())
    assert (changed, events) == (False, [])
    changed, events = observe(migration, reading(percent=55, bytes_transferred=5_500))
    assert changed and events == []  # progress without a new state: no log line


def test_a_finished_migration_ignores_a_stale_reading(migration):
    observe(migration, reading(state="MIGRATION_FAILED", phase=Phase.FAILED, errors=("Disk copy failed",)))
    assert migration.state == MigrationState.FAILED and migration.message == "Disk copy failed"
    assert migration.ended is not None
    assert observe(migration, reading()) == (False, [])
    assert migration.state == MigrationState.FAILED


def test_a_vm_has_one_active_migration_at_most(migration):
    second = VmMigration(
        batch=migration.batch, wave=migration.wave, vm=migration.vm, migration_type="bulk", attempt=2
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
    move(migration, MigrationState.CANCELLED)
    second.save()  # the first is over: a retry may start


def test_two_moves_racing_on_one_row_cannot_both_win(migration):
    stale = VmMigration.objects.get(pk=migration.pk)
    move(migration, MigrationState.CANCELLED)
    with pytest.raises(IllegalTransition, match="changed meanwhile: it is cancelled now"):
        move(stale, MigrationState.SUBMITTING)
    migration.refresh_from_db()
    assert migration.state == MigrationState.CANCELLED
