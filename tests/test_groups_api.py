"""The groups and dependencies API: CRUD, members with the one-group rule, filters, role checks."""

import pytest
from django.urls import reverse

from core.models import AuditEntry
from migrations_app.models import DependencyGroup, GroupMember
from tests.factories import make_dependency, make_estate, make_group, make_vcenter, make_vm

GROUPS = reverse("api:dependencygroup-list")
MEMBERS = reverse("api:groupmember-list")
DEPENDENCIES = reverse("api:dependency-list")


def detail(name, pk, action=None):
    return reverse(f"api:{name}-{action or 'detail'}", args=[pk])


@pytest.fixture
def data(db):
    vc = make_vcenter()
    vm = {n: make_vm(vc, n, used_mib=2048) for n in ("web01", "db01", "erp01", "free01")}
    crm = make_group("CRM", [vm["web01"], vm["db01"]])
    erp = make_group("ERP", [vm["erp01"]])
    make_dependency(vm["web01"], vm["db01"], 1433, seen=4)
    make_dependency(vm["erp01"], "mainframe.corp.example", 23)
    make_dependency(vm["free01"], vm["erp01"], 443)
    return {"vm": vm, "crm": crm, "erp": erp}


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.mark.django_db
def test_groups_list_with_counts_and_storage(client_for, stakeholder, data):
    body = client_for(stakeholder).get(GROUPS, {"ordering": "-vm_count"}).json()
    assert [(g["name"], g["vm_count"], g["used_mib"]) for g in body["results"]] == [
        ("CRM", 2, 4096),
        ("ERP", 1, 2048),
    ]


@pytest.mark.django_db
def test_a_planner_creates_changes_and_deletes_groups(client_for, planner, data):
    client = client_for(planner)
    created = post(client, GROUPS, {"name": "HR", "priority": 5, "risk": "low", "source": "suggested"})
    assert created.status_code == 201, created.content
    assert created.json()["source"] == "manual"  # read-only: an API group is made by hand
    pk = created.json()["id"]
    changed = client.patch(detail("dependencygroup", pk), {"risk": "high"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["risk"] == "high"
    assert post(client, GROUPS, {"name": "HR"}).status_code == 400
    assert client.delete(detail("dependencygroup", pk)).status_code == 204
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "group.create",
        "group.change",
        "group.delete",
    }


@pytest.mark.django_db
def test_members_refuse_a_vm_of_another_group_by_name_unless_moved(client_for, planner, data):
    client = client_for(planner)
    crm, vm = data["crm"], data["vm"]
    refused = post(client, MEMBERS, {"group": crm.pk, "vm": vm["erp01"].pk})
    assert refused.status_code == 400
    assert "erp01 is already in group ERP" in refused.json()["vm"][0]
    moved = post(
        client, MEMBERS, {"group": crm.pk, "vm": vm["erp01"].pk, "move": True, "reason": "shares the DB"}
    )
    assert moved.status_code == 201, moved.content
    assert moved.json()["group_name"] == "CRM" and moved.json()["reason"] == "shares the DB"
    assert GroupMember.objects.get(vm=vm["erp01"]).group == crm


@pytest.mark.django_db
def test_bulk_add_and_remove_members(client_for, planner, data):
    client = client_for(planner)
    crm, vm = data["crm"], data["vm"]
    refused = post(
        client, detail("dependencygroup", crm.pk, "add-members"), {"vms": [vm["free01"].pk, vm["erp01"].pk]}
    )
    assert refused.status_code == 400 and "erp01 is already in group ERP" in refused.json()["vms"][0]
    assert not GroupMember.objects.filter(vm=vm["free01"]).exists()
    added = post(client, detail("dependencygroup", crm.pk, "add-members"), {"vms": [vm["free01"].pk]})
    assert added.status_code == 200 and added.json()["detail"] == "Added 1 VM to CRM."
    removed = post(
        client,
        detail("dependencygroup", crm.pk, "remove-members"),
        {"vms": [vm["free01"].pk, vm["web01"].pk]},
    )
    assert removed.json()["removed"] == 2
    assert list(GroupMember.objects.filter(group=crm).values_list("vm__name", flat=True)) == ["db01"]
    unknown = post(client, detail("dependencygroup", crm.pk, "add-members"), {"vms": [999999]})
    assert unknown.status_code == 400 and "No VM has the id 999999." in unknown.json()["vms"][0]


@pytest.mark.django_db
def test_dependencies_filter_by_vm_group_and_external(client_for, engineer, data):
    client = client_for(engineer)
    external = client.get(DEPENDENCIES, {"external": "true"}).json()
    assert external["count"] == 1
    edge = external["results"][0]
    assert edge["destination"]["external"] is True and edge["destination"]["name"] == "mainframe.corp.example"
    assert edge["source"]["group"] == {"id": data["erp"].pk, "name": "ERP"}
    assert client.get(DEPENDENCIES, {"group_id": data["erp"].pk}).json()["count"] == 2
    assert client.get(DEPENDENCIES, {"vm": "DB01"}).json()["count"] == 1
    assert client.get(DEPENDENCIES, {"min_seen": 2}).json()["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["engineer", "stakeholder"])
def test_readers_may_read_but_not_write(request, client_for, persona, data):
    client = client_for(request.getfixturevalue(persona))
    crm, vm = data["crm"], data["vm"]
    for url in (GROUPS, MEMBERS, DEPENDENCIES, detail("dependencygroup", crm.pk)):
        assert client.get(url).status_code == 200, url
    assert post(client, GROUPS, {"name": "HR"}).status_code == 403
    assert (
        client.patch(
            detail("dependencygroup", crm.pk), {"risk": "high"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.delete(detail("dependencygroup", crm.pk)).status_code == 403
    assert post(client, MEMBERS, {"group": crm.pk, "vm": vm["free01"].pk}).status_code == 403
    assert (
        post(client, detail("dependencygroup", crm.pk, "add-members"), {"vms": [vm["free01"].pk]}).status_code
        == 403
    )
    assert (
        post(
            client, detail("dependencygroup", crm.pk, "remove-members"), {"vms": [vm["web01"].pk]}
        ).status_code
        == 403
    )
    assert DependencyGroup.objects.count() == 2 and GroupMember.objects.count() == 3


@pytest.mark.django_db
def test_outsiders_are_refused(client_for, outsider, data):
    client = client_for(outsider)
    for url in (
        GROUPS,
        MEMBERS,
        DEPENDENCIES,
        reverse("api:dependencyimport-list"),
        reverse("api:group-suggestion-list"),
    ):
        assert client.get(url).status_code == 403, url


@pytest.mark.django_db
def test_api_lists_have_bounded_query_counts(client_for, planner, django_assert_max_num_queries):
    estate = make_estate(100, devices=False)
    for i in range(50):
        make_group(f"g{i:02d}", estate.vms[2 * i : 2 * i + 2])
        make_dependency(estate.vms[2 * i], estate.vms[2 * i + 1], 443)
        make_dependency(estate.vms[2 * i], f"ext-{i}", 53)
    client = client_for(planner)
    for url in (GROUPS, MEMBERS, DEPENDENCIES):
        with django_assert_max_num_queries(8):
            body = client.get(url, {"page_size": 100}).json()
        assert body["count"] in (50, 100), url
