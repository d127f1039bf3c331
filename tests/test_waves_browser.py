"""A planner plans a wave in a real browser (headless Chromium): target cluster, wave with its window,
a whole group, a network mapping, a per-VM migration type; a stakeholder reads it. Screenshots go to
/tmp (avsportal-wave-*.png) for a person to look at."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from migrations_app.models import NetworkMapping, Wave, WaveItem
from tests.conftest import make_user
from tests.factories import make_estate, make_group, make_link_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def test_a_planner_plans_a_wave_and_a_stakeholder_reads_it(sign_in, page):
    estate = make_estate(vms=12, networks=2)
    make_group("billing", estate.vms[:4])
    make_link_site("Rotterdam")
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto("/plan/targets/add/")
    page.get_by_label("Site").select_option(label="Rotterdam")
    page.get_by_label("Name").fill("Cluster-1")
    page.get_by_label("Host type").select_option("AV36P")
    page.get_by_label("Hosts", exact=True).fill("4")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("usable-vcpus")).to_contain_text("432")

    page.goto("/plan/waves/add/")
    page.get_by_label("Name").fill("Wave 1")
    page.get_by_label("Change window start").fill("2025-03-08T22:00")
    page.get_by_label("Change window end").fill("2025-03-09T04:00")
    page.get_by_label("Time zone").select_option("Europe/Amsterdam")
    page.get_by_label("Target cluster").select_option(label="Rotterdam / Cluster-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("wave-window")).to_have_text(
        "2025-03-08 22:00 – 2025-03-09 04:00 Europe/Amsterdam"
    )

    page.get_by_role("link", name="Add groups").click()
    page.get_by_role("row", name="billing").get_by_role("checkbox").check()
    page.get_by_role("button", name="Add the ticked groups").click()
    expect(page.get_by_role("alert").first).to_contain_text("4 VMs added to Wave 1.")
    expect(page.get_by_test_id("wave-totals")).to_contain_text("4")

    network = estate.networks[0].name
    row = page.locator(f'tr[data-network="{network}"]')
    row.get_by_label(f"Target network for {network}").fill("seg-billing")
    row.get_by_label(f"Kind of target for {network}").select_option("segment")
    row.get_by_role("button", name="Map").click()
    expect(page.get_by_role("alert").first).to_contain_text("now lands on seg-billing")

    page.get_by_label(f"Migration type of {estate.vms[0].name}").select_option("vmotion")
    page.get_by_role("row", name=estate.vms[0].name).get_by_role("button", name="Set").click()
    expect(page.get_by_role("alert").first).to_contain_text("1 VMs now migrate with HCX vMotion")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-wave-planner.png"), full_page=True)

    wave = Wave.objects.get(name="Wave 1")
    assert wave.revision == 4  # VMs added, network mapped, a type changed
    assert WaveItem.objects.get(vm=estate.vms[0]).migration_type == "vmotion"
    assert NetworkMapping.objects.get(wave=wave).target_name == "seg-billing"

    page.context.clear_cookies()
    page = sign_in(make_user("stakeholder"), PASSWORD)
    page.goto(f"/plan/waves/{wave.pk}/")
    expect(page.get_by_test_id("wave-vms")).to_contain_text(estate.vms[0].name)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Set")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "avsportal-wave-stakeholder.png"), full_page=True)
