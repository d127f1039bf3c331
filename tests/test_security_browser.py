"""The Content-Security-Policy in Chromium: pages work under it (no violation reported), and the actions
that used inline handlers still do what they did."""

import pytest
from playwright.sync_api import expect

from core.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def violations(page) -> list[str]:
    seen = []
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return seen


def test_the_pages_run_under_the_policy(page, sign_in, engineer):
    seen = violations(page)
    response = page.goto("/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in(engineer, "correct horse battery")
    for path in ("/", "/inventory/vms/", "/inventory/vcenters/add/", "/jobs/", "/api/docs/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    expect(page.locator(".swagger-ui")).to_be_visible()  # the API docs render: their script is a file now
    assert seen == []


def test_cancelling_a_job_still_asks_first(page, sign_in, engineer):
    job = Job.objects.create(kind="tests.count", name="Count", params={"upto": 1})
    seen = violations(page)
    sign_in(engineer, "correct horse battery")
    page.goto(f"/jobs/{job.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Cancel").click()
    job.refresh_from_db()
    assert not job.cancel_requested
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Cancelling…")).to_be_visible()
    job.refresh_from_db()
    assert job.cancel_requested and seen == []
