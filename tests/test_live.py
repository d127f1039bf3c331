"""The live channel (core/live): a per-stream change number given in the change's transaction, the
endpoint a page follows (server-sent events, or its JSON when the page polls), and job pages on it."""

import pytest
import requests
from django.db import transaction

from core.choices import JobStatus
from core.live import sequence
from core.models import Job
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)
from tests.test_core_jobs import count_handler  # noqa: F401 (registers the "tests.count" jobs)
from tests.test_launch_stream import READ_TIMEOUT, read_events


@pytest.fixture
def job(monkeypatch, db):
    monkeypatch.setattr(Job, "send", lambda self: None)  # no broker: the test writes what a worker would
    return Job.enqueue("tests.count", name="Count", params={"upto": 3})


@pytest.mark.django_db
def test_each_change_of_a_stream_gets_the_next_number_and_a_rolled_back_change_none():
    assert sequence.current("job:1") == 0
    assert [sequence.bump("job:1"), sequence.bump("job:1"), sequence.bump("job:2")] == [1, 2, 1]
    with pytest.raises(RuntimeError), transaction.atomic():
        sequence.bump("job:1")
        raise RuntimeError("the change failed")
    assert sequence.current("job:1") == 2


@pytest.mark.django_db
def test_every_change_to_a_job_numbers_it_and_its_log_lines_carry_their_number(job):
    before = sequence.current(job.live_key)
    job.mark(JobStatus.RUNNING)
    first = job.log("step 1")
    job.set_progress(50, "half")
    second = job.log("step 2")
    assert sequence.current(job.live_key) == before + 4
    assert (first.change, second.change) == (before + 2, before + 4)


@pytest.mark.django_db(transaction=True)  # the endpoint reads through the reader threads
def test_a_polling_page_gets_only_the_lines_after_its_number_and_done_once_the_job_ended(
    client_for, stakeholder, job
):
    job.mark(JobStatus.RUNNING)
    job.log("step 1")
    seen = sequence.current(job.live_key)
    job.log("step 2")
    client = client_for(stakeholder)
    body = client.get(f"/jobs/{job.pk}/live/?format=json&since={seen}").json()
    assert body["seq"] == seen + 1 and body["done"] is False
    assert "step 2" in body["append"]["job-events"] and "step 1" not in body["append"]["job-events"]
    assert 'data-testid="job-status"' in body["replace"]["job-status"]
    # Nothing new: the same number back and nothing to render.
    assert client.get(f"/jobs/{job.pk}/live/?format=json&since={body['seq']}").json() == {
        "seq": body["seq"],
        "done": False,
    }
    job.mark(JobStatus.COMPLETED, data={"steps": 3})
    body = client.get(f"/jobs/{job.pk}/live/?format=json&since={body['seq']}").json()
    assert body["done"] is True and "Completed" in body["replace"]["job-status"] and "append" not in body


@pytest.mark.django_db(transaction=True)
def test_the_job_page_starts_from_the_number_it_read_before_its_log(client_for, stakeholder, job):
    job.mark(JobStatus.RUNNING)
    job.log("step 1")
    page = client_for(stakeholder).get(job.get_absolute_url()).content.decode()
    assert f'data-live-url="/jobs/{job.pk}/live/" data-live-seq="{sequence.current(job.live_key)}"' in page
    assert "step 1" in page and "hx-trigger" not in page
    job.mark(JobStatus.COMPLETED)
    assert "data-live-url" not in client_for(stakeholder).get(job.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_live_endpoint_is_refused_to_anonymous_and_to_users_without_read_access(
    client, client_for, outsider, job
):
    url = f"/jobs/{job.pk}/live/?format=json"
    assert client.get(url).status_code == 401
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(outsider).get("/jobs/999999/live/?format=json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_bad_number_is_refused(client_for, stakeholder, job):
    assert client_for(stakeholder).get(f"/jobs/{job.pk}/live/?format=json&since=yesterday").status_code == 400
    assert client_for(stakeholder).get("/jobs/999999/live/?format=json").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_look_reads_the_same_few_rows_however_long_the_log(
    client_for, stakeholder, job, django_assert_max_num_queries
):
    job.mark(JobStatus.RUNNING)
    for i in range(30):
        job.log(f"step {i}")
    client = client_for(stakeholder)
    client.get(f"/jobs/{job.pk}/live/?format=json")  # the session and permissions are cached from here
    with django_assert_max_num_queries(12):
        body = client.get(f"/jobs/{job.pk}/live/?format=json&since=0").json()
    assert body["append"]["job-events"].count("<li") == 30


@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_each_change_once_and_a_reconnecting_browser_resumes_after_its_last_event_id(
    asgi_server, stakeholder, job
):  # noqa: F811
    job.mark(JobStatus.RUNNING)
    job.log("step 1")
    url = f"{asgi_server.url}/jobs/{job.pk}/live/?since={sequence.current(job.live_key)}"
    cookies = asgi_server.cookies(stakeholder)
    with requests.get(url, cookies=cookies, stream=True, timeout=(5, READ_TIMEOUT)) as response:
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(
            "text/event-stream"
        )
        events = read_events(response)
        assert next(events) == ("comment", f"following job:{job.pk}")
        job.log("step 2")
        name, body = next((n, b) for n, b in events if n == "change")
    assert "step 2" in body["append"]["job-events"] and "step 1" not in body["append"]["job-events"]
    last_id = body["seq"]
    job.log("step 3")  # while the browser is away
    job.mark(JobStatus.COMPLETED)
    with requests.get(
        url, cookies=cookies, headers={"Last-Event-ID": str(last_id)}, stream=True, timeout=(5, READ_TIMEOUT)
    ) as response:
        changes = [b for n, b in read_events(response) if n == "change"]  # ends: the job is done
    lines = "".join(b.get("append", {}).get("job-events", "") for b in changes)
    assert "step 3" in lines and "step 2" not in lines and lines.count("<li") == 1
    assert changes[-1]["done"] is True and "Completed" in changes[-1]["replace"]["job-status"]


@pytest.mark.django_db(transaction=True)
def test_with_redis_a_committed_change_wakes_the_stream_at_once(asgi_server, stakeholder, job, settings):  # noqa: F811
    """The stream's own next look is an hour away: only the wake-up of the bump can bring the line in time."""
    if not settings.REDIS_URL:
        pytest.skip("wake-ups need Redis (REDIS_URL)")
    settings.LAUNCH = {**settings.LAUNCH, "STREAM_POLL_SECONDS": 3600}
    job.mark(JobStatus.RUNNING)
    url = f"{asgi_server.url}/jobs/{job.pk}/live/?since={sequence.current(job.live_key)}"
    with requests.get(
        url, cookies=asgi_server.cookies(stakeholder), stream=True, timeout=(5, READ_TIMEOUT)
    ) as response:
        events = read_events(response)
        assert next(events) == ("comment", f"following job:{job.pk}")
        job.log("woken")
        body = next(b for n, b in events if n == "change")
    assert "woken" in body["append"]["job-events"]
