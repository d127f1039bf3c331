"""A planner auto-plans in a real browser (headless Chromium) an estate bigger than its target cluster:
the proposal shows the cluster's use wave by wave and what was left out and why (no room; a vCenter
the site's HCX does not manage); the planner accepts a wave, and every wave into the cluster, the one
planned before included, still fits. Screenshot: /tmp/avsportal-autoplan-capacity.png."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inventory.choices import PowerState
from migrations_app.models import PlanProposal, ReadinessFinding, Wave
from migrations_app.readiness.actions import do_run_readiness
from migrations_app.waves.capacity import fit_for_wave, other_waves_totals, usable_capacity
from tests.conftest import make_user
from tests.factories import make_group, make_link_site, make_target_cluster, make_vcenter, make_vm, make_wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
TB = 1024 * 1024


def test_a_planner_auto_plans_more_than_the_cluster_holds_and_accepts_a_wave_that_fits(sign_in, page):
    vc1, vc2 = make_vcenter("vc1.example.com"), make_vcenter("vc2.example.com")
    site = make_link_site("Rotterdam", bandwidth_mbps=10000, vcenter=vc1)
    cluster = make_target_cluster(site, "Cluster-1", sku="AV36", hosts=3)  # about 15.5 TB of vSAN usable
    earlier = make_wave(
        "Earlier",
        [make_vm(vc1, f"old-{i}", used_mib=TB, num_cpu=2, memory_mib=8192) for i in range(5)],
        site=site,
        target_cluster=cluster,
        sequence=10,
    )
    for i in range(8):  # 16 TB more than the ~10.5 TB left
        make_group(
            f"app-{i}",
            [
                make_vm(
                    vc1, f"app-{i}-{n}", used_mib=TB, num_cpu=4, memory_mib=16384, power_state=PowerState.ON
                )
                for n in range(2)
            ],
        )
    make_group("remote", [make_vm(vc2, f"remote-{n}", used_mib=TB // 10) for n in range(2)])
    usable = usable_capacity(cluster)
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto("/plan/autoplan/")
    page.get_by_label("Site").select_option(label="Rotterdam")
    page.get_by_label("Target cluster").select_option(label="Rotterdam / Cluster-1")
    page.get_by_label("VMs per wave at most").fill("4")
    page.get_by_label("First change window starts").fill("2031-01-04T22:00")
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_role("button", name="Propose a plan").click()
    expect(page.get_by_role("alert").first).to_contain_text("not placed")

    use = page.get_by_test_id("cluster-use")
    expect(use).to_be_visible()
    expect(page.get_by_test_id("cluster-use-planned")).to_contain_text("Already planned (1 wave)")
    expect(page.get_by_test_id("cluster-use-usable")).to_contain_text(f"{usable.storage_tb:.1f}")
    left_out = page.get_by_test_id("unplaced")
    expect(left_out.get_by_role("row", name="remote")).to_contain_text(
        "vCenter vc2.example.com, which this site's HCX does not manage (it manages vc1.example.com)"
    )
    expect(left_out).to_contain_text(
        re.compile(r"no room left in Cluster-1: needs 2\.0 TiB of vSAN storage, .* left after Wave \d\d")
    )
    page.screenshot(path=str(SCREENSHOTS / "avsportal-autoplan-capacity.png"), full_page=True)

    # What the page showed is what was proposed: never above usable, wave by wave.
    proposal = PlanProposal.objects.get()
    rows = proposal.data["cluster_use"]["waves"]
    assert rows and all(r["total"]["storage_tb"] <= usable.storage_tb for r in rows)
    for r in rows:
        expect(page.get_by_test_id(f"cluster-use-wave-{r['number']}")).to_contain_text(
            f"{r['total']['storage_tb']:.1f}"
        )
    last = rows[-1]["name"]

    page.get_by_label(f"Accept {last}", exact=True).check()
    page.get_by_role("button", name="Accept the ticked waves").click()
    expect(page.get_by_role("alert").first).to_contain_text(f"Created 1 draft wave: {last}")

    created = Wave.objects.get(name=last)
    page.get_by_role("link", name=f"Created: {last}").click()
    expect(page.get_by_test_id("wave-fit")).to_contain_text("fits")
    expect(page.get_by_test_id("wave-fit")).not_to_contain_text("does not fit")
    page.goto(earlier.get_absolute_url())
    expect(page.get_by_test_id("wave-fit")).not_to_contain_text("does not fit")

    planned, count = other_waves_totals(cluster)
    assert count == 2 and planned.used_tb <= usable.storage_tb
    assert fit_for_wave(earlier).fits and fit_for_wave(created).fits
    do_run_readiness(earlier, acting_user=make_user("planner", "planner-2"))
    assert not ReadinessFinding.objects.filter(wave=earlier, rule="target-capacity").exists()
