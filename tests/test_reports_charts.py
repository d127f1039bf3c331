"""The charts on the pages scale with their card (a viewBox and width 100%, no fixed pixel size), write
in the page's font, and their text is not tiny once scaled; the browser test measures it in Chromium."""

import re
import xml.etree.ElementTree as ET

import pytest

from migrations_app.reports import charts
from tests.factories import make_estate
from tests.test_dashboard import running_wave

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
HALF_CARD_PX = 446  # the narrowest half-width card on a large screen (Bootstrap lg, a 1000 px window)
READABLE_PX = 11


def charts_on(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def text_styles(svg: ET.Element) -> list[dict]:
    styles = []
    for text in svg.iter(f"{SVG}text"):
        pairs = (p.split(":", 1) for p in text.get("style", "").split(";") if ":" in p)
        styles.append({k.strip(): v.strip() for k, v in pairs})
    return styles


def assert_scales_and_reads(svg: ET.Element):
    assert svg.get("width") == "100%" and svg.get("height") is None
    assert "height:auto" in svg.get("style").replace(" ", "")
    _, _, width, _ = (float(v) for v in svg.get("viewBox").split())
    styles = text_styles(svg)
    assert styles
    for style in styles:
        assert style["font-family"] == "inherit", style
        assert float(style["font-size"].removesuffix("px")) * HALF_CARD_PX / width >= READABLE_PX, style


def test_the_dashboard_charts_scale_with_their_card_in_the_page_font(client_for, stakeholder):
    estate = make_estate(vms=4)
    running_wave(estate.vms)
    html = client_for(stakeholder).get("/plan/dashboard/").content.decode()
    svgs = charts_on(html)
    assert len(svgs) == 3  # the two burn-ups and the waves by status
    for svg in svgs:
        assert_scales_and_reads(svg)


def test_the_wave_report_chart_scales_with_its_card(client_for, stakeholder):
    estate = make_estate(vms=4)
    wave = running_wave(estate.vms)
    [svg] = charts_on(client_for(stakeholder).get(f"/plan/waves/{wave.pk}/report/").content.decode())
    assert_scales_and_reads(svg)


def test_a_chart_keeps_its_title_for_screen_readers():
    svg = ET.fromstring(
        charts.svg(charts.bar_chart("Waves <by> status", [("Draft", 2, "secondary")]), "Waves <by> status")
    )
    assert svg.get("role") == "img" and svg.get("aria-label") == "Waves <by> status"
    assert svg.find(f"{SVG}title").text == "Waves <by> status"


def test_the_charts_of_one_page_do_not_share_element_ids(client_for, stakeholder):
    """Each chart clips to its own size: with shared ids, every chart would clip to the first one's."""
    estate = make_estate(vms=4)
    running_wave(estate.vms)
    html = client_for(stakeholder).get("/plan/dashboard/").content.decode()
    ids = re.findall(r'\bid="([^"]+)"', "".join(re.findall(r"<svg\b.*?</svg>", html, re.S)))
    assert ids and len(ids) == len(set(ids))
    for svg in charts_on(html):
        for used in re.findall(r"url\(#([^)]+)\)", ET.tostring(svg, encoding="unicode")):
            assert svg.find(f".//*[@id='{used}']") is not None, used


def test_the_burnup_labels_each_day_once(client_for, stakeholder):
    estate = make_estate(vms=4)
    running_wave(estate.vms)
    html = client_for(stakeholder).get("/plan/dashboard/").content.decode()
    for svg in charts_on(html)[:2]:
        days = [t.text for t in svg.iter(f"{SVG}text") if re.fullmatch(r"\d\d \w{3} \d\d", t.text or "")]
        assert days and len(days) == len(set(days)), days
