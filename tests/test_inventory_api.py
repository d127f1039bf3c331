"""The read-only inventory API: roles, payloads, no secrets, ordering, paging, query counts, schema."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.choices import PowerState
from tests.factories import make_estate, make_vcenter, make_vm

pytestmark = pytest.mark.django_db

READERS = ["planner", "engineer", "stakeholder", "admin_user"]
ENDPOINTS = ["vcenters", "clusters", "hosts", "datastores", "networks", "vms"]


def detail_urls(estate):
    return [
        f"/api/vcenters/{estate.vcenter.pk}/",
        f"/api/clusters/{estate.clusters[0].pk}/",
        f"/api/hosts/{estate.hosts[0].pk}/",
        f"/api/datastores/{estate.datastores[0].pk}/",
        f"/api/networks/{estate.networks[0].pk}/",
        f"/api/vms/{estate.vms[0].pk}/",
    ]


@pytest.mark.parametrize("persona", READERS)
def test_every_role_can_read_every_inventory_endpoint(request, client_for, persona):
    estate = make_estate(vms=3)
    client = client_for(request.getfixturevalue(persona))
    for endpoint in ENDPOINTS:
        body = client.get(f"/api/{endpoint}/").json()
        assert body["count"] >= 1, endpoint
    for url in detail_urls(estate):
        assert client.get(url).status_code == 200, url


def test_a_user_in_no_role_is_refused_the_inventory_api(client_for, outsider):
    estate = make_estate(vms=1)
    client = client_for(outsider)
    for url in [f"/api/{e}/" for e in ENDPOINTS] + detail_urls(estate):
        assert client.get(url).status_code == 403, url


def test_anonymous_callers_are_refused_the_inventory_api(client):
    estate = make_estate(vms=1)
    for url in [f"/api/{e}/" for e in ENDPOINTS] + detail_urls(estate):
        assert client.get(url).status_code in (401, 403), url


def test_the_api_is_read_only_even_for_an_admin(client_for, admin_user):
    estate = make_estate(vms=1)
    client = client_for(admin_user)
    assert client.post("/api/vms/", {"name": "x"}).status_code == 405
    assert client.delete(f"/api/vms/{estate.vms[0].pk}/").status_code == 405


def test_the_vcenter_api_never_contains_the_password(client_for, admin_user):
    with_password = make_vcenter(
        "vc-secret.example.com",
        url="vc-secret.example.com",
        username="administrator@vsphere.local",
        password="S3cret-pass!word",
    )
    make_vcenter("vc-rvtools.example.com")
    client = client_for(admin_user)
    listing = client.get("/api/vcenters/")
    detail = client.get(f"/api/vcenters/{with_password.pk}/")
    for response in (listing, detail):
        assert "S3cret" not in response.content.decode()
    for vc in listing.json()["results"] + [detail.json()]:
        assert "password" not in vc
    assert {vc["name"]: vc["has_password"] for vc in listing.json()["results"]} == {
        "vc-secret.example.com": True,
        "vc-rvtools.example.com": False,
    }
    assert detail.json()["username"] == "administrator@vsphere.local"


def test_the_vm_list_gives_summary_fields_and_the_detail_gives_devices(client_for, planner):
    estate = make_estate(vms=1)
    client = client_for(planner)
    vm = estate.vms[0]
    summary = client.get("/api/vms/").json()["results"][0]
    assert summary["name"] == vm.name and summary["cluster"] == {
        "id": vm.cluster_id,
        "name": estate.clusters[0].name,
    }
    assert summary["networks"] == [n.name for n in estate.networks[:2]]
    assert "disks" not in summary and "annotation" not in summary
    detail = client.get(f"/api/vms/{vm.pk}/").json()
    assert [d["datastore"]["name"] for d in detail["disks"]] == [s.name for s in estate.datastores[:2]]
    assert [n["network"]["name"] for n in detail["nics"]] == [n.name for n in estate.networks[:2]]
    assert detail["nics"][0]["ip_addresses"] == [vm.primary_ip]
    assert detail["cdroms"][0]["has_iso"] is True
    assert [s["name"] for s in detail["snapshots"]] == ["before-patch"]
    assert detail["tags"] == [estate.tags[0].name]
    assert detail["attributes"] == {"owner": "team-0"}


def test_a_vanished_vm_stays_readable_by_id_but_leaves_the_list(client_for, planner):
    vc = make_vcenter()
    gone = make_vm(vc, "gone", removed=timezone.now())
    make_vm(vc, "here")
    client = client_for(planner)
    assert [vm["name"] for vm in client.get("/api/vms/").json()["results"]] == ["here"]
    assert client.get(f"/api/vms/{gone.pk}/").json()["removed"] is not None


def test_ordering_and_page_two(client_for, planner):
    estate = make_estate(vms=60, devices=False)
    client = client_for(planner)
    assert len(client.get("/api/vms/", {"page_size": 7}).json()["results"]) == 7
    page2 = client.get("/api/vms/", {"page": 2}).json()
    assert page2["count"] == 60
    assert [vm["name"] for vm in page2["results"]] == [f"vm-{i:05d}" for i in range(51, 61)]
    by_cpu = client.get("/api/vms/", {"ordering": "-num_cpu,name"}).json()["results"]
    expected = sorted(estate.vms, key=lambda vm: (-vm.num_cpu, vm.name))[:50]
    assert [vm["name"] for vm in by_cpu] == [vm.name for vm in expected]


def test_clusters_sort_by_vm_count(client_for, planner):
    estate = make_estate(vms=5, clusters=3)  # VMs go round-robin: 2, 2, 1
    names = [
        c["name"]
        for c in client_for(planner).get("/api/clusters/", {"ordering": "vm_count"}).json()["results"]
    ]
    assert names[0] == estate.clusters[2].name


def list_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_api_lists_make_as_many_queries_for_60_vms_as_for_5(client_for, planner, endpoint):
    client = client_for(planner)
    make_estate(vms=5)
    few = list_queries(client, f"/api/{endpoint}/")
    make_estate(vms=55, prefix="more-")
    assert list_queries(client, f"/api/{endpoint}/") == few


def test_the_vm_detail_needs_a_bounded_number_of_queries(client_for, planner, django_assert_max_num_queries):
    estate = make_estate(vms=30, networks=6, datastores=6)
    client = client_for(planner)
    url = f"/api/vms/{estate.vms[0].pk}/"
    client.get(url)
    # session, user, two permission lookups, the VM with its joins, five prefetches
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


def test_the_same_filters_work_through_the_api(client_for, planner):
    vc = make_vcenter()
    make_vm(vc, "on-1", power_state=PowerState.ON)
    make_vm(vc, "off-1", power_state=PowerState.OFF)
    body = client_for(planner).get("/api/vms/", {"power_state": PowerState.OFF}).json()
    assert [vm["name"] for vm in body["results"]] == ["off-1"]


def test_the_schema_lists_the_inventory_paths_for_a_signed_in_user(client_for, stakeholder):
    response = client_for(stakeholder).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for endpoint in ENDPOINTS:
        assert f"/api/{endpoint}/" in paths and f"/api/{endpoint}/{{id}}/" in paths
    vcenter = response.json()["components"]["schemas"]["VCenter"]["properties"]
    assert "has_password" in vcenter and "password" not in vcenter
