"""Journeys in a real browser (headless Chromium) against the live server, per role.

Screenshots go to /tmp (avsportal-*.png) for a person to look at.
"""

import os
import signal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.choices import JobStatus
from core.models import Job
from inventory import demo
from inventory.filtersets import VirtualMachineFilterSet
from inventory.models import VirtualMachine
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # what make_user gives every persona
RVTOOLS_FILE = Path(__file__).parent / "data" / "rvtools-4.7.1-vcenter-8.0.2.xlsx"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def nav_labels(page) -> set[str]:
    return {label.strip() for label in page.locator("nav .dropdown-item").all_inner_texts()}


@pytest.mark.parametrize(
    "role, may_import",
    [("planner", True), ("engineer", True), ("stakeholder", False), ("admin", True)],
)
def test_each_role_signs_in_through_the_form_and_sees_its_navigation(sign_in, role, may_import):
    page = sign_in(make_user(role), PASSWORD)
    expect(page.get_by_test_id("whoami")).to_contain_text(role)
    labels = nav_labels(page)
    assert {"Virtual machines", "Clusters", "Jobs"} <= labels
    assert ("Import RVTools" in labels) == may_import

    # The menus work (Bootstrap's script is served) and lead where they say.
    nav = page.locator("nav")
    nav.get_by_role("button", name="Inventory").click()
    nav.get_by_role("link", name="Virtual machines", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Virtual machines")

    response = page.goto("/inventory/import/")
    if may_import:
        assert response.status == 200
        expect(page.get_by_role("heading", level=1)).to_contain_text("Import")
    else:
        assert response.status == 403, "a stakeholder is refused the import page, not just shown no link"


def test_a_wrong_password_is_refused_with_a_message(page):
    make_user("planner")
    page.goto("/login/")
    page.get_by_label("User name").fill("planner-user")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    expect(page.get_by_test_id("whoami")).to_have_count(0)


def test_the_vm_list_shows_the_demo_estate_and_a_search_narrows_it(sign_in):
    demo.load()
    total = VirtualMachine.objects.filter(removed__isnull=True).count()
    expected = VirtualMachineFilterSet({"q": "pacs"}, queryset=VirtualMachine.objects.all()).qs.count()
    assert 0 < expected < total
    page = sign_in(make_user("stakeholder"), PASSWORD)

    page.goto("/inventory/vms/")
    count = page.get_by_test_id("count")
    expect(count).to_contain_text(f"{total} virtual machines")
    rows = page.locator("#object-table table tbody tr")
    expect(rows).to_have_count(50)  # one page, paginated in the database
    expect(page.locator("#object-table")).to_contain_text("ehr-app01")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-vm-list.png"), full_page=False)

    page.get_by_label("Search").fill("pacs")
    page.get_by_role("button", name="Filter").click()
    expect(count).to_contain_text(f"{expected} virtual machines match these filters")
    expect(rows).to_have_count(expected)
    for name in rows.locator("td:first-child").all_inner_texts():
        assert (
            "pacs" in name.lower()
            or "pacs" in VirtualMachine.objects.get(name=name.strip()).annotation.lower()
        )
    assert "q=pacs" in page.url, "the filtered list has an address to share"
    page.screenshot(path=str(SCREENSHOTS / "avsportal-vm-list-filtered.png"), full_page=False)


@pytest.mark.worker
def test_the_job_page_of_a_running_import_updates_live(sign_in, celery_worker):
    """Upload the real RVTools export through the page; watch its job finish without reloading.

    The worker is paused (SIGSTOP) while the page loads, so that the page certainly first
    shows the job waiting, whatever the speed of the machine; then it runs.
    """
    page = sign_in(make_user("planner"), PASSWORD)
    page.goto("/inventory/import/")
    os.kill(celery_worker.proc.pid, signal.SIGSTOP)
    try:
        page.get_by_label("RVTools export").or_(page.locator("input[type=file]")).first.set_input_files(
            RVTOOLS_FILE
        )
        page.get_by_role("button", name="Import").click()
        page.wait_for_url("**/jobs/*/")
        status = page.get_by_test_id("job-status")
        expect(status).to_have_text(str(JobStatus.PENDING.label))
        # Anything set here is lost if the page reloads: proof that what follows came in live.
        page.evaluate("window.loadedOnce = true")
    finally:
        os.kill(celery_worker.proc.pid, signal.SIGCONT)

    expect(status).to_have_text(str(JobStatus.COMPLETED.label), timeout=120_000)
    assert page.evaluate("window.loadedOnce") is True
    expect(page.locator("#job-events li").first).to_be_visible()
    expect(page.locator(".progress-bar")).to_have_text("100%")
    job = Job.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert job.status == JobStatus.COMPLETED and job.kind == "inventory.import_rvtools"
    expect(page.locator("#job-events li")).to_have_count(job.events.count())
    page.screenshot(path=str(SCREENSHOTS / "avsportal-job.png"), full_page=True)


@pytest.mark.worker
def test_a_workshop_sample_without_its_vcenter_is_imported_into_the_one_named_on_the_form(
    sign_in, celery_worker, tmp_path
):
    from inventory.models import VCenter
    from tests.test_rvtools_import import generated_estate, trimmed, write_xlsx

    sample = write_xlsx(tmp_path / "workshop.xlsx", trimmed(generated_estate(3)))
    page = sign_in(make_user("planner"), PASSWORD)
    page.goto("/inventory/import/")
    page.get_by_label("RVTools export").set_input_files(sample)
    page.get_by_label("vCenter").fill("vc-workshop.example.com")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/jobs/*/")
    expect(page.get_by_test_id("job-status")).to_have_text(str(JobStatus.COMPLETED.label), timeout=120_000)
    expect(page.locator("#job-events")).to_contain_text(
        "every row is taken as vCenter vc-workshop.example.com"
    )
    expect(page.locator("#job-events")).to_contain_text("no VM ID column")
    assert list(VCenter.objects.values_list("name", flat=True)) == ["vc-workshop.example.com"]
    assert VirtualMachine.objects.count() == 3
