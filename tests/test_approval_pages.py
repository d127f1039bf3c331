"""The approval panel, its forms, the approvals page and the approval API, for each role: 403 for the
wrong role, 409 for the wrong state, 400 with the reasons for blockers or missing input."""

import pytest
from django.urls import reverse

from core.models import AuditEntry
from core.roles import ENGINEER
from inventory.choices import PowerState
from migrations_app.choices import WaveStatus
from migrations_app.models import Approval, Wave
from migrations_app.readiness.approval import do_approve, do_submit
from tests.conftest import make_user
from tests.test_readiness_pages import render_panel
from tests.test_readiness_rules import add_vm, make_scene

pytestmark = pytest.mark.django_db


def url(name, wave):
    return reverse(f"migrations_app:{name}", args=[wave.pk])


def api(wave, step):
    return f"/api/waves/{wave.pk}/{step}/"


@pytest.fixture
def ready(db):
    scene = make_scene()
    add_vm(scene, "web01")
    return scene.wave


@pytest.fixture
def waiting(ready, planner):
    do_submit(ready, acting_user=planner)
    return Wave.objects.get(pk=ready.pk)


def status(wave) -> str:
    return Wave.objects.get(pk=wave.pk).status


# --- the panel ---


def test_a_planner_sees_the_submit_button_and_no_decision_form(ready, planner):
    html = render_panel(ready, planner, "approval_panel")
    assert 'data-testid="approval-submit"' in html and "Submit revision 1 for approval" in html
    assert 'data-testid="approval-decide"' not in html


def test_an_engineer_sees_the_decision_form_of_a_submitted_wave(waiting, engineer):
    html = render_panel(waiting, engineer, "approval_panel")
    assert 'data-testid="approval-decide"' in html and "Submitted by <strong>planner-user</strong>" in html
    assert 'data-testid="approval-submit"' not in html


def test_the_submitter_is_told_another_engineer_must_decide(ready, admin_user):
    do_submit(ready, acting_user=admin_user)
    html = render_panel(Wave.objects.get(pk=ready.pk), admin_user, "approval_panel")
    assert 'data-testid="approval-own"' in html and 'data-testid="approval-decide"' not in html


def test_stakeholders_see_the_state_and_history_but_no_forms(waiting, engineer, stakeholder):
    do_approve(waiting, acting_user=engineer, change_ticket="CHG42", comment="Go")
    html = render_panel(Wave.objects.get(pk=waiting.pk), stakeholder, "approval_panel")
    assert "<form" not in html
    assert "Revision 1 approved by <strong>engineer-user</strong>" in html and "CHG42" in html
    assert "Approved revision 1" in html and "Submitted revision 1 for approval" in html


# --- the forms behind the panel ---


def test_a_planner_submits_through_the_form(client_for, planner, ready):
    client = client_for(planner)
    response = client.post(url("wave_submit", ready), {"revision": 1}, follow=True)
    assert "revision 1 submitted for approval" in response.content.decode()
    assert status(ready) == WaveStatus.SUBMITTED


def test_a_blocked_wave_is_refused_with_the_blocker_count(client_for, planner):
    scene = make_scene()
    add_vm(scene, "batch01", power_state=PowerState.OFF)
    page = client_for(planner).post(url("wave_submit", scene.wave), follow=True).content.decode()
    assert "has 1 readiness blocker: fix them before submitting" in page and "batch01" in page
    assert status(scene.wave) == WaveStatus.DRAFT


def test_an_engineer_approves_and_rejects_through_the_forms(client_for, engineer, planner, waiting):
    client = client_for(engineer)
    page = client.post(
        url("wave_approve", waiting), {"revision": 1, "change_ticket": "", "comment": ""}, follow=True
    )
    assert "needs the change ticket" in page.content.decode() and status(waiting) == WaveStatus.SUBMITTED
    page = client.post(url("wave_reject", waiting), {"revision": 1, "comment": ""}, follow=True)
    assert "needs a comment" in page.content.decode() and status(waiting) == WaveStatus.SUBMITTED
    page = client.post(
        url("wave_reject", waiting), {"revision": 1, "comment": "Clashes with the freeze"}, follow=True
    )
    assert "Revision 1 of" in page.content.decode() and status(waiting) == WaveStatus.REJECTED
    assert Approval.objects.get().comment == "Clashes with the freeze"


def test_an_overlong_ticket_is_refused(client_for, engineer, waiting):
    page = (
        client_for(engineer)
        .post(url("wave_approve", waiting), {"change_ticket": "C" * 101}, follow=True)
        .content.decode()
    )
    assert "Change ticket: Ensure this value has at most 100 characters" in page
    assert status(waiting) == WaveStatus.SUBMITTED


@pytest.mark.parametrize("persona", ["planner", "stakeholder", "outsider"])
def test_only_engineers_may_decide(request, client_for, waiting, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.post(url("wave_approve", waiting), {"change_ticket": "CHG1"}).status_code == 403
    assert client.post(url("wave_reject", waiting), {"comment": "no"}).status_code == 403
    assert status(waiting) == WaveStatus.SUBMITTED


@pytest.mark.parametrize("persona", ["engineer", "stakeholder", "outsider"])
def test_only_planners_may_submit(request, client_for, ready, persona):
    assert client_for(request.getfixturevalue(persona)).post(url("wave_submit", ready)).status_code == 403
    assert status(ready) == WaveStatus.DRAFT


def test_the_steps_answer_only_post(client_for, planner, engineer, ready):
    assert client_for(planner).get(url("wave_submit", ready)).status_code == 405
    assert client_for(engineer).get(url("wave_approve", ready)).status_code == 405


# --- the approvals page ---


def test_the_approvals_page_lists_waiting_waves_and_decisions(
    client_for, engineer, planner, stakeholder, waiting
):
    page = client_for(engineer).get(reverse("migrations_app:approval_list")).content.decode()
    assert waiting.name in page and "Review" in page and "planner-user" in page
    do_approve(waiting, acting_user=engineer, change_ticket="CHG7")
    page = client_for(stakeholder).get(reverse("migrations_app:approval_list")).content.decode()
    assert "No wave is waiting for approval" in page and "CHG7" in page and "Review" not in page
    assert "Approvals" in client_for(planner).get("/").content.decode()


def test_the_approvals_page_costs_a_bounded_number_of_queries(
    client_for, engineer, planner, django_assert_max_num_queries
):
    for n in range(30):
        scene = make_scene()
        add_vm(scene, f"vm-{n}")
        do_submit(scene.wave, acting_user=planner)
    client = client_for(engineer)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("migrations_app:approval_list")).content.decode()
    assert page.count("Review") == 30


def test_outsiders_cannot_see_the_approvals_page(client_for, outsider):
    assert client_for(outsider).get(reverse("migrations_app:approval_list")).status_code == 403


# --- API ---


def test_the_api_submits_approves_and_lists_decisions(client_for, planner, engineer, stakeholder, ready):
    response = client_for(planner).post(
        api(ready, "submit"), {"revision": 1}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == WaveStatus.SUBMITTED
    response = client_for(engineer).post(
        api(ready, "approve"), {"change_ticket": "CHG9", "revision": 1}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json() == {
        "wave": ready.pk,
        "status": "approved",
        "revision": 1,
        "detail": "Revision 1 approved.",
    }
    rows = client_for(stakeholder).get("/api/approvals/", {"wave_id": ready.pk}).json()["results"]
    assert [(r["revision"], r["decision"], r["user"], r["change_ticket"], r["current"]) for r in rows] == [
        (1, "approved", "engineer-user", "CHG9", True)
    ]
    assert AuditEntry.objects.filter(action="wave.approve", user=engineer).count() == 1


def test_the_api_answers_400_with_the_blockers(client_for, planner):
    scene = make_scene()
    add_vm(scene, "batch01", power_state=PowerState.OFF)
    response = client_for(planner).post(api(scene.wave, "submit"), content_type="application/json")
    body = response.json()
    assert response.status_code == 400 and body["blockers"] == 1
    assert body["reasons"][0].startswith("batch01: The VM is powered off: Bulk only moves powered-on VMs")
    assert status(scene.wave) == WaveStatus.DRAFT


def test_the_api_answers_403_for_the_wrong_role_and_the_submitter(
    client_for, planner, engineer, stakeholder, admin_user, ready
):
    assert client_for(engineer).post(api(ready, "submit"), content_type="application/json").status_code == 403
    assert (
        client_for(stakeholder).post(api(ready, "submit"), content_type="application/json").status_code == 403
    )
    assert (
        client_for(admin_user).post(api(ready, "submit"), content_type="application/json").status_code == 200
    )
    response = client_for(admin_user).post(
        api(ready, "approve"), {"change_ticket": "CHG1"}, content_type="application/json"
    )
    assert response.status_code == 403 and "four eyes" in response.json()["detail"]
    assert (
        client_for(planner)
        .post(api(ready, "approve"), {"change_ticket": "CHG1"}, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_for(planner)
        .post(api(ready, "reject"), {"comment": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    assert status(ready) == WaveStatus.SUBMITTED


def test_the_api_answers_409_for_the_wrong_state_or_revision(client_for, planner, engineer, ready):
    response = client_for(engineer).post(
        api(ready, "approve"), {"change_ticket": "CHG1"}, content_type="application/json"
    )
    assert response.status_code == 409 and "only a submitted wave" in response.json()["detail"]
    response = client_for(planner).post(
        api(ready, "submit"), {"revision": 5}, content_type="application/json"
    )
    assert response.status_code == 409
    client_for(planner).post(api(ready, "submit"), content_type="application/json")
    other = make_user(ENGINEER, "engineer-2")
    assert (
        client_for(engineer)
        .post(api(ready, "approve"), {"change_ticket": "CHG1"}, content_type="application/json")
        .status_code
        == 200
    )
    response = client_for(other).post(
        api(ready, "reject"), {"comment": "late"}, content_type="application/json"
    )
    assert response.status_code == 409 and "already approved by engineer-user" in response.json()["detail"]


def test_the_api_answers_400_for_missing_input(client_for, engineer, waiting):
    response = client_for(engineer).post(
        api(waiting, "reject"), {"comment": "  "}, content_type="application/json"
    )
    assert response.status_code == 400 and "needs a comment" in response.json()["detail"]
    response = client_for(engineer).post(
        api(waiting, "approve"), {"revision": "x"}, content_type="application/json"
    )
    assert response.status_code == 400 and "revision" in response.json()
    assert status(waiting) == WaveStatus.SUBMITTED


def test_the_api_refuses_anonymous_and_outsiders(client, client_for, outsider, ready):
    for step in ("submit", "approve", "reject", "readiness", "switch-type"):
        assert client.post(api(ready, step), content_type="application/json").status_code in (401, 403)
        assert client_for(outsider).post(api(ready, step), content_type="application/json").status_code == 403
        client.logout()
    assert client_for(outsider).get("/api/approvals/").status_code == 403
    assert client_for(outsider).get("/api/readiness-findings/").status_code == 403


def test_the_api_404s_a_missing_wave(client_for, planner):
    assert (
        client_for(planner).post("/api/waves/999999/submit/", content_type="application/json").status_code
        == 404
    )
