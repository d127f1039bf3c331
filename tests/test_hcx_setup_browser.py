"""An engineer walks the HCX set-up in a real browser: headless Chromium on the live server, a
Celery worker running the steps, and the HCX simulator (at 600x time) as HCX and Azure.

The Connector counts as deployed by hand: the simulator is a running Connector, and the "deploy"
step (the OVA deployment, with its own page) is recorded done first, as an engineer would have it
after deploying the appliance outside the portal. "Run all remaining steps" runs the steps the
portal runs itself, so it never includes the deployment.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxConnection, HcxSetupStep
from hcx.setup.runner import ORDER, record
from tests.conftest import make_user
from tests.hcx_setup import make_setup_plan

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # what make_user gives every persona
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
STEP_MS = 180_000  # the whole connect or configure half, in real time, on a slow shared machine


def state_of(page, key):
    return page.locator(f'#setup-checklist tr[data-step="{key}"] [data-testid="step-state"]')


def test_an_engineer_runs_the_set_up_to_extended_networks_trusting_vcenter_and_the_cloud_certificate(
    sign_in, celery_worker, hcxsim_fast
):
    plan = make_setup_plan(hcxsim_fast)
    record(plan, SetupStepKey.DEPLOY, StepState.DONE, summary="Deployed by hand; the appliance API answers")
    page = sign_in(make_user("engineer"), PASSWORD)

    page.goto(f"/hcx/plans/{plan.pk}/")
    page.get_by_test_id("setup-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"HCX set-up of {plan.name}")
    expect(page.get_by_test_id("plan-checks")).to_contain_text("Plan ready")
    expect(page.get_by_test_id("next-step")).to_contain_text(str(SetupStepKey.AVS.label))

    page.get_by_role("button", name="Run all remaining steps").click()
    expect(page.get_by_text("Started job #")).to_be_visible()
    page.evaluate("window.loadedOnce = true")  # lost on a reload: what follows comes in through htmx

    # HCX refuses to register vCenter until its certificate is trusted ("Untrusted SSL connection").
    prompt = page.get_by_test_id("certificate-prompt")
    expect(prompt).to_be_visible(timeout=STEP_MS)
    assert page.evaluate("window.loadedOnce") is True, "the checklist refreshed without reloading the page"
    for key in (SetupStepKey.AVS, SetupStepKey.ACTIVATE):
        expect(state_of(page, key)).to_have_text(str(StepState.DONE.label))
    expect(state_of(page, SetupStepKey.REGISTER)).to_have_text(str(StepState.NEEDS_INPUT.label))
    register = HcxSetupStep.objects.get(plan=plan, step=SetupStepKey.REGISTER)
    expect(prompt).to_contain_text("Trust the certificate of vCenter?")
    expect(page.get_by_test_id("certificate-subject")).to_have_text("CN=vcsa-onprem.local")
    expect(page.get_by_test_id("certificate-sha256")).to_have_text(register.data["sha256"])
    page.screenshot(path=str(SCREENSHOTS / "avsportal-hcx-setup-vcenter-certificate.png"), full_page=True)
    page.get_by_role("button", name="Trust this certificate and register").click()
    expect(page.get_by_text("Certificate trusted. Started job #")).to_be_visible()
    page.evaluate("window.loadedOnce = true")

    # The registration goes on; the connect half then runs until HCX asks about the Cloud Manager.
    expect(prompt).to_contain_text("Trust the HCX Cloud Manager's certificate?", timeout=STEP_MS)
    assert page.evaluate("window.loadedOnce") is True
    for key in (SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER):
        expect(state_of(page, key)).to_have_text(str(StepState.DONE.label))
    assert hcxsim_fast.control.state()["trustedCertificates"] == 1
    expect(state_of(page, SetupStepKey.PAIR)).to_have_text(str(StepState.NEEDS_INPUT.label))
    pair = HcxSetupStep.objects.get(plan=plan, step=SetupStepKey.PAIR)
    expect(page.get_by_test_id("certificate-sha256")).to_have_text(pair.data["sha256"])
    expect(page.get_by_test_id("certificate-subject")).not_to_be_empty()
    prompt.locator("summary").click()
    expect(prompt.locator("pre")).to_contain_text("-----BEGIN CERTIFICATE-----")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-hcx-setup-certificate.png"), full_page=True)

    expect(page.get_by_label("then run the remaining steps")).to_be_checked()
    page.get_by_role("button", name="Trust this certificate and pair").click()
    expect(page.get_by_text("Certificate trusted. Started job #")).to_be_visible()
    page.evaluate("window.loadedOnce = true")

    # The configure half: pairing, profiles, compute profile, mesh, and the extended networks.
    for key in ORDER[: ORDER.index(SetupStepKey.EXTEND) + 1]:
        expect(state_of(page, key)).to_have_text(str(StepState.DONE.label), timeout=STEP_MS)
    expect(page.get_by_test_id("next-step")).to_contain_text("Every step is done")
    expect(page.locator("#setup-checklist")).to_have_attribute("data-busy", "false")
    expect(page.get_by_test_id("job-status")).to_have_text("Completed")
    assert page.evaluate("window.loadedOnce") is True
    page.screenshot(path=str(SCREENSHOTS / "avsportal-hcx-setup-done.png"), full_page=True)

    assert (
        HcxConnection.objects.get(plan=plan).trusted_cloud_certificate.strip()
        == pair.data["certificate"].strip()
    )
    assert set(HcxSetupStep.objects.filter(plan=plan).values_list("state", flat=True)) == {StepState.DONE}
