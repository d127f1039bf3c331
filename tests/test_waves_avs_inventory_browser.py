"""A planner, in a real browser (headless Chromium), reads the AVS inventory of the wave's site from
HCX (the simulator over HTTP), picks the wave's datastore from what AVS offers, saves, and the wave
shows it. A screenshot goes to /tmp (avsportal-wave-avs-inventory.png) for a person to look at."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from migrations_app.choices import WaveStatus
from migrations_app.models import TargetCluster, Wave
from tests.conftest import make_user
from tests.factories import make_wave
from tests.hcx_migrations import Meshed
from tests.hcx_setup import make_setup_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def test_a_planner_picks_the_wave_s_datastore_from_what_avs_offers(sign_in, page, hcxsim_fast):
    Meshed(hcxsim_fast)
    site = make_setup_plan(hcxsim_fast)
    cluster = TargetCluster.objects.create(site=site, name="Cluster-1", hosts=3)
    wave = make_wave("Wave 1", [], status=WaveStatus.DRAFT, site=site, target_cluster=cluster)
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto(f"/plan/waves/{wave.pk}/edit/")
    expect(page.get_by_test_id("avs-inventory")).to_contain_text("was never read from HCX")
    page.get_by_role("button", name="Read AVS inventory from HCX").click()
    expect(page.get_by_role("alert").first).to_contain_text("Read the AVS inventory of Amsterdam from HCX")
    expect(page.get_by_test_id("avs-inventory")).to_contain_text("chosen from the AVS inventory of Amsterdam")
    page.get_by_label("Target datastore").select_option("anf-datastore-01")
    page.get_by_label("Target folder").select_option("Workloads")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-wave-avs-inventory.png"), full_page=True)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("wave-target-storage")).to_have_text("anf-datastore-01 / Workloads")
    wave = Wave.objects.get(pk=wave.pk)
    assert (wave.target_datastore, wave.target_folder) == ("anf-datastore-01", "Workloads")
