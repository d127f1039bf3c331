"""Network profiles, compute profiles, service meshes and network extensions on the HCX simulator."""

import pytest

from tests.peers.hcxsim import hcx_login

LOCAL_VC_UUID = "5a1c0b8e-0c0f-4e7a-9d1e-000000000001"


@pytest.fixture
def paired(hcxsim):
    """A Connector paired with AVS, with network profiles and a realized compute profile `cp-onprem`."""
    hcxsim.control.reset("paired")
    session = hcx_login(hcxsim)
    session.api = f"{hcxsim.service_url}/hybridity/api"
    return session


def network_profile(name, backing="dvportgroup-31"):
    return {"name": name, "organization": "DEFAULT", "mtu": 1500,
            "backings": [{"backingId": backing, "backingName": "Mgmt-VLAN10", "type": "DistributedVirtualPortgroup",
                          "vCenterInstanceUuid": LOCAL_VC_UUID}],
            "ipScopes": [{"networkIpRanges": [{"startAddress": "10.1.1.10", "endAddress": "10.1.1.20"}],
                          "gateway": "10.1.1.1", "prefixLength": 24}],
            "recommendationTags": ["management"]}


def endpoints(session):
    local = session.post(f"{session.api}/service/inventory/cloud/list", json={"filter": {"local": True}},
                         timeout=10).json()["data"]["items"][0]
    remote = session.post(f"{session.api}/service/inventory/cloud/list", json={"filter": {"remote": True}},
                          timeout=10).json()["data"]["items"][0]
    return local, remote


def mesh_body(session, name="mesh-1", services=("INTERCONNECT", "VMOTION", "BULK_MIGRATION", "NETWORK_EXTENSION"),
              ne_count=1):
    local, remote = endpoints(session)
    local_cp = session.get(f"{session.api}/interconnect/computeProfiles", params={"endpointId": local["endpointId"]},
                           timeout=10).json()["items"][0]
    remote_cp = session.get(f"{session.api}/interconnect/computeProfiles", params={"endpointId": remote["endpointId"]},
                            timeout=10).json()["items"][0]
    return {"name": name,
            "computeProfiles": [
                {"endpointId": local["endpointId"], "endpointName": local["name"],
                 "computeProfileId": local_cp["computeProfileId"], "computeProfileName": local_cp["name"]},
                {"endpointId": remote["endpointId"], "endpointName": remote["name"],
                 "computeProfileId": remote_cp["computeProfileId"], "computeProfileName": remote_cp["name"]}],
            "wanoptConfig": {"uplinkMaxBandwidth": 10000},
            "trafficEnggCfg": {"isAppPathResiliencyEnabled": False, "isTcpFlowConditioningEnabled": False},
            "services": [{"name": s} for s in services],
            "switchPairCount": [{"switches": [], "l2cApplianceCount": ne_count}]}


def deployed_mesh(hcxsim, session, **kwargs):
    created = session.post(f"{session.api}/interconnect/serviceMesh", json=mesh_body(session, **kwargs), timeout=10)
    assert created.status_code == 200, created.text
    hcxsim.control.advance(1200)
    return created.json()["data"]["serviceMeshId"]


def test_it_creates_a_network_profile_through_the_admin_path_and_realizes_it_by_job(hcxsim, paired):
    created = paired.post(f"{hcxsim.service_url}/admin/hybridity/api/networks", json=network_profile("np-extra"),
                          timeout=10).json()
    object_id = created["data"]["objectId"]
    assert paired.get(f"{paired.api}/networks/{object_id}", timeout=10).json()["status"]["state"] == "REALIZING"

    hcxsim.control.advance(10)

    assert paired.get(f"{paired.api}/jobs/{created['data']['jobId']}", timeout=10).json()["isDone"] is True
    assert paired.get(f"{paired.api}/networks/{object_id}", timeout=10).json()["status"]["state"] == "REALIZED"
    assert "np-extra" in {p["name"] for p in paired.get(f"{paired.api}/networks", timeout=10).json()}


def test_it_refuses_a_duplicate_network_profile_name(hcxsim, paired):
    response = paired.post(f"{hcxsim.service_url}/admin/hybridity/api/networks", json=network_profile("np-uplink"),
                           timeout=10)

    assert response.status_code == 400
    assert "np-uplink" in response.json()["errors"][0]["text"]


def test_it_names_the_bad_field_of_a_network_profile(hcxsim, paired):
    response = paired.post(f"{hcxsim.service_url}/admin/hybridity/api/networks",
                           json=network_profile("np-x", backing="dvportgroup-999"), timeout=10)

    assert response.status_code == 400
    assert "backings[0].backingId" in response.json()["errors"][0]["text"]


def test_it_creates_a_compute_profile_by_interconnect_task_and_refuses_its_name_twice(hcxsim, paired):
    existing = paired.get(f"{paired.api}/interconnect/computeProfiles", timeout=10).json()["items"][0]
    body = {key: existing[key] for key in ("services", "compute", "deploymentContainer", "networks", "switches")}

    created = paired.post(f"{paired.api}/interconnect/computeProfiles", json={**body, "name": "cp-2"}, timeout=10)
    task_url = f"{paired.api}/interconnect/tasks/{created.json()['data']['interconnectTaskId']}"
    duplicate = paired.post(f"{paired.api}/interconnect/computeProfiles", json={**body, "name": "cp-2"}, timeout=10)

    assert paired.get(task_url, timeout=10).json()["status"] == "QUEUED"
    hcxsim.control.advance(30)
    assert paired.get(task_url, timeout=10).json()["status"] == "RUNNING"
    hcxsim.control.advance(30)
    assert paired.get(task_url, timeout=10).json()["status"] == "SUCCESS"
    profile = paired.get(f"{paired.api}/interconnect/computeProfiles/{created.json()['data']['computeProfileId']}",
                         timeout=10).json()
    assert profile["state"] == "REALIZED"
    assert duplicate.status_code == 400 and "cp-2" in duplicate.json()["errors"][0]["text"]


def test_a_compute_profile_needs_known_services_and_network_profiles(hcxsim, paired):
    existing = paired.get(f"{paired.api}/interconnect/computeProfiles", timeout=10).json()["items"][0]
    body = {key: existing[key] for key in ("compute", "deploymentContainer", "networks", "switches")}

    bad_service = paired.post(f"{paired.api}/interconnect/computeProfiles", timeout=10,
                              json={**body, "name": "cp-3", "services": [{"name": "INTERCONNECT"}, {"name": "TELEPORT"}]})
    bad_network = paired.post(f"{paired.api}/interconnect/computeProfiles", timeout=10,
                              json={**body, "name": "cp-3", "services": [{"name": "INTERCONNECT"}],
                                    "networks": [{"id": "missing", "tags": ["management"]}]})

    assert "services[1].name" in bad_service.json()["errors"][0]["text"]
    assert "networks[0].id" in bad_network.json()["errors"][0]["text"]


def test_a_service_mesh_deploys_through_its_states_over_simulated_time(hcxsim, paired):
    created = paired.post(f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired, ne_count=2), timeout=10)
    mesh_id, task_id = created.json()["data"]["serviceMeshId"], created.json()["data"]["interconnectTaskId"]

    def observe():
        task = paired.get(f"{paired.api}/interconnect/tasks/{task_id}", timeout=10).json()
        mesh = paired.get(f"{paired.api}/interconnect/serviceMesh/{mesh_id}", timeout=10).json()
        appliances = paired.post(f"{paired.api}/interconnect/appliances/query", timeout=10,
                                 json={"filter": {"serviceMeshId": mesh_id}}).json()["items"]
        return task["status"], mesh["state"], {a["status"]["summary"]["overallStatus"] for a in appliances}

    assert observe() == ("QUEUED", "DEPLOYING", {"DEPLOYING"})
    hcxsim.control.advance(300)
    assert observe() == ("RUNNING", "DEPLOYING", {"DEPLOYING"})
    hcxsim.control.advance(400)
    assert observe() == ("RUNNING", "DEPLOYING", {"CONFIGURING"})
    hcxsim.control.advance(500)
    assert observe() == ("SUCCESS", "DEPLOYED", {"UP"})
    types = [a["applianceType"] for a in paired.get(f"{paired.api}/interconnect/appliances", timeout=10).json()["items"]]
    assert sorted(types) == ["HCX-NET-EXT", "HCX-NET-EXT", "HCX-WAN-IX"]


def test_a_service_mesh_without_compute_profiles_is_refused(hcxsim, paired):
    body = mesh_body(paired)
    refusals = [paired.post(f"{paired.api}/interconnect/serviceMesh", json={**body, "computeProfiles": profiles},
                            timeout=10) for profiles in ([], body["computeProfiles"][:1])]

    assert [r.status_code for r in refusals] == [400, 400]
    assert all("compute profile" in r.json()["errors"][0]["text"] for r in refusals)
    assert paired.get(f"{paired.api}/interconnect/serviceMesh", timeout=10).json()["items"] == []


def test_a_service_mesh_name_is_unique_and_an_unknown_mesh_is_404(hcxsim, paired):
    paired.post(f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired), timeout=10)

    duplicate = paired.post(f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired), timeout=10)
    missing = paired.get(f"{paired.api}/interconnect/serviceMesh/nope", timeout=10)

    assert duplicate.status_code == 400 and "mesh-1" in duplicate.json()["errors"][0]["text"]
    assert missing.status_code == 404 and missing.json()["errors"][0]["error"] == "Not Found"


def extension_body(session, appliance_id, network_id="dvportgroup-41"):
    _, remote = endpoints(session)
    return {"vcGuid": LOCAL_VC_UUID, "gateway": "10.10.41.1", "netmask": "255.255.255.0", "dns": [],
            "destination": {"endpointId": remote["endpointId"], "endpointName": remote["name"], "endpointType": "hcx",
                            "resourceId": "vc-avs", "resourceName": "vcsa-avs", "resourceType": "VC"},
            "destinationNetwork": {"gatewayId": "TNT-T1"},
            "features": {"egressOptimization": False, "mobilityOptimizedNetworking": False},
            "sourceAppliance": {"applianceId": appliance_id},
            "sourceNetwork": {"networkId": network_id, "networkName": "x", "networkType": "DistributedVirtualPortgroup"}}


def ne_appliance(session, mesh_id):
    return session.post(f"{session.api}/interconnect/appliances/query", timeout=10,
                        json={"filter": {"applianceType": "HCX-NET-EXT", "serviceMeshId": mesh_id}}).json()["items"][0]


def test_it_extends_a_distributed_port_group_by_job(hcxsim, paired):
    appliance = ne_appliance(paired, deployed_mesh(hcxsim, paired))

    job_id = paired.post(f"{paired.api}/l2Extensions", json=extension_body(paired, appliance["applianceId"]),
                         timeout=10).json()["id"]
    hcxsim.control.advance(300)

    assert paired.get(f"{paired.api}/jobs/{job_id}", timeout=10).json()["isDone"] is True
    [extension] = paired.get(f"{paired.api}/l2Extensions", timeout=10).json()["items"]
    assert extension["operationStatus"]["state"] == "EXTENDED"
    assert extension["sourceNetwork"]["networkName"] == "App-VLAN101"
    assert ne_appliance(paired, appliance["serviceMeshId"])["networkExtensionCount"] == 1


def test_it_refuses_to_extend_a_network_on_a_standard_vswitch(hcxsim, paired):
    appliance = ne_appliance(paired, deployed_mesh(hcxsim, paired))

    response = paired.post(f"{paired.api}/l2Extensions", timeout=10,
                           json=extension_body(paired, appliance["applianceId"], network_id="network-61"))

    assert response.status_code == 400
    assert "Standard Switch" in response.json()["errors"][0]["text"]
    assert paired.get(f"{paired.api}/l2Extensions", timeout=10).json()["items"] == []


def test_one_ne_appliance_carries_at_most_eight_networks(hcxsim, paired):
    appliance_id = ne_appliance(paired, deployed_mesh(hcxsim, paired))["applianceId"]

    answers = [paired.post(f"{paired.api}/l2Extensions", json=extension_body(paired, appliance_id, f"dvportgroup-{40 + i}"),
                           timeout=10) for i in range(1, 10)]

    assert [r.status_code for r in answers] == [200] * 8 + [400]
    assert "8 networks" in answers[-1].json()["errors"][0]["text"]


def test_an_extension_waits_for_the_mesh_to_be_deployed(hcxsim, paired):
    created = paired.post(f"{paired.api}/interconnect/serviceMesh", json=mesh_body(paired), timeout=10).json()

    response = paired.post(f"{paired.api}/l2Extensions", timeout=10,
                           json=extension_body(paired, ne_appliance(paired, created["data"]["serviceMeshId"])["applianceId"]))

    assert response.status_code == 400
    assert "not deployed" in response.json()["errors"][0]["text"]
