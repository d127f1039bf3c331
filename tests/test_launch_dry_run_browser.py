"""In Chromium, with the real Celery worker and the HCX simulator: an engineer presses "Validate in HCX"
on a wave and sees HCX's answer per VM appear on the wave page (one VM refused with HCX's words, one
with a warning, one passed), still there after a reload; nothing was started in HCX."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from migrations_app.models import VmMigration
from tests.conftest import make_user
from tests.launch_helpers import make_launch_setup

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
CHECK_MS = 90_000  # the worker picks the job up and HCX answers, on a slow shared machine


def test_an_engineer_validates_a_wave_in_hcx_and_sees_each_vm_s_answer(sign_in, celery_worker, hcxsim_fast):
    setup = make_launch_setup(
        hcxsim_fast,
        vms=3,
        remove_isos=False,
        facts={"app-2": {"isoAttached": True}, "app-3": {"toolsRunning": False}},
    )
    page = sign_in(make_user("engineer"), PASSWORD)
    page.goto(setup.wave.get_absolute_url())
    panel = page.get_by_test_id("hcx-validation")
    expect(panel.get_by_test_id("hcx-validation-status")).to_have_text("Not checked in HCX yet.")

    panel.get_by_role("button", name="Validate in HCX").click()
    table = page.get_by_test_id("hcx-validation-vms")
    expect(page.get_by_role("alert")).to_contain_text("Checking Wave 1's VMs in HCX; nothing is started.")
    page.evaluate("window.notReloaded = true")  # the answer comes in by the panel's polling
    expect(table).to_be_visible(timeout=CHECK_MS)
    assert page.evaluate("window.notReloaded") is True, "the answer came in without reloading the page"
    refused = table.locator('tr[data-vm="app-2"]')
    expect(refused.locator('[data-field="result"]')).to_have_text("errors")
    expect(refused.locator('[data-field="messages"]')).to_contain_text("ISO")
    expect(refused.locator('[data-field="messages"]')).to_contain_text("ISO_ATTACHED")
    expect(table.locator('tr[data-vm="app-1"] [data-field="result"]')).to_have_text("passed")
    warned = table.locator('tr[data-vm="app-3"]')
    expect(warned.locator('[data-field="result"]')).to_have_text("passed")
    expect(warned.locator('[data-field="messages"]')).to_contain_text("TOOLS_NOT_RUNNING")
    expect(page.get_by_test_id("hcx-validation-taken")).to_contain_text("UTC")

    page.get_by_test_id("hcx-validation").screenshot(path=str(SCREENSHOTS / "avsportal-validate-in-hcx.png"))
    page.reload()
    expect(
        page.locator('[data-testid="hcx-validation-vms"] tr[data-vm="app-2"] [data-field="result"]')
    ).to_have_text("errors")
    assert setup.hcx_migrations() == [] and not VmMigration.objects.exists()


def test_a_stakeholder_reads_the_answer_but_has_no_button(sign_in, hcxsim_fast):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    page = sign_in(make_user("stakeholder"), PASSWORD)
    page.goto(setup.wave.get_absolute_url())
    expect(page.get_by_test_id("hcx-validation")).to_contain_text("Not checked in HCX yet.")
    expect(page.get_by_role("button", name="Validate in HCX")).to_have_count(0)
