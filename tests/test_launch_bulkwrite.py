"""launch/bulkwrite: the reconciler's one-statement write of many migrations' observed fields.

What the progress pages rely on: every observed field lands as it was set, whatever its type
(text with quotes and braces, JSON lists, NULLs, times, 64-bit byte counts), on the rows given and
on no other, on PostgreSQL (arrays) as on SQLite (a VALUES list).
"""

import datetime

import pytest

from migrations_app.choices import MigrationState
from migrations_app.launch.bulkwrite import ROWS_PER_STATEMENT, update_rows
from migrations_app.launch.transitions import OBSERVED_FIELDS
from migrations_app.models import VmMigration
from tests.factories import make_batch, make_estate, make_wave

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def migrations(count: int):
    estate = make_estate(count, clusters=1)
    wave = make_wave("Bulk write", vms=estate.vms)
    make_batch(wave)
    return list(VmMigration.objects.filter(wave=wave).order_by("pk"))


def test_every_observed_field_lands_on_the_rows_given_and_no_other():
    rows = migrations(4)
    untouched = rows.pop()
    started = datetime.datetime(2026, 11, 26, 4, 30, 15, 123456, tzinfo=UTC)
    for i, m in enumerate(rows):
        m.state = MigrationState.FAILED if i == 0 else MigrationState.INITIAL_SYNC
        m.hcx_state = f"TRANSFER_{i}"
        m.percent = 10 * i
        m.bytes_transferred = 2**40 + i
        m.bytes_total = 2**41
        m.throughput_mbps = 812.5 if i else None
        m.eta_seconds = None if i else 3600
        m.message = 'Disk "Hard disk 1" {busy}, it\'s \\ 100%' if i == 0 else ""
        m.errors = ['{"not": "json"}', "Ünïcode ✓", None] if i == 0 else []
        m.switchover_start = started if i == 1 else None
        m.switchover_end = None
        m.started = started + datetime.timedelta(minutes=i)
        m.ended = started if i == 0 else None
        m.updated = started + datetime.timedelta(seconds=i)
    before = VmMigration.objects.values().get(pk=untouched.pk)

    update_rows(VmMigration, rows, OBSERVED_FIELDS)

    for m in rows:
        stored = VmMigration.objects.get(pk=m.pk)
        assert {f: getattr(stored, f) for f in OBSERVED_FIELDS} == {f: getattr(m, f) for f in OBSERVED_FIELDS}
    assert VmMigration.objects.values().get(pk=untouched.pk) == before


def test_more_rows_than_one_statement_holds_and_a_column_of_nulls():
    rows = migrations(ROWS_PER_STATEMENT + 3)
    VmMigration.objects.filter(pk__in=[m.pk for m in rows]).update(throughput_mbps=1.5)
    for i, m in enumerate(rows):
        m.percent, m.hcx_state, m.throughput_mbps = i % 100, f"row {i}", None
    update_rows(VmMigration, rows, ["percent", "hcx_state", "throughput_mbps"])
    stored = VmMigration.objects.filter(pk__in=[m.pk for m in rows]).values_list(
        "pk", "percent", "hcx_state", "throughput_mbps"
    )
    assert sorted(stored) == [(m.pk, m.percent, m.hcx_state, None) for m in rows]
