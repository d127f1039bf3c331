"""In a real browser: each role signs in, finds its list of what needs doing on the home page and
clicks through to an item; a VM's page shows its wave and history; a refused page names the roles it
is for; a mistyped address gets the portal's 404 page; the icon loads. Screenshots go to /tmp
(avsportal-home-*.png)."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.roles import ENGINEER, PLANNER, STAKEHOLDER
from tests.conftest import make_user
from tests.test_home_pages import engineer_work, planner_work

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def test_an_engineer_goes_from_the_home_list_to_the_failed_migration_and_its_vm(page, sign_in):
    planner, engineer = make_user(PLANNER), make_user(ENGINEER)
    made = engineer_work(planner)
    failed, wave, site = made["failed"][0], made["approve"][0], made["sites"][0]

    sign_in(engineer, PASSWORD)
    expect(page.get_by_test_id("todo-approvals")).to_contain_text(wave.name)
    expect(page.get_by_test_id("todo-windows")).to_contain_text("window open")
    expect(page.get_by_test_id("todo-setup")).to_contain_text("a certificate to check and trust")
    expect(page.get_by_test_id("todo-setup")).to_contain_text("HCX refuses the stored password")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-home-engineer.png"), full_page=True)

    page.get_by_test_id("todo-approvals").get_by_role("link", name=re.compile(wave.name)).click()
    expect(page.get_by_role("heading", name=wave.name, exact=True)).to_be_visible()
    expect(page.get_by_test_id("approval-status")).to_have_text("Submitted for approval")

    page.goto("/")
    page.get_by_test_id("todo-setup").get_by_role("link", name=re.compile("Pair with the AVS")).click()
    expect(page.get_by_role("heading", name=f"HCX set-up of {site.name}")).to_be_visible()

    page.goto("/")
    page.get_by_test_id("todo-failed").get_by_role("link", name=re.compile(failed.vm.name)).click()
    expect(page).to_have_url(re.compile(rf"/plan/migrations/{failed.pk}/$"))
    expect(page.get_by_test_id("migration-state")).to_have_text("Failed")

    # From the migration to the VM: its wave, its history, where it runs.
    page.get_by_role("heading", name=failed.vm.name).get_by_role("link").click()
    expect(page.get_by_test_id("vm-wave")).to_contain_text(failed.wave.name)
    expect(page.get_by_test_id("vm-history")).to_contain_text("Failed")
    expect(page.get_by_test_id("vm-history")).to_contain_text("Bulk")
    expect(page.get_by_test_id("vm-location")).to_contain_text("On-premises")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-home-vm.png"), full_page=True)
    page.get_by_test_id("vm-wave").get_by_role("link", name=failed.wave.name).click()
    expect(page.get_by_role("heading", name=failed.wave.name, exact=True)).to_be_visible()


def test_a_planner_goes_from_the_home_list_to_blockers_vms_to_plan_and_a_full_cluster(page, sign_in):
    planner = make_user(PLANNER)
    made = planner_work()
    blocked, cluster = made["blocked"][0], made["clusters"][0]

    sign_in(planner, PASSWORD)
    expect(page.get_by_test_id("todo-blockers")).to_contain_text("1 blocker")
    expect(page.get_by_test_id("todo-unplanned")).to_contain_text("1 VM in no wave yet")
    expect(page.get_by_test_id("todo-capacity")).to_contain_text("is overfilled")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-home-planner.png"), full_page=True)

    page.get_by_test_id("todo-blockers").get_by_role("link", name=re.compile(blocked.name)).click()
    expect(page.get_by_role("heading", name=re.compile(f"Readiness of {blocked.name}"))).to_be_visible()

    page.goto("/")
    page.get_by_test_id("todo-unplanned").get_by_role("link").click()
    table = page.locator("#object-table")
    expect(table).to_contain_text(made["unplanned"][0].name)
    expect(table).not_to_contain_text(blocked.items.get().vm.name)

    page.goto("/")
    page.get_by_test_id("todo-capacity").get_by_role("link", name=re.compile(cluster.name)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(cluster.name)
    expect(page.get_by_test_id("planned")).to_contain_text("400 vCPUs")


def test_a_stakeholder_lands_on_the_dashboard_and_is_told_whom_a_refused_page_is_for(page, sign_in):
    planner, stakeholder = make_user(PLANNER), make_user(STAKEHOLDER)
    made = engineer_work(planner)
    running = made["window"][0]

    sign_in(stakeholder, PASSWORD)
    expect(page.get_by_role("heading", name="Migration programme")).to_be_visible()
    page.get_by_role("link", name=running.name).first.click()
    expect(page.get_by_role("heading", name=re.compile(f"Report of {running.name}"))).to_be_visible()

    page.goto("/inventory/vcenters/add/")
    expect(page.get_by_test_id("needed-role")).to_have_text("This page is for engineers and admins.")
    expect(page.get_by_test_id("whoami")).to_contain_text(stakeholder.username)  # in the portal's layout
    page.screenshot(path=str(SCREENSHOTS / "avsportal-home-403.png"), full_page=True)
    page.get_by_role("link", name="Go to your home page").click()
    expect(page.get_by_role("heading", name="Migration programme")).to_be_visible()

    page.goto("/no-such-page/")
    expect(page.get_by_test_id("error-404")).to_contain_text("There is no page at /no-such-page/")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    answer = page.request.get(icon)
    assert answer.status == 200 and answer.headers["content-type"] == "image/svg+xml"
