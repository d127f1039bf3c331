"""The HCX service-API client against the real HCX simulator over HTTP: sessions, retries of safe
calls only, creates that are never duplicated, site pairing with the certificate prompt, profiles,
a service mesh followed through its interconnect task to COMMITTED, and network extension. Long HCX work is finished by advancing the
simulator's clock through the client's Waiter, never by sleeping."""

import pytest
import requests

from hcx.client import (
    HcxAuthError,
    HcxCertificateUntrusted,
    HcxConflict,
    HcxError,
    HcxJobFailed,
    HcxService,
    HcxUnavailable,
    Retry,
    Started,
    Waiter,
    bodies,
)

CLOUD_URL, CLOUD_USER, CLOUD_PASSWORD = "https://10.0.0.9/", "cloudadmin@vsphere.local", "CloudAdmin1!"


def sim_waiter(sim, interval: float) -> Waiter:
    """Reads the simulator's clock and 'sleeps' by advancing it."""

    def now():
        return requests.get(f"{sim.service_url}/__sim__/clock", timeout=10).json()["now"]

    return Waiter(clock=now, sleep=sim.control.advance, interval=interval)


def client(sim, *, interval: float = 10, password: str | None = None, **kwargs) -> HcxService:
    kwargs.setdefault("retry", Retry(attempts=2, backoff=0.01))
    kwargs.setdefault("timeout", 5)
    return HcxService(
        sim.service_url, sim.username, password or sim.password, waiter=sim_waiter(sim, interval), **kwargs
    )


def faults_fired(sim) -> list[int]:
    return [f["fired"] for f in requests.get(f"{sim.service_url}/__sim__/faults", timeout=10).json()["items"]]


# --- sessions ---------------------------------------------------------------------------------


def test_it_logs_in_and_reads_the_site_pairings(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim)

    info = hcx.login()

    assert info.endpoint_id == hcxsim.control.state()["localEndpointId"]
    assert [p["url"] for p in hcx.list_pairings()] == [CLOUD_URL]


def test_a_wrong_password_is_an_auth_error_naming_the_user_and_never_the_password(hcxsim):
    hcx = client(hcxsim, password="not-the-password")

    with pytest.raises(HcxAuthError) as caught:
        hcx.list_pairings()

    message = str(caught.value)
    assert hcxsim.service_url in message and hcxsim.username in message and "user name or password" in message
    assert "not-the-password" not in message


def test_an_expired_session_is_renewed_without_the_caller_noticing(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim)
    hcx.login()
    hcxsim.control.fault("expire_sessions")

    assert len(hcx.list_pairings()) == 1
    assert hcxsim.control.state()["sessions"] == 1


def test_the_startup_error_of_a_booting_hcx_is_ridden_out_at_login(hcxsim):
    xml = "<error><message>'Trusted root certificates' value should not be empty</message></error>"
    hcxsim.control.fault(
        "error",
        path="/sessions$",
        method="POST",
        status=500,
        body=xml,
        content_type="application/xml",
        times=1,
    )

    assert client(hcxsim).login().endpoint_id == hcxsim.control.state()["localEndpointId"]


# --- retries of safe calls ----------------------------------------------------------------------


def test_a_get_answered_5xx_a_few_times_is_retried_until_it_succeeds(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim, retry=Retry(attempts=3, backoff=0.01))
    hcx.login()
    hcxsim.control.fault("error", path="/cloudConfigs$", method="GET", status=503, times=2)

    assert len(hcx.list_pairings()) == 1


def test_a_get_that_keeps_failing_gives_up_after_the_retry_budget_with_a_clear_message(hcxsim):
    hcx = client(hcxsim, retry=Retry(attempts=2, backoff=0.01))
    hcx.login()
    hcxsim.control.fault("error", path="/cloudConfigs$", method="GET", status=502)

    with pytest.raises(HcxUnavailable) as caught:
        hcx.list_pairings()

    assert str(caught.value) == (
        f"HCX at {hcxsim.service_url} answered HTTP 502 — HCX said: «Simulated fault» "
        "to GET /hybridity/api/cloudConfigs after 3 attempts"
    )
    assert faults_fired(hcxsim) == [3]


def test_a_read_only_query_post_is_retried_too(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)
    hcx.login()
    hcxsim.control.fault("error", path="/inventory/networks$", method="POST", status=503, times=1)

    assert "network-61" in {n["entity_id"] for n in hcx.networks()}


def test_an_answer_slower_than_the_timeout_is_reported_as_unavailable(hcxsim):
    hcx = client(hcxsim, timeout=0.3, retry=Retry(attempts=1, backoff=0.01))
    hcx.login()
    hcxsim.control.fault("delay", path="/cloudConfigs$", seconds=1.5)

    with pytest.raises(HcxUnavailable) as caught:
        hcx.list_pairings()

    assert "did not answer within 0.3 s" in str(caught.value)


def test_a_stopped_app_engine_makes_calls_unavailable(hcxsim):
    hcx = client(hcxsim)
    hcx.login()
    requests.post(
        f"{hcxsim.admin_url}/components/appengine",
        params={"action": "stop"},
        auth=("admin", hcxsim.password),
        timeout=10,
    ).raise_for_status()

    with pytest.raises(HcxUnavailable, match="application engine is stopped"):
        hcx.list_pairings()


# --- creates are never duplicated -----------------------------------------------------------------


def profile_body(hcx: HcxService, name: str) -> dict:
    backing = next(n for n in hcx.networks() if n["entity_id"] == "dvportgroup-31")
    vc = hcx.vcenters()[0]
    return bodies.network_profile(
        name=name,
        backing=backing,
        vcenter_uuid=vc["vcenter_instanceId"],
        ranges=[("192.168.50.10", "192.168.50.20")],
        gateway="192.168.50.1",
        prefix_length=24,
        dns=["192.168.1.53"],
        tags=["management"],
    )


def profiles_named(sim, name: str) -> list[dict]:
    return [p for p in sim.control.state()["networkProfiles"] if p["name"] == name]


def test_a_create_answered_5xx_before_it_happened_is_sent_again_once(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)
    body = profile_body(hcx, "np-retry")
    hcxsim.control.fault("error", path="/admin/hybridity/api/networks$", method="POST", status=503, times=1)

    started = hcx.create_network_profile(body)
    hcx.wait(started, timeout=60)

    assert [p["objectId"] for p in profiles_named(hcxsim, "np-retry")] == [started.object_id]


def test_a_create_whose_connection_dropped_is_not_duplicated(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)
    body = profile_body(hcx, "np-dropped")
    hcxsim.control.fault("drop", path="/admin/hybridity/api/networks$", method="POST", times=1)

    hcx.create_network_profile(body)

    assert len(profiles_named(hcxsim, "np-dropped")) == 1


def test_a_create_whose_answer_came_too_late_is_found_by_name_not_sent_twice(hcxsim):
    # HCX creates the profile after the client gave up waiting: a blind re-send would either make a
    # second profile or fail with "already exists"; the client looks it up and carries on.
    hcxsim.control.reset("configured")
    hcx = client(hcxsim, timeout=0.3, retry=Retry(attempts=2, backoff=1.0))
    body = profile_body(hcx, "np-late")
    hcxsim.control.fault("delay", path="/admin/hybridity/api/networks$", method="POST", seconds=0.6, times=1)

    started = hcx.create_network_profile(body)

    created = profiles_named(hcxsim, "np-late")
    assert [p["objectId"] for p in created] == [started.object_id]


def test_a_create_that_keeps_failing_is_unavailable_and_leaves_nothing(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)
    body = profile_body(hcx, "np-never")
    hcxsim.control.fault("error", path="/admin/hybridity/api/networks$", method="POST", status=500)

    with pytest.raises(HcxUnavailable, match="POST /admin/hybridity/api/networks"):
        hcx.create_network_profile(body)

    assert profiles_named(hcxsim, "np-never") == []


def test_a_duplicate_name_is_a_conflict_with_hcx_s_message(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim)

    with pytest.raises(HcxConflict) as caught:
        hcx.create_network_profile(profile_body(hcx, "np-management"))

    assert caught.value.hcx_message == "A network profile named 'np-management' already exists"


# --- site pairing ------------------------------------------------------------------------------


def test_pairing_is_refused_until_the_caller_trusts_the_remote_certificate(hcxsim):
    hcxsim.control.reset("configured")
    trusted = hcxsim.control.state()["trustedCertificates"]  # the vCenter's, imported by the set-up
    hcx = client(hcxsim)

    with pytest.raises(HcxCertificateUntrusted) as caught:
        hcx.pair_site(CLOUD_URL, CLOUD_USER, CLOUD_PASSWORD)

    assert "BEGIN CERTIFICATE" in caught.value.pem and caught.value.remote_url == CLOUD_URL
    state = hcxsim.control.state()
    assert (state["trustedCertificates"], state["jobs"]) == (trusted, [])


def test_pairing_with_the_certificate_accepted_runs_to_completion(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)
    shown = []

    started = hcx.pair_site(
        CLOUD_URL,
        CLOUD_USER,
        CLOUD_PASSWORD,
        trust_certificate=lambda pem, url: shown.append((url, pem)) or True,
    )
    job = hcx.wait_for_job(started.job_id, timeout=120, what="the site pairing")

    assert [url for url, _ in shown] == [CLOUD_URL]
    assert job.data["endpoint"]["url"] == CLOUD_URL
    assert [p["url"] for p in hcx.list_pairings()] == [CLOUD_URL]


def test_pairing_with_a_wrong_cloudadmin_password_is_an_auth_error(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)

    with pytest.raises(
        HcxAuthError, match=f"HCX at {CLOUD_URL} refused the user name or password for {CLOUD_USER}"
    ):
        hcx.pair_site(CLOUD_URL, CLOUD_USER, "wrong-password", trust_certificate=True)


def test_a_failed_pairing_job_raises_with_hcx_s_message(hcxsim):
    hcxsim.control.reset("configured")
    hcxsim.control.fault("job_fail", operation="sitePairing", message="Remote HCX unreachable", times=1)
    hcx = client(hcxsim)

    started = hcx.pair_site(CLOUD_URL, CLOUD_USER, CLOUD_PASSWORD, trust_certificate=True)

    with pytest.raises(HcxJobFailed, match="the site pairing failed: Remote HCX unreachable"):
        hcx.wait_for_job(started.job_id, timeout=120, what="the site pairing")


def test_a_pairing_whose_connection_dropped_pairs_once(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)
    hcxsim.control.fault("drop", path="/cloudConfigs$", method="POST", times=1)

    started = hcx.pair_site(CLOUD_URL, CLOUD_USER, CLOUD_PASSWORD, trust_certificate=True)
    hcx.wait(started, timeout=120)

    assert [p["url"] for p in hcx.list_pairings()] == [CLOUD_URL]
    assert len(hcxsim.control.state()["jobs"]) == 1


def test_deleting_a_pairing_removes_it(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim)
    endpoint_id = hcx.list_pairings()[0]["endpointId"]

    hcx.wait(hcx.delete_pairing(endpoint_id), timeout=60)

    assert hcx.list_pairings() == []


# --- network and compute profiles, service mesh, extension ------------------------------------


def test_network_profiles_are_created_listed_and_deleted(hcxsim):
    hcxsim.control.reset("configured")
    hcx = client(hcxsim)

    started = hcx.create_network_profile(profile_body(hcx, "np-mgmt"))
    hcx.wait(started, timeout=60)
    listed = {p["name"]: p for p in hcx.list_network_profiles()}
    hcx.wait(hcx.delete_network_profile(started.object_id), timeout=60)

    assert listed["np-mgmt"]["status"]["state"] == "REALIZED"
    assert hcx.list_network_profiles() == []


def test_a_compute_profile_built_from_the_inventory_is_valid(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim)
    vc = hcx.vcenters()[0]
    datacenter = vc["children"][0]
    cluster = datacenter["children"][1]
    ids = (vc["vcenter_instanceId"], [cluster["entity_id"]])
    body = bodies.compute_profile(
        name="cp-mgmt",
        services=["INTERCONNECT", "VMOTION", "BULK_MIGRATION", "NETWORK_EXTENSION"],
        vcenter=vc,
        datacenter=datacenter,
        clusters=[cluster],
        datastore=hcx.datastores(*ids)[0],
        network_profiles=hcx.list_network_profiles(),
        switches=hcx.switches(*ids),
    )

    started = hcx.create_compute_profile(body)
    task = hcx.wait(started, timeout=300)

    assert task.status == "SUCCESS"
    assert hcx.get_compute_profile(started.object_id)["state"] == "VALID"


def mesh_body(hcx: HcxService, name: str) -> dict:
    local = hcx.list_compute_profiles(hcx.login().endpoint_id)[0]
    remote_endpoint = hcx.list_pairings()[0]["endpointId"]
    remote = hcx.list_compute_profiles(remote_endpoint)[0]
    return bodies.service_mesh(
        name=name,
        local_profile=local,
        remote_profile=remote,
        services=["INTERCONNECT", "VMOTION", "BULK_MIGRATION", "NETWORK_EXTENSION"],
    )


def deploy_mesh(sim, hcx: HcxService, name: str = "mesh-1") -> dict:
    started = hcx.create_service_mesh(mesh_body(hcx, name))
    mesh, task = hcx.wait_for_service_mesh(started, timeout=3600, what=f"service mesh {name}")
    assert task.status == "SUCCESS"
    return mesh


@pytest.mark.parametrize("version, extender", [("4.x", "HCX-NET-EXT"), ("9.x", "HCX-NET-EXT-EDGE")])
def test_a_service_mesh_is_followed_to_committed_and_its_local_extension_appliances_found(
    hcxsim, version, extender
):
    hcxsim.control.reset("paired", {"hcx_version": version})
    hcx = client(hcxsim, interval=120)

    mesh = deploy_mesh(hcxsim, hcx)

    local = hcx.login().endpoint_id
    found = hcx.extension_appliances(mesh["serviceMeshId"], local)
    every = hcx.query_appliances(service_mesh_id=mesh["serviceMeshId"])
    assert mesh["state"] == "COMMITTED"
    assert [(a["applianceType"], a["endpointId"]) for a in found] == [(extender, local)]
    assert len([a for a in every if extender in a["applianceType"]]) == 2  # its peer at the AVS end too
    assert {a["status"]["summary"]["overallStatus"] for a in hcx.list_appliances()} == {"UP"}


def test_a_service_mesh_create_answered_5xx_is_not_duplicated(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim, interval=120)
    body = mesh_body(hcx, "mesh-once")
    hcxsim.control.fault("error", path="/interconnect/serviceMesh$", method="POST", status=504, times=1)

    started = hcx.create_service_mesh(body)

    assert [m["serviceMeshId"] for m in hcx.list_service_meshes() if m["name"] == "mesh-once"] == [
        started.object_id
    ]


def test_a_failed_service_mesh_task_raises_with_hcx_s_message(hcxsim):
    hcxsim.control.reset("paired")
    hcxsim.control.fault(
        "job_fail", operation="serviceMesh", message="IX appliance deployment failed", times=1
    )
    hcx = client(hcxsim, interval=300)

    started = hcx.create_service_mesh(mesh_body(hcx, "mesh-bad"))

    with pytest.raises(HcxJobFailed, match="IX appliance deployment failed"):
        hcx.wait_for_service_mesh(started, timeout=3600)


def test_a_mesh_found_by_name_is_followed_through_the_task_its_last_task_details_name(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim, interval=120)
    body = mesh_body(hcx, "mesh-lost")
    hcxsim.control.fault("drop", path="/interconnect/serviceMesh$", method="POST", times=1, after=True)

    started = hcx.create_service_mesh(body)
    mesh, task = hcx.wait_for_service_mesh(started, timeout=3600)

    assert started.recovered and started.task_id is None
    assert (mesh["state"], task.status) == ("COMMITTED", "SUCCESS")


def test_a_mesh_whose_update_failed_is_a_failure_even_without_a_task(hcxsim):
    hcxsim.control.reset("meshed")
    hcx = client(hcxsim)
    mesh = next(m for m in hcx.list_service_meshes() if m["name"] == "mesh-avs")
    hcxsim.control._call(
        "POST", f"/service-meshes/{mesh['serviceMeshId']}/fail-update", json={"message": "resync failed"}
    )

    with pytest.raises(HcxJobFailed, match="is UPDATE_FAILED: resync failed"):
        hcx.wait_for_service_mesh(Started(object_id=mesh["serviceMeshId"], recovered=True), timeout=60)


def extension_body(hcx: HcxService, mesh: dict, network_id: str) -> dict:
    network = next(n for n in hcx.networks() if n["entity_id"] == network_id)
    extender = hcx.extension_appliances(mesh["serviceMeshId"], hcx.login().endpoint_id)[0]
    destination = hcx.resource_containers(local=False, remote=True)[0]
    return bodies.l2_extension(
        network=network,
        appliance_id=extender["applianceId"],
        destination=destination,
        gateway_id="TNT-T1",
        gateway="10.10.41.1",
        netmask="255.255.255.0",
        vcenter_uuid=hcx.vcenters()[0]["vcenter_instanceId"],
    )


def test_a_distributed_port_group_is_extended_and_removed_again(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim, interval=120)
    mesh = deploy_mesh(hcxsim, hcx)

    job = hcx.wait(hcx.create_l2_extension(extension_body(hcx, mesh, "dvportgroup-41")), timeout=900)
    extensions = hcx.list_l2_extensions()
    hcx.wait(hcx.delete_l2_extension(job.data["stretchId"]), timeout=900)

    assert [(e["sourceNetwork"]["networkName"], e["operationStatus"]["state"]) for e in extensions] == [
        ("App-VLAN101", "EXTENDED")
    ]
    assert hcx.list_l2_extensions() == []


def test_a_standard_switch_network_cannot_be_extended_and_hcx_says_why(hcxsim):
    hcxsim.control.reset("paired")
    hcx = client(hcxsim, interval=120)
    mesh = deploy_mesh(hcxsim, hcx)

    with pytest.raises(HcxError) as caught:
        hcx.create_l2_extension(extension_body(hcx, mesh, "network-61"))

    assert caught.value.status == 400
    assert "'VM Network' is on a vSphere Standard Switch" in str(caught.value)
    assert hcx.list_l2_extensions() == []
