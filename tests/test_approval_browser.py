"""The readiness-to-approval journey in a real browser: a planner checks a wave, switches a blocked VM
to Cold and submits it; the engineer is refused an approval without a change ticket, then approves.
Screenshots go to /tmp (avsportal-readiness-*.png)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.roles import ENGINEER, PLANNER
from inventory.choices import PowerState
from migrations_app.choices import WaveStatus
from migrations_app.models import Approval, Wave
from tests.conftest import make_user
from tests.test_readiness_rules import add_vm, make_scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def test_a_planner_readies_and_submits_a_wave_and_an_engineer_approves_it(page, sign_in):
    scene = make_scene()
    add_vm(scene, "web01")
    add_vm(scene, "batch01", power_state=PowerState.OFF)
    wave_url = scene.wave.get_absolute_url()
    planner, engineer = make_user(PLANNER), make_user(ENGINEER)

    sign_in(planner, PASSWORD)
    page.goto(wave_url)
    panel = page.get_by_test_id("readiness-panel")
    expect(panel).to_contain_text("Readiness has not been checked yet")
    panel.get_by_role("button", name="Check readiness").click()
    expect(page.get_by_role("alert")).to_contain_text("1 blocker, 0 warnings")
    expect(page.get_by_test_id("readiness-blocked")).to_contain_text("batch01")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-readiness-blocked.png"), full_page=True)
    page.get_by_role("button", name="Switch to Cold").click()
    expect(page.get_by_role("alert")).to_contain_text("Switched to Cold")
    expect(page.get_by_test_id("readiness-blockers")).to_have_text("no blockers")
    page.get_by_test_id("approval-submit").click()
    expect(page.get_by_role("alert")).to_contain_text("submitted for approval")
    expect(page.get_by_test_id("approval-status")).to_have_text("Submitted for approval")
    page.get_by_role("button", name="Sign out").click()

    sign_in(engineer, PASSWORD)
    page.goto("/plan/approvals/")
    page.get_by_role("link", name="Review").click()
    decide = page.get_by_test_id("approval-decide")
    decide.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert")).to_contain_text("needs the change ticket")
    page.get_by_test_id("approval-decide").get_by_label("Change ticket").fill("CHG0042")
    page.get_by_test_id("approval-decide").get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert")).to_contain_text("approved under change ticket CHG0042")
    expect(page.get_by_test_id("approval-history")).to_contain_text("Approved revision 2")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-readiness-approved.png"), full_page=True)
    wave = Wave.objects.get(pk=scene.wave.pk)
    assert wave.status == WaveStatus.APPROVED and Approval.objects.get().change_ticket == "CHG0042"
