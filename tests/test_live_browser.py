"""A job page follows its job live (core/live, static/js/live.js) in headless Chromium, served by
uvicorn as in production: by its stream, by polling when the stream is refused, and its Cancel button
still works after the stream replaced it."""

import pytest

from core.choices import JobStatus
from core.models import Job
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)
from tests.test_core_jobs import count_handler  # noqa: F401 (registers the "tests.count" jobs)
from tests.test_launch_browser import open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running_job(monkeypatch):
    monkeypatch.setattr(Job, "send", lambda self: None)  # no worker: the test writes what one would
    job = Job.enqueue("tests.count", name="Count to three", params={"upto": 3})
    job.mark(JobStatus.RUNNING)
    job.log("step 1")
    return job


def test_a_job_page_shows_new_log_lines_progress_and_the_end_without_reloading(
    browser, asgi_server, stakeholder, running_job
):  # noqa: F811
    from playwright.sync_api import expect

    page = open_page(browser, asgi_server, stakeholder, running_job.get_absolute_url())
    expect(page.get_by_test_id("job-live")).to_have_attribute("data-live-mode", "stream")
    running_job.log("step 2")
    running_job.set_progress(66, "2 of 3")
    expect(page.locator("#job-events")).to_contain_text("step 2")
    expect(page.locator("#job-status")).to_contain_text("2 of 3")
    running_job.log("step 3")
    running_job.mark(JobStatus.COMPLETED, data={"steps": 3})
    expect(page.get_by_test_id("job-status")).to_have_text(str(JobStatus.COMPLETED.label))
    expect(page.get_by_test_id("job-result")).to_contain_text("3")
    lines = [text.split()[-1] for text in page.locator("#job-events li").all_inner_texts() if "step" in text]
    assert lines == ["1", "2", "3"]  # each line once, in order
    assert page.evaluate("window.notReloaded") is True
    page.context.close()


def test_a_page_refused_a_stream_polls_and_still_follows_the_job(
    browser, asgi_server, stakeholder, running_job, settings
):  # noqa: F811
    from playwright.sync_api import expect

    settings.LAUNCH = {**settings.LAUNCH, "STREAMS_PER_USER": 0}  # every stream of this user is refused (429)
    page = open_page(browser, asgi_server, stakeholder, running_job.get_absolute_url())
    expect(page.get_by_test_id("job-live")).to_have_attribute("data-live-mode", "polling")
    running_job.log("step 2")
    expect(page.locator("#job-events")).to_contain_text("step 2")
    running_job.mark(JobStatus.FAILED, error="The vCenter said no")
    expect(page.get_by_test_id("job-error")).to_contain_text("The vCenter said no")
    assert page.locator("#job-events li", has_text="step 2").count() == 1
    assert page.evaluate("window.notReloaded") is True
    page.context.close()


def test_an_engineer_cancels_a_job_from_a_status_panel_the_stream_rendered(
    browser, asgi_server, engineer, running_job
):  # noqa: F811
    from playwright.sync_api import expect

    page = open_page(browser, asgi_server, engineer, running_job.get_absolute_url())
    expect(page.get_by_test_id("job-live")).to_have_attribute("data-live-mode", "stream")
    running_job.set_progress(40, "working on it")
    expect(page.locator("#job-status")).to_contain_text(
        "working on it"
    )  # the panel, Cancel form included, is new
    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel this job?"
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_role("button", name="Cancelling…")).to_be_disabled()
    running_job.refresh_from_db()
    assert running_job.cancel_requested
    page.context.close()


def test_the_set_up_checklist_shows_a_job_start_and_a_step_done_without_reloading(
    browser, asgi_server, stakeholder
):  # noqa: F811
    from playwright.sync_api import expect

    from hcx.choices import StepState
    from hcx.setup.runner import ORDER, record
    from tests.test_hcx_setup_browser import state_of
    from tests.test_hcx_setup_pages import make_plan, running_job, setup_url

    plan = make_plan()
    page = open_page(browser, asgi_server, stakeholder, setup_url(plan))
    expect(page.get_by_test_id("setup-live")).to_have_attribute("data-live-mode", "stream")
    expect(page.locator("#setup-checklist")).to_have_attribute("data-busy", "false")
    job = running_job(plan)
    job.mark(JobStatus.RUNNING)  # as the worker does: the plan's page hears of it
    expect(page.locator("#setup-checklist")).to_have_attribute("data-busy", "true")
    record(plan, ORDER[0], StepState.DONE, summary="Connector answers", job=job)
    job.mark(JobStatus.COMPLETED)
    expect(state_of(page, ORDER[0])).to_have_text(str(StepState.DONE.label))
    expect(page.locator("#setup-checklist")).to_have_attribute("data-busy", "false")
    expect(page.locator("#setup-checklist")).to_contain_text("Connector answers")
    assert page.evaluate("window.notReloaded") is True
    page.context.close()
