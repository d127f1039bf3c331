"""An engineer runs the HCX set-up in Chromium and meets the vCenter certificate pause: the step reads
"Needs your input" (not a failed job, on the set-up page and on the job page), and the steps whose
prerequisites are missing offer no Run but say what they wait for. A Celery worker runs the job
against the HCX simulator at 600x time."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hcx.choices import SetupStepKey, StepState
from hcx.setup.runner import record
from tests.conftest import make_user
from tests.hcx_setup import make_setup_plan

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # what make_user gives every persona
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
STEP_MS = 180_000  # the connect half, in real time, on a slow shared machine


def row(page, key):
    return page.locator(f'#setup-checklist tr[data-step="{key}"]')


def test_a_waiting_certificate_step_needs_your_input_and_dependent_steps_offer_no_run(
    sign_in, celery_worker, hcxsim_fast
):
    plan = make_setup_plan(hcxsim_fast, name="Main datacenter")
    record(plan, SetupStepKey.DEPLOY, StepState.DONE, summary="Deployed by hand")
    page = sign_in(make_user("engineer"), PASSWORD)
    page.goto(f"/hcx/plans/{plan.pk}/setup/")

    # Before anything ran, only the first step can run; the next ones say what they wait for.
    expect(
        row(page, SetupStepKey.AVS).get_by_role("button", name="Run: Register the AVS private cloud")
    ).to_be_visible()
    activate = row(page, SetupStepKey.ACTIVATE)
    expect(activate.get_by_role("button")).to_have_count(0)
    expect(activate.get_by_test_id("waits-for")).to_have_text(f"Waits for {SetupStepKey.AVS.label}")

    page.get_by_role("button", name="Run all remaining steps").click()
    expect(page.get_by_text("Started job #")).to_be_visible()

    register = row(page, SetupStepKey.REGISTER)
    expect(register.get_by_test_id("step-state")).to_have_text("Needs your input", timeout=STEP_MS)
    expect(page.get_by_test_id("certificate-prompt")).to_be_visible()
    # The job ended waiting for a decision, not failed (the section below the steps, after a reload).
    page.reload()
    expect(page.get_by_test_id("setup-job").get_by_test_id("job-status")).to_have_text("Needs your input")
    expect(page.get_by_test_id("setup-job")).not_to_contain_text("Failed")
    for key in (
        SetupStepKey.PAIR,
        SetupStepKey.NETWORK_PROFILES,
        SetupStepKey.COMPUTE_PROFILE,
        SetupStepKey.SERVICE_MESH,
        SetupStepKey.EXTEND,
    ):
        expect(row(page, key).get_by_role("button")).to_have_count(0)
        expect(row(page, key).get_by_test_id("waits-for")).to_be_visible()
    expect(row(page, SetupStepKey.PAIR).get_by_test_id("waits-for")).to_have_text(
        f"Waits for {SetupStepKey.REGISTER.label}"
    )
    page.screenshot(path=str(SCREENSHOTS / "avsportal-hcx-setup-needs-input.png"), full_page=True)

    page.get_by_test_id("setup-job").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run HCX set-up: Main datacenter — 8 steps")
    expect(page.get_by_test_id("job-status")).to_have_text("Needs your input")
    expect(page.get_by_test_id("job-needs-input")).to_contain_text("Register vCenter, SSO and location")
    expect(page.get_by_test_id("job-error")).to_have_count(0)
    page.goto("/jobs/")
    expect(page.get_by_role("row", name="Run HCX set-up: Main datacenter — 8 steps")).to_contain_text(
        "Needs your input"
    )
