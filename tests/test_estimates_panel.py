"""The estimate on the wave page and in the API: what a planner reads, in a constant number of queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.template import Context
from django.test.utils import CaptureQueriesContext

from hcx.choices import MigrationType
from inventory.choices import PowerState
from inventory.models import VirtualMachine
from migrations_app.models import Wave, WaveItem
from migrations_app.planner.panels import estimate_panel
from tests.factories import make_estate, make_link_site

pytestmark = pytest.mark.django_db
START = datetime(2031, 1, 4, 22, tzinfo=UTC)


def make_wave(name, vms, *, site=None, hours=8, migration_type=MigrationType.BULK, used_mib=100 * 1024):
    estate = make_estate(vms, devices=False, prefix=f"{name}-")
    VirtualMachine.objects.filter(pk__in=[v.pk for v in estate.vms]).update(
        used_mib=used_mib, power_state=PowerState.ON
    )
    wave = Wave.objects.create(
        name=name,
        site=site,
        migration_type=migration_type,
        window_start=START,
        window_end=START + timedelta(hours=hours),
    )
    WaveItem.objects.bulk_create(WaveItem(wave=wave, vm=vm) for vm in estate.vms)
    return wave


def queries(func):
    with CaptureQueriesContext(connection) as captured:
        result = func()
    return len(captured), result


def test_the_panel_shows_ranges_fit_and_assumptions():
    site = make_link_site(bandwidth_mbps=1000)
    wave = make_wave("w1", 4, site=site)
    html = estimate_panel(Context({}), Wave.objects.get(pk=wave.pk))
    assert "Fits its window" in html
    assert "Transfer" in html and "Switchover" in html and "In the change window" in html
    assert "Bulk" in html and "(in parallel)" in html
    assert "1,000 Mbps link, 50%–80% of it usable (assumed)" in html
    assert "start replication by" in html


def test_the_panel_says_when_a_wave_does_not_fit():
    site = make_link_site(bandwidth_mbps=100)
    wave = make_wave("slow", 3, site=site, hours=1, migration_type=MigrationType.VMOTION)
    html = estimate_panel(Context({}), wave)
    assert "Does not fit its window" in html and "Does not fit the 1 h 00 min window" in html
    assert "(one at a time)" in html


def test_the_panel_asks_for_a_site_when_the_bandwidth_is_unknown():
    wave = make_wave("nosite", 2, migration_type=MigrationType.COLD)
    html = estimate_panel(Context({}), wave)
    assert "Set the wave&#x27;s site" in html or "Set the wave's site" in html


def test_the_panel_costs_the_same_queries_for_5_or_500_vms():
    site = make_link_site(bandwidth_mbps=1000)
    small, big = make_wave("small", 5, site=site), make_wave("big", 500, site=site)
    WaveItem.objects.filter(wave=big, vm__name__endswith="7").update(migration_type=MigrationType.VMOTION)
    n_small, _ = queries(lambda: estimate_panel(Context({}), Wave.objects.get(pk=small.pk)))
    n_big, html = queries(lambda: estimate_panel(Context({}), Wave.objects.get(pk=big.pk)))
    assert n_small == n_big <= 5  # the wave, its site, loads, biggest VMs, measured throughput
    assert "HCX vMotion" in html


def test_the_api_gives_a_wave_estimate(client_for, stakeholder):
    site = make_link_site(bandwidth_mbps=1000)
    wave = make_wave("api", 3, site=site)
    body = client_for(stakeholder).get(f"/api/wave-estimates/{wave.pk}/").json()
    assert body["wave"] == wave.pk and body["fits"] is True and body["vms"] == 3
    assert body["transfer"]["low_seconds"] < body["transfer"]["high_seconds"]
    assert body["types"][0]["migration_type"] == "bulk" and body["types"][0]["pre_seed"] is True
    assert (
        body["assumptions"]["bandwidth_mbps"] == 1000
        and body["assumptions"]["efficiency_source"] == "assumed"
    )
    assert len(body["longest_vms"]) == 3


def test_the_api_costs_the_same_queries_whatever_the_size(client_for, planner):
    site = make_link_site(bandwidth_mbps=1000)
    small, big = make_wave("small", 3, site=site), make_wave("big", 400, site=site)
    client = client_for(planner)
    client.get("/api/wave-estimates/")  # warm the session and permission caches alike for both
    n_small, r1 = queries(lambda: client.get(f"/api/wave-estimates/{small.pk}/"))
    n_big, r2 = queries(lambda: client.get(f"/api/wave-estimates/{big.pk}/"))
    assert r1.status_code == r2.status_code == 200 and n_small == n_big
    n_one_page, listing = queries(lambda: client.get("/api/wave-estimates/"))
    for i in range(5):
        make_wave(f"more{i}", 20, site=site)
    n_more, listing = queries(lambda: client.get("/api/wave-estimates/"))
    assert n_more == n_one_page and listing.json()["count"] == 7
    assert {r["name"] for r in listing.json()["results"]} >= {"small", "big", "more4"}


def test_the_api_estimate_checks_roles(client, client_for, outsider):
    wave = make_wave("private", 1)
    assert client.get(f"/api/wave-estimates/{wave.pk}/").status_code in (401, 403)
    assert client_for(outsider).get(f"/api/wave-estimates/{wave.pk}/").status_code == 403


def test_every_vm_has_its_own_estimate_a_page_at_a_time(client_for, stakeholder):
    site = make_link_site(bandwidth_mbps=1000)
    small, big = make_wave("small", 3, site=site), make_wave("big", 250, site=site)
    client = client_for(stakeholder)
    client.get(f"/plan/waves/{small.pk}/estimate/")
    n_small, response = queries(lambda: client.get(f"/plan/waves/{small.pk}/estimate/"))
    assert response.status_code == 200 and "small-vm-00001" in response.content.decode()
    n_big, response = queries(lambda: client.get(f"/plan/waves/{big.pk}/estimate/?page=2"))
    page = response.content.decode()
    assert (
        n_small == n_big and "big-vm-00101" in page and "big-vm-00001" not in page and "Page 2 of 3" in page
    )
    body = client.get(f"/api/wave-estimates/{big.pk}/vms/?page=3").json()
    assert body["count"] == 250 and len(body["results"]) == 50
    vm = body["results"][0]
    assert vm["type_label"] == "Bulk" and vm["transfer"]["low_seconds"] < vm["transfer"]["high_seconds"]
    assert client_for(stakeholder).get(f"/plan/waves/{big.pk}/estimate/").status_code == 200


def test_the_per_vm_page_checks_roles(client_for, outsider):
    wave = make_wave("private", 1)
    assert client_for(outsider).get(f"/plan/waves/{wave.pk}/estimate/").status_code == 403


def test_the_wave_page_shows_the_estimate(client_for, planner):
    site = make_link_site(bandwidth_mbps=1000)
    wave = make_wave("shown", 3, site=site)
    page = client_for(planner).get(f"/plan/waves/{wave.pk}/").content.decode()
    assert 'data-testid="estimate-panel"' in page and "Fits its window" in page
    assert f"/plan/waves/{wave.pk}/estimate/" in page
