"""Validating a wave in HCX before its window (a dry run) against the HCX simulator over HTTP: HCX's
answer per VM in its own words, nothing started, stored with its time; one check at a time per wave;
engineers only, with CSRF."""

import datetime

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from core.choices import JobStatus
from core.jobs import run
from core.models import AuditEntry, Job
from migrations_app.launch.dry_run import VALIDATE_KIND, request_validation
from migrations_app.models import Batch, VmMigration, Wave
from tests.factories import make_wave
from tests.launch_helpers import make_launch_setup

pytestmark = pytest.mark.django_db


def url(wave):
    return reverse("migrations_app:wave_validate_hcx", args=[wave.pk])


def test_it_gives_hcx_s_answer_per_vm_and_starts_nothing(hcxsim_fast, client_for, engineer, stakeholder):
    setup = make_launch_setup(
        hcxsim_fast,
        vms=3,
        remove_isos=False,
        facts={"app-2": {"isoAttached": True}, "app-3": {"toolsRunning": False}},
    )
    response = client_for(engineer).post(url(setup.wave))
    assert response.status_code == 302
    job = Job.objects.get(kind=VALIDATE_KIND)
    run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    answers = {a["vm"]: a for a in job.data["vms"]}
    assert answers["app-1"]["passed"] and answers["app-1"]["errors"] == []
    assert not answers["app-2"]["passed"]
    assert [e["code"] for e in answers["app-2"]["errors"]] == ["ISO_ATTACHED"]
    assert answers["app-3"]["passed"] and [w["code"] for w in answers["app-3"]["warnings"]] == [
        "TOOLS_NOT_RUNNING"
    ]
    # A dry run: HCX started nothing, the portal made no batch and no migration.
    assert setup.hcx_migrations() == [] and setup.hcx()["mobilityGroups"] == []
    assert not Batch.objects.exists() and not VmMigration.objects.exists()
    assert AuditEntry.objects.filter(action="wave.validate_in_hcx", object_id=setup.wave.pk).count() == 1

    # Whoever reads the wave sees the stored answer after a reload, with HCX's words and the time taken.
    html = client_for(stakeholder).get(setup.wave.get_absolute_url()).content.decode()
    assert 'data-testid="hcx-validation-vms"' in html
    message = answers["app-2"]["errors"][0]["message"]
    assert "ISO" in message and message in html
    assert f"{job.completed.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC" in html
    assert "Validate in HCX" not in html  # stakeholders do not get the button
    fragment = (
        client_for(stakeholder).get(url(setup.wave)).content.decode()
    )  # what the page polls while it runs
    assert message in fragment and 'data-vm="app-1"' in fragment
    # The job's own page reads the result as words too: "app-2: <HCX's message>", no Python lists.
    job_page = client_for(stakeholder).get(job.get_absolute_url()).content.decode()
    assert f"app-2: {message}" in job_page and "app-1 (passed)" in job_page and "[{" not in job_page


def test_asking_again_while_it_runs_returns_the_same_check(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    first, started = request_validation(setup.wave, user=engineer)
    again, started_again = request_validation(setup.wave, user=engineer)
    assert started and not started_again and again.pk == first.pk
    run(first.pk)
    later, started_later = request_validation(setup.wave, user=engineer)
    assert started_later and later.pk != first.pk


def test_a_target_the_avs_side_lacks_is_said_per_vm_without_asking_hcx_about_it(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=2, target_datastore="nope-ds")
    job, _ = request_validation(setup.wave, user=engineer)
    run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert all(not a["passed"] and "nope-ds" in a["errors"][0]["message"] for a in job.data["vms"])


def test_hcx_unavailable_fails_the_check_saying_why(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    hcxsim_fast.control.fault("error", path="/mobility/migrations/validate", status=503)
    try:
        job, _ = request_validation(setup.wave, user=engineer)
        run(job.pk)
    finally:
        hcxsim_fast.control.clear_faults()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error


@pytest.mark.parametrize("role", ["planner", "stakeholder", "outsider"])
def test_only_engineers_may_ask(request, hcxsim_fast, client_for, role):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    assert client_for(request.getfixturevalue(role)).post(url(setup.wave)).status_code == 403
    assert not Job.objects.filter(kind=VALIDATE_KIND).exists()


def test_a_post_without_the_csrf_token_is_refused(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    assert client.post(url(setup.wave)).status_code == 403
    assert not Job.objects.filter(kind=VALIDATE_KIND).exists()


def test_an_answer_taken_before_the_wave_changed_says_so(hcxsim_fast, client_for, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    job, _ = request_validation(setup.wave, user=engineer)
    run(job.pk)
    page = client_for(engineer).get(setup.wave.get_absolute_url()).content.decode()
    assert 'data-testid="hcx-validation-outdated"' not in page
    Wave.objects.filter(pk=setup.wave.pk).update(revision=F("revision") + 1)
    page = client_for(engineer).get(setup.wave.get_absolute_url()).content.decode()
    assert "validate again to check it as it is" in page


def test_a_wave_without_a_site_says_why_it_cannot_be_checked(client_for, engineer):
    wave = make_wave("Nowhere")
    page = client_for(engineer).get(wave.get_absolute_url()).content.decode()
    assert "Nowhere has no site: HCX does not know where to send it." in page
    assert "Validate in HCX</button>" not in page
    response = client_for(engineer).post(url(wave), follow=True)
    assert "Nowhere has no site" in " ".join(str(m) for m in response.context["messages"])
    assert not Job.objects.filter(kind=VALIDATE_KIND).exists()
