"""The waves API: the pages' rules with the same role checks; a change to an old revision answers 409."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from hcx.choices import MigrationType
from migrations_app.choices import MappingTarget, WaveStatus
from migrations_app.models import NetworkMapping, TargetCluster, Wave, WaveItem
from migrations_app.waves.planfile import plan_rows, write_csv
from tests.factories import (
    make_estate,
    make_group,
    make_link_site,
    make_network,
    make_target_cluster,
    make_vcenter,
    make_vm,
    make_wave,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client_for):
    """`api(user)`: the test client, signed in as `user` (one client: signing in another user replaces the first)."""
    return client_for


def test_a_planner_creates_a_target_cluster_and_reads_its_capacity(api, planner, stakeholder):
    site = make_link_site("Utrecht")
    response = api(planner).post(
        "/api/target-clusters/",
        {"site": site.pk, "name": "Cluster-1", "sku": "AV36P", "hosts": 4, "failures_to_tolerate": 1},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["capacity"]["vcpus"] == 432 and body["capacity"]["workload_hosts"] == 3
    assert body["capacity"]["storage_tb"] == pytest.approx(26.19, abs=0.01)
    cluster_id = body["id"]
    assert api(stakeholder).get(f"/api/target-clusters/{cluster_id}/capacity/").json()["memory_gb"] == 2304
    response = api(planner).post(
        "/api/target-clusters/",
        {"site": site.pk, "name": "C2", "hosts": 4, "failures_to_tolerate": 2},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["failures_to_tolerate"] == [
        "RAID-1 with FTT=2 needs at least 5 hosts; this cluster has 4."
    ]


def test_a_target_cluster_with_waves_is_not_deleted(api, planner):
    cluster = make_target_cluster()
    make_wave("W1", target_cluster=cluster)
    response = api(planner).delete(f"/api/target-clusters/{cluster.pk}/")
    assert response.status_code == 409 and response.json()["items"] == ["W1"]
    assert response.json()["detail"] == "Cluster-1 is the target of waves; point them elsewhere first:"
    assert TargetCluster.objects.filter(pk=cluster.pk).exists()


def test_a_planner_creates_and_changes_a_wave_with_its_revision(api, planner):
    cluster = make_target_cluster()
    client = api(planner)
    response = client.post(
        "/api/waves/",
        {
            "name": "Wave 1",
            "window_start": "2025-06-01T20:00:00+02:00",
            "window_end": "2025-06-02T02:00:00+02:00",
            "time_zone": "Europe/Amsterdam",
            "target_cluster": cluster.pk,
            "migration_type": "bulk",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    wave = response.json()
    assert wave["revision"] == 1 and wave["status"] == "draft" and wave["site"] == cluster.site_id
    url = f"/api/waves/{wave['id']}/"
    response = client.patch(url, {"notes": "no revision"}, content_type="application/json")
    assert response.status_code == 400 and "revision" in response.json()
    response = client.patch(url, {"notes": "first", "revision": 1}, content_type="application/json")
    assert response.status_code == 200 and response.json()["revision"] == 2
    response = client.patch(url, {"notes": "stale", "revision": 1}, content_type="application/json")
    assert response.status_code == 409
    assert "it is now at revision 2" in response.json()["detail"]
    assert Wave.objects.get(pk=wave["id"]).notes == "first"


@pytest.mark.parametrize(
    "body,field,message",
    [
        (
            {"window_start": "2025-06-01T20:00:00Z", "window_end": "2025-06-01T19:00:00Z"},
            "window_end",
            "The change window must end after it starts.",
        ),
        ({"window_start": "2025-06-01T20:00:00Z"}, "window_end", "Give both the start and the end"),
        ({"time_zone": "Nowhere/Land"}, "time_zone", "'Nowhere/Land' is not a time zone name"),
    ],
)
def test_bad_wave_input_through_the_api_is_refused(api, planner, body, field, message):
    response = api(planner).post("/api/waves/", {"name": "W", **body}, content_type="application/json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Wave.objects.exists()


def test_a_patch_to_an_approved_wave_sends_it_back_to_draft(api, planner):
    wave = make_wave("W1", status=WaveStatus.APPROVED)
    response = api(planner).patch(
        f"/api/waves/{wave.pk}/", {"sequence": 3, "revision": 1}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "draft" and response.json()["revision"] == 2
    assert AuditEntry.objects.filter(action="wave.withdraw_approval", object_id=wave.pk).exists()


def test_a_running_wave_answers_409_and_a_submitted_one_is_not_deleted(api, planner):
    running = make_wave("R", status=WaveStatus.RUNNING)
    response = api(planner).patch(
        f"/api/waves/{running.pk}/", {"notes": "x", "revision": 1}, content_type="application/json"
    )
    assert response.status_code == 409 and "cannot be changed" in response.json()["detail"]
    submitted = make_wave("S", status=WaveStatus.SUBMITTED)
    response = api(planner).delete(f"/api/waves/{submitted.pk}/")
    assert (
        response.status_code == 400
        and "only draft or rejected waves can be deleted" in response.json()["detail"]
    )
    draft = make_wave("D")
    assert api(planner).delete(f"/api/waves/{draft.pk}/").status_code == 204


def test_vms_and_groups_are_added_removed_and_retyped(api, planner):
    estate = make_estate(vms=6, devices=False)
    group = make_group("billing", estate.vms[:3])
    wave = make_wave("W1")
    other = make_wave("W2", estate.vms[5:])
    client = api(planner)
    url = f"/api/waves/{wave.pk}/"
    response = client.post(url + "add-groups/", {"groups": [group.pk]}, content_type="application/json")
    assert response.json() == {
        "count": 3,
        "revision": 2,
        "status": "draft",
        "approval_withdrawn": False,
        "message": "",
    }
    response = client.post(
        url + "add-vms/",
        {"vms": [estate.vms[3].pk], "migration_type": "cold"},
        content_type="application/json",
    )
    assert response.json()["count"] == 1 and WaveItem.objects.get(vm=estate.vms[3]).migration_type == "cold"
    response = client.post(url + "add-vms/", {"vms": [estate.vms[5].pk]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["items"] == [
        f"{estate.vms[5].name} (in {other.name})"
    ]
    response = client.post(
        url + "migration-type/",
        {"vms": [estate.vms[0].pk], "migration_type": "vmotion"},
        content_type="application/json",
    )
    assert response.json()["count"] == 1
    response = client.post(url + "remove/", {"groups": [group.pk]}, content_type="application/json")
    assert response.json()["count"] == 3 and list(
        WaveItem.objects.filter(wave=wave).values_list("vm", flat=True)
    ) == [estate.vms[3].pk]
    assert client.post(url + "remove/", {}, content_type="application/json").status_code == 400


def test_wave_items_endpoint_adds_retypes_and_removes_one_vm(api, planner, stakeholder):
    vc = make_vcenter()
    vm = make_vm(vc, "app")
    wave = make_wave("W1", migration_type=MigrationType.BULK)
    client = api(planner)
    response = client.post(
        "/api/wave-items/", {"wave": wave.pk, "vm": vm.pk}, content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    item = response.json()
    assert item["effective_migration_type"] == "bulk" and item["vm_name"] == "app"
    response = client.patch(
        f"/api/wave-items/{item['id']}/", {"migration_type": "rav"}, content_type="application/json"
    )
    assert response.json()["effective_migration_type"] == "rav"
    other = make_wave("W2")
    response = client.post(
        "/api/wave-items/", {"wave": other.pk, "vm": vm.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["items"] == ["app (in W1)"]
    assert api(stakeholder).get("/api/wave-items/", {"wave_id": wave.pk}).json()["count"] == 1
    assert api(stakeholder).delete(f"/api/wave-items/{item['id']}/").status_code == 403
    assert api(planner).delete(f"/api/wave-items/{item['id']}/").status_code == 204
    assert Wave.objects.get(pk=wave.pk).revision == 4


def test_network_mappings_through_the_api(api, planner):
    vc = make_vcenter()
    net = make_network(vc, "Web-VLAN-30", vlan_id=30)
    wave = make_wave("W1", [make_vm(vc, "web", nics=[net])])
    client = api(planner)
    response = client.post(
        "/api/network-mappings/",
        {"wave": wave.pk, "source": net.pk, "target_kind": "segment", "target_name": "seg-web"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    mapping_id = response.json()["id"]
    response = client.patch(
        f"/api/network-mappings/{mapping_id}/", {"target_name": "seg-web-2"}, content_type="application/json"
    )
    assert response.json()["target_name"] == "seg-web-2"
    networks = client.get(f"/api/waves/{wave.pk}/networks/").json()
    assert (
        networks[0]["name"] == "Web-VLAN-30"
        and networks[0]["mapped"]
        and networks[0]["target_kind"] == MappingTarget.SEGMENT
    )
    assert client.delete(f"/api/network-mappings/{mapping_id}/").status_code == 204
    assert not NetworkMapping.objects.exists() and Wave.objects.get(pk=wave.pk).revision == 4


def test_totals_and_capacity_endpoints(api, stakeholder):
    estate = make_estate(vms=10, devices=False)
    cluster = make_target_cluster(sku="AV36", hosts=3)
    wave = make_wave("W1", estate.vms, target_cluster=cluster, max_vms=5)
    client = api(stakeholder)
    totals = client.get(f"/api/waves/{wave.pk}/totals/").json()
    assert (
        totals["vms"] == 10 and totals["vcpus"] == 39 and totals["over_caps"] == ["10 VMs, over the cap of 5"]
    )
    fit = client.get(f"/api/waves/{wave.pk}/capacity/").json()
    assert fit["fits"] is True and fit["resources"][0]["usable"] == 288 and fit["resources"][0]["wave"] == 39
    listed = client.get("/api/waves/").json()["results"][0]
    assert listed["vm_count"] == 10


@pytest.mark.parametrize(
    "method,url",
    [
        ("post", "/api/waves/"),
        ("patch", "/api/waves/{wave}/"),
        ("delete", "/api/waves/{wave}/"),
        ("post", "/api/waves/{wave}/add-vms/"),
        ("post", "/api/waves/{wave}/remove/"),
        ("post", "/api/waves/{wave}/migration-type/"),
        ("post", "/api/target-clusters/"),
        ("post", "/api/network-mappings/"),
        ("post", "/api/waves/plan-import/"),
    ],
)
def test_engineers_and_stakeholders_cannot_change_anything(api, engineer, stakeholder, method, url):
    wave = make_wave("W1")
    for user in (engineer, stakeholder):
        response = getattr(api(user), method)(url.format(wave=wave.pk), {}, content_type="application/json")
        assert response.status_code == 403, (user, url)


@pytest.mark.parametrize(
    "url",
    [
        "/api/waves/",
        "/api/target-clusters/",
        "/api/wave-items/",
        "/api/network-mappings/",
        "/api/waves/{wave}/",
        "/api/waves/{wave}/totals/",
        "/api/waves/{wave}/capacity/",
        "/api/waves/{wave}/networks/",
        "/api/waves/plan-export/",
    ],
)
def test_reading_needs_a_role(api, engineer, outsider, url):
    wave = make_wave("W1")
    url = url.format(wave=wave.pk)
    assert api(engineer).get(url).status_code == 200
    assert api(outsider).get(url).status_code == 403


def test_the_plan_round_trips_through_the_api(api, planner):
    estate = make_estate(vms=4, devices=False)
    make_group("g", estate.vms[:2])
    make_wave("W1", estate.vms[:2])
    make_wave("W2")
    client = api(planner)
    data = client.get("/api/waves/plan-export/", {"file": "csv"}).content
    assert data == write_csv(plan_rows())
    response = client.post("/api/waves/plan-import/", {"file": SimpleUploadedFile("p.csv", data)})
    assert response.status_code == 200 and response.json()["unchanged"] == 2 and response.json()["added"] == 0
    edited = data.replace(b",W1,", b",W2,")
    response = client.post(
        "/api/waves/plan-import/", {"file": SimpleUploadedFile("p.csv", edited), "check_only": "true"}
    )
    assert response.json()["moved"] == 2 and response.json()["applied"] is False
    response = client.post(
        "/api/waves/plan-import/", {"file": SimpleUploadedFile("p.csv", edited.replace(b"W2", b"W9"))}
    )
    assert response.status_code == 400
    assert response.json()["problems"][0] == {
        "row": 2,
        "column": "Wave",
        "message": response.json()["problems"][0]["message"],
    }
    assert "no wave named 'W9'" in response.json()["problems"][0]["message"]
    assert set(WaveItem.objects.values_list("wave__name", flat=True)) == {"W1"}


def count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url", ["/api/waves/", "/api/wave-items/", "/api/target-clusters/", "/api/network-mappings/"]
)
def test_lists_make_as_many_queries_for_many_rows_as_for_few(api, planner, url):
    client = api(planner)

    def add(prefix, n):
        estate = make_estate(vms=n, devices=False, prefix=prefix)
        cluster = make_target_cluster(name=f"{prefix}cl")
        make_group(f"{prefix}g", estate.vms[:2])
        wave = make_wave(f"{prefix}w", estate.vms, target_cluster=cluster)
        NetworkMapping.objects.create(wave=wave, source=estate.networks[0], target_name="x")

    add("a-", 3)
    few = count(client, url)
    for n in range(6):
        add(f"b{n}-", 8)
    assert count(client, url) == few


def test_the_schema_describes_the_wave_endpoints(api, stakeholder):
    response = api(stakeholder).get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    for path in (
        "/api/waves/",
        "/api/waves/{id}/add-groups/",
        "/api/waves/{id}/capacity/",
        "/api/waves/plan-import/",
        "/api/target-clusters/",
        "/api/wave-items/",
        "/api/network-mappings/",
    ):
        assert path in paths
