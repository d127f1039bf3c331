"""The change calendar: a month of the waves' change windows, each in its wave's time zone with the zone
named, and the blackout dates of the accepted auto-plans; every role that reads waves reads it."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from migrations_app.models import PlanProposal
from tests.factories import make_wave

URL = reverse("migrations_app:wave_calendar")
AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
NY = zoneinfo.ZoneInfo("America/New_York")


def at(zone, *args):
    return datetime.datetime(*args, tzinfo=zone)


def cell(html: str, day: str) -> str:
    start = html.index(f'data-date="{day}"')
    return html[start : html.index("</td>", start)]


@pytest.fixture
def waves(db):
    # Saturday 2030-12-14 22:00 to Sunday 06:00 in Amsterdam; 16:00 in New York is 22:00 in Amsterdam.
    night = make_wave(
        "Wave Night",
        time_zone="Europe/Amsterdam",
        window_start=at(AMS, 2030, 12, 14, 22),
        window_end=at(AMS, 2030, 12, 15, 6),
    )
    east = make_wave(
        "Wave East",
        time_zone="America/New_York",
        window_start=at(NY, 2030, 12, 14, 16),
        window_end=at(NY, 2030, 12, 14, 20),
    )
    xmas = make_wave(
        "Wave Xmas",
        time_zone="UTC",
        window_start=at(datetime.UTC, 2030, 12, 24, 8),
        window_end=at(datetime.UTC, 2030, 12, 24, 12),
    )
    make_wave("Wave Unscheduled")
    make_wave(
        "Wave January",
        time_zone="UTC",
        window_start=at(datetime.UTC, 2031, 1, 11, 8),
        window_end=at(datetime.UTC, 2031, 1, 11, 12),
    )
    PlanProposal.objects.create(
        data={"settings": {"blackout_dates": ["2030-12-24", "2030-12-25"]}}, accepted=timezone.now()
    )
    PlanProposal.objects.create(data={"settings": {"blackout_dates": ["2030-12-31"]}})  # never accepted
    return night, east, xmas


@pytest.mark.parametrize("role", ["planner", "engineer", "stakeholder"])
def test_it_shows_each_window_on_its_local_days_in_the_wave_s_zone(
    request, client_for, waves, role, django_assert_max_num_queries
):
    night, east, xmas = waves
    client = client_for(request.getfixturevalue(role))
    with django_assert_max_num_queries(8):
        response = client.get(URL, {"month": "2030-12"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "December 2030" in html
    saturday, sunday = cell(html, "2030-12-14"), cell(html, "2030-12-15")
    assert "Wave Night" in saturday and "22:00–Sun 15 Dec 06:00 Europe/Amsterdam" in saturday
    assert "Wave Night" in sunday  # the window runs past midnight: it shows on both days
    assert "Wave East" in saturday and "16:00–20:00 America/New_York" in saturday
    assert "Wave East" not in sunday
    assert night.get_absolute_url() in saturday and east.get_absolute_url() in saturday
    assert "Wave Unscheduled" not in html and "Wave January" not in html


def test_it_marks_the_accepted_plans_blackout_dates_and_the_windows_touching_them(client_for, planner, waves):
    html = client_for(planner).get(URL, {"month": "2030-12"}).content.decode()
    assert 'data-testid="blackout"' in cell(html, "2030-12-24") and 'data-testid="blackout"' in cell(
        html, "2030-12-25"
    )
    assert "touches a blackout date" in cell(html, "2030-12-24")
    assert 'data-testid="blackout"' not in cell(html, "2030-12-31")  # only accepted plans count
    assert "touches a blackout date" not in cell(html, "2030-12-14")


def test_it_links_the_months_around_and_refuses_a_month_that_is_not_one(client_for, stakeholder, waves):
    client = client_for(stakeholder)
    html = client.get(URL, {"month": "2030-12"}).content.decode()
    assert "?month=2030-11" in html and "?month=2031-01" in html
    assert "Wave January" in client.get(URL, {"month": "2031-01"}).content.decode()
    bad = client.get(URL, {"month": "2030-13"})
    assert bad.status_code == 400 and "is not a month" in bad.content.decode()


def test_it_is_for_roles_that_read_waves(client, client_for, outsider):
    assert client.get(URL).status_code == 302
    assert client_for(outsider).get(URL).status_code == 403


def test_it_says_how_many_waves_have_no_window_yet(client_for, planner, waves):
    html = client_for(planner).get(URL, {"month": "2030-12"}).content.decode()
    assert "1 wave not completed has no change window yet, so it is not on the calendar" in html
