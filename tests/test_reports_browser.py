"""A stakeholder reads the dashboard's charts in Chromium: each is as wide as its card, in the page's
font, and its smallest text renders at a readable size (measured, after the viewBox's scaling)."""

import os
from pathlib import Path

import pytest

from tests.conftest import make_user
from tests.factories import make_estate
from tests.test_dashboard import running_wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # what make_user gives every persona
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))

MEASURE = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return {
    label: svg.getAttribute('aria-label'),
    width: svg.getBoundingClientRect().width,
    card: svg.parentElement.clientWidth - parseFloat(getComputedStyle(svg.parentElement).paddingLeft)
          - parseFloat(getComputedStyle(svg.parentElement).paddingRight),
    smallest: Math.min(...sizes),
    fonts: [...new Set([...svg.querySelectorAll('text')].map(t => getComputedStyle(t).fontFamily))],
    page: getComputedStyle(document.body).fontFamily,
  };
})"""


@pytest.mark.parametrize("viewport_width", [1000, 1400])
def test_the_dashboard_charts_fill_their_cards_in_the_page_font_and_read_at_their_size(
    sign_in, viewport_width
):
    estate = make_estate(vms=4)
    running_wave(estate.vms)
    page = sign_in(make_user("stakeholder"), PASSWORD)
    page.set_viewport_size({"width": viewport_width, "height": 1000})
    page.goto("/plan/dashboard/")
    found = page.evaluate(MEASURE)
    assert {c["label"] for c in found} == {
        "VMs migrated against plan",
        "TiB migrated against plan",
        "Waves by status",
    }
    for chart in found:
        assert abs(chart["width"] - chart["card"]) <= 1, chart  # it scales with the card
        assert chart["fonts"] == [chart["page"]], chart
        assert chart["smallest"] >= 11, chart
    page.screenshot(
        path=str(SCREENSHOTS / f"avsportal-dashboard-charts-{viewport_width}.png"), full_page=True
    )
