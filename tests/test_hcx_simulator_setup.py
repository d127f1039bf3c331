"""The simulated AVS side (ARM) and the Connector set-up: activation keys, activation, site pairing."""

import requests

from tests.peers.hcxsim import admin_session, arm_session, hcx_login

PC = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/avs-rg/providers/Microsoft.AVS/privateClouds/avs-sim"
HCX_OFFER = "VMware MaaS Cloud Provider (Enterprise)"


def install_hcx_addon(sim, arm):
    response = arm.put(
        f"{sim.arm_url}{PC}/addons/hcx",
        timeout=10,
        json={"properties": {"addonType": "HCX", "offer": HCX_OFFER}},
    )
    assert response.status_code == 201, response.text
    sim.control.advance(1800)
    assert (
        arm.get(f"{sim.arm_url}{PC}/addons/hcx", timeout=10).json()["properties"]["provisioningState"]
        == "Succeeded"
    )


def activation_key(sim, arm, name="connector-1") -> str:
    response = arm.put(f"{sim.arm_url}{PC}/hcxEnterpriseSites/{name}", json={}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["properties"]["activationKey"]


def test_the_token_stub_only_accepts_the_configured_client(hcxsim):
    url = f"{hcxsim.arm_url}/tenant-1/oauth2/v2.0/token"
    good = {
        "grant_type": "client_credentials",
        "client_id": hcxsim.client_id,
        "client_secret": hcxsim.client_secret,
    }

    assert (
        requests.post(url, data={**good, "client_secret": "nope"}, timeout=10).json()["error"]
        == "invalid_client"
    )
    token = requests.post(url, data=good, timeout=10).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0


def test_arm_routes_need_a_bearer_token_and_an_api_version(hcxsim):
    url = f"{hcxsim.arm_url}{PC}"
    arm = arm_session(hcxsim)

    anonymous = requests.get(url, params={"api-version": "2023-09-01"}, timeout=10)
    unversioned = arm.get(url, params={"api-version": None}, timeout=10)

    assert anonymous.status_code == 401
    assert unversioned.status_code == 400
    assert unversioned.json()["error"]["code"] == "MissingApiVersionParameter"


def test_the_private_cloud_names_its_hcx_vcenter_and_nsx_endpoints(hcxsim):
    cloud = arm_session(hcxsim).get(f"{hcxsim.arm_url}{PC}", timeout=10).json()

    endpoints = cloud["properties"]["endpoints"]
    assert endpoints["hcxCloudManager"].startswith("https://")
    assert endpoints["vcsa"] and endpoints["nsxtManager"]
    assert cloud["id"] == PC


def test_an_unknown_private_cloud_is_a_404_in_the_arm_error_shape(hcxsim):
    response = arm_session(hcxsim).get(f"{hcxsim.arm_url}{PC.replace('avs-sim', 'other')}", timeout=10)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ResourceNotFound"


def test_the_hcx_addon_builds_over_time_and_rejects_an_unknown_offer(hcxsim):
    arm = arm_session(hcxsim)
    url = f"{hcxsim.arm_url}{PC}/addons/hcx"

    refused = arm.put(url, json={"properties": {"addonType": "HCX", "offer": "free"}}, timeout=10)
    created = arm.put(url, json={"properties": {"addonType": "HCX", "offer": HCX_OFFER}}, timeout=10)

    assert refused.status_code == 400 and "offer" in refused.json()["error"]["message"]
    assert created.json()["properties"]["provisioningState"] == "Building"
    hcxsim.control.advance(1800)
    assert arm.get(url, timeout=10).json()["properties"]["provisioningState"] == "Succeeded"
    assert [a["name"] for a in arm.get(f"{hcxsim.arm_url}{PC}/addons", timeout=10).json()["value"]] == ["hcx"]


def test_activation_keys_need_the_hcx_addon(hcxsim):
    response = arm_session(hcxsim).put(f"{hcxsim.arm_url}{PC}/hcxEnterpriseSites/site-a", json={}, timeout=10)

    assert response.status_code == 409
    assert "add-on" in response.json()["error"]["message"]


def test_it_activates_with_a_key_from_arm_and_then_rejects_that_key(hcxsim):
    arm, admin = arm_session(hcxsim), admin_session(hcxsim)
    install_hcx_addon(hcxsim, arm)
    key = activation_key(hcxsim, arm)
    assert (
        arm.get(f"{hcxsim.arm_url}{PC}/hcxEnterpriseSites", timeout=10).json()["value"][0]["properties"][
            "status"
        ]
        == "Available"
    )

    job = admin.post(
        f"{hcxsim.admin_url}/api/admin/licenses/activation",
        timeout=10,
        json={"url": "https://connect.hcx.vmware.com", "licenseKey": key},
    ).json()["jobId"]
    status_url = f"{hcxsim.admin_url}/api/admin/licenses/status/{job}"
    assert admin.get(status_url, timeout=10).json()["status"] == "RUNNING"
    hcxsim.control.advance(20)

    assert admin.get(status_url, timeout=10).json()["status"] == "COMPLETED"
    assert (
        admin.get(f"{hcxsim.admin_url}/api/admin/licenses", timeout=10).json()["licenses"][0]["status"]
        == "ACTIVE"
    )
    site = arm.get(f"{hcxsim.arm_url}{PC}/hcxEnterpriseSites/connector-1", timeout=10).json()
    assert site["properties"]["status"] == "Consumed"

    # Deactivated (as for a redeployed Connector), it cannot reuse the consumed key through either API.
    config_url = f"{hcxsim.admin_url}/api/admin/global/config/hcx"
    activation_uuid = admin.get(config_url, timeout=10).json()["data"]["items"][0]["config"]["UUID"]
    assert admin.delete(f"{config_url}/{activation_uuid}", timeout=10).status_code == 204
    legacy = {
        "data": {"items": [{"config": {"url": "https://connect.hcx.vmware.com", "activationKey": key}}]}
    }

    again = admin.post(config_url, json=legacy, timeout=10)
    job = admin.post(
        f"{hcxsim.admin_url}/api/admin/licenses/activation",
        timeout=10,
        json={"url": "https://connect.hcx.vmware.com", "licenseKey": key},
    ).json()["jobId"]
    hcxsim.control.advance(20)

    assert again.status_code == 400
    assert "already been used" in again.json()["errors"][0]["text"]
    failed = admin.get(f"{hcxsim.admin_url}/api/admin/licenses/status/{job}", timeout=10).json()
    assert failed["status"] == "FAILED" and "already been used" in failed["message"]
    assert admin.get(f"{hcxsim.admin_url}/api/admin/licenses", timeout=10).json()["licenses"] == []


def test_it_rejects_a_key_arm_never_issued(hcxsim):
    legacy = {
        "data": {"items": [{"config": {"url": "https://connect.hcx.vmware.com", "activationKey": "0" * 32}}]}
    }

    response = admin_session(hcxsim).post(
        f"{hcxsim.admin_url}/api/admin/global/config/hcx", json=legacy, timeout=10
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["error"] == "Invalid activation key"


def pairing_body(sim, **overrides):
    return {
        "remote": {
            "url": "https://10.0.0.9",
            "username": "cloudadmin@vsphere.local",
            "password": "CloudAdmin1!",
            **overrides,
        }
    }


def test_site_pairing_refuses_before_activation(hcxsim):
    response = hcx_login(hcxsim).post(
        f"{hcxsim.service_url}/hybridity/api/cloudConfigs", json=pairing_body(hcxsim), timeout=10
    )

    assert response.status_code == 400
    assert "not activated" in response.json()["errors"][0]["text"]


def test_site_pairing_runs_through_the_certificate_prompt_to_a_finished_job(hcxsim):
    hcxsim.control.reset("configured")
    session = hcx_login(hcxsim)
    base = f"{hcxsim.service_url}/hybridity/api"
    cloud = arm_session(hcxsim).get(f"{hcxsim.arm_url}{PC}", timeout=10).json()
    url = cloud["properties"]["endpoints"]["hcxCloudManager"]

    wrong = session.post(
        f"{base}/cloudConfigs", json=pairing_body(hcxsim, url=url, password="nope"), timeout=10
    ).json()
    assert wrong["success"] is False and wrong["errors"][0]["error"] == "Login failure"

    prompt = session.post(f"{base}/cloudConfigs", json=pairing_body(hcxsim, url=url), timeout=10).json()
    certificate = prompt["errors"][0]["data"][0]["certificate"]
    assert certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert session.post(f"{base}/admin/certificates", json={"certificate": certificate}, timeout=10).ok

    accepted = session.post(f"{base}/cloudConfigs", json=pairing_body(hcxsim, url=url), timeout=10).json()
    job_url = f"{base}/jobs/{accepted['data']['jobId']}"
    running = session.get(job_url, timeout=10).json()
    assert running["isDone"] is False and running["jobData"]["endpoint"] is None
    assert session.get(f"{base}/cloudConfigs", timeout=10).json()["data"]["items"] == []

    hcxsim.control.advance(30)
    done = session.get(job_url, timeout=10).json()
    assert done["isDone"] is True and done["didFail"] is False and done["percentComplete"] == 100
    [pairing] = session.get(f"{base}/cloudConfigs", timeout=10).json()["data"]["items"]
    assert done["jobData"]["endpoint"]["endpointId"] == pairing["endpointId"]
    assert pairing["url"] == url

    duplicate = session.post(f"{base}/cloudConfigs", json=pairing_body(hcxsim, url=url), timeout=10)
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["errors"][0]["text"]


def test_the_configured_preset_consumed_its_key_and_lists_the_vcenter_inventory(hcxsim):
    hcxsim.control.reset("configured")
    session = hcx_login(hcxsim)

    sites = arm_session(hcxsim).get(f"{hcxsim.arm_url}{PC}/hcxEnterpriseSites", timeout=10).json()["value"]
    networks = session.post(
        f"{hcxsim.service_url}/hybridity/api/service/inventory/networks",
        json={"filter": {"cloud": {}}},
        timeout=10,
    ).json()["data"]["items"]

    assert [s["properties"]["status"] for s in sites] == ["Consumed"]
    assert {"DistributedVirtualPortgroup", "Network"} <= {n["entityType"] for n in networks}
