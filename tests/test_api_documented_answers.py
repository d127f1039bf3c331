"""Answers the schema fuzzing found outside /api/schema/, checked against it on purpose: the dependency
graph is one object, a new group comes back with its counts, and every refusal of a wave's workflow step
(the role check's, the four-eyes rule's, a body that does not validate) has one shape, {detail, reasons}."""

import pytest

from migrations_app.choices import WaveStatus
from migrations_app.readiness.approval import do_submit
from tests.factories import make_dependency, make_estate, make_group
from tests.schema_check import assert_documented
from tests.test_readiness_rules import add_vm, make_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(db):
    scene = make_scene()
    add_vm(scene, "web01")
    return scene.wave


def test_it_documents_the_dependency_graph_as_the_one_object_it_is(client_for, stakeholder):
    estate = make_estate(vms=3)
    group = make_group("web", vms=estate.vms[:2])
    make_dependency(estate.vms[0], estate.vms[2])
    make_dependency(estate.vms[1], "203.0.113.7", port=53, protocol="udp")
    response = client_for(stakeholder).get("/api/dependency-graph/")
    graph = assert_documented(response, "GET", "/api/dependency-graph/")
    assert graph["groups"] == [{"id": group.pk, "name": "web"}]
    assert {e["ports"][0] for e in graph["edges"]} == {"443/tcp", "53/udp"}
    assert graph["shown_nodes"] == len(graph["nodes"]) == 4 and not graph["truncated"]


def test_a_new_group_comes_back_with_its_counts(client_for, planner):
    response = client_for(planner).post("/api/groups/", {"name": "payroll"}, content_type="application/json")
    assert response.status_code == 201
    group = assert_documented(response, "POST", "/api/groups/")
    assert (group["name"], group["vm_count"], group["used_mib"], group["provisioned_mib"]) == (
        "payroll",
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("persona", "step", "needs"),
    [
        ("stakeholder", "approve", "approve_wave"),
        ("planner", "approve", "approve_wave"),
        ("planner", "reject", "approve_wave"),
        ("engineer", "submit", "submit_wave"),
        ("stakeholder", "readiness", "submit_wave or approve_wave"),
        ("engineer", "switch-type", "change_waveitem"),
        ("outsider", "submit", "view_wave"),
    ],
)
def test_a_missing_permission_is_refused_with_the_reason(request, client_for, ready, persona, step, needs):
    response = client_for(request.getfixturevalue(persona)).post(
        f"/api/waves/{ready.pk}/{step}/", {"vm": 1, "migration_type": "cold"}, content_type="application/json"
    )
    assert response.status_code == 403
    refusal = assert_documented(response, "POST", f"/api/waves/{{id}}/{step}/")
    assert refusal["detail"] == "You do not have permission to perform this action."
    assert len(refusal["reasons"]) == 1 and needs in refusal["reasons"][0]


def test_the_four_eyes_refusal_has_the_same_shape(client_for, admin_user, ready):
    do_submit(ready, acting_user=admin_user)
    response = client_for(admin_user).post(
        f"/api/waves/{ready.pk}/approve/", {"change_ticket": "CHG1"}, content_type="application/json"
    )
    assert response.status_code == 403
    refusal = assert_documented(response, "POST", "/api/waves/{id}/approve/")
    assert "four eyes" in refusal["detail"] and isinstance(refusal["reasons"], list)


def test_a_body_that_does_not_validate_keeps_its_field_errors(client_for, engineer, planner, ready):
    do_submit(ready, acting_user=planner)
    response = client_for(engineer).post(
        f"/api/waves/{ready.pk}/approve/", {"revision": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    refusal = assert_documented(response, "POST", "/api/waves/{id}/approve/")
    assert refusal["revision"] == ["A valid integer is required."]
    assert refusal["reasons"] == ["revision: A valid integer is required."]
    assert ready.__class__.objects.get(pk=ready.pk).status == WaveStatus.SUBMITTED
