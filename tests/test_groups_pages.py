"""Group pages: the list, one group with its VMs and what it depends on outside itself, editing,
and membership (a VM is in one group at most)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.models import AuditEntry
from migrations_app.models import DependencyGroup, GroupMember
from tests.factories import make_dependency, make_estate, make_group, make_vcenter, make_vm

LIST = reverse("migrations_app:dependencygroup_list")


def group_url(group, suffix=""):
    return reverse(f"migrations_app:dependencygroup{suffix}", args=[group.pk])


@pytest.fixture
def crm(db):
    vc = make_vcenter()
    vms = {
        name: make_vm(vc, name, used_mib=10 * 1024, provisioned_mib=20 * 1024)
        for name in ("crm-web", "crm-db", "erp-app", "lonely")
    }
    group = make_group("CRM", [vms["crm-web"], vms["crm-db"]], owner="Sales IT")
    erp = make_group("ERP", [vms["erp-app"]])
    make_dependency(vms["crm-web"], vms["crm-db"], 1433, seen=12)
    make_dependency(vms["crm-web"], vms["erp-app"], 8443, seen=3)
    make_dependency(vms["crm-db"], "backup.corp.example", 10000, seen=1)
    make_dependency(vms["crm-web"], "198.51.100.9", 389)
    make_dependency(vms["lonely"], vms["crm-web"], 443, seen=40)
    return {"group": group, "erp": erp, "vms": vms}


@pytest.mark.django_db
def test_the_list_shows_vm_counts_and_storage(client_for, stakeholder, crm):
    page = client_for(stakeholder).get(LIST).content.decode()
    assert "CRM" in page and "ERP" in page and "Sales IT" in page
    assert "20.0" in page  # two VMs of 10 GB used
    assert "New group" not in page  # stakeholders read only


@pytest.mark.django_db
def test_the_list_filters_by_vm_and_source(client_for, planner, crm):
    client = client_for(planner)
    page = client.get(LIST, {"vm": "ERP-APP"}).content.decode()
    assert "ERP" in page and ">CRM<" not in page
    assert "1 group matches these filters" in page
    partial = client.get(LIST, {"vm": "erp-app"}, headers={"HX-Request": "true", "HX-Target": "object-table"})
    assert (
        "1 group matches these filters" in partial.content.decode() and "<nav" not in partial.content.decode()
    )


@pytest.mark.django_db
def test_the_list_pages_in_the_database_with_a_bounded_query_count(
    client_for, planner, django_assert_max_num_queries
):
    estate = make_estate(120, devices=False)
    for i in range(60):
        make_group(f"app-{i:03d}", estate.vms[2 * i : 2 * i + 2])
    client = client_for(planner)
    with django_assert_max_num_queries(12):
        page = client.get(LIST, {"per_page": 25}).content.decode()
    assert "app-000" in page and "app-025" not in page and "60 groups" in page
    with django_assert_max_num_queries(12):
        client.get(LIST, {"per_page": 50, "sort": "-used_mib"})


@pytest.mark.django_db
def test_a_group_page_says_what_it_depends_on_outside(client_for, engineer, crm):
    response = client_for(engineer).get(group_url(crm["group"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "depends on 3 things outside the group" in page
    assert "(2 not in the inventory)" in page
    for name in ("erp-app", "backup.corp.example", "198.51.100.9"):
        assert name in page
    assert "Connections into the group" in page and "lonely" in page
    assert "<svg" in page and "crm-web → crm-db: 1433/tcp (seen 12 times)" in page
    assert "Add VMs" not in page and "Remove ticked VMs" not in page  # engineers read only


@pytest.mark.django_db
def test_a_group_page_has_a_bounded_query_count(client_for, planner, django_assert_max_num_queries):
    estate = make_estate(200, devices=False)
    group = make_group("big", estate.vms[:150])
    for i in range(150):
        make_dependency(estate.vms[i], estate.vms[150 + i % 50], 1000 + i % 7, seen=i)
        make_dependency(estate.vms[i], f"ext-{i % 30}.example", 53)
    with django_assert_max_num_queries(40):
        response = client_for(planner).get(group_url(group))
    assert response.status_code == 200
    assert "depends on 80 things outside the group" in response.content.decode()


@pytest.mark.django_db
def test_a_planner_creates_edits_and_deletes_a_group(client_for, planner, crm):
    client = client_for(planner)
    response = client.post(
        reverse("migrations_app:dependencygroup_add"), {"name": "HR", "priority": 10, "risk": "low"}
    )
    group = DependencyGroup.objects.get(name="HR")
    assert response["Location"] == group.get_absolute_url() and group.source == "manual"
    duplicate = client.post(
        reverse("migrations_app:dependencygroup_add"), {"name": "HR", "priority": 1, "risk": "low"}
    )
    assert duplicate.status_code == 400 and "already exists" in duplicate.content.decode()
    client.post(group_url(group, "_edit"), {"name": "Human resources", "priority": 5, "risk": "high"})
    group.refresh_from_db()
    assert (group.name, group.priority, group.risk) == ("Human resources", 5, "high")
    confirm = client.get(group_url(crm["group"], "_delete")).content.decode()
    assert "Its 2 VMs become ungrouped" in confirm
    client.post(group_url(crm["group"], "_delete"))
    assert not DependencyGroup.objects.filter(name="CRM").exists()
    assert GroupMember.objects.filter(vm=crm["vms"]["crm-web"]).count() == 0
    actions = set(AuditEntry.objects.filter(user=planner).values_list("action", flat=True))
    assert {"group.create", "group.change", "group.delete"} <= actions


@pytest.mark.django_db
def test_a_planner_adds_vms_by_name_and_removes_them(client_for, planner, crm):
    client = client_for(planner)
    url = group_url(crm["group"], "_members")
    response = client.post(
        url, {"action": "add", "vms": "LONELY\n", "reason": "talks to crm-web"}, follow=True
    )
    assert "Added 1 VM to CRM." in response.content.decode()
    member = GroupMember.objects.get(vm=crm["vms"]["lonely"])
    assert member.group == crm["group"] and member.reason == "talks to crm-web"

    response = client.post(url, {"action": "remove", "select": [crm["vms"]["lonely"].pk]}, follow=True)
    assert "Removed 1 VM from CRM." in response.content.decode()
    assert not GroupMember.objects.filter(vm=crm["vms"]["lonely"]).exists()


@pytest.mark.django_db
def test_a_vm_in_another_group_is_refused_naming_that_group_unless_moved(client_for, planner, crm):
    client = client_for(planner)
    url = group_url(crm["group"], "_members")
    response = client.post(url, {"action": "add", "vms": "erp-app, lonely"}, follow=True)
    assert "erp-app is already in group ERP" in response.content.decode()
    assert GroupMember.objects.get(vm=crm["vms"]["erp-app"]).group == crm["erp"]
    assert not GroupMember.objects.filter(vm=crm["vms"]["lonely"]).exists()  # nothing half-done

    response = client.post(url, {"action": "add", "vms": "erp-app, lonely", "move": "on"}, follow=True)
    page = response.content.decode()
    assert "Added 1 VM to CRM; moved 1 from other groups (erp-app from ERP)." in page
    assert GroupMember.objects.get(vm=crm["vms"]["erp-app"]).group == crm["group"]


@pytest.mark.django_db
def test_unknown_vm_names_are_refused(client_for, planner, crm):
    response = client_for(planner).post(
        group_url(crm["group"], "_members"), {"action": "add", "vms": "lonely\nghost-01"}, follow=True
    )
    assert "No VM in the inventory is named ghost-01." in response.content.decode()
    assert not GroupMember.objects.filter(vm=crm["vms"]["lonely"]).exists()


@pytest.mark.django_db
def test_the_database_refuses_a_vm_in_two_groups(crm):
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupMember.objects.create(group=crm["erp"], vm=crm["vms"]["crm-web"])


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["engineer", "stakeholder"])
def test_readers_may_look_but_not_change(request, client_for, persona, crm):
    client = client_for(request.getfixturevalue(persona))
    group = crm["group"]
    for url in (
        LIST,
        group_url(group),
        reverse("migrations_app:dependency_list"),
        reverse("migrations_app:dependency_graph"),
        reverse("migrations_app:dependencygroup_suggestions"),
        reverse("migrations_app:dependencyimport_list"),
    ):
        assert client.get(url).status_code == 200, url
    for url in (
        reverse("migrations_app:dependencygroup_add"),
        group_url(group, "_edit"),
        group_url(group, "_delete"),
        reverse("migrations_app:dependencygroup_build"),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x", "priority": 1, "risk": "low"}).status_code == 403, url
    members = group_url(group, "_members")
    assert client.post(members, {"action": "add", "vms": "lonely"}).status_code == 403
    assert client.post(members, {"action": "remove", "select": [crm["vms"]["crm-web"].pk]}).status_code == 403
    assert GroupMember.objects.filter(group=group).count() == 2 and DependencyGroup.objects.count() == 2


@pytest.mark.django_db
def test_outsiders_are_refused_everywhere(client_for, outsider, crm):
    client = client_for(outsider)
    for url in (
        LIST,
        group_url(crm["group"]),
        reverse("migrations_app:dependency_list"),
        reverse("migrations_app:dependencygroup_suggestions"),
        reverse("migrations_app:dependency_graph"),
    ):
        assert client.get(url).status_code == 403, url


@pytest.mark.django_db
def test_the_dependency_list_filters_external_and_by_group(
    client_for, stakeholder, crm, django_assert_max_num_queries
):
    client = client_for(stakeholder)
    url = reverse("migrations_app:dependency_list")
    with django_assert_max_num_queries(10):
        page = client.get(url, {"external": "true"}).content.decode()
    assert "2 connections match these filters" in page and "backup.corp.example" in page
    page = client.get(url, {"group_id": crm["erp"].pk}).content.decode()
    assert "1 connection matches these filters" in page and "8443" in page


@pytest.mark.django_db
def test_the_navigation_offers_planning_pages_by_role(client_for, planner, stakeholder):
    planner_page = client_for(planner).get(LIST).content.decode()
    assert "Import dependencies" in planner_page and "Suggested groups" in planner_page
    stakeholder_page = client_for(stakeholder).get(LIST).content.decode()
    assert "Dependency groups" in stakeholder_page and "Import dependencies" not in stakeholder_page
