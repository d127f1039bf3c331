"""Duration estimates on numbers worked out by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from hcx.choices import MigrationType
from migrations_app.models import Wave, WaveItem
from migrations_app.planner import estimates
from migrations_app.planner.estimates import (
    Load,
    MeasuredThroughput,
    assumptions_for,
    estimate_loads,
    estimate_wave,
)
from tests.factories import make_link_site, make_vcenter, make_vm

TB_MIB = 1024 * 1024
TB_BITS = 1024**4 * 8  # 8,796,093,022,208 bits
GIB_MIB = 1024


@pytest.fixture
def defaults(settings):
    """The documented defaults, whatever the environment says."""
    settings.MIGRATION_ESTIMATES = {
        **settings.MIGRATION_ESTIMATES,
        "EFFICIENCY_LOW_PCT": 50,
        "EFFICIENCY_HIGH_PCT": 80,
        "IX_APPLIANCES": 1,
        "BULK_SWITCHOVER_MINUTES": (5, 15),
        "RAV_SWITCHOVER_MINUTES": (2, 10),
        "VMOTION_SWITCHOVER_MINUTES": (1, 3),
        "COLD_SWITCHOVER_MINUTES": (1, 5),
    }
    settings.HCX_LIMITS = {
        **settings.HCX_LIMITS,
        "MIGRATION_MBPS_MAX": 1000,
        "IX_APPLIANCE_MBPS_MAX": 1600,
        "MAX_REPLICATIONS_PER_MESH": 200,
        "MAX_REPLICATIONS_PER_MANAGER": 300,
    }
    return settings


class Link:
    def __init__(self, mbps):
        self.bandwidth_mbps = mbps


def test_it_estimates_a_1_tb_vm_over_1_gbps_at_50_to_80_percent(defaults):
    a = assumptions_for(Link(1000))
    estimate = estimate_loads({"bulk": Load("bulk", 1, TB_MIB, TB_MIB)}, a)
    # 1 TiB = 8,796,093,022,208 bits; at 800 Mbps 10,995 s (3 h 04), at 500 Mbps 17,592 s (4 h 54).
    assert estimate.transfer.low == pytest.approx(TB_BITS / 800e6) == pytest.approx(10995.116, abs=0.01)
    assert estimate.transfer.high == pytest.approx(TB_BITS / 500e6) == pytest.approx(17592.186, abs=0.01)
    assert estimate.transfer.text == "3 h 04 min – 4 h 54 min"
    # Bulk pre-seeds before the window: only the switchover (5-15 min) has to fit in it.
    assert (estimate.switchover.low, estimate.switchover.high) == (300, 900)
    assert (estimate.in_window.low, estimate.in_window.high) == (300, 900)
    assert estimate.pre_seed == estimate.transfer


def test_it_caps_one_migration_at_1_gbps_however_fast_the_link(defaults):
    a = assumptions_for(Link(10000))
    one = estimate_loads({"bulk": Load("bulk", 1, TB_MIB, TB_MIB)}, a)
    assert one.transfer.high == pytest.approx(TB_BITS / 500e6)
    # Ten such VMs share the IX appliance's 1.6 Gbps: 10 TiB at 800-1280 Mbps usable.
    ten = estimate_loads({"bulk": Load("bulk", 10, 10 * TB_MIB, TB_MIB)}, a)
    assert ten.transfer.low == pytest.approx(10 * TB_BITS / 1280e6)
    assert ten.transfer.high == pytest.approx(10 * TB_BITS / 800e6)


def test_it_never_finishes_a_parallel_wave_before_its_biggest_vm(defaults):
    a = assumptions_for(Link(10000))
    # One 4 TiB VM and nine tiny ones: the big one alone at its own 1 Gbps cap sets the pace.
    estimate = estimate_loads({"bulk": Load("bulk", 10, 4 * TB_MIB + 9, 4 * TB_MIB)}, a)
    assert estimate.transfer.high == pytest.approx(4 * TB_BITS / 500e6)


def test_it_adds_up_vmotion_transfers_and_switchovers_one_at_a_time(defaults):
    a = assumptions_for(Link(1000))
    estimate = estimate_loads({"vmotion": Load("vmotion", 3, 300 * GIB_MIB, 100 * GIB_MIB)}, a)
    bits = 300 * 1024**3 * 8
    assert estimate.transfer.low == pytest.approx(bits / 800e6)
    assert estimate.transfer.high == pytest.approx(bits / 500e6)
    # Three switchovers of 1-3 min each, one after another.
    assert (estimate.switchover.low, estimate.switchover.high) == (3 * 60, 9 * 60)
    # vMotion transfers inside the window.
    assert estimate.in_window.high == pytest.approx(bits / 500e6 + 9 * 60)
    assert estimate.pre_seed.high == 0


def test_it_runs_rav_switchovers_one_at_a_time_and_bulk_ones_together(defaults):
    a = assumptions_for(Link(1000))
    rav = estimate_loads({"rav": Load("rav", 4, 4 * GIB_MIB, GIB_MIB)}, a)
    bulk = estimate_loads({"bulk": Load("bulk", 4, 4 * GIB_MIB, GIB_MIB)}, a)
    assert (rav.switchover.low, rav.switchover.high) == (4 * 2 * 60, 4 * 10 * 60)
    assert (bulk.switchover.low, bulk.switchover.high) == (5 * 60, 15 * 60)
    # Beyond HCX's 200 concurrent replications, Bulk switches over in rounds.
    big = estimate_loads({"bulk": Load("bulk", 201, 201 * GIB_MIB, GIB_MIB)}, a)
    assert big.switchover.high == 2 * 15 * 60


def test_a_cold_migration_is_all_outage(defaults):
    a = assumptions_for(Link(1000))
    cold = estimate_loads({"cold": Load("cold", 1, TB_MIB, TB_MIB)}, a)
    assert cold.in_window.high == pytest.approx(TB_BITS / 500e6 + 5 * 60)
    assert cold.pre_seed.high == 0


def test_it_says_whether_the_window_holds_the_slow_end(defaults):
    a = assumptions_for(Link(1000))
    loads = {"vmotion": Load("vmotion", 1, TB_MIB, TB_MIB)}  # in the window: 3 h 05 - 4 h 56
    assert estimate_loads(loads, a, 5 * 3600).fits is True
    tight = estimate_loads(loads, a, 4 * 3600)
    assert tight.fits is False and tight.verdict.startswith("May not fit the 4 h 00 min window")
    short = estimate_loads(loads, a, 2 * 3600)
    assert short.fits is False and short.verdict.startswith("Does not fit the 2 h 00 min window")
    assert estimate_loads(loads, a, None).fits is None


def test_a_big_bulk_wave_fits_a_short_window_because_it_pre_seeds(defaults):
    a = assumptions_for(Link(1000))
    estimate = estimate_loads({"bulk": Load("bulk", 50, 50 * TB_MIB, TB_MIB)}, a, 1 * 3600)
    assert estimate.transfer.high > 24 * 3600
    assert estimate.fits is True


def test_without_a_site_the_transfer_is_unknown_but_a_bulk_switchover_is_not(defaults):
    a = assumptions_for(None)
    bulk = estimate_loads({"bulk": Load("bulk", 2, 10, 5)}, a, 3600)
    assert bulk.transfer is None and bulk.fits is True
    vmotion = estimate_loads({"vmotion": Load("vmotion", 2, 10, 5)}, a, 3600)
    assert vmotion.in_window is None and vmotion.fits is None
    assert "site" in vmotion.verdict


def test_it_uses_measured_throughput_once_there_is_some(defaults, monkeypatch):
    assert estimates.measured_throughput() is None  # no migration model yet: nothing is invented
    # Without a prior to blend with, the measured range is the range (test_estimates_confidence.py blends).
    defaults.MIGRATION_ESTIMATES = {**defaults.MIGRATION_ESTIMATES, "CALIBRATION_PRIOR_SAMPLES": 0}
    monkeypatch.setattr(estimates, "measured_throughput", lambda site=None: MeasuredThroughput(0.25, 0.4, 12))
    a = assumptions_for(Link(1000))
    estimate = estimate_loads({"bulk": Load("bulk", 1, TB_MIB, TB_MIB)}, a)
    assert estimate.transfer.low == pytest.approx(TB_BITS / 400e6)
    assert estimate.transfer.high == pytest.approx(TB_BITS / 250e6)
    assert "measured from 12 completed migrations" in a.line


def test_the_settings_change_the_estimate(defaults):
    defaults.MIGRATION_ESTIMATES = {
        **defaults.MIGRATION_ESTIMATES,
        "EFFICIENCY_LOW_PCT": 100,
        "EFFICIENCY_HIGH_PCT": 100,
    }
    a = assumptions_for(Link(1000))
    estimate = estimate_loads({"cold": Load("cold", 1, TB_MIB, TB_MIB)}, a)
    assert estimate.transfer.low == estimate.transfer.high == pytest.approx(TB_BITS / 1000e6)


@pytest.mark.django_db
def test_a_saved_wave_is_estimated_from_used_storage_or_provisioned(defaults):
    site = make_link_site(bandwidth_mbps=1000)
    start = datetime(2031, 1, 4, 22, tzinfo=UTC)
    wave = Wave.objects.create(
        name="W1",
        site=site,
        migration_type=MigrationType.BULK,
        window_start=start,
        window_end=start + timedelta(hours=8),
    )
    vc = make_vcenter()
    used = make_vm(vc, "used", used_mib=TB_MIB // 2, provisioned_mib=TB_MIB)
    unknown = make_vm(vc, "unknown", used_mib=0, provisioned_mib=TB_MIB // 2)
    moved = make_vm(vc, "moved", used_mib=GIB_MIB, provisioned_mib=GIB_MIB)
    WaveItem.objects.create(wave=wave, vm=used)
    WaveItem.objects.create(wave=wave, vm=unknown)
    WaveItem.objects.create(wave=wave, vm=moved, migration_type=MigrationType.VMOTION)
    estimate = estimate_wave(wave)
    by_type = {t.migration_type: t for t in estimate.types}
    assert by_type["bulk"].vms == 2 and by_type["bulk"].total_mib == TB_MIB
    assert by_type["vmotion"].vms == 1 and by_type["vmotion"].total_mib == GIB_MIB
    assert estimate.fits is True
    assert [v["name"] for v in estimate.longest_vms] == ["unknown", "used", "moved"]


@pytest.mark.django_db
def test_a_vm_sharing_the_link_is_never_slower_than_its_whole_wave(defaults):
    from migrations_app.planner.estimates import vm_estimates

    a = assumptions_for(Link(1000))
    # 100 VMs of 10 GiB and one of 1 TiB, Bulk: the small ones alone take 107-172 s each.
    estimate = estimate_loads({"bulk": Load("bulk", 101, 100 * 10 * GIB_MIB + TB_MIB, TB_MIB)}, a)
    small, big = vm_estimates([(1, "small", "bulk", 10 * GIB_MIB), (2, "big", "bulk", TB_MIB)], a, estimate)
    assert small["transfer"]["low_seconds"] == round(10 * 1024**3 * 8 / 800e6)
    assert small["transfer"]["high_seconds"] <= estimate.transfer.high
    assert big["transfer"]["high_seconds"] == round(estimate.transfer.high)
