"""A few small pilot migrations do not teach the planner that the link is 100 % efficient: copies too
small to time are not measured, what is measured is blended with the assumed range, and every estimate
says how many migrations it rests on."""

import pytest

from migrations_app.models import VmMigration
from migrations_app.planner.estimates import assumptions_for, estimate_wave, measured_throughput
from tests.test_estimates_measured import copied_in, defaults, site_wave  # noqa: F401 (fixture)

MiB = 1024**2
pytestmark = pytest.mark.django_db


def sized(m, mib: int):
    VmMigration.objects.filter(pk=m.pk).update(bytes_total=mib * MiB)


def test_small_pilots_that_copied_at_full_speed_do_not_set_the_efficiency_to_100_percent():
    site, _wave, pilots = site_wave(5)
    for m in pilots:
        copied_in(m, 1)  # a reconciler cycle apart: 10 GiB in 1 s reads as more than the pipe
        sized(m, 512)  # ... but they were 512 MiB pilots

    assert measured_throughput(site) is None
    a = assumptions_for(site)
    assert (a.efficiency_low, a.efficiency_high) == (0.5, 0.8)
    assert a.confidence == "assumed, not measured on this link yet: low confidence"


def test_a_handful_of_fast_copies_moves_the_efficiency_part_of_the_way():
    site, wave, migrations = site_wave(5)
    for m in migrations:
        copied_in(m, 10)  # 10 GiB in 10 s: the whole pipe, each time

    measured = measured_throughput(site)
    assert (measured.samples, measured.efficiency_low, measured.efficiency_high) == (5, 1.0, 1.0)
    a = assumptions_for(site)
    # The assumed 50-80 % weighs as 10 copies, the 5 measured at 100 % as 5.
    assert a.efficiency_low == pytest.approx((10 * 0.5 + 5 * 1.0) / 15, abs=1e-4)
    assert a.efficiency_high == pytest.approx((10 * 0.8 + 5 * 1.0) / 15, abs=1e-4)
    assert a.efficiency_high < 1.0
    assert a.confidence == "based on 5 migrations, low confidence"
    assert "based on 5 migrations, low confidence" in estimate_wave(wave).assumptions.line
    assert (
        estimate_wave(wave).as_dict()["assumptions"]["confidence"] == "based on 5 migrations, low confidence"
    )


def test_confidence_grows_with_the_migrations_measured(defaults):  # noqa: F811
    defaults.MIGRATION_ESTIMATES = {**defaults.MIGRATION_ESTIMATES, "CONFIDENCE_SAMPLES": (2, 4)}
    site, _wave, migrations = site_wave(4)
    defaults.MIGRATION_ESTIMATES = {**defaults.MIGRATION_ESTIMATES, "CALIBRATION_MIN_SAMPLES": 1}
    said = []
    for m in migrations:
        copied_in(m, 100)
        said.append(assumptions_for(site).confidence)
    assert said == [
        "based on 1 migration, low confidence",
        "based on 2 migrations, medium confidence",
        "based on 3 migrations, medium confidence",
        "based on 4 migrations, high confidence",
    ]
