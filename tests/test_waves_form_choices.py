"""The wave, target-cluster and auto-plan forms offer choices rather than free text, and choose for the
planner what leaves no choice: the time zone is picked from the known zones, and the only site (and
its only target cluster) is already selected on a new form."""

import re

import pytest

from tests.factories import make_link_site, make_target_cluster, make_wave

pytestmark = pytest.mark.django_db

FORMS = ["/plan/waves/add/", "/plan/targets/add/", "/plan/autoplan/"]


def selected(html: str, name: str) -> list[str]:
    """The values selected in the <select name=...> of a page (the empty "---------" left out)."""
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert found, f"no select named {name}"
    return [v for v in re.findall(r'<option value="([^"]*)"[^>]*selected', found.group(1)) if v]


def test_the_time_zone_is_a_choice_of_known_zones(client_for, planner):
    client = client_for(planner)
    page = client.get("/plan/waves/add/").content.decode()
    assert selected(page, "time_zone") == ["UTC"]
    assert '<option value="Europe/Amsterdam">' in page and 'list="time-zones"' not in page
    wave = make_wave("W", time_zone="America/New_York")
    assert selected(client.get(f"/plan/waves/{wave.pk}/edit/").content.decode(), "time_zone") == [
        "America/New_York"
    ]
    auto = client.get("/plan/autoplan/").content.decode()
    assert '<option value="Europe/Amsterdam">' in auto and selected(auto, "time_zone")


def test_a_zone_it_does_not_know_is_refused_naming_it(client_for, planner):
    response = client_for(planner).post(
        "/plan/waves/add/",
        {"name": "W", "sequence": "1", "time_zone": "Mars/Olympus", "migration_type": "bulk"},
    )
    assert response.status_code == 400
    assert "&#x27;Mars/Olympus&#x27; is not a time zone name" in response.content.decode()


@pytest.mark.parametrize("path", FORMS)
def test_the_only_site_and_cluster_are_preselected(client_for, planner, path):
    cluster = make_target_cluster(make_link_site("Rotterdam"), "Cluster-1")
    page = client_for(planner).get(path).content.decode()
    assert selected(page, "site") == [str(cluster.site_id)]
    if 'name="target_cluster"' in page:
        assert selected(page, "target_cluster") == [str(cluster.pk)]


@pytest.mark.parametrize("path", FORMS)
def test_with_two_sites_nothing_is_chosen_for_the_planner(client_for, planner, path):
    make_target_cluster(make_link_site("Rotterdam"), "Cluster-1")
    make_target_cluster(make_link_site("Utrecht"), "Cluster-1")
    page = client_for(planner).get(path).content.decode()
    assert selected(page, "site") == []
    if 'name="target_cluster"' in page:
        assert selected(page, "target_cluster") == []


def test_an_existing_wave_keeps_its_own_empty_site(client_for, planner):
    make_target_cluster(make_link_site("Rotterdam"), "Cluster-1")
    wave = make_wave("W")
    assert selected(client_for(planner).get(f"/plan/waves/{wave.pk}/edit/").content.decode(), "site") == []


def test_a_wave_saved_with_an_unknown_zone_makes_the_planner_choose_one(client_for, planner):
    wave = make_wave("W", time_zone="Mars/Olympus")
    client = client_for(planner)
    page = client.get(f"/plan/waves/{wave.pk}/edit/").content.decode()
    assert selected(page, "time_zone") == [] and "Mars/Olympus is no time zone" in page
    response = client.post(
        f"/plan/waves/{wave.pk}/edit/",
        {"name": "W", "sequence": "1", "time_zone": "", "migration_type": "bulk", "revision": "1"},
    )
    assert response.status_code == 400
    wave.refresh_from_db()
    assert wave.time_zone == "Mars/Olympus"
