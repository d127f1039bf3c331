"""A set-up job that meets a step waiting for a person (trusting a certificate) or a step that fails:
the steps that do not depend on it still run, the waiting step reads "Needs your input" (on the
checklist, the job page and the job list) and is not a failed job; "Run" is offered only where a
step's prerequisites are done; job titles read whole.

The job runs its handler in this process (core.jobs.run, as a worker would), against the HCX simulator
at 600x time."""

import pytest
from django.urls import reverse

from core.choices import JobStatus
from core.jobs import run as run_job
from core.models import Job
from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxSetupStep
from hcx.setup.checklist import build_checklist
from hcx.setup.runner import record, start_setup
from tests import test_hcx_setup_connect as connect
from tests.hcx_setup import CLOUD_USER, make_setup_plan
from tests.test_hcx_setup_connect import CLOUD_URL, accept_vcenter, issue_key
from tests.test_hcx_setup_pages import make_plan, setup_url

pytestmark = pytest.mark.django_db

INDEPENDENT = [SetupStepKey.NETWORK_PROFILES, SetupStepKey.COMPUTE_PROFILE]  # need "register", not "pair"
AFTER_PAIR = [SetupStepKey.SERVICE_MESH, SetupStepKey.EXTEND]

# The certificates the simulator presents, asked once per session (fixtures of the connect tests).
cloud_pem, vcenter_pem = connect.cloud_pem, connect.vcenter_pem


def states(plan) -> dict[str, str]:
    return dict(HcxSetupStep.objects.filter(plan=plan).values_list("step", "state"))


def run_remaining(plan, engineer) -> Job:
    job = start_setup(engineer, plan, build_checklist(plan).remaining)
    run_job(job.pk)
    job.refresh_from_db()
    return job


def test_a_certificate_pause_needs_input_and_the_independent_steps_still_run(
    hcxsim_fast, vcenter_pem, engineer, client_for
):
    plan = make_setup_plan(hcxsim_fast, name="Main datacenter")
    accept_vcenter(plan, vcenter_pem)

    job = run_remaining(plan, engineer)

    assert job.status == JobStatus.NEEDS_INPUT, (job.status, job.error)
    assert job.error == ""
    found = states(plan)
    assert found[SetupStepKey.PAIR] == StepState.NEEDS_INPUT
    for key in (SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER, *INDEPENDENT):
        assert found[key] == StepState.DONE, key
    for key in AFTER_PAIR:
        assert found.get(key, StepState.NOT_STARTED) == StepState.NOT_STARTED, key
    assert "Skipped until then: Deploy the service mesh, Extend the chosen networks" in job.progress_text
    assert job.name == "Run HCX set-up: Main datacenter — 8 steps"

    client = client_for(engineer)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="job-status">Needs your input<' in page and "job-needs-input" in page
    assert "Failed" not in page
    listing = client.get(reverse("core:job_list")).content.decode()
    assert "Needs your input" in listing and "Run HCX set-up: Main datacenter — 8 steps" in listing
    checklist = client.get(setup_url(plan)).content.decode()
    assert "certificate-prompt" in checklist
    for key in AFTER_PAIR:  # they wait for the pairing: no Run for them
        assert f'value="{key}"' not in checklist, key


def test_a_failed_step_stops_only_the_steps_that_depend_on_it(hcxsim_fast, cloud_pem, vcenter_pem, engineer):
    """The pairing fails (a wrong cloudadmin password); the profiles, which do not need it, still run."""
    key = issue_key(hcxsim_fast, "pasted")
    plan = make_setup_plan(
        hcxsim_fast,
        azure=False,
        activation_key=key,
        cloud_url=CLOUD_URL,
        cloud_username=CLOUD_USER,
        cloud_password="Not-The-Cloud-Passw0rd",
        trusted_cloud_certificate=cloud_pem,
    )
    accept_vcenter(plan, vcenter_pem)

    job = run_remaining(plan, engineer)

    assert job.status == JobStatus.FAILED
    found = states(plan)
    assert found[SetupStepKey.PAIR] == StepState.FAILED
    for key in INDEPENDENT:
        assert found[key] == StepState.DONE, key
    for key in AFTER_PAIR:
        assert found.get(key, StepState.NOT_STARTED) == StepState.NOT_STARTED, key
    assert job.error.startswith("Pair with the AVS HCX Cloud Manager: The HCX at")
    assert "Not-The-Cloud-Passw0rd" not in job.error


# --- the buttons -------------------------------------------------------------------------------------


def test_run_is_offered_only_where_the_prerequisites_are_done(client_for, engineer):
    plan = make_plan()
    record(plan, SetupStepKey.AVS, StepState.DONE, summary="Registered")
    page = client_for(engineer).get(setup_url(plan)).content.decode()
    assert f'value="{SetupStepKey.AVS}"' in page and f'value="{SetupStepKey.ACTIVATE}"' in page
    assert f'value="{SetupStepKey.REGISTER}"' not in page
    assert f"Waits for {SetupStepKey.ACTIVATE.label}" in page
    assert f"Waits for {SetupStepKey.COMPUTE_PROFILE.label}, {SetupStepKey.PAIR.label}" in page  # the mesh


def test_a_step_whose_prerequisites_are_missing_is_not_started(client_for, engineer):
    plan = make_plan()
    response = client_for(engineer).post(f"{setup_url(plan)}run/", {"step": SetupStepKey.PAIR}, follow=True)
    assert f"“{SetupStepKey.PAIR.label}” waits for {SetupStepKey.REGISTER.label}: nothing was started." in (
        response.content.decode()
    )
    assert not Job.objects.exists()


def test_without_a_connection_every_step_waits_for_it(client_for, engineer):
    plan = make_plan()
    plan.connection.delete()
    page = client_for(engineer).get(setup_url(plan)).content.decode()
    assert f'value="{SetupStepKey.AVS}"' not in page
    assert "Waits for the HCX connection" in page


def test_a_job_title_is_capitalised_and_whole(client_for, engineer):
    plan = make_plan()
    plan.name = "Main datacenter " + "x" * 180
    plan.save()
    client_for(engineer).post(f"{setup_url(plan)}run/", {"step": SetupStepKey.AVS})
    job = Job.objects.get()
    assert job.name == f"Run HCX set-up: {plan.name} — Register the AVS private cloud"


def test_the_api_says_which_steps_can_run_and_what_the_others_wait_for(client_for, stakeholder):
    plan = make_plan()
    record(plan, SetupStepKey.AVS, StepState.DONE, summary="Registered")
    steps = {
        s["key"]: s for s in client_for(stakeholder).get(f"/api/hcx-plans/{plan.pk}/setup/").json()["steps"]
    }
    assert (
        steps[SetupStepKey.ACTIVATE]["can_run_now"] is True
        and steps[SetupStepKey.ACTIVATE]["waits_for"] == []
    )
    assert steps[SetupStepKey.REGISTER]["can_run_now"] is False
    assert steps[SetupStepKey.REGISTER]["waits_for"] == [str(SetupStepKey.ACTIVATE.label)]
