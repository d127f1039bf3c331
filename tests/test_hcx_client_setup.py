"""The appliance (9443) and AVS (ARM) clients against the real HCX simulator over HTTP: an activation
key issued through ARM's hcxEnterpriseSites, both activation APIs, vCenter/SSO/location/role
registration, waiting for the appliance, Azure sign-in errors, and TLS verification."""

import pytest
import requests
from cryptography import x509

from hcx.client import (
    AvsAuthError,
    AvsClient,
    AvsError,
    HcxActivationRefused,
    HcxAppliance,
    HcxAuthError,
    HcxCertificateUntrusted,
    HcxService,
    HcxUnavailable,
    Retry,
    Waiter,
)
from tests.peers.hcxsim import start_simulator

SUBSCRIPTION, RESOURCE_GROUP, PRIVATE_CLOUD = "00000000-0000-0000-0000-000000000000", "avs-rg", "avs-sim"


def sim_waiter(sim, interval: float) -> Waiter:
    """Reads the simulator's clock and 'sleeps' by advancing it."""

    def now():
        return requests.get(f"{sim.service_url}/__sim__/clock", timeout=10).json()["now"]

    return Waiter(clock=now, sleep=sim.control.advance, interval=interval)


def appliance(sim, *, password: str | None = None) -> HcxAppliance:
    return HcxAppliance(
        sim.admin_url,
        password or sim.password,
        timeout=5,
        retry=Retry(attempts=2, backoff=0.01),
        waiter=sim_waiter(sim, 10),
    )


def trusting(hcx: HcxAppliance, call):
    """`call()`, importing the certificate HCX refuses the first time, as the set-up does once an
    engineer trusts it."""
    try:
        return call()
    except HcxCertificateUntrusted as exc:
        hcx.import_certificate(exc.pem)
        return call()


def avs(sim, *, secret: str | None = None) -> AvsClient:
    return AvsClient(
        subscription_id=SUBSCRIPTION,
        resource_group=RESOURCE_GROUP,
        private_cloud=PRIVATE_CLOUD,
        tenant_id="tenant-1",
        client_id=sim.client_id,
        client_secret=secret or sim.client_secret,
        arm_url=sim.arm_url,
        login_url=sim.arm_url,
        timeout=5,
        retry=Retry(attempts=2, backoff=0.01),
    )


def install_hcx_addon(sim, azure: AvsClient):
    azure.install_hcx_addon()
    sim.control.advance(1800)
    assert azure.hcx_addon()["properties"]["provisioningState"] == "Succeeded"


# --- AVS ----------------------------------------------------------------------------------------


def test_it_reads_the_private_cloud_endpoints_and_cloudadmin_credentials(hcxsim):
    azure = avs(hcxsim)

    cloud = azure.private_cloud()
    credentials = azure.admin_credentials()

    assert (cloud.name, cloud.hcx_cloud_manager) == (PRIVATE_CLOUD, "https://10.0.0.9/")
    assert credentials.vcenter_username == "cloudadmin@vsphere.local"
    assert credentials.vcenter_password not in repr(credentials)


def test_a_wrong_client_secret_is_an_avs_auth_error_without_the_secret(hcxsim):
    azure = avs(hcxsim, secret="wrong-secret")

    with pytest.raises(AvsAuthError) as caught:
        azure.private_cloud()

    message = str(caught.value)
    assert f"refused client id {hcxsim.client_id}" in message and "Invalid client id or secret" in message
    assert "wrong-secret" not in message


def test_an_activation_key_needs_the_hcx_addon_first(hcxsim):
    azure = avs(hcxsim)

    assert azure.hcx_addon() is None
    with pytest.raises(AvsError, match="refused PUT .* — Azure said: «The HCX add-on is not installed"):
        azure.create_activation_key("connector-1")


# --- activation -----------------------------------------------------------------------------------


def test_a_key_issued_through_arm_activates_the_connector_and_is_then_consumed(hcxsim):
    azure = avs(hcxsim)
    install_hcx_addon(hcxsim, azure)
    key = azure.create_activation_key("connector-1")
    hcx = appliance(hcxsim)

    license_ = hcx.activate(key.key)

    assert license_["licenseKey"] == key.key
    assert azure.activation_key("connector-1").status == "Consumed"
    assert [k.name for k in azure.activation_keys()] == ["connector-1"]


def test_a_consumed_key_is_refused_with_a_clear_message(hcxsim):
    azure = avs(hcxsim)
    install_hcx_addon(hcxsim, azure)
    key = azure.create_activation_key("connector-1")
    appliance(hcxsim).activate(key.key)

    with pytest.raises(HcxActivationRefused) as caught:
        appliance(hcxsim).activate(key.key)

    assert str(caught.value) == (
        f"HCX at {hcxsim.admin_url} refused the activation key: "
        "Activation key has already been used (status Consumed)"
    )
    assert key.key not in str(caught.value)


def test_older_builds_without_the_licenses_api_are_activated_through_the_global_config(hcxsim):
    azure = avs(hcxsim)
    install_hcx_addon(hcxsim, azure)
    key = azure.create_activation_key("connector-1")
    hcxsim.control.fault("error", port="admin", path="^/api/admin/licenses", status=404)

    activation = appliance(hcxsim).activate(key.key)

    assert activation["activationKey"] == key.key
    assert hcxsim.control.state()["activation"]["activationKey"] == key.key


def test_an_older_build_refuses_a_consumed_key_at_once(hcxsim):
    hcxsim.control.reset("configured")
    used = avs(hcxsim).activation_keys()[0]
    hcxsim.control.fault("error", port="admin", path="^/api/admin/licenses", status=404)

    with pytest.raises(HcxActivationRefused, match="already been used"):
        appliance(hcxsim).activate(used.key)


def test_a_wrong_admin_password_is_an_auth_error(hcxsim):
    with pytest.raises(HcxAuthError, match="refused the user name or password for admin"):
        appliance(hcxsim, password="nope").component_status()


# --- vCenter, SSO, location, roles ------------------------------------------------------------------


def test_vcenter_sso_location_and_role_mappings_are_registered(hcxsim):
    hcx = appliance(hcxsim)

    assert hcx.mapped_groups() == {}
    vcenter = trusting(
        hcx,
        lambda: hcx.register_vcenter("https://vcsa-onprem.local", "administrator@vsphere.local", "VMware1!"),
    )
    hcx.set_lookup_service("https://vcsa-onprem.local/lookupservice/sdk")  # the same server: trusted now
    hcx.set_location(hcx.search_cities("dubl")[0])
    hcx.set_role_mappings({"System Administrator": ["VSPHERE.LOCAL\\HcxAdmins"]})

    state = hcxsim.control.state()
    assert (
        vcenter["UUID"] == state["vcenter"]["UUID"]
        and state["vcenter"]["userName"] == "administrator@vsphere.local"
    )
    assert [v["url"] for v in hcx.vcenters()] == ["https://vcsa-onprem.local"]
    assert hcx.lookup_service()["lookupServiceUrl"] == "https://vcsa-onprem.local/lookupservice/sdk"
    assert hcx.mapped_groups() == {"System Administrator": ["VSPHERE.LOCAL\\HcxAdmins"]}
    assert (state["location"]["city"], hcx.location()["country"]) == ("Dublin", "Ireland")
    assert hcx.role_mappings() == [
        {"role": "System Administrator", "userGroups": ["VSPHERE.LOCAL\\HcxAdmins"]}
    ]


def test_setting_the_lookup_service_again_updates_the_same_registration(hcxsim):
    hcx = appliance(hcxsim)
    first = trusting(hcx, lambda: hcx.set_lookup_service("https://psc-old.local"))

    second = trusting(hcx, lambda: hcx.set_lookup_service("https://psc-new.local"))

    assert (
        second["UUID"] == first["UUID"]
        and hcx.lookup_service()["lookupServiceUrl"] == "https://psc-new.local"
    )


def test_a_vcenter_registration_whose_answer_was_lost_is_not_sent_twice(hcxsim):
    hcx = appliance(hcxsim)
    trusting(hcx, lambda: hcx.set_lookup_service("https://vcsa-onprem.local/lookupservice/sdk"))
    hcxsim.control.fault("drop", port="admin", path="/global/config/vcenter$", method="POST", times=1)

    hcx.register_vcenter("https://vcsa-onprem.local", "administrator@vsphere.local", "VMware1!")

    assert len(hcx.vcenters()) == 1


@pytest.mark.parametrize("answer", ["data", "errors"])
def test_an_untrusted_vcenter_is_refused_with_its_certificate_until_imported(hcxsim, answer):
    hcxsim.control.set_variants(untrusted_certificate_answer=answer)
    hcx = appliance(hcxsim)

    with pytest.raises(HcxCertificateUntrusted) as caught:
        hcx.register_vcenter("https://vcsa-onprem.local", "administrator@vsphere.local", "VMware1!")

    refused = caught.value
    assert refused.remote_url == "https://vcsa-onprem.local" and "Untrusted SSL connection" in str(refused)
    cert = x509.load_pem_x509_certificate(refused.pem.encode())
    assert cert.subject.rfc4514_string() == "CN=vcsa-onprem.local"
    assert hcxsim.control.state()["vcenter"] is None
    hcx.import_certificate(refused.pem)
    assert hcx.register_vcenter("https://vcsa-onprem.local", "administrator@vsphere.local", "VMware1!")[
        "UUID"
    ]


def test_an_untrusted_lookup_service_is_refused_the_same_way(hcxsim):
    hcx = appliance(hcxsim)

    with pytest.raises(HcxCertificateUntrusted) as caught:
        hcx.set_lookup_service("https://psc.corp.local/lookupservice/sdk")

    assert caught.value.remote_url == "https://psc.corp.local/lookupservice/sdk" and caught.value.pem
    assert hcxsim.control.state()["sso"] is None


def test_without_the_certificate_in_the_answer_the_client_reads_it_from_the_server(hcxsim, tls_sim):
    hcxsim.control.set_variants(untrusted_certificate_answer="message_only")
    hcx = appliance(hcxsim)
    server = tls_sim.service_url  # any TLS server stands in for a vCenter here

    with pytest.raises(HcxCertificateUntrusted) as caught:
        hcx.register_vcenter(server, "administrator@vsphere.local", "VMware1!")

    with open(tls_sim.cert_path) as cert:
        assert caught.value.pem.strip() == cert.read().strip()
    with pytest.raises(HcxCertificateUntrusted) as unknown:
        hcx.register_vcenter("https://vcsa-onprem.local", "administrator@vsphere.local", "VMware1!")
    assert unknown.value.pem is None and "vCenter https://vcsa-onprem.local" in str(unknown.value)


@pytest.mark.parametrize(("listed", "kind"), [("none", "none"), ("evaluation", "evaluation"), ("vcf", "vcf")])
def test_a_licence_listed_before_activation_is_not_an_activation(hcxsim, listed, kind):
    hcxsim.control.reset("fresh", variants={"licenses_before_activation": listed})
    avs(hcxsim).install_hcx_addon()
    hcxsim.control.advance(1800)
    key = avs(hcxsim).create_activation_key("connector").key
    hcx = appliance(hcxsim)

    before = hcx.licence()

    assert before.kind == kind and not before.activated_with_key and hcx.activation() is None
    hcx.activate(key)
    after = hcx.licence()
    assert after.activated_with_key and after.item["licenseKey"] == key


def test_a_restarted_app_engine_is_waited_for_and_logins_ride_out_its_start(hcxsim):
    hcxsim.control.reset("configured", variants={"trusted_roots_status": "401"})
    hcx = appliance(hcxsim)

    hcx.restart_app_engine(timeout=60, settle=5)

    state = hcxsim.control.state()
    assert state["appEngineRestarts"] == 1 and state["components"]["appengine"] is True
    service = HcxService(
        hcxsim.service_url,
        hcxsim.username,
        hcxsim.password,
        timeout=5,
        waiter=sim_waiter(hcxsim, 10),
        startup_wait=180,
        startup_interval=10,
    )
    assert service.login().endpoint_id
    logins = hcxsim.control.state()["logins"]
    assert logins["attempts"] > 1 and logins["failures"] == 0  # "still starting" is not a failed login


def test_a_login_while_hcx_starts_fails_at_once_without_patience(hcxsim):
    hcxsim.control.reset("configured")
    appliance(hcxsim).restart_app_engine(timeout=60, settle=0)
    service = HcxService(
        hcxsim.service_url, hcxsim.username, hcxsim.password, timeout=5, retry=Retry(attempts=1, backoff=0.01)
    )

    with pytest.raises(HcxUnavailable, match="is still starting"):
        service.login()


# --- waiting for the appliance ------------------------------------------------------------------------


def test_wait_until_up_rides_out_a_restarting_appliance(hcxsim):
    hcxsim.control.fault("error", port="admin", path="/components/appengine/status", status=503, times=5)

    appliance(hcxsim).wait_until_up(timeout=600)

    assert hcxsim.control.state()["faults"] == []


def test_wait_until_up_gives_up_when_the_app_engine_stays_stopped(hcxsim):
    hcx = appliance(hcxsim)
    hcx.set_component("appengine", running=False)

    with pytest.raises(HcxUnavailable, match="not up with a running app engine after 120 s"):
        hcx.wait_until_up(timeout=120)


# --- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_sim(tmp_path_factory):
    sim = start_simulator(tmp_path_factory.mktemp("hcxsim-tls") / "hcxsim.log", "--tls")
    yield sim
    sim.stop()


def test_over_tls_the_client_verifies_against_the_given_certificate(tls_sim):
    hcx = HcxService(
        tls_sim.service_url, tls_sim.username, tls_sim.password, verify=tls_sim.cert_path, timeout=5
    )

    assert hcx.login().endpoint_id
    assert hcx.list_pairings() == []


def test_over_tls_an_unknown_certificate_is_refused_and_offered_for_trust(tls_sim):
    hcx = HcxService(tls_sim.service_url, tls_sim.username, tls_sim.password, timeout=5)

    with pytest.raises(HcxCertificateUntrusted) as caught:
        hcx.login()

    with open(tls_sim.cert_path) as cert:
        assert caught.value.pem.strip() == cert.read().strip()
    assert tls_sim.password not in str(caught.value)
