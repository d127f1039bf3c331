"""Target-cluster capacity and a wave's totals and fit, on estates whose figures are known."""

import pytest
from django.test import override_settings

from migrations_app.choices import WaveStatus
from migrations_app.waves.capacity import cap_warnings, fit_for_wave, usable_capacity, wave_totals
from tests.factories import make_estate, make_target_cluster, make_vcenter, make_vm, make_wave

pytestmark = pytest.mark.django_db

MIB_PER_TB = 1024 * 1024


def test_it_computes_usable_capacity_from_the_host_type_and_count():
    cluster = make_target_cluster(sku="AV36P", hosts=4, ftt=1)
    capacity = usable_capacity(cluster)
    # one host held back for HA: 3 x 36 cores x 4 vCPU per core, 3 x 768 GB
    assert capacity.workload_hosts == 3
    assert capacity.cores == 108 and capacity.vcpus == 432
    assert capacity.memory_gb == 2304
    # all 4 hosts' raw vSAN (19.20 SI TB each) in binary TB, halved by FTT=1 mirroring, less 25% slack
    assert capacity.raw_tb == pytest.approx(76.8)
    assert capacity.storage_tb == pytest.approx(76.8e12 / 2**40 / 2 * 0.75)
    assert capacity.storage_tb == pytest.approx(26.19, abs=0.01)


def test_ftt_two_keeps_three_copies():
    cluster = make_target_cluster(sku="AV52", hosts=5, ftt=2)
    assert usable_capacity(cluster).storage_tb == pytest.approx(5 * 38.40e12 / 2**40 / 3 * 0.75)


@override_settings(AVS_VCPU_PER_CORE=2, AVS_MEMORY_OVERCOMMIT=1.25, AVS_VSAN_SLACK=0.30, AVS_HA_SPARE_HOSTS=2)
def test_the_sizing_assumptions_are_settings():
    capacity = usable_capacity(make_target_cluster(sku="AV64", hosts=6, ftt=1))
    assert capacity.vcpus == 4 * 64 * 2
    assert capacity.memory_gb == 4 * 1024 * 1.25
    assert capacity.storage_tb == pytest.approx(6 * 15.36e12 / 2**40 / 2 * 0.70)


def test_wave_totals_add_up_the_vms_of_the_wave_only():
    estate = make_estate(vms=12, devices=False)
    wave = make_wave("W1", estate.vms[:10])
    make_wave("W2", estate.vms[10:])
    totals = wave_totals(wave)
    # make_estate: vCPUs 1 + i % 8, memory (1 + i % 16) GiB, provisioned 40 GiB + i GiB, used 20 GiB + i/2 GiB
    assert totals.vms == 10
    assert totals.vcpus == sum(1 + i % 8 for i in range(10)) == 39
    assert totals.memory_mib == 1024 * 55
    assert totals.provisioned_mib == 10 * 40 * 1024 + 1024 * 45
    assert totals.used_mib == 10 * 20 * 1024 + 512 * 45


def test_the_fit_counts_every_other_wave_into_the_same_cluster_and_no_other():
    estate = make_estate(vms=15, devices=False)
    cluster = make_target_cluster(sku="AV36", hosts=3)
    elsewhere = make_target_cluster(cluster.site, "Cluster-2")
    wave = make_wave("W1", estate.vms[:10], target_cluster=cluster, site=cluster.site)
    make_wave(
        "W0", estate.vms[10:13], target_cluster=cluster, status=WaveStatus.COMPLETED
    )  # its VMs live there now
    make_wave("W9", estate.vms[13:], target_cluster=elsewhere)
    fit = fit_for_wave(wave)
    vcpus, memory, storage = fit.resources
    assert fit.other_waves == 1
    assert vcpus.wave == 39 and vcpus.others == sum(1 + i % 8 for i in range(10, 13))
    assert vcpus.usable == 2 * 36 * 4
    assert memory.wave == 55 and memory.others == sum(1 + i % 16 for i in range(10, 13))
    assert storage.others == pytest.approx(sum(20 * 1024 + 512 * i for i in range(10, 13)) / MIB_PER_TB)
    assert fit.fits and fit.problems == []


def test_a_wave_too_big_for_its_cluster_is_told_where_it_falls_short():
    vc = make_vcenter()
    cluster = make_target_cluster(sku="AV36", hosts=3)  # 288 vCPUs, 1152 GB, ~15.6 TB usable
    big = [
        make_vm(vc, f"big-{n}", num_cpu=100, memory_mib=100 * 1024, used_mib=6 * MIB_PER_TB) for n in range(3)
    ]
    wave = make_wave("Too big", big, target_cluster=cluster)
    fit = fit_for_wave(wave)
    assert not fit.fits
    assert [r.label for r in fit.resources if not r.fits] == ["vCPUs", "vSAN storage (used)"]
    assert fit.problems[0].startswith(
        "vCPUs: 300.0 vCPU planned into Cluster-1, 288.0 usable (12.0 vCPU short)"
    )


def test_a_wave_without_a_target_has_no_fit():
    assert fit_for_wave(make_wave("Nowhere")) is None


def test_caps_warn_when_the_wave_goes_over_them():
    vc = make_vcenter()
    vms = [make_vm(vc, f"vm-{n}", used_mib=MIB_PER_TB // 2) for n in range(3)]
    wave = make_wave("Capped", vms, max_vms=2, max_tb="1.00")
    warnings = [str(w) for w in cap_warnings(wave, wave_totals(wave))]
    assert warnings == ["3 VMs, over the cap of 2", "1.50 TiB used, over the cap of 1.00 TiB"]
    wave.max_vms, wave.max_tb = 3, 2
    assert cap_warnings(wave, wave_totals(wave)) == []
