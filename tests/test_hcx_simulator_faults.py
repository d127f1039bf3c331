"""Faults a test switches on in the HCX simulator, and its clock and TLS options."""

import pytest
import requests

from tests.peers.hcxsim import hcx_login, start_simulator
from tests.peers.worker import wait_for


def test_an_error_fault_answers_5xx_the_given_number_of_times_then_stops(hcxsim):
    session = hcx_login(hcxsim)
    url = f"{hcxsim.service_url}/hybridity/api/cloudConfigs"
    hcxsim.control.fault("error", path=r"/cloudConfigs$", status=503, times=2)

    statuses = [session.get(url, timeout=10).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


def test_an_error_fault_can_be_limited_to_a_method_and_a_port_and_carry_a_body(hcxsim):
    session = hcx_login(hcxsim)
    xml = "<error><message>'Trusted root certificates' value should not be empty</message></error>"
    hcxsim.control.fault(
        "error",
        path="/sessions",
        method="POST",
        port="service",
        status=500,
        body=xml,
        content_type="application/xml",
    )

    response = requests.post(
        f"{hcxsim.service_url}/hybridity/api/sessions",
        timeout=10,
        json={"username": hcxsim.username, "password": hcxsim.password},
    )

    assert response.status_code == 500 and "Trusted root certificates" in response.text
    assert session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10).status_code == 200
    assert (
        requests.get(
            f"{hcxsim.admin_url}/components/web/status", auth=("admin", hcxsim.password), timeout=10
        ).status_code
        == 200
    )


def test_a_delay_fault_makes_a_client_time_out(hcxsim):
    session = hcx_login(hcxsim)
    hcxsim.control.fault("delay", path="/cloudConfigs", seconds=2, times=1)

    with pytest.raises(requests.Timeout):
        session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=0.5)
    assert session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10).status_code == 200


def test_a_drop_fault_closes_the_connection_without_an_answer(hcxsim):
    session = hcx_login(hcxsim)
    hcxsim.control.fault("drop", path="/cloudConfigs", times=1)

    with pytest.raises(requests.ConnectionError):
        session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10)
    assert session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10).status_code == 200


def test_expiring_sessions_invalidates_every_token_but_a_new_login_works(hcxsim):
    first, second = hcx_login(hcxsim), hcx_login(hcxsim)
    hcxsim.control.fault("expire_sessions")
    url = f"{hcxsim.service_url}/hybridity/api/cloudConfigs"

    assert [first.get(url, timeout=10).status_code, second.get(url, timeout=10).status_code] == [401, 401]
    assert hcx_login(hcxsim).get(url, timeout=10).status_code == 200


def test_a_job_fault_fails_the_next_site_pairing_and_leaves_nothing_behind(hcxsim):
    hcxsim.control.reset("configured")
    hcxsim.control.fault("job_fail", operation="sitePairing", message="Remote HCX unreachable", times=1)
    session = hcx_login(hcxsim)
    base = f"{hcxsim.service_url}/hybridity/api"
    body = {
        "remote": {
            "url": "https://10.0.0.9",
            "username": "cloudadmin@vsphere.local",
            "password": "CloudAdmin1!",
        }
    }
    prompt = session.post(f"{base}/cloudConfigs", json=body, timeout=10).json()
    session.post(
        f"{base}/admin/certificates",
        json={"certificate": prompt["errors"][0]["data"][0]["certificate"]},
        timeout=10,
    )

    job_id = session.post(f"{base}/cloudConfigs", json=body, timeout=10).json()["data"]["jobId"]
    hcxsim.control.advance(30)

    job = session.get(f"{base}/jobs/{job_id}", timeout=10).json()
    assert job["isDone"] and job["didFail"] and job["errorMessage"] == "Remote HCX unreachable"
    assert session.get(f"{base}/cloudConfigs", timeout=10).json()["data"]["items"] == []


def test_a_task_fault_fails_the_service_mesh_deployment(hcxsim):
    hcxsim.control.reset("paired")
    hcxsim.control.fault("job_fail", operation="serviceMesh", message="IX appliance deployment failed")
    session = hcx_login(hcxsim)
    base = f"{hcxsim.service_url}/hybridity/api"
    local, remote = (
        session.get(f"{base}/interconnect/computeProfiles", timeout=10).json()["items"][i] for i in (0, 1)
    )
    body = {
        "name": "mesh-f",
        "services": [{"name": "INTERCONNECT"}, {"name": "VMOTION"}],  # 9.x needs a migration service
        "computeProfiles": [
            {"endpointId": cp["endpointId"], "computeProfileId": cp["computeProfileId"]}
            for cp in (local, remote)
        ],
    }

    created = session.post(f"{base}/interconnect/serviceMesh", json=body, timeout=10).json()["data"]
    hcxsim.control.advance(1200)

    task = session.get(f"{base}/interconnect/tasks/{created['interconnectTaskId']}", timeout=10).json()
    [mesh] = [
        m
        for m in session.get(f"{base}/interconnect/serviceMesh", timeout=10).json()["items"]
        if m["serviceMeshId"] == created["serviceMeshId"]
    ]
    assert (task["status"], task["errorMessage"]) == ("FAILED", "IX appliance deployment failed")
    assert mesh["state"] == "FAILED"


def test_it_refuses_a_fault_it_does_not_know(hcxsim):
    response = requests.post(f"{hcxsim.service_url}/__sim__/faults", json={"kind": "meteor"}, timeout=10)

    assert response.status_code == 400
    assert "kind" in response.json()["errors"][0]["text"]


def test_reset_clears_faults(hcxsim):
    hcxsim.control.fault("error", path=".*", status=500)
    hcxsim.control.reset()

    assert (
        hcx_login(hcxsim).get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10).status_code
        == 200
    )


@pytest.fixture
def fast_tls_sim(tmp_path):
    sim = start_simulator(tmp_path / "fast.log", "--time-scale", "1000", "--tls")
    yield sim
    sim.stop()


def test_with_a_time_scale_and_tls_a_pairing_finishes_on_its_own(fast_tls_sim):
    sim, ca = fast_tls_sim, fast_tls_sim.cert_path  # verify against the certificate the simulator printed
    assert sim.service_url.startswith("https://")
    requests.post(f"{sim.service_url}/__sim__/reset", json={"preset": "configured"}, verify=ca, timeout=10)
    token = requests.post(
        f"{sim.service_url}/hybridity/api/sessions",
        verify=ca,
        timeout=10,
        json={"username": sim.username, "password": sim.password},
    ).headers["x-hm-authorization"]
    headers, base = {"x-hm-authorization": token}, f"{sim.service_url}/hybridity/api"
    body = {
        "remote": {
            "url": "https://10.0.0.9/",
            "username": "cloudadmin@vsphere.local",
            "password": "CloudAdmin1!",
        }
    }

    def post(path, json):
        return requests.post(f"{base}{path}", json=json, headers=headers, verify=ca, timeout=10).json()

    certificate = post("/cloudConfigs", body)["errors"][0]["data"][0]["certificate"]
    post("/admin/certificates", {"certificate": certificate})
    job_url = f"{base}/jobs/{post('/cloudConfigs', body)['data']['jobId']}"

    job = wait_for(
        lambda: (j := requests.get(job_url, headers=headers, verify=ca, timeout=10).json())["isDone"] and j,
        timeout=30,
        message="the pairing job to finish at 1000x",
    )

    assert not job["didFail"]
