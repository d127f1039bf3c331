"""The HCX simulator's sessions and appliance authentication, spoken to over HTTP."""

import pytest
import requests

from tests.peers.hcxsim import admin_session, hcx_login


def test_it_returns_a_token_in_the_header_and_the_local_endpoint_in_the_body(hcxsim):
    response = requests.post(
        f"{hcxsim.service_url}/hybridity/api/sessions",
        json={"username": hcxsim.username, "password": hcxsim.password},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["x-hm-authorization"]
    assert response.json()["data"]["endpointInfo"]["uuid"] == hcxsim.control.state()["localEndpointId"]


def test_it_refuses_a_wrong_password_with_401_and_no_token(hcxsim):
    response = requests.post(
        f"{hcxsim.service_url}/hybridity/api/sessions",
        json={"username": hcxsim.username, "password": "wrong"},
        timeout=10,
    )

    assert response.status_code == 401
    assert "x-hm-authorization" not in response.headers
    assert response.json()["errors"][0]["error"] == "Login failure"


def test_it_requires_the_token_on_later_calls(hcxsim):
    anonymous = requests.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10)
    forged = requests.get(
        f"{hcxsim.service_url}/hybridity/api/cloudConfigs",
        headers={"x-hm-authorization": "not-a-token"},
        timeout=10,
    )
    session = hcx_login(hcxsim)

    assert anonymous.status_code == 401
    assert "x-hm-authorization" in anonymous.json()["errors"][0]["text"]
    assert forged.status_code == 401
    assert session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10).status_code == 200


def test_it_expires_a_session_left_idle_for_30_simulated_minutes(hcxsim):
    session = hcx_login(hcxsim)
    hcxsim.control.advance(31 * 60)

    response = session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10)

    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["text"]


def test_it_keeps_a_session_that_is_used(hcxsim):
    session = hcx_login(hcxsim)
    for _ in range(3):
        hcxsim.control.advance(20 * 60)
        assert session.get(f"{hcxsim.service_url}/hybridity/api/cloudConfigs", timeout=10).status_code == 200


def test_it_answers_404_with_an_hcx_error_body_for_an_unknown_job(hcxsim):
    response = hcx_login(hcxsim).get(f"{hcxsim.service_url}/hybridity/api/jobs/no-such-job", timeout=10)

    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert "no-such-job" in body["errors"][0]["text"]


def test_the_appliance_api_needs_basic_auth_as_admin(hcxsim):
    url = f"{hcxsim.admin_url}/api/admin/global/config/vcenter"

    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, auth=("admin", "wrong"), timeout=10).status_code == 401
    assert requests.get(url, auth=(hcxsim.username, hcxsim.password), timeout=10).status_code == 401
    assert requests.get(url, auth=("admin", hcxsim.password), timeout=10).json() == {"data": {"items": []}}


def test_the_service_api_is_not_served_on_the_appliance_port(hcxsim):
    response = requests.post(
        f"{hcxsim.admin_url}/hybridity/api/sessions",
        json={"username": hcxsim.username, "password": hcxsim.password},
        timeout=10,
    )

    assert response.status_code == 404


def test_a_stopped_app_engine_makes_the_service_api_unavailable_until_started(hcxsim):
    admin, session = admin_session(hcxsim), hcx_login(hcxsim)
    url = f"{hcxsim.service_url}/hybridity/api/cloudConfigs"

    assert admin.post(f"{hcxsim.admin_url}/components/appengine", params={"action": "stop"}, timeout=10).ok
    assert admin.get(f"{hcxsim.admin_url}/components/appengine/status", timeout=10).json() == {
        "result": "STOPPED"
    }
    assert session.get(url, timeout=10).status_code == 503

    admin.post(f"{hcxsim.admin_url}/components/appengine", params={"action": "start"}, timeout=10)
    assert session.get(url, timeout=10).status_code == 200


def test_it_registers_vcenter_with_a_base64_password_and_never_returns_it(hcxsim):
    admin = admin_session(hcxsim)
    url = f"{hcxsim.admin_url}/api/admin/global/config/vcenter"
    body = {
        "data": {
            "items": [
                {
                    "config": {
                        "url": "https://vc.local",
                        "userName": "administrator@vsphere.local",
                        "password": "not base64!",
                    }
                }
            ]
        }
    }

    refused = admin.post(url, json=body, timeout=10)
    body["data"]["items"][0]["config"]["password"] = "Vk13YXJlMSE="
    untrusted = admin.post(url, json=body, timeout=10)
    imported = admin.post(
        f"{hcxsim.admin_url}/api/admin/certificates",
        timeout=10,
        json={"certificate": untrusted.json()["data"][0]["certificate"]},
    )
    created = admin.post(url, json=body, timeout=10)

    assert refused.status_code == 400
    assert "base64" in refused.json()["errors"][0]["text"]
    assert (untrusted.status_code, untrusted.json()["message"]) == (400, "Untrusted SSL connection")
    assert imported.ok and created.json()["data"]["items"][0]["config"]["UUID"]
    listed = admin.get(url, timeout=10).json()["data"]["items"][0]["config"]
    assert listed["url"] == "https://vc.local"
    assert "password" not in listed


def test_failed_logins_lock_the_account_until_it_is_unlocked(hcxsim):
    url = f"{hcxsim.service_url}/hybridity/api/sessions"
    wrong = {"username": hcxsim.username, "password": "wrong"}
    right = {"username": hcxsim.username, "password": hcxsim.password}

    answers = [requests.post(url, json=wrong, timeout=10) for _ in range(5)]
    locked = requests.post(url, json=right, timeout=10)

    assert [a.status_code for a in answers] == [401] * 5
    assert answers[0].json()["errors"][0]["text"] == "Invalid username or password"
    assert (locked.status_code, locked.json()["errors"][0]["text"]) == (
        401,
        "Account locked due to failed login attempts",
    )
    assert hcxsim.control.state()["logins"] == {"attempts": 6, "failures": 5, "locked": True}
    requests.post(f"{hcxsim.service_url}/__sim__/unlock", timeout=10).raise_for_status()
    assert requests.post(url, json=right, timeout=10).headers["x-hm-authorization"]


def test_a_right_password_resets_the_count_of_failed_logins(hcxsim):
    url = f"{hcxsim.service_url}/hybridity/api/sessions"
    for _ in range(4):
        requests.post(url, json={"username": hcxsim.username, "password": "wrong"}, timeout=10)
    requests.post(url, json={"username": hcxsim.username, "password": hcxsim.password}, timeout=10)
    requests.post(url, json={"username": hcxsim.username, "password": "wrong"}, timeout=10)

    assert hcxsim.control.state()["logins"] == {"attempts": 6, "failures": 1, "locked": False}


@pytest.mark.parametrize("status", ["500", "401"])
def test_after_an_app_engine_restart_logins_say_hcx_is_still_starting(hcxsim, status):
    hcxsim.control.reset("configured", variants={"trusted_roots_status": status})
    admin = admin_session(hcxsim)
    for action in ("stop", "start"):
        admin.post(f"{hcxsim.admin_url}/components/appengine", params={"action": action}, timeout=10)
    url = f"{hcxsim.service_url}/hybridity/api/sessions"
    right = {"username": hcxsim.username, "password": hcxsim.password}

    starting = requests.post(url, json=right, timeout=10)
    hcxsim.control.advance(31)
    ready = requests.post(url, json=right, timeout=10)

    assert starting.status_code == int(status) and starting.headers["Content-Type"] == "application/xml"
    assert "'Trusted root certificates' value should not be empty" in starting.text
    assert ready.status_code == 200 and ready.headers["x-hm-authorization"]
    assert hcxsim.control.state()["logins"]["failures"] == 0
