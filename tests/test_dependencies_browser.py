"""Cancelling a dependency import from its job page, in headless Chromium with the real worker (issue 15)."""

import os
import signal

import pytest
from playwright.sync_api import expect

from core.choices import JobStatus
from migrations_app.models import Dependency, DependencyImport, Endpoint
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # what make_user gives every persona
FLOWS_CSV = b"source,destination,port\napp-1,app-2,443\napp-2,app-3,5432\napp-3,10.9.9.9,53\n"


@pytest.mark.worker
def test_an_import_cancelled_on_its_job_page_ends_cancelled_and_writes_nothing(sign_in, celery_worker):
    """The worker is paused while the job waits, so the Cancel click certainly comes before the import
    reads; the import then checks for it (every IMPORT_CANCEL_CHECK_ROWS rows and before writing)."""
    page = sign_in(make_user("admin"), PASSWORD)
    page.goto("/plan/dependencies/import/")
    os.kill(celery_worker.proc.pid, signal.SIGSTOP)
    try:
        page.get_by_label("Dependency file").set_input_files(
            files=[{"name": "flows.csv", "mimeType": "text/csv", "buffer": FLOWS_CSV}]
        )
        page.get_by_role("button", name="Import").click()
        page.wait_for_url("**/jobs/*/")
        status = page.get_by_test_id("job-status")
        expect(status).to_have_text(str(JobStatus.PENDING.label))
        page.once("dialog", lambda dialog: dialog.accept())  # "Cancel this job?"
        page.get_by_role("button", name="Cancel", exact=True).click()
        expect(page.get_by_role("button", name="Cancelling…")).to_be_disabled()
    finally:
        os.kill(celery_worker.proc.pid, signal.SIGCONT)

    expect(status).to_have_text(str(JobStatus.CANCELLED.label), timeout=120_000)
    expect(page.locator("#job-events")).to_contain_text("Cancelled by request")
    assert not DependencyImport.objects.exists()
    assert not Dependency.objects.exists() and not Endpoint.objects.exists()
