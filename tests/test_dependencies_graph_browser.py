"""In Chromium: a planner zooms the dependency graph in and out, fits it to the box, and finds a VM (it
is marked and scrolled into view) or a group (all its VMs are marked); the scripts are the portal's
own static files, so the Content-Security-Policy lets them run."""

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.factories import make_dependency, make_group, make_vcenter, make_vm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def scale(page) -> float:
    return float(page.get_by_test_id("graph").get_attribute("data-scale"))


def visible_in_box(page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => {
        const box = document.querySelector('[data-graph]').getBoundingClientRect();
        const node = document.querySelector(selector).getBoundingClientRect();
        return node.left >= box.left && node.right <= box.right && node.top >= box.top && node.bottom <= box.bottom;
    }""",
        selector,
    )


def test_a_planner_zooms_fits_and_finds_in_the_graph(sign_in, page):
    vc = make_vcenter()
    vms = [make_vm(vc, f"app-{i:02d}") for i in range(40)]
    make_group("Payroll", vms[30:33])
    for i in range(39):  # a long chain: many layers, wider and taller than the box
        make_dependency(vms[i], vms[i + 1], 443)
    for i in range(0, 40, 3):
        make_dependency(vms[i], f"10.0.0.{i}", 53)
    page = sign_in(make_user("planner"), PASSWORD)
    page.goto("/plan/dependencies/graph/")
    graph = page.get_by_test_id("graph")
    svg = graph.locator("svg")
    expect(graph).to_have_attribute("data-scale", "1.000")
    width = float(svg.get_attribute("width"))

    page.get_by_role("button", name="Zoom in").click()
    expect(graph).to_have_attribute("data-scale", "1.250")
    assert float(svg.get_attribute("width")) == pytest.approx(width * 1.25, abs=0.2)
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Zoom out").click()
    expect(graph).to_have_attribute("data-scale", "0.800")

    page.get_by_role("button", name="Fit").click()
    box = graph.bounding_box()
    drawn = svg.bounding_box()
    assert drawn["width"] <= box["width"] + 1 and drawn["height"] <= box["height"] + 1

    search = page.get_by_role("searchbox", name="Find a VM or group in the graph")
    search.fill("app-37")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_test_id("graph-found")).to_have_text("Found app-37.")
    found = graph.locator("g.node.found")
    expect(found).to_have_count(1)
    expect(found).to_have_attribute("data-label", "app-37")
    assert scale(page) >= 1  # zoomed back in to read it
    assert visible_in_box(page, 'g.node[data-label="app-37"]')

    search.fill("payroll")
    page.get_by_role("button", name="Find").click()
    expect(graph.locator("g.node.found")).to_have_count(3)
    expect(page.get_by_test_id("graph-found")).to_contain_text("3 found")

    search.fill("nothing-like-it")
    page.get_by_role("button", name="Find").click()
    expect(graph.locator("g.node.found")).to_have_count(0)
    expect(page.get_by_test_id("graph-found")).to_contain_text("Nothing named")
