"""In Chromium: a stakeholder leafs through the change calendar month by month and opens a wave from it;
at phone width the month reads as a list of days, without scrolling sideways."""

import datetime
import os
import zoneinfo
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.factories import make_wave
from tests.journeys import HORIZONTAL_OVERFLOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def test_a_stakeholder_leafs_through_the_months_and_opens_a_wave(sign_in, page):
    make_wave(
        "Wave December",
        time_zone="Europe/Amsterdam",
        window_start=datetime.datetime(2030, 12, 14, 22, tzinfo=AMS),
        window_end=datetime.datetime(2030, 12, 15, 6, tzinfo=AMS),
    )
    make_wave(
        "Wave February",
        time_zone="Europe/Amsterdam",
        window_start=datetime.datetime(2031, 2, 8, 20, tzinfo=AMS),
        window_end=datetime.datetime(2031, 2, 8, 23, tzinfo=AMS),
    )
    page = sign_in(make_user("stakeholder"), PASSWORD)

    page.goto("/plan/waves/calendar/?month=2030-12")
    expect(page.get_by_test_id("month-title")).to_have_text("December 2030")
    saturday = page.locator('[data-date="2030-12-14"]')
    expect(saturday).to_contain_text("22:00–Sun 15 Dec 06:00 Europe/Amsterdam")
    page.get_by_role("link", name="January 2031 ›").click()
    expect(page.get_by_test_id("month-title")).to_have_text("January 2031")
    expect(page.get_by_test_id("calendar")).not_to_contain_text("Wave")
    page.get_by_role("link", name="February 2031 ›").click()
    expect(page.get_by_test_id("month-title")).to_have_text("February 2031")
    expect(page.locator('[data-date="2031-02-08"]')).to_contain_text("20:00–23:00 Europe/Amsterdam")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-change-calendar.png"), full_page=True)
    page.get_by_role("link", name="‹ January 2031").click()
    page.get_by_role("link", name="‹ December 2030").click()
    page.get_by_role("link", name="Wave December").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wave December")


def test_at_phone_width_the_month_is_a_list_of_days(browser, live_server):
    make_wave(
        "Wave December",
        time_zone="Europe/Amsterdam",
        window_start=datetime.datetime(2030, 12, 14, 22, tzinfo=AMS),
        window_end=datetime.datetime(2030, 12, 15, 6, tzinfo=AMS),
    )
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    user = make_user("stakeholder")
    page.goto("/login/")
    page.get_by_label("User name").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/plan/waves/calendar/?month=2030-12")
    expect(page.get_by_test_id("agenda")).to_contain_text("Sat 14 Dec")
    assert page.evaluate(HORIZONTAL_OVERFLOW) is None
    page.get_by_role("link", name="Wave December").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wave December")
    context.close()
