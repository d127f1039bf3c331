"""Network profiles, compute profiles, service meshes and network extensions on the HCX simulator,
in the shapes real HCX shows (docs/hcx-wire.md §5) and, where HCX 9.x differs, in both."""

import re

import pytest

from tests.peers.hcxsim import hcx_login

LOCAL_VC_UUID = "5a1c0b8e-0c0f-4e7a-9d1e-000000000001"


TYPES = {
    "4.x": {"ix": "HCX-WAN-IX", "ne": "HCX-NET-EXT", "backing": "PHOTON"},
    "9.x": {"ix": "HCX-WAN-IX-EDGE", "ne": "HCX-NET-EXT-EDGE", "backing": "EDGE"},
}


@pytest.fixture(params=["4.x", "9.x"])
def paired(hcxsim, request):
    """A Connector paired with AVS, with network profiles and a VALID compute profile `cp-onprem`, as
    HCX 4.x and as HCX 9.x (`paired.types`: its appliance types and mesh backing)."""
    hcxsim.control.reset("paired", {"hcx_version": request.param})
    session = hcx_login(hcxsim)
    session.api = f"{hcxsim.service_url}/hybridity/api"
    session.types = TYPES[request.param]
    return session


def user_meshes(session) -> list[dict]:
    """The meshes listed, without HCX 9.x's automatic default mesh."""
    items = session.get(f"{session.api}/interconnect/serviceMesh", timeout=10).json()["items"]
    return [m for m in items if not m["name"].startswith("default-service-mesh-")]


def listed(session, path, key, wanted) -> dict:
    """The object whose `key` is `wanted`, read from its list call: no source reads one by id
    (hcx-wire.md §5). Network profiles come as an array, the others as `items`."""
    answer = session.get(f"{session.api}{path}", timeout=10).json()
    found = [o for o in (answer if isinstance(answer, list) else answer["items"]) if o.get(key) == wanted]
    assert len(found) == 1, f"{path} lists {len(found)} objects with {key} {wanted}"
    return found[0]


def network_profile(name, backing="dvportgroup-31"):
    return {
        "name": name,
        "organization": "DEFAULT",
        "mtu": 1500,
        "backings": [
            {
                "backingId": backing,
                "backingName": "Mgmt-VLAN10",
                "type": "DistributedVirtualPortgroup",
                "vCenterInstanceUuid": LOCAL_VC_UUID,
            }
        ],
        "ipScopes": [
            {
                "networkIpRanges": [{"startAddress": "10.1.1.10", "endAddress": "10.1.1.20"}],
                "gateway": "10.1.1.1",
                "prefixLength": 24,
            }
        ],
        "recommendationTags": ["management"],
    }


def endpoints(session):
    local = session.post(
        f"{session.api}/service/inventory/cloud/list", json={"filter": {"local": True}}, timeout=10
    ).json()["data"]["items"][0]
    remote = session.post(
        f"{session.api}/service/inventory/cloud/list", json={"filter": {"remote": True}}, timeout=10
    ).json()["data"]["items"][0]
    return local, remote


def mesh_body(
    session,
    name="mesh-1",
    services=("INTERCONNECT", "VMOTION", "BULK_MIGRATION", "NETWORK_EXTENSION"),
    ne_count=1,
):
    local, remote = endpoints(session)
    local_cp = session.get(
        f"{session.api}/interconnect/computeProfiles", params={"endpointId": local["endpointId"]}, timeout=10
    ).json()["items"][0]
    remote_cp = session.get(
        f"{session.api}/interconnect/computeProfiles", params={"endpointId": remote["endpointId"]}, timeout=10
    ).json()["items"][0]
    return {
        "name": name,
        "computeProfiles": [
            {
                "endpointId": local["endpointId"],
                "endpointName": local["name"],
                "computeProfileId": local_cp["computeProfileId"],
                "computeProfileName": local_cp["name"],
            },
            {
                "endpointId": remote["endpointId"],
                "endpointName": remote["name"],
                "computeProfileId": remote_cp["computeProfileId"],
                "computeProfileName": remote_cp["name"],
            },
        ],
        "wanoptConfig": {"uplinkMaxBandwidth": 10000},
        "trafficEnggCfg": {"isAppPathResiliencyEnabled": False, "isTcpFlowConditioningEnabled": False},
        "services": [{"name": s} for s in services],
        "switchPairCount": [{"switches": [], "l2cApplianceCount": ne_count}],
    }


def deployed_mesh(hcxsim, session, **kwargs):
    created = session.post(
        f"{session.api}/interconnect/serviceMesh", json=mesh_body(session, **kwargs), timeout=10
    )
    assert created.status_code == 200, created.text
    hcxsim.control.advance(1200)
    return created.json()["data"]["serviceMeshId"]


def test_it_creates_a_network_profile_through_the_admin_path_and_realizes_it_by_job(hcxsim, paired):
    created = paired.post(
        f"{hcxsim.service_url}/admin/hybridity/api/networks", json=network_profile("np-extra"), timeout=10
    ).json()
    object_id = created["data"]["objectId"]
    assert listed(paired, "/networks", "objectId", object_id)["status"]["state"] == "REALIZING"

    hcxsim.control.advance(10)

    assert paired.get(f"{paired.api}/jobs/{created['data']['jobId']}", timeout=10).json()["isDone"] is True
    assert listed(paired, "/networks", "objectId", object_id)["status"]["state"] == "REALIZED"
    assert "np-extra" in {p["name"] for p in paired.get(f"{paired.api}/networks", timeout=10).json()}


def test_it_refuses_a_duplicate_network_profile_name(hcxsim, paired):
    response = paired.post(
        f"{hcxsim.service_url}/admin/hybridity/api/networks", json=network_profile("np-uplink"), timeout=10
    )

    assert response.status_code == 400
    assert "np-uplink" in response.json()["errors"][0]["text"]


def test_it_names_the_bad_field_of_a_network_profile(hcxsim, paired):
    response = paired.post(
        f"{hcxsim.service_url}/admin/hybridity/api/networks",
        json=network_profile("np-x", backing="dvportgroup-999"),
        timeout=10,
    )

    assert response.status_code == 400
    assert "backings[0].backingId" in response.json()["errors"][0]["text"]


def test_it_creates_a_compute_profile_by_interconnect_task_and_refuses_its_name_twice(hcxsim, paired):
    existing = paired.get(f"{paired.api}/interconnect/computeProfiles", timeout=10).json()["items"][0]
    body = {
        key: existing[key] for key in ("services", "compute", "deploymentContainer", "networks", "switches")
    }

    created = paired.post(
        f"{paired.api}/interconnect/computeProfiles", json={**body, "name": "cp-2"}, timeout=10
    )
    task_url = f"{paired.api}/interconnect/tasks/{created.json()['data']['interconnectTaskId']}"
    duplicate = paired.post(
        f"{paired.api}/interconnect/computeProfiles", json={**body, "name": "cp-2"}, timeout=10
    )

    assert paired.get(task_url, timeout=10).json()["status"] == "QUEUED"
    hcxsim.control.advance(30)
    assert paired.get(task_url, timeout=10).json()["status"] == "RUNNING"
    hcxsim.control.advance(30)
    assert paired.get(task_url, timeout=10).json()["status"] == "SUCCESS"
    profile = listed(
        paired,
        "/interconnect/computeProfiles",
        "computeProfileId",
        created.json()["data"]["computeProfileId"],
    )
    assert profile["state"] == "VALID"
    assert duplicate.status_code == 400 and "cp-2" in duplicate.json()["errors"][0]["text"]


def test_a_compute_profile_needs_known_services_and_network_profiles(hcxsim, paired):
    existing = paired.get(f"{paired.api}/interconnect/computeProfiles", timeout=10).json()["items"][0]
    body = {key: existing[key] for key in ("compute", "deploymentContainer", "networks", "switches")}

    bad_service = paired.post(
        f"{paired.api}/interconnect/computeProfiles",
        timeout=10,
        json={**body, "name": "cp-3", "services": [{"name": "INTERCONNECT"}, {"name": "TELEPORT"}]},
    )
    bad_network = paired.post(
        f"{paired.api}/interconnect/computeProfiles",
        timeout=10,
        json={
            **body,
            "name": "cp-3",
            "services": [{"name": "INTERCONNECT"}],
            "networks": [{"id": "missing", "tags": ["management"]}],
        },
    )

    assert "services[1].name" in bad_service.json()["errors"][0]["text"]
    assert "networks[0].id" in bad_network.json()["errors"][0]["text"]


def test_a_service_mesh_is_built_by_its_task_and_then_committed(hcxsim, paired):
    created = paired.post(
        f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired, ne_count=2), timeout=10
    )
    mesh_id, task_id = created.json()["data"]["serviceMeshId"], created.json()["data"]["interconnectTaskId"]
    local, _ = endpoints(paired)

    def observe():
        task = paired.get(f"{paired.api}/interconnect/tasks/{task_id}", timeout=10).json()
        mesh = listed(paired, "/interconnect/serviceMesh", "serviceMeshId", mesh_id)
        appliances = paired.post(
            f"{paired.api}/interconnect/appliances/query",
            timeout=10,
            json={"filter": {"serviceMeshId": mesh_id}},
        ).json()["items"]
        return (
            task["status"],
            mesh["state"],
            mesh["lastTaskDetails"]["status"],
            {a["status"]["summary"]["overallStatus"] for a in appliances},
        )

    assert mesh_id.startswith("servicemesh-")
    assert observe() == ("QUEUED", "DEPLOYING", "RUNNING", {"DEPLOYING"})
    hcxsim.control.advance(300)
    assert observe() == ("RUNNING", "DEPLOYING", "RUNNING", {"DEPLOYING"})
    hcxsim.control.advance(400)
    assert observe() == ("RUNNING", "DEPLOYING", "RUNNING", {"CONFIGURING"})
    hcxsim.control.advance(500)
    # lastTaskDetails keeps saying RUNNING after the task ended, as on a real HCX: only the task tells.
    assert observe() == ("SUCCESS", "COMMITTED", "RUNNING", {"UP"})
    mesh = listed(paired, "/interconnect/serviceMesh", "serviceMeshId", mesh_id)
    assert (mesh["backingApplianceType"], mesh["lastTaskDetails"]["interconnectTaskId"]) == (
        paired.types["backing"],
        task_id,
    )
    appliances = paired.get(f"{paired.api}/interconnect/appliances", timeout=10).json()["items"]
    assert sorted(a["applianceType"] for a in appliances if a["endpointId"] == local["endpointId"]) == [
        paired.types["ne"],
        paired.types["ne"],
        paired.types["ix"],
    ]
    assert sorted(a["applianceName"][-2:] for a in appliances) == ["I1", "I1", "I2", "R1", "R1", "R2"]


def test_under_hcx_9_meshes_are_edge_and_need_a_migration_service_and_a_default_mesh_shows(hcxsim):
    hcxsim.control.reset("paired", {"hcx_version": "9.x"})
    session = hcx_login(hcxsim)
    session.api = f"{hcxsim.service_url}/hybridity/api"
    local, _ = endpoints(session)

    [default] = session.get(f"{session.api}/interconnect/serviceMesh", timeout=10).json()["items"]
    only_interconnect = session.post(
        f"{session.api}/interconnect/serviceMesh",
        timeout=10,
        json={**mesh_body(session, services=("INTERCONNECT",)), "backingApplianceType": "PHOTON"},
    )
    created = session.post(f"{session.api}/interconnect/serviceMesh", json=mesh_body(session), timeout=10)
    hcxsim.control.advance(1200)

    assert default["name"].startswith("default-service-mesh-") and default["state"] == "NOT_APPLICABLE"
    assert [s["name"] for s in default["services"]] == ["HCX_ASSISTED_VMOTION"]
    assert only_interconnect.status_code == 400
    assert only_interconnect.json()["errors"][0]["text"] == (
        "INTERCONNECT service with EDGE appliances requires at least one migration service"
    )
    mesh = listed(
        session, "/interconnect/serviceMesh", "serviceMeshId", created.json()["data"]["serviceMeshId"]
    )
    assert (mesh["state"], mesh["backingApplianceType"]) == ("COMMITTED", "EDGE")
    mine = session.post(
        f"{session.api}/interconnect/appliances/query",
        timeout=10,
        json={"filter": {"serviceMeshId": mesh["serviceMeshId"], "endpointId": local["endpointId"]}},
    )
    assert sorted(a["applianceType"] for a in mine.json()["items"]) == ["HCX-NET-EXT-EDGE", "HCX-WAN-IX-EDGE"]
    pairing = session.get(f"{session.api}/cloudConfigs", timeout=10).json()["data"]["items"][0]
    refused = session.delete(f"{session.api}/endpointPairing/{pairing['endpointId']}", timeout=10)
    assert refused.status_code == 400  # the set-up's mesh uses the pairing; the default mesh does not


def test_a_failed_update_leaves_the_mesh_update_failed_with_its_task_failed(hcxsim, paired):
    mesh_id = deployed_mesh(hcxsim, paired)

    hcxsim.control._call(
        "POST", f"/service-meshes/{mesh_id}/fail-update", json={"message": "Update VM networks failed"}
    )

    mesh = listed(paired, "/interconnect/serviceMesh", "serviceMeshId", mesh_id)
    task = paired.get(
        f"{paired.api}/interconnect/tasks/{mesh['lastTaskDetails']['interconnectTaskId']}", timeout=10
    ).json()
    assert (mesh["state"], mesh["lastTaskDetails"]["status"]) == ("UPDATE_FAILED", "RUNNING")
    assert (task["status"], task["errorMessage"]) == ("FAILED", "Update VM networks failed")


def test_a_service_mesh_without_compute_profiles_is_refused(hcxsim, paired):
    body = mesh_body(paired)
    refusals = [
        paired.post(
            f"{paired.api}/interconnect/serviceMesh", json={**body, "computeProfiles": profiles}, timeout=10
        )
        for profiles in ([], body["computeProfiles"][:1])
    ]

    assert [r.status_code for r in refusals] == [400, 400]
    assert all("compute profile" in r.json()["errors"][0]["text"] for r in refusals)
    assert user_meshes(paired) == []


def test_a_service_mesh_name_is_unique_and_an_unknown_mesh_is_not_listed(hcxsim, paired):
    first = paired.post(f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired), timeout=10)

    duplicate = paired.post(f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired), timeout=10)

    assert duplicate.status_code == 400 and "mesh-1" in duplicate.json()["errors"][0]["text"]
    meshes = user_meshes(paired)
    assert [(m["name"], m["serviceMeshId"]) for m in meshes] == [
        ("mesh-1", first.json()["data"]["serviceMeshId"])
    ]
    assert "nope" not in {m["serviceMeshId"] for m in meshes}


def extension_body(session, appliance_id, network_id="dvportgroup-41"):
    _, remote = endpoints(session)
    return {
        "vcGuid": LOCAL_VC_UUID,
        "gateway": "10.10.41.1",
        "netmask": "255.255.255.0",
        "dns": [],
        "destination": {
            "endpointId": remote["endpointId"],
            "endpointName": remote["name"],
            "endpointType": "hcx",
            "resourceId": "vc-avs",
            "resourceName": "vcsa-avs",
            "resourceType": "VC",
        },
        "destinationNetwork": {"gatewayId": "TNT-T1"},
        "features": {"egressOptimization": False, "mobilityOptimizedNetworking": False},
        "sourceAppliance": {"applianceId": appliance_id},
        "sourceNetwork": {
            "networkId": network_id,
            "networkName": "x",
            "networkType": "DistributedVirtualPortgroup",
        },
    }


def ne_appliance(session, mesh_id, *, side="local"):
    local, remote = endpoints(session)
    endpoint = (local if side == "local" else remote)["endpointId"]
    return session.post(
        f"{session.api}/interconnect/appliances/query",
        timeout=10,
        json={
            "filter": {"applianceType": session.types["ne"], "serviceMeshId": mesh_id, "endpointId": endpoint}
        },
    ).json()["items"][0]


def test_it_extends_a_distributed_port_group_by_job(hcxsim, paired):
    appliance = ne_appliance(paired, deployed_mesh(hcxsim, paired))

    job_id = paired.post(
        f"{paired.api}/l2Extensions", json=extension_body(paired, appliance["applianceId"]), timeout=10
    ).json()["id"]
    hcxsim.control.advance(300)

    assert paired.get(f"{paired.api}/jobs/{job_id}", timeout=10).json()["isDone"] is True
    [extension] = paired.get(f"{paired.api}/l2Extensions", timeout=10).json()["items"]
    assert extension["operationStatus"]["state"] == "EXTENDED"
    assert extension["sourceNetwork"]["networkName"] == "App-VLAN101"
    assert ne_appliance(paired, appliance["serviceMeshId"])["networkExtensionCount"] == 1


def test_an_extension_starts_from_an_appliance_of_this_site_only(hcxsim, paired):
    remote_appliance = ne_appliance(paired, deployed_mesh(hcxsim, paired), side="remote")

    response = paired.post(
        f"{paired.api}/l2Extensions", timeout=10, json=extension_body(paired, remote_appliance["applianceId"])
    )

    assert response.status_code == 400
    assert "not to this site: extend from a local appliance" in response.json()["errors"][0]["text"]


@pytest.mark.parametrize(
    "states, running, done",
    [
        ("EXTENDING/EXTENDED", "EXTENDING", "EXTENDED"),
        ("IN_PROGRESS/SUCCESS", "IN_PROGRESS", "SUCCESS"),
        ("none", None, None),
    ],
)
def test_the_extension_states_follow_the_variant(hcxsim, paired, states, running, done):
    hcxsim.control.set_variants(l2_extension_states=states)
    appliance = ne_appliance(paired, deployed_mesh(hcxsim, paired))

    paired.post(
        f"{paired.api}/l2Extensions", json=extension_body(paired, appliance["applianceId"]), timeout=10
    )
    [during] = paired.get(f"{paired.api}/l2Extensions", timeout=10).json()["items"]
    hcxsim.control.advance(300)
    [after] = paired.get(f"{paired.api}/l2Extensions", timeout=10).json()["items"]

    assert (during["operationStatus"].get("state"), after["operationStatus"].get("state")) == (running, done)


def test_it_refuses_to_extend_a_network_on_a_standard_vswitch(hcxsim, paired):
    appliance = ne_appliance(paired, deployed_mesh(hcxsim, paired))

    response = paired.post(
        f"{paired.api}/l2Extensions",
        timeout=10,
        json=extension_body(paired, appliance["applianceId"], network_id="network-61"),
    )

    assert response.status_code == 400
    assert "Standard Switch" in response.json()["errors"][0]["text"]
    assert paired.get(f"{paired.api}/l2Extensions", timeout=10).json()["items"] == []


def test_one_ne_appliance_carries_at_most_eight_networks(hcxsim, paired):
    appliance_id = ne_appliance(paired, deployed_mesh(hcxsim, paired))["applianceId"]

    answers = [
        paired.post(
            f"{paired.api}/l2Extensions",
            json=extension_body(paired, appliance_id, f"dvportgroup-{40 + i}"),
            timeout=10,
        )
        for i in range(1, 10)
    ]

    assert [r.status_code for r in answers] == [200] * 8 + [400]
    assert "8 networks" in answers[-1].json()["errors"][0]["text"]


def test_an_extension_waits_for_the_mesh_to_be_deployed(hcxsim, paired):
    created = paired.post(f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired), timeout=10).json()

    response = paired.post(
        f"{paired.api}/l2Extensions",
        timeout=10,
        json=extension_body(paired, ne_appliance(paired, created["data"]["serviceMeshId"])["applianceId"]),
    )

    assert response.status_code == 400
    assert "not deployed" in response.json()["errors"][0]["text"]


def test_ids_look_like_real_hcx_ones(hcxsim, paired):
    local, remote = endpoints(paired)
    profiles = paired.get(f"{paired.api}/networks", timeout=10).json()

    assert all(re.fullmatch(r"\d{17}-[0-9a-f-]{36}", e["endpointId"]) for e in (local, remote))
    assert all(re.fullmatch(r"network-[0-9a-f-]{36}", p["objectId"]) for p in profiles)
