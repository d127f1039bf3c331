"""The readiness panel (on the wave page and rendered alone), the readiness report, the run and switch
buttons, and the findings API: what each role sees and may do, with bounded query counts."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from core.roles import PLANNER
from hcx.choices import MigrationType
from inventory.choices import PowerState
from migrations_app.choices import FindingSeverity
from migrations_app.models import ReadinessFinding, WaveItem
from migrations_app.readiness.actions import do_run_readiness
from tests.conftest import make_user
from tests.factories import make_estate, make_wave
from tests.test_readiness_rules import add_vm, make_scene

pytestmark = pytest.mark.django_db


def url(name, wave, *args):
    return reverse(f"migrations_app:{name}", args=[wave.pk, *args])


@pytest.fixture
def blocked(planner):
    """A wave with one sound VM and one powered-off VM (blocked for Bulk; Cold clears it), checked."""
    scene = make_scene()
    scene.ok = add_vm(scene, "web01")
    scene.off = add_vm(scene, "batch01", power_state=PowerState.OFF)
    do_run_readiness(scene.wave, acting_user=planner)
    scene.wave.refresh_from_db()
    return scene


def render_panel(wave, user, tag="readiness_panel"):
    request = RequestFactory().get(f"/plan/waves/{wave.pk}/")
    request.user = user
    return Template("{% load wave_panels %}{% " + tag + " wave %}").render(
        Context({"wave": wave, "request": request})
    )


def test_the_panel_renders_alone_with_counts_rules_and_switch_buttons(blocked, planner):
    html = render_panel(blocked.wave, planner)
    assert 'data-testid="readiness-panel"' in html
    assert "1 blocker" in html and f"checked at revision {blocked.wave.revision}" in html
    assert "Power state" in html and "batch01" in html
    assert f'data-testid="switch-{blocked.off.pk}-cold"' in html and "Switch to Cold" in html
    assert "web01" not in html  # no finding, not listed


def test_engineers_see_which_type_would_clear_but_get_no_switch_button(blocked, engineer):
    html = render_panel(blocked.wave, engineer)
    assert "Cold would clear them" in html and "Switch to Cold" not in html
    assert 'data-testid="readiness-run"' in html  # engineers may run the checks


def test_stakeholders_get_neither_run_nor_switch(blocked, stakeholder):
    html = render_panel(blocked.wave, stakeholder)
    assert 'data-testid="readiness-run"' not in html and "Switch to" not in html
    assert "1 blocker" in html


def test_the_panel_says_when_readiness_is_out_of_date_or_never_ran(planner):
    scene = make_scene()
    add_vm(scene)
    assert "Readiness has not been checked yet" in render_panel(scene.wave, planner)
    do_run_readiness(scene.wave, acting_user=planner)
    scene.wave.revision += 1
    scene.wave.save()
    html = render_panel(scene.wave, planner)
    assert "out of date" in html and f"the wave is at revision {scene.wave.revision}" in html


def test_the_wave_page_shows_the_panel(client_for, planner, blocked):
    page = client_for(planner).get(blocked.wave.get_absolute_url()).content.decode()
    assert 'data-testid="readiness-panel"' in page and 'data-testid="approval-panel"' in page
    assert "Switch to Cold" in page


def test_a_planner_runs_readiness_from_the_panel(client_for, planner):
    scene = make_scene()
    add_vm(scene, "old", hw_version=6)
    client = client_for(planner)
    response = client.post(url("wave_readiness_run", scene.wave), {"next": scene.wave.get_absolute_url()})
    assert response.status_code == 302 and response["Location"] == scene.wave.get_absolute_url()
    scene.wave.refresh_from_db()
    assert scene.wave.readiness_revision == scene.wave.revision
    assert ReadinessFinding.objects.filter(
        wave=scene.wave, rule="hardware-version", severity=FindingSeverity.BLOCKER
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert "checked at revision 1: 1 blocker, 0 warnings" in page


def test_an_engineer_may_run_readiness_but_not_switch(client_for, engineer, blocked):
    client = client_for(engineer)
    assert client.post(url("wave_readiness_run", blocked.wave)).status_code == 302
    response = client.post(
        url("wave_switch_type", blocked.wave), {"vm": blocked.off.pk, "migration_type": MigrationType.COLD}
    )
    assert response.status_code == 403
    assert WaveItem.objects.get(vm=blocked.off).migration_type == ""


@pytest.mark.parametrize("persona", ["stakeholder", "outsider"])
def test_readers_and_outsiders_cannot_run_or_switch(request, client_for, blocked, persona):
    client = client_for(request.getfixturevalue(persona))
    revision = blocked.wave.revision
    assert client.post(url("wave_readiness_run", blocked.wave)).status_code == 403
    assert (
        client.post(
            url("wave_switch_type", blocked.wave), {"vm": blocked.off.pk, "migration_type": "cold"}
        ).status_code
        == 403
    )
    blocked.wave.refresh_from_db()
    assert blocked.wave.revision == revision


def test_the_switch_button_moves_the_vm_to_cold_and_clears_the_blocker(client_for, planner, blocked):
    client = client_for(planner)
    response = client.post(
        url("wave_switch_type", blocked.wave),
        {
            "vm": blocked.off.pk,
            "migration_type": MigrationType.COLD,
            "revision": blocked.wave.revision,
            "next": url("wave_readiness", blocked.wave),
        },
    )
    assert response.status_code == 302 and response["Location"] == url("wave_readiness", blocked.wave)
    assert WaveItem.objects.get(vm=blocked.off).migration_type == MigrationType.COLD
    page = client.get(response["Location"]).content.decode()
    assert "Switched to Cold; readiness checked again at revision 2: 0 blockers" in page
    assert not ReadinessFinding.objects.filter(wave=blocked.wave, severity=FindingSeverity.BLOCKER).exists()


def test_a_stale_switch_is_refused_with_a_message(client_for, planner, blocked):
    client = client_for(planner)
    response = client.post(
        url("wave_switch_type", blocked.wave),
        {"vm": blocked.off.pk, "migration_type": "cold", "revision": blocked.wave.revision + 3},
        follow=True,
    )
    assert "changed since you loaded it" in response.content.decode()
    assert WaveItem.objects.get(vm=blocked.off).migration_type == ""


def test_bad_switch_input_is_refused_with_a_message(client_for, planner, blocked):
    client = client_for(planner)
    page = client.post(
        url("wave_switch_type", blocked.wave), {"vm": blocked.off.pk, "migration_type": "warp"}, follow=True
    )
    assert "not one of the available choices" in page.content.decode()
    assert WaveItem.objects.get(vm=blocked.off).migration_type == ""


def test_next_never_leaves_the_site(client_for, planner, blocked):
    response = client_for(planner).post(
        url("wave_readiness_run", blocked.wave), {"next": "https://evil.example/"}
    )
    assert response["Location"] == blocked.wave.get_absolute_url()


def test_the_report_filters_and_pages_findings_for_every_reader(client_for, stakeholder, blocked):
    client = client_for(stakeholder)
    page = client.get(url("wave_readiness", blocked.wave)).content.decode()
    assert 'data-testid="findings-table"' in page and "batch01" in page and "1 finding" in page
    page = client.get(url("wave_readiness", blocked.wave), {"severity": "warning"}).content.decode()
    assert "0 findings match these filters" in page
    page = client.get(url("wave_readiness", blocked.wave), {"severity": "nonsense"}).content.decode()
    assert "These filters cannot be applied" in page


def test_outsiders_cannot_read_the_report(client_for, outsider, blocked):
    assert client_for(outsider).get(url("wave_readiness", blocked.wave)).status_code == 403


def test_a_missing_wave_is_a_404(client_for, planner):
    client = client_for(planner)
    assert client.get(reverse("migrations_app:wave_readiness", args=[999999])).status_code == 404
    assert client.post(reverse("migrations_app:wave_readiness_run", args=[999999])).status_code == 404


def test_the_panel_and_report_of_a_1000_vm_wave_cost_a_bounded_number_of_queries(
    client_for, planner, django_assert_max_num_queries
):
    estate = make_estate(1000)
    wave = make_wave("Big", estate.vms, remove_isos=False)
    do_run_readiness(wave, acting_user=planner)
    wave.refresh_from_db()
    assert ReadinessFinding.objects.filter(wave=wave).count() > 1000
    render_panel(wave, planner)  # warms the content-type cache
    with django_assert_max_num_queries(20):
        html = render_panel(wave, planner)
    assert "and 980 more blocked VMs" in html  # 20 listed with their switch options, the rest on the report
    client = client_for(planner)
    with django_assert_max_num_queries(30):
        page = client.get(url("wave_readiness", wave)).content.decode()
    assert "Blocked VMs, page 1 of" in page
    with django_assert_max_num_queries(30):
        client.get(url("wave_readiness", wave), {"blocked_page": 3, "page": 2, "rule": "power-state"})


# --- API ---


def test_the_findings_api_filters_by_wave_severity_and_rule(
    client_for, stakeholder, blocked, django_assert_max_num_queries
):
    client = client_for(stakeholder)
    other = make_scene()
    add_vm(other, "other01", hw_version=5)
    do_run_readiness(other.wave, acting_user=make_user(PLANNER, "planner-2"))
    with django_assert_max_num_queries(8):
        data = client.get("/api/readiness-findings/", {"wave_id": blocked.wave.pk}).json()
    assert data["count"] == 1
    row = data["results"][0]
    assert (row["vm_name"], row["rule"], row["severity"], row["migration_type"]) == (
        "batch01",
        "power-state",
        "blocker",
        "bulk",
    )
    assert row["rule_title"] == "Power state" and "Switch it to Cold" in row["fix"]
    assert client.get("/api/readiness-findings/", {"rule": "hardware-version"}).json()["count"] == 1
    assert (
        client.get("/api/readiness-findings/", {"severity": "warning", "wave": blocked.wave.name}).json()[
            "count"
        ]
        == 0
    )
    assert client.get("/api/readiness-findings/", {"severity": "bogus"}).status_code == 400


def test_the_readiness_api_reads_and_runs_with_role_checks(
    client, client_for, planner, engineer, stakeholder, blocked
):
    path = f"/api/waves/{blocked.wave.pk}/readiness/"
    data = client_for(stakeholder).get(path).json()
    assert data == {
        "wave": blocked.wave.pk,
        "revision": blocked.wave.revision,
        "checked_revision": blocked.wave.revision,
        "current": True,
        "ready": False,
        "blockers": 1,
        "warnings": 0,
        "blocked_vms": 1,
    }
    assert client_for(stakeholder).post(path).status_code == 403
    assert client_for(engineer).post(path).json()["blockers"] == 1
    assert client_for(planner).post(path).status_code == 200
    client.logout()
    assert client.get(path).status_code in (401, 403)


def test_the_switch_api_changes_the_type_and_reruns(client_for, planner, engineer, blocked):
    path = f"/api/waves/{blocked.wave.pk}/switch-type/"
    body = {"vm": blocked.off.pk, "migration_type": "cold"}
    assert client_for(engineer).post(path, body, content_type="application/json").status_code == 403
    response = client_for(planner).post(
        path, {**body, "revision": blocked.wave.revision + 1}, content_type="application/json"
    )
    assert response.status_code == 409 and "changed since you loaded it" in response.json()["detail"]
    response = client_for(planner).post(path, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["blockers"] == 0
    response = client_for(planner).post(path, body, content_type="application/json")
    assert response.status_code == 400 and "already migrates with Cold" in response.json()["detail"]
    assert client_for(planner).post(path, {"vm": "x"}, content_type="application/json").status_code == 400


def test_the_api_root_still_lists_waves(client_for, stakeholder):
    root = client_for(stakeholder).get("/api/").json()
    assert root["waves"].endswith("/api/waves/") and "readiness-findings" in root and "approvals" in root
