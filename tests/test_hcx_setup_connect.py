"""The four "connect" steps of the guided HCX set-up (AVS, activation, vCenter/SSO/location, site
pairing) against the HCX simulator at 600x time: each step reads first and creates only what is
missing, fails with a message a person can act on (and no secret in it), asks before trusting the
Cloud Manager's certificate, and a re-run picks up where a failed run stopped."""

import dataclasses
import json
import re
import time

import pytest
import requests
from django.db import connection as db_connection

from core.choices import JobStatus
from core.jobs import JobError
from core.models import Job, JobEvent
from hcx.choices import SetupStepKey, StepState
from hcx.client import AvsClient, HcxAppliance, HcxCertificateUntrusted, HcxService, Waiter
from hcx.models import AvsInventory, HcxConnection, HcxPlan, HcxSetupStep
from hcx.setup.runner import Context, run_step, start_setup
from hcx.simulator.state import self_signed_certificate
from tests.hcx_setup import (
    CLOUD_PASSWORD,
    CLOUD_USER,
    PRIVATE_CLOUD,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    make_setup_plan,
)
from tests.peers.worker import wait_for

pytestmark = pytest.mark.django_db
CLOUD_URL = "https://10.0.0.9/"
VCENTER_URL = "https://vcsa-onprem.local"
SSO_URL = f"{VCENTER_URL}/lookupservice/sdk"
CONNECT = [SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER, SetupStepKey.PAIR]


# --- helpers ------------------------------------------------------------------------------------


def fresh_plan(plan: HcxPlan) -> HcxPlan:
    return HcxPlan.objects.select_related("connection", "vcenter").get(pk=plan.pk)


def run(plan: HcxPlan, *keys: str, ctx: Context | None = None) -> HcxSetupStep:
    """Run steps in order in one context, as the job does; stop at the first that does not finish.
    Returns the last step's row."""
    ctx = ctx or Context(fresh_plan(plan), Job.objects.create(kind="hcx.setup", name="t"))
    try:
        for key in keys:
            try:
                run_step(ctx, key)
            except JobError:
                break
    finally:
        ctx.close()
    return HcxSetupStep.objects.get(plan=plan, step=key)


def set_connection(plan: HcxPlan, **fields):
    c = HcxConnection.objects.get(plan=plan)
    for name, value in fields.items():
        setattr(c, name, value)
    c.save()


def avs_client(sim) -> AvsClient:
    return AvsClient(
        subscription_id=SUBSCRIPTION,
        resource_group=RESOURCE_GROUP,
        private_cloud=PRIVATE_CLOUD,
        tenant_id="tenant-1",
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        arm_url=sim.arm_url,
        login_url=sim.arm_url,
        timeout=5,
    )


def issue_key(sim, name: str, *, consumed: bool = False) -> str:
    """An AVS activation key; `consumed`: used by a Connector that was then reset (deactivated)."""
    azure = avs_client(sim)
    if azure.hcx_addon() is None:
        azure.install_hcx_addon()
        sim.control.advance(1800)
    key = azure.create_activation_key(name).key
    if consumed:
        HcxAppliance(sim.admin_url, sim.password, timeout=5, waiter=Waiter(interval=0.05)).activate(
            key, timeout=60
        )
        activation = sim.control.state()["activation"]
        requests.delete(
            f"{sim.admin_url}/api/admin/global/config/hcx/{activation['UUID']}",
            auth=("admin", sim.password),
            timeout=5,
        ).raise_for_status()
    return key


def recorded(plan: HcxPlan) -> str:
    """Everything a person can read about the set-up: step rows, job rows and their log lines."""
    steps = list(HcxSetupStep.objects.filter(plan=plan).values("summary", "message", "data"))
    jobs = list(Job.objects.values("name", "params", "data", "error", "progress_text"))
    events = list(JobEvent.objects.values_list("message", flat=True))
    return repr((steps, jobs, events))


def events(plan: HcxPlan) -> list[str]:
    job_ids = HcxSetupStep.objects.filter(plan=plan).values_list("job_id", flat=True)
    return list(
        JobEvent.objects.filter(job_id__in=job_ids)
        .order_by("job_id", "seq")
        .values_list("message", flat=True)
    )


def secrets_of(sim, *more: str) -> list[str]:
    return [sim.password, sim.client_secret, CLOUD_PASSWORD, "VMware1!", *more]


@pytest.fixture(scope="session")
def cloud_pem(hcxsim_fast_server):
    """The AVS Cloud Manager's certificate, as HCX shows it in the pairing prompt (asked once, on a
    throwaway configured Connector)."""
    sim = hcxsim_fast_server
    sim.control.reset("configured")
    hcx = HcxService(sim.service_url, sim.username, sim.password, timeout=5)
    try:
        with pytest.raises(HcxCertificateUntrusted) as caught:
            hcx.pair_site(CLOUD_URL, CLOUD_USER, CLOUD_PASSWORD)
    finally:
        hcx.close()
        sim.control.reset()
    return caught.value.pem


@pytest.fixture(scope="session")
def vcenter_pem(hcxsim_fast_server):
    """The on-premises vCenter's certificate, as HCX sends it when it refuses to register it
    ("Untrusted SSL connection"; asked once, on a throwaway fresh Connector)."""
    sim = hcxsim_fast_server
    sim.control.reset()
    appliance = HcxAppliance(sim.admin_url, sim.password, timeout=5)
    try:
        with pytest.raises(HcxCertificateUntrusted) as caught:
            appliance.register_vcenter(VCENTER_URL, "administrator@vsphere.local", "VMware1!")
    finally:
        appliance.close()
        sim.control.reset()
    return caught.value.pem


def accept_vcenter(plan: HcxPlan, pem: str):
    """What an engineer's "trust" on the set-up page leaves on the register step: the accepted PEM."""
    row, _ = HcxSetupStep.objects.get_or_create(plan=plan, step=SetupStepKey.REGISTER)
    row.data = {**row.data, "trusted_certificates": [pem]}
    row.save()


# --- the whole path -----------------------------------------------------------------------------


def test_it_connects_with_azure_from_the_private_cloud_to_the_pairing(hcxsim_fast, cloud_pem, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast, trusted_cloud_certificate=cloud_pem)
    accept_vcenter(plan, vcenter_pem)

    run(plan, *CONNECT)

    steps = {s.step: s for s in HcxSetupStep.objects.filter(plan=plan)}
    assert {k: s.state for k, s in steps.items()} == dict.fromkeys(CONNECT, StepState.DONE)
    assert steps["avs"].summary == (
        f"Private cloud {PRIVATE_CLOUD}: HCX add-on Succeeded, Cloud Manager {CLOUD_URL}"
    )
    assert steps["activate"].summary == "Activated with AVS activation key amsterdam (licence ACTIVE)"
    assert steps["activate"].data == {
        "activated": True,
        "key_name": "amsterdam",
        "licence": "key",
        "licence_before": "none",
    }
    assert steps["register"].summary == (
        "vCenter https://vcsa-onprem.local (vcsa-onprem.local 8.0.2), "
        f"SSO {SSO_URL}, location Amsterdam, Netherlands"
    )
    assert steps["pair"].summary == f"Paired with {CLOUD_URL} (avs-hcx-cloud 4.10.2)"
    # Paired: what the AVS side offers is kept for the wave form (hcx/avs_inventory.py).
    assert AvsInventory.objects.get(site=plan).names("datastores") == ["anf-datastore-01", "vsanDatastore"]
    state = hcxsim_fast.control.state()
    assert [(a["name"], a["properties"]["provisioningState"]) for a in state["addons"]] == [
        ("hcx", "Succeeded")
    ]
    [site] = state["hcxEnterpriseSites"]
    assert (site["name"], site["properties"]["status"]) == ("amsterdam", "Consumed")
    assert state["activation"]["activationKey"] == site["properties"]["activationKey"]
    assert (state["vcenter"]["url"], state["vcenter"]["userName"]) == (
        "https://vcsa-onprem.local",
        "administrator@vsphere.local",
    )
    assert state["sso"]["lookupServiceUrl"] == SSO_URL
    assert state["location"]["city"] == "Amsterdam" and state["components"]["appengine"] is True
    [pairing] = state["pairings"]
    assert pairing["url"] == CLOUD_URL and steps["pair"].data["endpoint_id"] == pairing["endpointId"]
    assert steps["register"].data["vcenter_uuid"] == state["vcenter"]["UUID"]
    # The Cloud Manager details came from Azure; the password is stored encrypted, and no secret
    # (passwords, the client secret, the activation key) is in any step, job or log line.
    c = HcxConnection.objects.get(plan=plan)
    assert (c.cloud_url, c.cloud_username, c.cloud_password) == (CLOUD_URL, CLOUD_USER, CLOUD_PASSWORD)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT cloud_password FROM hcx_hcxconnection WHERE id = %s", [c.pk])
        assert CLOUD_PASSWORD not in cursor.fetchone()[0]
    text = recorded(plan)
    for secret in secrets_of(hcxsim_fast, site["properties"]["activationKey"]):
        assert secret not in text
    log = events(plan)
    assert any("installing it" in line for line in log) and any(
        "Issuing AVS activation key amsterdam" in line for line in log
    )


def test_rerunning_every_finished_step_is_done_and_creates_nothing_twice(hcxsim_fast, cloud_pem, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast, trusted_cloud_certificate=cloud_pem)
    accept_vcenter(plan, vcenter_pem)
    run(plan, *CONNECT)
    before = hcxsim_fast.control.state()

    run(plan, *CONNECT)

    steps = {s.step: s for s in HcxSetupStep.objects.filter(plan=plan)}
    assert {k: s.state for k, s in steps.items()} == dict.fromkeys(CONNECT, StepState.DONE)
    assert steps["activate"].summary.startswith("Already activated with an activation key")
    assert steps["activate"].data == {
        "activated": True,
        "key_name": "amsterdam",
        "licence": "key",
        "licence_before": "none",
    }
    after = hcxsim_fast.control.state()
    for part in (
        "addons",
        "hcxEnterpriseSites",
        "activation",
        "vcenter",
        "sso",
        "location",
        "roleMappings",
        "pairings",
        "jobs",
        "tasks",
        "trustedCertificates",
    ):
        assert after[part] == before[part], part
    second_run = events(plan)[-20:]
    for said in (
        "The HCX add-on is installed",
        "already activated",
        "vCenter https://vcsa-onprem.local is already registered",
        f"SSO lookup service {SSO_URL} is already registered",
        "HCX roles are already mapped",
        "location is already Amsterdam",
        f"Already paired with {CLOUD_URL}",
    ):
        assert any(said in line for line in second_run), (said, second_run)


def test_without_a_service_principal_it_uses_the_pasted_key_and_cloud_manager(
    hcxsim_fast, cloud_pem, vcenter_pem
):
    key = issue_key(hcxsim_fast, "pasted")
    plan = make_setup_plan(
        hcxsim_fast,
        azure=False,
        activation_key=key,
        cloud_url=CLOUD_URL,
        cloud_username=CLOUD_USER,
        cloud_password=CLOUD_PASSWORD,
        trusted_cloud_certificate=cloud_pem,
    )
    accept_vcenter(plan, vcenter_pem)

    run(plan, *CONNECT)

    steps = {s.step: s for s in HcxSetupStep.objects.filter(plan=plan)}
    assert {k: s.state for k, s in steps.items()} == dict.fromkeys(CONNECT, StepState.DONE)
    assert steps["avs"].summary == "Using the activation key and Cloud Manager details entered by hand"
    assert steps["activate"].summary == "Activated with the activation key entered by hand (licence ACTIVE)"
    state = hcxsim_fast.control.state()
    assert state["activation"]["activationKey"] == key and [p["url"] for p in state["pairings"]] == [
        CLOUD_URL
    ]
    assert [s["name"] for s in state["hcxEnterpriseSites"]] == ["pasted"]  # no key issued through Azure
    assert key not in recorded(plan)


def test_without_a_service_principal_missing_pasted_details_are_named(hcxsim_fast):
    plan = make_setup_plan(hcxsim_fast, azure=False)

    row = run(plan, SetupStepKey.AVS)

    assert row.state == StepState.FAILED
    assert row.message.startswith("No Azure service principal is set")
    assert (
        "missing: activation key, HCX Cloud Manager URL, cloudadmin user, cloudadmin password. "
        "Fill it in on the plan's set-up page."
    ) in row.message


# --- AVS --------------------------------------------------------------------------------------


def test_an_hcx_addon_that_fails_in_azure_is_a_clear_failure(hcxsim_fast):
    hcxsim_fast.control.fault("job_fail", operation="hcxAddon", message="Quota exceeded")
    plan = make_setup_plan(hcxsim_fast)

    row = run(plan, SetupStepKey.AVS)

    assert row.state == StepState.FAILED
    assert row.message.startswith(
        f"The HCX add-on of private cloud {PRIVATE_CLOUD} is in state Failed in Azure."
    )
    assert HcxConnection.objects.get(plan=plan).cloud_url == ""


# --- activation ---------------------------------------------------------------------------------


def test_a_wrong_appliance_admin_password_fails_without_echoing_it(hcxsim_fast):
    plan = make_setup_plan(hcxsim_fast, admin_password="Wrong-Admin-Passw0rd")
    run(plan, SetupStepKey.AVS)

    row = run(plan, SetupStepKey.ACTIVATE)

    assert row.state == StepState.FAILED
    assert row.message == (
        f"HCX appliance management at {hcxsim_fast.admin_url} refused the user name or password for admin"
    )
    assert "Wrong-Admin-Passw0rd" not in recorded(plan)
    assert hcxsim_fast.control.state()["activation"] is None


def test_a_pasted_key_already_consumed_is_refused_with_a_clear_message(hcxsim_fast):
    key = issue_key(hcxsim_fast, "used-before", consumed=True)
    plan = make_setup_plan(
        hcxsim_fast,
        azure=False,
        activation_key=key,
        cloud_url=CLOUD_URL,
        cloud_username=CLOUD_USER,
        cloud_password=CLOUD_PASSWORD,
    )

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE)

    assert row.state == StepState.FAILED
    assert row.message == (
        f"HCX at {hcxsim_fast.admin_url} refused the activation key: Activation key has already been used "
        "(status Consumed). Create a new key in the Azure portal (Manage > Add-ons > Migration using HCX), "
        "paste it on the set-up page and run this step again."
    )
    assert key not in recorded(plan)


def test_with_azure_a_consumed_key_of_the_plan_is_replaced_by_a_fresh_one(hcxsim_fast):
    issue_key(hcxsim_fast, "amsterdam", consumed=True)  # a Connector of this plan that was redeployed
    plan = make_setup_plan(hcxsim_fast)

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE)

    assert (row.state, row.data) == (
        StepState.DONE,
        {"activated": True, "key_name": "amsterdam-2", "licence": "key", "licence_before": "none"},
    )
    sites = {s["name"]: s["properties"] for s in hcxsim_fast.control.state()["hcxEnterpriseSites"]}
    assert {name: p["status"] for name, p in sites.items()} == {
        "amsterdam": "Consumed",
        "amsterdam-2": "Consumed",
    }
    assert hcxsim_fast.control.state()["activation"]["activationKey"] == sites["amsterdam-2"]["activationKey"]
    assert any("AVS activation key amsterdam is Consumed" in line for line in events(plan))


def test_a_pasted_key_is_used_even_with_a_service_principal(hcxsim_fast):
    key = issue_key(hcxsim_fast, "chosen-by-hand")
    plan = make_setup_plan(hcxsim_fast, activation_key=key)

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE)

    assert row.state == StepState.DONE and row.data["key_name"] == "entered by hand"
    state = hcxsim_fast.control.state()
    assert state["activation"]["activationKey"] == key
    assert [s["name"] for s in state["hcxEnterpriseSites"]] == ["chosen-by-hand"]


# --- vCenter, SSO, location ------------------------------------------------------------------------


def test_a_5xx_storm_outlasting_the_retries_fails_and_a_rerun_continues(hcxsim_fast, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast)
    accept_vcenter(plan, vcenter_pem)
    run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE)
    hcxsim_fast.control.fault("error", port="admin", path="/global/config/lookupservice", status=503)

    row = run(plan, SetupStepKey.REGISTER)

    assert row.state == StepState.FAILED
    assert row.message == (
        f"HCX appliance management at {hcxsim_fast.admin_url} answered HTTP 503 — HCX said: "
        "«Simulated fault» to GET /api/admin/global/config/lookupservice after 4 attempts"
    )
    vcenter = hcxsim_fast.control.state()["vcenter"]
    assert vcenter["url"] == "https://vcsa-onprem.local"

    hcxsim_fast.control.clear_faults()
    row = run(plan, SetupStepKey.REGISTER)

    assert row.state == StepState.DONE and row.message == ""
    state = hcxsim_fast.control.state()
    assert state["vcenter"] == vcenter and state["sso"]["lookupServiceUrl"] == SSO_URL
    assert any("vCenter https://vcsa-onprem.local is already registered" in line for line in events(plan))


def test_an_unknown_city_fails_with_the_cities_hcx_suggests(hcxsim_fast, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast, location_city="Amsterdm")
    accept_vcenter(plan, vcenter_pem)

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER)

    assert row.state == StepState.FAILED
    assert row.message == (
        "HCX knows no city called 'Amsterdm'; it suggests: Amsterdam, Netherlands. Enter the "
        "nearest city HCX knows as the location on the set-up page, then run this step again."
    )
    assert hcxsim_fast.control.state()["location"] is None

    set_connection(plan, location_city="dublin, Ireland")
    assert run(plan, SetupStepKey.REGISTER).state == StepState.DONE
    assert hcxsim_fast.control.state()["location"]["city"] == "Dublin"


def test_a_vcenter_without_its_password_fails_naming_the_vcenter(hcxsim_fast):
    plan = make_setup_plan(hcxsim_fast)
    plan.vcenter.password = ""
    plan.vcenter.save()

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER)

    assert row.state == StepState.FAILED
    assert row.message.startswith(
        f"vCenter {plan.vcenter.name} has no password: HCX needs them to register it."
    )
    assert hcxsim_fast.control.state()["vcenter"] is None


def test_an_untrusted_vcenter_certificate_waits_for_a_person_then_registers(hcxsim_fast, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast)

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER)

    assert row.state == StepState.NEEDS_INPUT
    assert (row.data["certificate"], row.data["remote_url"]) == (vcenter_pem, VCENTER_URL)
    assert row.data["subject"] == "CN=vcsa-onprem.local" and row.data["server"] == "vCenter"
    assert row.message.startswith(
        f"HCX asks whether to trust the certificate of {VCENTER_URL}: check its "
        f"fingerprint (SHA-256 {row.data['sha256']})"
    )
    state = hcxsim_fast.control.state()
    assert state["vcenter"] is None and state["trustedCertificates"] == 0

    accept_vcenter(plan, vcenter_pem.replace("\n", "\r\n"))  # as the page stores it; spacing may differ
    row = run(plan, SetupStepKey.REGISTER)

    assert (row.state, row.message) == (StepState.DONE, "")
    state = hcxsim_fast.control.state()
    assert state["trustedCertificates"] == 1 and state["vcenter"]["url"] == VCENTER_URL
    assert state["sso"]["lookupServiceUrl"] == SSO_URL
    assert state["roleMappings"] == [
        {"role": "System Administrator", "userGroups": ["vsphere.local\\Administrators"]},
        {"role": "Enterprise Administrator", "userGroups": ["vsphere.local\\Administrators"]},
    ]
    assert state["appEngineRestarts"] == 1 and state["components"]["appengine"] is True
    assert row.data["role_mappings"] == {
        "System Administrator": ["vsphere.local\\Administrators"],
        "Enterprise Administrator": ["vsphere.local\\Administrators"],
    }
    assert any(
        f"Importing the certificate of vCenter {VCENTER_URL} into HCX" in line for line in events(plan)
    )


def test_a_vcenter_still_refused_after_the_import_fails_saying_what_to_import(hcxsim_fast, vcenter_pem):
    body = json.dumps(
        {
            "isSuccess": False,
            "message": "Untrusted SSL connection",
            "httpStatusCode": 400,
            "data": [{"certificate": vcenter_pem}],
        }
    )
    hcxsim_fast.control.fault(
        "error", port="admin", method="POST", path="/global/config/vcenter$", status=400, body=body, times=2
    )
    plan = make_setup_plan(hcxsim_fast)
    accept_vcenter(plan, vcenter_pem)

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER)

    assert row.state == StepState.FAILED
    assert row.message.startswith(
        f"HCX still does not trust vCenter {VCENTER_URL} after importing the certificate "
        "accepted on the set-up page: it may need the issuing CA instead (for vCenter's "
        "VMCA, the root in https://vcsa-onprem.local/certs/download.zip)."
    )
    assert hcxsim_fast.control.state()["trustedCertificates"] == 1


def test_a_changed_vcenter_certificate_is_asked_about_again(hcxsim_fast):
    plan = make_setup_plan(hcxsim_fast)
    other, _ = self_signed_certificate("vcsa-onprem.local")
    accept_vcenter(plan, other)

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER)

    assert row.state == StepState.NEEDS_INPUT
    assert (
        "differs from the certificate accepted before, so the certificate of vCenter has changed"
        in row.message
    )
    assert hcxsim_fast.control.state()["trustedCertificates"] == 0


def test_the_connection_names_the_groups_that_get_the_hcx_roles(hcxsim_fast, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast, admin_groups="CORP\\HCX-Admins, CORP\\Migration-Team")
    accept_vcenter(plan, vcenter_pem)

    assert run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER).state == StepState.DONE

    mappings = {m["role"]: m["userGroups"] for m in hcxsim_fast.control.state()["roleMappings"]}
    assert mappings == dict.fromkeys(
        ["System Administrator", "Enterprise Administrator"], ["CORP\\HCX-Admins", "CORP\\Migration-Team"]
    )


def test_role_mappings_an_engineer_made_in_hcx_are_left_alone(hcxsim_fast, vcenter_pem):
    requests.put(
        f"{hcxsim_fast.admin_url}/api/admin/global/config/roleMappings",
        auth=("admin", hcxsim_fast.password),
        json=[{"role": "System Administrator", "userGroups": ["CORP\\Their-Own"]}],
        timeout=5,
    ).raise_for_status()
    plan = make_setup_plan(hcxsim_fast, admin_groups="CORP\\HCX-Admins")
    accept_vcenter(plan, vcenter_pem)

    assert run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER).state == StepState.DONE

    assert hcxsim_fast.control.state()["roleMappings"] == [
        {"role": "System Administrator", "userGroups": ["CORP\\Their-Own"]}
    ]
    assert any(
        "HCX roles are already mapped (System Administrator: CORP\\Their-Own)" in line
        for line in events(plan)
    )


@pytest.mark.parametrize(
    ("listed", "label"), [("evaluation", "Evaluation mode"), ("vcf", "a VCF licence from vCenter")]
)
def test_evaluation_or_vcf_licensing_is_not_taken_for_the_avs_activation(hcxsim_fast, listed, label):
    hcxsim_fast.control.reset(variants={"licenses_before_activation": listed})
    plan = make_setup_plan(hcxsim_fast)

    row = run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE)

    assert row.state == StepState.DONE
    assert (
        row.summary
        == f"Activated with AVS activation key amsterdam (licence ACTIVE); before, it ran on {label}"
    )
    assert row.data == {
        "activated": True,
        "key_name": "amsterdam",
        "licence": "key",
        "licence_before": listed,
    }
    assert hcxsim_fast.control.state()["activation"] is not None
    assert any(f"The Connector runs on {label}, not on an activation key" in line for line in events(plan))


# Every shape of real HCX the appliance helper's variants name (hcx/simulator/variants.py).
CONNECT_VARIANTS = [
    {"untrusted_certificate_answer": "data"},
    {"untrusted_certificate_answer": "errors"},
    {"untrusted_certificate_answer": "message_only"},
    {"licenses_before_activation": "none"},
    {"licenses_before_activation": "evaluation"},
    {"licenses_before_activation": "vcf"},
    {"trusted_roots_status": "500"},
    {"trusted_roots_status": "401"},
]


@pytest.mark.parametrize("variant", CONNECT_VARIANTS, ids=lambda v: "=".join(*v.items()))
def test_the_connect_steps_pass_against_each_shape_of_real_hcx(hcxsim_fast, cloud_pem, tls_vcenter, variant):
    hcxsim_fast.control.reset(variants=variant)
    plan = make_setup_plan(hcxsim_fast, trusted_cloud_certificate=cloud_pem)
    plan.vcenter.url = f"{tls_vcenter.service_url.replace('http://', 'https://')}/sdk"
    plan.vcenter.save()
    vcenter_url = tls_vcenter.service_url.replace("http://", "https://")

    asked = run(plan, *CONNECT)
    accept_vcenter(plan, asked.data.get("certificate", ""))
    row = run(plan, *CONNECT)

    assert (asked.step, asked.state) == (SetupStepKey.REGISTER, StepState.NEEDS_INPUT)
    with open(tls_vcenter.cert_path) as cert:
        assert asked.data["certificate"].strip() == cert.read().strip()
    assert (row.step, row.state) == (SetupStepKey.PAIR, StepState.DONE), row.message
    state = hcxsim_fast.control.state()
    assert (
        state["vcenter"]["url"] == vcenter_url
        and state["sso"]["lookupServiceUrl"] == f"{vcenter_url}/lookupservice/sdk"
    )
    assert state["activation"] and [p["url"] for p in state["pairings"]] == [CLOUD_URL]
    assert state["logins"]["failures"] == 0


# --- pairing ---------------------------------------------------------------------------------------


def test_the_certificate_prompt_waits_for_a_person_then_pairs(hcxsim_fast, cloud_pem, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast)
    accept_vcenter(plan, vcenter_pem)

    row = run(plan, *CONNECT)

    assert row.state == StepState.NEEDS_INPUT
    assert row.data["certificate"] == cloud_pem and row.data["remote_url"] == CLOUD_URL
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", row.data["sha256"])
    assert row.data["subject"] == "CN=hcx-cloud.avs.sim"
    assert row.message.startswith(
        f"HCX asks whether to trust the certificate of {CLOUD_URL}: check its "
        f"fingerprint (SHA-256 {row.data['sha256']})"
    )
    assert hcxsim_fast.control.state()["pairings"] == []

    other, _ = self_signed_certificate("someone-else")
    set_connection(plan, trusted_cloud_certificate=other)
    row = run(plan, SetupStepKey.PAIR)
    assert (
        row.state == StepState.NEEDS_INPUT and "differs from the certificate accepted before" in row.message
    )

    # The page stores what it showed; line endings and spacing may differ.
    set_connection(plan, trusted_cloud_certificate=cloud_pem.replace("\n", "\r\n") + "  \n")
    row = run(plan, SetupStepKey.PAIR)

    assert (row.state, row.message) == (StepState.DONE, "")
    [pairing] = hcxsim_fast.control.state()["pairings"]
    assert row.data == {
        "endpoint_id": pairing["endpointId"],
        "remote_url": CLOUD_URL,
        "remote_name": "avs-hcx-cloud",
    }


def test_a_session_that_expires_mid_job_is_renewed(hcxsim_fast, cloud_pem, vcenter_pem):
    plan = make_setup_plan(hcxsim_fast, trusted_cloud_certificate=cloud_pem)
    accept_vcenter(plan, vcenter_pem)
    run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER)
    expired = []

    def clock():
        if not expired:  # the pairing was sent; as the wait for its job starts, HCX forgets every session
            hcxsim_fast.control.fault("expire_sessions")
            expired.append(True)
        return time.monotonic()

    ctx = Context(fresh_plan(plan), Job.objects.create(kind="hcx.setup", name="t"))
    ctx.waiter = dataclasses.replace(ctx.waiter, clock=clock)
    row = run(plan, SetupStepKey.PAIR, ctx=ctx)

    assert expired and row.state == StepState.DONE, row.message
    state = hcxsim_fast.control.state()
    assert [p["url"] for p in state["pairings"]] == [CLOUD_URL] and state["sessions"] == 1


def test_a_wrong_cloudadmin_password_fails_the_pairing_without_echoing_it(
    hcxsim_fast, cloud_pem, vcenter_pem
):
    key = issue_key(hcxsim_fast, "pasted")
    plan = make_setup_plan(
        hcxsim_fast,
        azure=False,
        activation_key=key,
        cloud_url=CLOUD_URL,
        cloud_username=CLOUD_USER,
        cloud_password="Not-The-Cloud-Passw0rd",
        trusted_cloud_certificate=cloud_pem,
    )
    accept_vcenter(plan, vcenter_pem)

    row = run(plan, *CONNECT)

    assert (row.step, row.state) == (SetupStepKey.PAIR, StepState.FAILED)
    assert row.message.startswith(
        f"The HCX at {CLOUD_URL} refused the user name or password for {CLOUD_USER}"
    )
    assert "Not-The-Cloud-Passw0rd" not in recorded(plan)


# --- through the worker -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_connect_steps_end_to_end(
    celery_worker, hcxsim_fast, cloud_pem, engineer, vcenter_pem
):
    plan = make_setup_plan(hcxsim_fast, trusted_cloud_certificate=cloud_pem)
    accept_vcenter(plan, vcenter_pem)

    job = start_setup(engineer, plan, ["avs", "activate", "register", "pair"])

    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status__in=JobStatus.TERMINAL).first(),
        timeout=120,
        message="the set-up job to finish",
    )
    assert job.status == JobStatus.COMPLETED, (job.error, events(plan))
    assert set(job.data["steps"]) == {"avs", "activate", "register", "pair"}
    rows = HcxSetupStep.objects.filter(plan=plan)
    assert {r.step: (r.state, r.job_id) for r in rows} == dict.fromkeys(CONNECT, (StepState.DONE, job.pk))
    state = hcxsim_fast.control.state()
    assert state["activation"] and state["vcenter"]["url"] == "https://vcsa-onprem.local"
    assert state["sso"]["lookupServiceUrl"] == SSO_URL
    assert state["location"]["city"] == "Amsterdam"
    assert [p["url"] for p in state["pairings"]] == [CLOUD_URL]
    [site] = state["hcxEnterpriseSites"]
    text = recorded(plan)
    for secret in secrets_of(hcxsim_fast, site["properties"]["activationKey"]):
        assert secret not in text


def test_what_hcx_answered_is_shown_to_engineers_and_admins_only(
    hcxsim_fast, vcenter_pem, client_for, engineer, admin_user, planner, stakeholder
):
    """A planner or stakeholder reads that the call failed and how (HTTP 503); the words of HCX's answer
    are for those who configure the connection."""
    from django.urls import reverse

    plan = make_setup_plan(hcxsim_fast)
    accept_vcenter(plan, vcenter_pem)
    run(plan, SetupStepKey.AVS, SetupStepKey.ACTIVATE)
    hcxsim_fast.control.fault("error", port="admin", path="/global/config/lookupservice", status=503)
    row = run(plan, SetupStepKey.REGISTER)
    assert "Simulated fault" in row.message
    job = Job.objects.create(kind="hcx.setup", name="Set up", status=JobStatus.FAILED, error=row.message)
    JobEvent.objects.create(job=job, seq=1, level="error", message=row.message)

    def shown(user) -> list[str]:
        client = client_for(user)
        return [
            client.get(reverse("hcx:hcxplan_setup", args=[plan.pk])).content.decode(),
            client.get(f"/api/hcx-plans/{plan.pk}/setup/").content.decode(),
            client.get(job.get_absolute_url()).content.decode(),
            client.get(f"/api/jobs/{job.pk}/").content.decode(),
            client.get(f"/api/jobs/{job.pk}/events/").content.decode(),
        ]

    for user in (planner, stakeholder):
        for text in shown(user):
            assert "answered HTTP 503" in text or "job" in text
            assert "Simulated fault" not in text
    for user in (engineer, admin_user):
        assert ["Simulated fault" in text for text in shown(user)] == [True] * 5
