"""Suggested move groups: connected components of the VM-to-VM graph, with a threshold, the
infrastructure ports left out, a reason per VM, and accepting one as a group."""

import pytest
from django.urls import reverse

from migrations_app.choices import GroupSource
from migrations_app.dependencies.actions import MembershipError
from migrations_app.dependencies.suggestions import do_accept_suggestion, suggest
from migrations_app.models import DependencyGroup, GroupMember
from tests.factories import make_dependency, make_estate, make_group, make_vcenter, make_vm

URL = reverse("migrations_app:dependencygroup_suggestions")


@pytest.fixture
def estate(db):
    """Two applications, a DNS server and a domain controller everyone talks to, a one-off scan,
    a VM grouped by hand, and an external dependency."""
    vc = make_vcenter()
    names = ["web01", "app01", "db01", "hr-web", "hr-db", "dns01", "dc01", "scanner", "pinned"]
    vm = {name: make_vm(vc, name) for name in names}
    make_dependency(vm["web01"], vm["app01"], 8080, seen=30)
    make_dependency(vm["app01"], vm["db01"], 1433, seen=12)
    make_dependency(vm["web01"], vm["db01"], 1433, seen=2)
    make_dependency(vm["hr-web"], vm["hr-db"], 5432, seen=7)
    for client in ("web01", "app01", "db01", "hr-web", "hr-db"):
        make_dependency(vm[client], vm["dns01"], 53, seen=500, protocol="udp")
        make_dependency(vm[client], vm["dc01"], 389, seen=100)
        make_dependency(vm[client], vm["dc01"], 88, seen=100)
    make_dependency(vm["scanner"], vm["web01"], 22, seen=1)
    make_dependency(vm["pinned"], vm["hr-db"], 5432, seen=50)
    make_dependency(vm["db01"], "backup.corp.example", 10000, seen=9)
    make_group("Pinned by hand", [vm["pinned"]])
    return vm


def as_sets(result):
    return [sorted(v.name for v in s.vms) for s in result.items]


@pytest.mark.django_db
def test_infrastructure_ports_and_weak_links_do_not_glue_the_estate(estate):
    result = suggest(min_seen=2)
    assert as_sets(result) == [["app01", "db01", "web01"], ["hr-db", "hr-web"]]
    assert result.on_ignored_ports == 15 and result.below_threshold == 1


@pytest.mark.django_db
def test_without_the_port_list_dns_and_ad_join_everything(estate):
    result = suggest(min_seen=1, ignore_ports=())
    assert as_sets(result) == [["app01", "db01", "dc01", "dns01", "hr-db", "hr-web", "scanner", "web01"]]


@pytest.mark.django_db
def test_a_higher_threshold_splits_weakly_linked_vms(estate):
    assert as_sets(suggest(min_seen=10)) == [["app01", "db01", "web01"]]
    assert as_sets(suggest(min_seen=13)) == [["app01", "web01"]]
    assert as_sets(suggest(min_seen=31)) == []


@pytest.mark.django_db
def test_each_vm_says_why_it_is_in(estate):
    (app, hr) = suggest(min_seen=2).items
    reasons = {v.name: v.reason for v in app.vms}
    assert reasons == {
        "web01": "talks to app01 on 8080 (seen 30 times); 1 more connection in this group",
        "app01": "web01 talks to it on 8080 (seen 30 times); 1 more connection in this group",
        "db01": "app01 talks to it on 1433 (seen 12 times); 1 more connection in this group",
    }
    assert app.name == "app01 and 2 connected VMs" and hr.name == "hr-db and 1 connected VM"
    assert {v.name: v.reason for v in hr.vms}["hr-db"] == "hr-web talks to it on 5432 (seen 7 times)"
    assert app.connections == 3


@pytest.mark.django_db
def test_grouped_and_vanished_vms_are_never_suggested(estate):
    from django.utils import timezone

    estate["hr-web"].removed = timezone.now()
    estate["hr-web"].save()
    names = {n for s in as_sets(suggest(min_seen=1)) for n in s}
    assert "pinned" not in names and "hr-web" not in names and "hr-db" not in names


@pytest.mark.django_db
def test_accepting_makes_a_group_with_the_reasons(estate, planner):
    (app, _hr) = suggest(min_seen=2).items
    group = do_accept_suggestion(app.vm_ids, name="Shop", min_seen=2, ignore_ports=None, acting_user=planner)
    assert (group.name, group.source) == ("Shop", GroupSource.SUGGESTED)
    assert "seen at least 2 times" in group.rule and "53, 88, 123, 389, 636" in group.rule
    reasons = dict(GroupMember.objects.filter(group=group).values_list("vm__name", "reason"))
    assert reasons["db01"] == "app01 talks to it on 1433 (seen 12 times); 1 more connection in this group"
    assert as_sets(suggest(min_seen=2)) == [["hr-db", "hr-web"]]  # grouped VMs leave the suggestions


@pytest.mark.django_db
def test_a_suggestion_that_changed_meanwhile_is_refused(estate, planner):
    (app, _hr) = suggest(min_seen=2).items
    make_group("Someone else's", [estate["db01"]])
    with pytest.raises(MembershipError, match="has changed since it was shown"):
        do_accept_suggestion(app.vm_ids, name="Shop", min_seen=2, ignore_ports=None, acting_user=planner)
    assert not DependencyGroup.objects.filter(name="Shop").exists()


@pytest.mark.django_db
def test_the_page_lists_suggestions_and_a_planner_accepts_one_renamed(client_for, planner, estate):
    client = client_for(planner)
    page = client.get(URL, {"min_seen": 2, "ignore_ports": "53, 88, 389"}).content.decode()
    assert page.count('data-testid="suggestion"') == 2
    assert "talks to app01 on 8080 (seen 30 times)" in page
    assert "15 on ignored ports and 1 seen fewer than 2 times were left out" in page
    (app, _hr) = suggest(min_seen=2, ignore_ports=(53, 88, 389)).items
    response = client.post(
        URL + "?min_seen=2",
        {"vms": app.key, "name": "Web shop", "min_seen": 2, "ignore_ports": "53, 88, 389"},
        follow=True,
    )
    assert "Group Web shop created from the suggestion with 3 VMs." in response.content.decode()
    assert DependencyGroup.objects.get(name="Web shop").source == GroupSource.SUGGESTED


@pytest.mark.django_db
def test_a_taken_name_is_refused_on_accepting(client_for, planner, estate):
    (app, _hr) = suggest(min_seen=2).items
    response = client_for(planner).post(
        URL, {"vms": app.key, "name": "Pinned by hand", "min_seen": 2}, follow=True
    )
    assert "A group named Pinned by hand exists already; choose another name." in response.content.decode()
    assert DependencyGroup.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["engineer", "stakeholder"])
def test_readers_see_suggestions_but_cannot_accept(request, client_for, persona, estate):
    client = client_for(request.getfixturevalue(persona))
    page = client.get(URL, {"min_seen": 2})
    assert page.status_code == 200 and "Make it a group" not in page.content.decode()
    (app, _hr) = suggest(min_seen=2).items
    assert client.post(URL, {"vms": app.key, "name": "x", "min_seen": 2}).status_code == 403
    api = client.post(
        reverse("api:group-suggestion-accept"),
        {"vms": app.vm_ids, "min_seen": 2},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert DependencyGroup.objects.count() == 1


@pytest.mark.django_db
def test_the_api_lists_and_accepts_suggestions(client_for, planner, estate):
    client = client_for(planner)
    listing = client.get(reverse("api:group-suggestion-list"), {"min_seen": 2}).json()
    assert listing["count"] == 2
    first = listing["results"][0]
    assert {v["name"] for v in first["vms"]} == {"web01", "app01", "db01"} and all(
        v["reason"] for v in first["vms"]
    )
    response = client.post(
        reverse("api:group-suggestion-accept"),
        {"vms": [v["id"] for v in first["vms"]], "name": "Shop", "min_seen": 2},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "suggested" and response.json()["vm_count"] == 3
    again = client.post(
        reverse("api:group-suggestion-accept"),
        {"vms": [v["id"] for v in first["vms"]], "name": "Shop 2", "min_seen": 2},
        content_type="application/json",
    )
    assert again.status_code == 400 and "has changed since it was shown" in again.json()["vms"][0]
    bad = client.get(reverse("api:group-suggestion-list"), {"ignore_ports": "53,http"})
    assert bad.status_code == 400 and '"http" is not a port number' in bad.json()["ignore_ports"][0]


@pytest.mark.django_db
def test_suggestions_at_scale_take_a_fixed_number_of_queries(django_assert_max_num_queries):
    """2,000 VMs in 400 chains of five, 1,600 edges plus DNS: the graph comes from one query."""
    from migrations_app.models import Dependency, Endpoint

    estate = make_estate(2000, devices=False, clusters=1, hosts_per_cluster=1)
    endpoints = Endpoint.objects.bulk_create([Endpoint(vm=vm, name=vm.name) for vm in estate.vms])
    edges = [
        Dependency(source=endpoints[i], destination=endpoints[i + 1], port=443, seen=5)
        for i in range(len(endpoints) - 1)
        if i % 5 != 4
    ] + [Dependency(source=e, destination=endpoints[0], port=53, seen=99) for e in endpoints[1:]]
    Dependency.objects.bulk_create(edges)
    with django_assert_max_num_queries(3):
        result = suggest(min_seen=1)
    assert len(result.items) == 400 and all(len(s.vms) == 5 for s in result.items)


@pytest.mark.django_db
def test_no_suggestions_says_so(client_for, stakeholder):
    vc = make_vcenter()
    make_vm(vc, "alone")
    page = client_for(stakeholder).get(URL).content.decode()
    assert "No suggestions" in page
