"""Estimates learn from the migrations a site completed: once enough Bulk/RAV copies were seen, their
measured speed replaces the assumed efficiency, and later estimates of the site's waves follow."""

import datetime

import pytest

from hcx.client.migrations import MigrationProgress, Phase
from inventory.models import VirtualMachine
from migrations_app.choices import WaveStatus
from migrations_app.launch.transitions import observe
from migrations_app.models import MigrationEvent
from migrations_app.planner.estimates import assumptions_for, estimate_wave, measured_throughput
from tests.factories import make_batch, make_estate, make_link_site, make_wave

GiB = 1024**3
T0 = datetime.datetime(2031, 1, 5, 1, tzinfo=datetime.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def defaults(settings):
    settings.MIGRATION_ESTIMATES = {
        **settings.MIGRATION_ESTIMATES,
        "EFFICIENCY_LOW_PCT": 50,
        "EFFICIENCY_HIGH_PCT": 80,
        "IX_APPLIANCES": 1,
        "CALIBRATION_MIN_SAMPLES": 5,
    }
    settings.HCX_LIMITS = {**settings.HCX_LIMITS, "MIGRATION_MBPS_MAX": 1000, "IX_APPLIANCE_MBPS_MAX": 1600}
    return settings


def reading(phase: str) -> MigrationProgress:
    return MigrationProgress(
        id="m",
        group_id=None,
        vm_id=None,
        vm_name=None,
        migration_type=None,
        state=phase.upper(),
        phase=phase,
        percent=0,
        bytes_transferred=0,
        bytes_total=10 * GiB,
        throughput_mbps=None,
        eta_seconds=None,
        message="",
        events=(),
        errors=(),
        switchover_start=None,
        switchover_end=None,
        waiting_for_window=False,
        reschedule_allowed=False,
        created=None,
        updated=None,
        started=T0,
        ended=None,
    )


def seen(m, *steps):
    """The reconciler saw `m` in each (phase, seconds after T0) in turn."""
    for phase, seconds in steps:
        _, events = observe(m, reading(phase), now=T0 + datetime.timedelta(seconds=seconds))
        m.save()
        MigrationEvent.objects.bulk_create(events)


def site_wave(vms: int, *, name="Amsterdam", migration_type="bulk"):
    site = make_link_site(name=name, bandwidth_mbps=1000)
    estate = make_estate(vms=vms, devices=False, prefix=f"{name}-")
    VirtualMachine.objects.filter(pk__in=[v.pk for v in estate.vms]).update(used_mib=10 * 1024)
    wave = make_wave(
        f"{name} wave", vms=estate.vms, status=WaveStatus.RUNNING, site=site, migration_type=migration_type
    )
    return site, wave, list(make_batch(wave).migrations.order_by("pk"))


def copied_in(m, seconds: int):
    seen(
        m,
        (Phase.VALIDATING, 0),
        (Phase.INITIAL_SYNC, 30),
        (Phase.SWITCHOVER, 30 + seconds),
        (Phase.CLEANUP, 30 + seconds + 300),
        (Phase.COMPLETE, 30 + seconds + 360),
    )


def test_later_estimates_follow_the_copies_a_site_completed():
    site, wave, migrations = site_wave(6)
    before = estimate_wave(wave)
    assert measured_throughput(site) is None and before.assumptions.measured is None

    # 10 GiB copied in 200..600 s: 430, 286, 215, 172 and 143 Mbps of a 1,000 Mbps pipe.
    for m, seconds in zip(migrations, (200, 300, 400, 500, 600), strict=False):
        copied_in(m, seconds)

    measured = measured_throughput(site)
    assert measured.samples == 5 and measured.median_mbps == pytest.approx(214.7, abs=0.1)
    assert (measured.efficiency_low, measured.efficiency_high) == pytest.approx((0.1718, 0.2863), abs=1e-4)
    after = estimate_wave(wave)
    # 17 % measured from 5 copies, blended with the 50 % assumed (weighing as 10 copies): 39 %.
    assert after.assumptions.efficiency_low == pytest.approx((5 * 0.1718 + 10 * 0.5) / 15, abs=1e-4)
    assert after.transfer.high > before.transfer.high * 1.25
    assert after.transfer.low > before.transfer.low
    assert "measured from 5 completed migrations" in after.assumptions.line
    assert after.as_dict()["assumptions"]["efficiency_source"] == "measured"


def test_too_few_samples_steer_nothing():
    site, _wave, migrations = site_wave(4)
    for m in migrations:
        copied_in(m, 100)
    assert measured_throughput(site) is None
    assert assumptions_for(site).efficiency_low == 0.5


def test_only_copies_seen_of_completed_bulk_and_rav_migrations_of_the_site_count(defaults):
    defaults.MIGRATION_ESTIMATES = {**defaults.MIGRATION_ESTIMATES, "CALIBRATION_MIN_SAMPLES": 1}
    site, _wave, (waited, unseen, failed) = site_wave(3)
    # Copied in 100 s, then waited five hours for its window: only the copy counts.
    seen(
        waited,
        (Phase.INITIAL_SYNC, 0),
        (Phase.WAITING_FOR_SWITCHOVER, 100),
        (Phase.SWITCHOVER, 5 * 3600),
        (Phase.COMPLETE, 5 * 3600 + 400),
    )
    seen(unseen, (Phase.VALIDATING, 0), (Phase.COMPLETE, 900))  # too quick for a cycle to see its copy
    seen(failed, (Phase.INITIAL_SYNC, 0), (Phase.FAILED, 50))
    other_site, _wave, (elsewhere,) = site_wave(1, name="Elsewhere")
    copied_in(elsewhere, 20)
    vmotion_site, _wave, (vmotion,) = site_wave(1, name="Motion", migration_type="vmotion")
    copied_in(vmotion, 20)

    measured = measured_throughput(site)

    assert measured.samples == 1 and measured.median_mbps == pytest.approx(858.99, abs=0.01)
    assert measured_throughput(vmotion_site) is None
    assert measured_throughput(other_site).samples == 1
    assert measured_throughput(None) is None  # no site, no link to measure
