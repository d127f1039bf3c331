"""The job runner and the live job page."""

import pytest

from core import jobs
from core.choices import JobStatus
from core.models import Job


@jobs.job_handler("tests.count")
def count_handler(job, upto, fail_at=None):
    for i in range(1, upto + 1):
        job.check_cancelled()
        if i == fail_at:
            raise jobs.JobError(f"step {i} failed: the vCenter said no")
        job.log(f"step {i}")
        job.set_progress(100 * i / upto, f"{i} of {upto}")
    return {"steps": upto}


@jobs.job_handler("tests.crash")
def crash_handler(job):
    job.log("opening the upload")
    open("/srv/avsportal/var/media/uploads/0123456789abcdef.xlsx")  # noqa: SIM115 - fails: no such file


@pytest.fixture
def run_now(django_capture_on_commit_callbacks, monkeypatch):
    """Enqueue without a broker: the test runs the job itself, as the worker would."""
    monkeypatch.setattr(Job, "send", lambda self: None)

    def enqueue(**params):
        with django_capture_on_commit_callbacks(execute=True):
            job = Job.enqueue("tests.count", name="Count", params=params)
        jobs.run(job.pk)
        job.refresh_from_db()
        return job

    return enqueue


@pytest.mark.django_db
def test_it_records_progress_events_and_result(run_now):
    job = run_now(upto=3)
    assert job.status == JobStatus.COMPLETED
    assert job.progress == 100
    assert job.data == {"steps": 3}
    assert [e.message for e in job.events.all()] == ["step 1", "step 2", "step 3"]
    assert [e.seq for e in job.events.all()] == [1, 2, 3]
    assert job.started and job.completed and job.completed >= job.started


@pytest.mark.django_db
def test_it_fails_with_the_handlers_message_and_keeps_the_log(run_now):
    job = run_now(upto=3, fail_at=2)
    assert job.status == JobStatus.FAILED
    assert job.error == "step 2 failed: the vCenter said no"
    assert [e.message for e in job.events.all()] == ["step 1", "step 2 failed: the vCenter said no"]


@pytest.mark.django_db
def test_it_does_not_run_a_finished_job_twice(run_now):
    job = run_now(upto=2)
    jobs.run(job.pk)  # a duplicate delivery
    assert job.events.count() == 2


@pytest.mark.django_db
def test_it_stops_a_job_whose_cancel_was_requested(monkeypatch):
    monkeypatch.setattr(Job, "send", lambda self: None)
    job = Job.enqueue("tests.count", name="Count", params={"upto": 5})
    job.request_cancel()
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.events.last().message == "Cancelled by request"


@pytest.mark.django_db
def test_it_refuses_an_unknown_kind():
    with pytest.raises(LookupError):
        Job.enqueue("tests.nope", name="x")


@pytest.mark.django_db
def test_a_finished_job_page_shows_its_whole_log_and_follows_nothing(run_now, client_for, stakeholder):
    """A running job's page follows it live: tests/test_live.py."""
    job = run_now(upto=3)
    page = client_for(stakeholder).get(job.get_absolute_url())
    assert page.status_code == 200
    assert b"step 1" in page.content and b"step 3" in page.content
    assert b"data-live-url" not in page.content


@pytest.mark.django_db
def test_the_api_lists_events_after_a_sequence_number(run_now, client_for, planner):
    job = run_now(upto=4)
    data = client_for(planner).get(f"/api/jobs/{job.pk}/events/?after=2").json()
    assert [e["seq"] for e in data] == [3, 4]


@pytest.mark.django_db
def test_only_engineers_and_admins_cancel_jobs(client_for, planner, engineer, monkeypatch):
    monkeypatch.setattr(Job, "send", lambda self: None)
    job = Job.enqueue("tests.count", name="Count", params={"upto": 1})
    assert client_for(planner).post(f"/jobs/{job.pk}/cancel/").status_code == 403
    job.refresh_from_db()
    assert not job.cancel_requested
    client_for(engineer).post(f"/jobs/{job.pk}/cancel/")
    job.refresh_from_db()
    assert job.cancel_requested


@pytest.mark.django_db
def test_a_crash_shows_every_role_a_plain_message_and_keeps_the_trace_in_the_server_log(
    client_for, stakeholder, monkeypatch, caplog
):
    monkeypatch.setattr(Job, "send", lambda self: None)
    job = Job.enqueue("tests.crash", name="Crash", params={})
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "unexpected error (FileNotFoundError)" in job.error
    assert f"server log under job {job.pk}" in job.error
    shown = [job.error, *(e.message for e in job.events.all())]
    page = client_for(stakeholder).get(job.get_absolute_url()).content.decode()
    client = client_for(stakeholder)
    api = [client.get(f"/api/jobs/{job.pk}/{tail}") for tail in ("", "events/")]
    assert [r.status_code for r in api] == [200, 200]
    for text in (*shown, page, *(r.content.decode() for r in api)):
        assert "Traceback" not in text and "/srv/avsportal" not in text and "crash_handler" not in text
    assert "Traceback" in caplog.text and "/srv/avsportal/var/media/uploads" in caplog.text


# --- time limits per job kind (issue 15) ---------------------------------------------------------


@jobs.job_handler("tests.endless")
def endless_handler(job):
    import time

    from django.db import transaction

    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(name="half written")
        while True:  # until the worker's soft time limit interrupts it
            time.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_a_job_past_its_soft_time_limit_fails_with_a_message_and_writes_nothing(monkeypatch, settings):
    """The prefork pool raises SoftTimeLimitExceeded inside the running handler when the kind's soft limit
    passes (a signal); here a timer's signal does the same, wherever the handler is."""
    import signal

    from celery.exceptions import SoftTimeLimitExceeded

    settings.JOBS = {**settings.JOBS, "TIME_LIMITS": {"tests.endless": 1800}}
    monkeypatch.setattr(Job, "send", lambda self: None)
    job = Job.enqueue("tests.endless", name="Endless")

    def limit(signum, frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, limit)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        jobs.run(job.pk)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.name == "Endless"  # the handler's open transaction was rolled back
    assert "may run 30 min" in job.error and "ran out of time" in job.error
    assert job.events.last().message == job.error


@pytest.mark.django_db
def test_each_job_is_sent_with_the_time_limits_of_its_kind(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    from core.tasks import run_job

    settings.JOBS = {
        **settings.JOBS,
        "TIME_LIMITS": {"inventory.import_rvtools": 600},
        "HARD_GRACE_SECONDS": 30,
    }
    sent = []
    monkeypatch.setattr(
        run_job,
        "apply_async",
        lambda args, **options: sent.append((args, options)) or type("Result", (), {"id": "t1"})(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        imported = Job.enqueue("inventory.import_rvtools", name="Import")
        other = Job.enqueue("tests.count", name="Count", params={"upto": 1})
    assert sent == [((imported.pk,), {"soft_time_limit": 600, "time_limit": 630}), ((other.pk,), {})]


def test_import_discovery_and_deployment_jobs_have_time_limits_and_workers_recycle_their_processes():
    from django.conf import settings

    from avsportal.celery import app

    limits = settings.JOBS["TIME_LIMITS"]
    for kind in (
        "inventory.import_rvtools",
        "migrations_app.import_dependencies",
        "inventory.discover_vcenter",
        "hcx.deploy_connector",
    ):
        assert limits[kind] > 0
    assert app.conf.worker_max_memory_per_child and app.conf.worker_max_tasks_per_child


@pytest.mark.django_db(transaction=True)
def test_a_job_killed_at_its_hard_time_limit_is_failed_saying_so_not_sent_again(monkeypatch, settings):
    """Past the soft limit a job that ignores it (stuck in C code, say) is killed with its process at the hard
    limit; the sweep that resends jobs whose worker died must not run it out of time again."""
    import datetime

    from django.utils import timezone

    settings.JOBS = {**settings.JOBS, "TIME_LIMITS": {"tests.endless": 600}, "HARD_GRACE_SECONDS": 60}
    sent = []
    monkeypatch.setattr(Job, "send", lambda self: sent.append(self.pk))
    killed = Job.enqueue("tests.endless", name="Endless")
    killed.mark(JobStatus.RUNNING)
    Job.objects.filter(pk=killed.pk).update(started=timezone.now() - datetime.timedelta(seconds=661))
    young = Job.enqueue("tests.endless", name="Endless too")
    young.mark(JobStatus.RUNNING)  # its worker died early: that one is sent again
    sent.clear()

    assert jobs.recover_interrupted() == [young.pk] == sent
    killed.refresh_from_db()
    assert killed.status == JobStatus.FAILED
    assert killed.error == (
        'Stopped: a job of this kind may run 10 min (settings JOBS["TIME_LIMITS"]) and this one '
        "ran out of time; its worker process was ended"
    )
