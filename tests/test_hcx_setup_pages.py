"""The HCX set-up page, its buttons, the pairing's certificate prompt and the connection form.

Engineers act; planners and stakeholders read; users without a role are refused. Jobs are only
enqueued here (nothing runs them); tests/test_hcx_setup_browser.py runs them for real.
"""

import datetime
import re
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse

from core.choices import JobStatus
from core.models import AuditEntry, Job
from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxConnection, HcxPlan
from hcx.setup.forms import SECRETS as SECRET_FIELDS
from hcx.setup.forms import HcxConnectionForm
from hcx.setup.runner import KIND, ORDER, STEPS, load_steps, record
from tests.hcx_setup import make_setup_plan
from tests.test_hcx_plan_pages import form_data

pytestmark = pytest.mark.django_db

# A stand-in for the simulator's addresses: these tests render and enqueue, they never call HCX.
FAKE_SIM = SimpleNamespace(
    service_url="https://hcx-connector.example.test",
    admin_url="https://hcx-connector.example.test:9443",
    username="administrator@vsphere.local",
    password="Sim-Passw0rd!",
    client_id="portal-tests",
    client_secret="portal-tests-secret",
    arm_url="https://arm.example.test",
)
# Distinct, greppable secrets: none may ever appear in a response.
SECRETS = {
    "password": "Hcx-User-Secret-4711",
    "admin_password": "Appliance-Admin-Secret-4712",
    "root_password": "Appliance-Root-Secret-4713",
    "avs_client_secret": "Azure-Client-Secret-4714",
    "activation_key": "ACTIVATION-KEY-SECRET-4715",
    "cloud_password": "Cloud-Admin-Secret-4716",
}


def make_plan(name="Amsterdam", **connection) -> HcxPlan:
    return make_setup_plan(FAKE_SIM, name=name, **connection)


def setup_url(plan):
    return f"/hcx/plans/{plan.pk}/setup/"


def runnable():
    load_steps()
    return [key for key in ORDER if key in STEPS]


def self_signed(common_name="hcx-cloud.avs.example.test") -> tuple[str, str]:
    """A PEM certificate and its SHA-256 fingerprint as the pair step records them."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), cert.fingerprint(hashes.SHA256()).hex(
        ":"
    ).upper()


def ask_for_certificate(plan, pem, sha256, remote_url="https://hcx-cloud.avs.example.test"):
    """The state the pair step leaves when HCX asks whether to trust the Cloud Manager."""
    return record(
        plan,
        SetupStepKey.PAIR,
        StepState.NEEDS_INPUT,
        message=f"HCX asks whether to trust the certificate of {remote_url}",
        data={
            "certificate": pem,
            "sha256": sha256,
            "subject": "CN=hcx-cloud.avs.example.test",
            "remote_url": remote_url,
        },
    )


def running_job(plan, kind=KIND) -> Job:
    return Job.objects.create(
        kind=kind,
        name=f"HCX set-up of {plan}",
        status=JobStatus.RUNNING,
        object_type=ContentType.objects.get_for_model(HcxPlan),
        object_id=plan.pk,
    )


def done_until(plan, last_key):
    for key in ORDER[: ORDER.index(last_key) + 1]:
        record(plan, key, StepState.DONE, summary=f"{key} looks fine")


# --- who sees what ---------------------------------------------------------------------------------


def test_it_shows_an_engineer_the_checklist_in_order_with_the_buttons(client_for, engineer):
    plan = make_plan()
    page = client_for(engineer).get(setup_url(plan)).content.decode()
    titles = [str(SetupStepKey(k).label) for k in ORDER]
    positions = [page.index(title) for title in titles]
    assert positions == sorted(positions), "the steps are listed in the path's order"
    assert "Plan ready" in page
    assert "What to do next" in page
    assert "Run all remaining steps" in page
    assert reverse("hcx:hcxplan_setup_run", args=[plan.pk]) in page
    assert reverse("hcx:hcxplan_connection", args=[plan.pk]) in page
    # "Run" only where a step's prerequisites are done: at the start, the steps that need none.
    for key in runnable():
        if STEPS[key].needs:
            assert f'value="{key}"' not in page, f"no Run button yet for {key}"
        else:
            assert f'value="{key}"' in page, f"a Run button for {key}"
    assert "Waits for " in page


@pytest.mark.parametrize("persona", ["planner", "stakeholder"])
def test_planners_and_stakeholders_read_the_state_without_buttons(request, client_for, persona):
    plan = make_plan()
    record(plan, ORDER[1], StepState.FAILED, message="The service principal was refused")
    response = client_for(request.getfixturevalue(persona)).get(setup_url(plan))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The service principal was refused" in page and "Failed" in page
    assert "Run all remaining steps" not in page and ">Run<" not in page and "Run again" not in page
    assert reverse("hcx:hcxplan_setup_run", args=[plan.pk]) not in page
    assert reverse("hcx:hcxplan_connection", args=[plan.pk]) not in page
    assert (
        client_for(request.getfixturevalue(persona)).get(f"/hcx/plans/{plan.pk}/connection/").status_code
        == 403
    )


def test_a_user_without_a_role_is_refused_and_an_anonymous_one_sent_to_sign_in(client, client_for, outsider):
    plan = make_plan()
    response = client.get(setup_url(plan))
    assert response.status_code == 302 and "login" in response["Location"]
    outsider_client = client_for(outsider)
    for path in (setup_url(plan), f"/hcx/plans/{plan.pk}/connection/"):
        assert outsider_client.get(path).status_code == 403, path
    assert outsider_client.post(f"{setup_url(plan)}run/", {"remaining": "on"}).status_code == 403
    assert not Job.objects.exists()


def test_the_plan_page_leads_to_the_set_up_page(client_for, stakeholder):
    plan = make_plan()
    page = client_for(stakeholder).get(f"/hcx/plans/{plan.pk}/").content.decode()
    assert f'href="{setup_url(plan)}"' in page


def test_a_plan_with_errors_says_so_and_links_to_the_plan(client_for, engineer):
    plan = make_plan()
    plan.profiles.filter(kind="uplink").delete()
    page = client_for(engineer).get(setup_url(plan)).content.decode()
    assert re.search(r"The plan has \d+ errors?", page)
    assert f'href="/hcx/plans/{plan.pk}/"' in page


def test_the_next_step_is_the_first_not_done_and_says_what_to_do(client_for, planner):
    plan = make_plan()
    done_until(plan, SetupStepKey.ACTIVATE)
    record(plan, SetupStepKey.REGISTER, StepState.FAILED, message="SSO refused the user")
    page = client_for(planner).get(setup_url(plan)).content.decode()
    row = re.search(r'<tr data-step="register"[^>]*>', page).group(0)
    assert 'aria-current="step"' in row
    assert page.count('aria-current="step"') == 1
    assert "fix what the message says" in page and "SSO refused the user" in page
    assert "activate looks fine" in page, "what HCX showed for a step done"


def test_every_step_done_says_the_set_up_is_complete(client_for, engineer):
    plan = make_plan()
    done_until(plan, ORDER[-1])
    page = client_for(engineer).get(setup_url(plan)).content.decode()
    assert "Every step is done" in page and 'aria-current="step"' not in page
    assert re.search(r"Run all remaining steps</button>", page) and "disabled>Run all remaining" in page


def test_the_deploy_row_links_to_the_deploy_page_once_it_exists(client_for, engineer, planner):
    plan = make_plan()
    try:
        url = reverse("hcx:hcxplan_deploy", args=[plan.pk])
    except NoReverseMatch:
        url = None
    engineer_page = client_for(engineer).get(setup_url(plan)).content.decode()
    assert 'data-step="deploy"' in engineer_page
    if url:
        assert f'href="{url}"' in engineer_page
        assert f'href="{url}"' not in client_for(planner).get(setup_url(plan)).content.decode()


# --- running steps ---------------------------------------------------------------------------------


def test_run_starts_a_job_for_that_step_with_an_audit_row(client_for, engineer):
    plan = make_plan()
    key = runnable()[0]
    response = client_for(engineer).post(f"{setup_url(plan)}run/", {"step": key})
    assert response.status_code == 302 and response["Location"] == setup_url(plan)
    job = Job.objects.get()
    assert job.kind == KIND and job.params == {"plan_id": plan.pk, "steps": [key]} and job.user == engineer
    assert job.object == plan
    audit = AuditEntry.objects.get(action="hcx_setup.run")
    assert audit.user == engineer and audit.detail["steps"] == [key] and audit.object_id == plan.pk
    page = client_for(engineer).get(setup_url(plan)).content.decode()
    assert f"Started job #{job.pk}" in page
    assert f'data-live-url="/jobs/{job.pk}/live/"' in page, "the job's live progress is on the page"
    assert 'id="job-events"' in page
    assert f'data-live-url="{setup_url(plan)}live/"' in page, "the checklist follows the plan live"


def test_run_all_remaining_runs_the_steps_not_done_in_order(client_for, engineer):
    plan = make_plan()
    steps = runnable()
    done = steps[:2]
    for key in done:
        record(plan, key, StepState.DONE, summary="fine")
    record(plan, steps[3], StepState.FAILED, message="it broke")
    client_for(engineer).post(f"{setup_url(plan)}run/", {"remaining": "on"})
    job = Job.objects.get()
    assert job.params["steps"] == [k for k in steps if k not in done]


def test_a_busy_plan_refuses_to_start_another_job_with_a_message(client_for, engineer):
    plan = make_plan()
    busy = running_job(plan)
    client = client_for(engineer)
    response = client.post(f"{setup_url(plan)}run/", {"step": runnable()[0]}, follow=True)
    page = response.content.decode()
    assert "already running" in page and f"#{busy.pk}" in page
    assert list(Job.objects.all()) == [busy]
    assert not AuditEntry.objects.filter(action="hcx_setup.run").exists()
    assert "disabled>Run all remaining steps" in page, "the buttons wait while a job runs"


def test_a_running_deploy_job_also_makes_the_plan_busy(client_for, engineer):
    plan = make_plan()
    running_job(plan, kind="hcx.deploy_connector")
    client_for(engineer).post(f"{setup_url(plan)}run/", {"remaining": "on"})
    assert Job.objects.count() == 1


def test_an_unknown_step_is_refused_and_nothing_starts(client_for, engineer):
    plan = make_plan()
    page = (
        client_for(engineer)
        .post(f"{setup_url(plan)}run/", {"step": "reboot-hcx"}, follow=True)
        .content.decode()
    )
    assert "no set-up step" in page and "reboot-hcx" in page
    assert not Job.objects.exists()


@pytest.mark.parametrize("persona", ["planner", "stakeholder"])
def test_readers_cannot_start_steps(request, client_for, persona):
    plan = make_plan()
    response = client_for(request.getfixturevalue(persona)).post(
        f"{setup_url(plan)}run/", {"remaining": "on"}
    )
    assert response.status_code == 403 and not Job.objects.exists()


@pytest.mark.django_db(transaction=True)  # the live endpoint reads through the reader threads
def test_the_checklist_follows_the_plans_live_stream_a_job_starting_and_ending_and_a_step_recorded(
    client_for, stakeholder
):
    plan = make_plan()
    client = client_for(stakeholder)
    page = client.get(setup_url(plan)).content.decode()
    assert "hx-trigger" not in page
    seq = int(re.search(r'data-live-url="[^"]*/setup/live/" data-live-seq="(\d+)"', page).group(1))
    live = f"{setup_url(plan)}live/?format=json&since="
    assert client.get(f"{live}{seq}").json() == {"seq": seq, "done": False}  # nothing changed
    job = running_job(plan)
    job.mark(JobStatus.RUNNING)
    body = client.get(f"{live}{seq}").json()
    assert body["seq"] > seq and 'data-busy="true"' in body["replace"]["setup-checklist"]
    job.mark(JobStatus.COMPLETED)
    record(plan, ORDER[0], StepState.DONE, summary="Connector answers", job=job)
    final = client.get(f"{live}{body['seq']}").json()["replace"]["setup-checklist"]
    assert 'data-busy="false"' in final and "Connector answers" in final and f"#{job.pk}" in final
    assert client.get(f"{live}0", HTTP_ACCEPT="application/json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_checklist_stream_is_refused_to_users_without_read_access(client, client_for, outsider):
    plan = make_plan()
    assert client.get(f"{setup_url(plan)}live/?format=json").status_code == 401
    assert client_for(outsider).get(f"{setup_url(plan)}live/?format=json").status_code == 403


# --- the pairing's certificate prompt ------------------------------------------------------------


def test_the_certificate_prompt_shows_subject_fingerprint_and_pem(client_for, engineer, stakeholder):
    plan = make_plan()
    pem, sha256 = self_signed()
    ask_for_certificate(plan, pem, sha256)
    page = client_for(engineer).get(setup_url(plan)).content.decode()
    assert "CN=hcx-cloud.avs.example.test" in page and sha256 in page
    assert re.search(r"<details.*-----BEGIN CERTIFICATE-----", page, re.S)
    assert "Trust this certificate and pair" in page
    reader = client_for(stakeholder).get(setup_url(plan)).content.decode()
    assert sha256 in reader and "Trust this certificate and pair" not in reader


def test_trusting_stores_the_certificate_audits_and_pairs_then_runs_the_rest(client_for, engineer):
    plan = make_plan()
    done_until(plan, ORDER[ORDER.index(SetupStepKey.PAIR) - 1])
    pem, sha256 = self_signed()
    ask_for_certificate(plan, pem, sha256)
    response = client_for(engineer).post(
        f"{setup_url(plan)}trust/", {"sha256": sha256, "then_remaining": "on"}
    )
    assert response.status_code == 302
    assert HcxConnection.objects.get(plan=plan).trusted_cloud_certificate == pem
    audit = AuditEntry.objects.get(action="hcx_certificate.trust")
    assert audit.user == engineer and audit.detail["sha256"] == sha256
    job = Job.objects.get()
    after = ORDER[ORDER.index(SetupStepKey.PAIR) :]
    assert job.params["steps"] == [k for k in after if k in STEPS]


def test_trusting_without_the_rest_runs_only_the_pairing(client_for, engineer):
    plan = make_plan()
    pem, sha256 = self_signed()
    ask_for_certificate(plan, pem, sha256)
    client_for(engineer).post(f"{setup_url(plan)}trust/", {"sha256": sha256})
    assert Job.objects.get().params["steps"] == [SetupStepKey.PAIR]


def test_a_certificate_that_changed_since_the_page_was_shown_is_not_trusted(client_for, engineer):
    plan = make_plan()
    pem, sha256 = self_signed()
    _, other = self_signed()
    ask_for_certificate(plan, pem, sha256)
    page = (
        client_for(engineer).post(f"{setup_url(plan)}trust/", {"sha256": other}, follow=True).content.decode()
    )
    assert "changed since the page was shown" in page
    assert HcxConnection.objects.get(plan=plan).trusted_cloud_certificate == ""
    assert not Job.objects.exists() and not AuditEntry.objects.filter(action="hcx_certificate.trust").exists()


def test_trusting_while_a_job_runs_stores_nothing(client_for, engineer):
    plan = make_plan()
    pem, sha256 = self_signed()
    ask_for_certificate(plan, pem, sha256)
    busy = running_job(plan)
    page = (
        client_for(engineer)
        .post(f"{setup_url(plan)}trust/", {"sha256": sha256}, follow=True)
        .content.decode()
    )
    assert "already running" in page
    assert HcxConnection.objects.get(plan=plan).trusted_cloud_certificate == ""
    assert list(Job.objects.all()) == [busy]
    assert not AuditEntry.objects.filter(action="hcx_certificate.trust").exists()


def ask_for_vcenter_certificate(plan, pem, sha256, remote_url="https://vcsa-onprem.example.test"):
    """The state the register step leaves when HCX answers "Untrusted SSL connection" for vCenter."""
    return record(
        plan,
        SetupStepKey.REGISTER,
        StepState.NEEDS_INPUT,
        message=f"HCX asks whether to trust the certificate of {remote_url}",
        data={
            "certificate": pem,
            "sha256": sha256,
            "subject": "CN=vcsa-onprem.example.test",
            "issuer": "CN=CA, DC=vsphere, DC=local",
            "remote_url": remote_url,
            "server": "vCenter",
        },
    )


def test_the_vcenter_certificate_prompt_shows_subject_issuer_and_fingerprint(
    client_for, engineer, stakeholder
):
    plan = make_plan()
    done_until(plan, SetupStepKey.ACTIVATE)
    pem, sha256 = self_signed("vcsa-onprem.example.test")
    ask_for_vcenter_certificate(plan, pem, sha256)

    page = client_for(engineer).get(setup_url(plan)).content.decode()

    assert "Trust the certificate of vCenter?" in page and "Untrusted SSL connection" in page
    assert "CN=vcsa-onprem.example.test" in page and "CN=CA, DC=vsphere, DC=local" in page and sha256 in page
    assert "Trust this certificate and register" in page and "Trust this certificate and pair" not in page
    assert "HCX does not trust the certificate of vCenter: check it below, then trust it to register." in page
    reader = client_for(stakeholder).get(setup_url(plan)).content.decode()
    assert sha256 in reader and "Trust this certificate and register" not in reader


def test_trusting_the_vcenter_certificate_keeps_it_on_the_step_and_registers_then_runs_the_rest(
    client_for, engineer
):
    plan = make_plan()
    done_until(plan, SetupStepKey.ACTIVATE)
    pem, sha256 = self_signed("vcsa-onprem.example.test")
    ask_for_vcenter_certificate(plan, pem, sha256)

    response = client_for(engineer).post(
        f"{setup_url(plan)}trust/", {"sha256": sha256, "then_remaining": "on"}, follow=True
    )

    assert (
        "Certificate trusted. Started job #" in response.content.decode()
        and "to register." in response.content.decode()
    )
    row = plan.setup_steps.get(step=SetupStepKey.REGISTER)
    assert row.data["trusted_certificates"] == [pem]
    assert HcxConnection.objects.get(plan=plan).trusted_cloud_certificate == ""
    audit = AuditEntry.objects.get(action="hcx_certificate.trust")
    assert audit.detail["step"] == SetupStepKey.REGISTER and audit.detail["sha256"] == sha256
    after = ORDER[ORDER.index(SetupStepKey.REGISTER) :]
    assert Job.objects.get().params["steps"] == [k for k in after if k in STEPS]


def test_the_set_up_page_says_when_hcx_refuses_the_stored_password(client_for, engineer, settings):
    plan = make_plan()
    HcxConnection.objects.filter(plan=plan).update(
        login_failures=settings.HCX_LOGIN["MAX_FAILURES"], login_refusal="Invalid username or password"
    )

    page = client_for(engineer).get(setup_url(plan)).content.decode()

    assert (
        "HCX refuses the stored password of administrator@vsphere.local (3 failed logins in a row; HCX said: "
        "Invalid username or password). The portal stopped logging in"
    ) in page
    assert f'href="/hcx/plans/{plan.pk}/connection/">Change the HCX connection' in page


def test_saving_a_new_password_lets_the_portal_log_in_again(client_for, engineer):
    plan = make_plan(**SECRETS)
    HcxConnection.objects.filter(plan=plan).update(
        login_failures=3, login_refusal="Invalid username or password"
    )
    connection = HcxConnection.objects.get(plan=plan)
    client = client_for(engineer)

    client.post(f"/hcx/plans/{plan.pk}/connection/", connection_post(connection, location_city="Rotterdam"))
    connection.refresh_from_db()
    assert connection.login_failures == 3  # nothing new to try
    client.post(f"/hcx/plans/{plan.pk}/connection/", connection_post(connection, password="The-New-Passw0rd"))

    connection.refresh_from_db()
    assert (connection.login_failures, connection.login_refusal) == (0, "")
    assert "HCX refuses the stored password" not in client.get(setup_url(plan)).content.decode()


def test_there_is_nothing_to_trust_when_the_pairing_does_not_ask(client_for, engineer):
    plan = make_plan()
    page = (
        client_for(engineer)
        .post(f"{setup_url(plan)}trust/", {"sha256": "AB:CD"}, follow=True)
        .content.decode()
    )
    assert "No certificate is waiting" in page and not Job.objects.exists()


@pytest.mark.parametrize("persona", ["planner", "stakeholder"])
def test_readers_cannot_trust_a_certificate(request, client_for, persona):
    plan = make_plan()
    pem, sha256 = self_signed()
    ask_for_certificate(plan, pem, sha256)
    response = client_for(request.getfixturevalue(persona)).post(
        f"{setup_url(plan)}trust/", {"sha256": sha256}
    )
    assert response.status_code == 403
    assert HcxConnection.objects.get(plan=plan).trusted_cloud_certificate == ""


# --- the connection form ---------------------------------------------------------------------------

AZURE_FIELDS = (
    "avs_subscription_id",
    "avs_resource_group",
    "avs_private_cloud",
    "avs_tenant_id",
    "avs_client_id",
)
AZURE_SECRETS = ("avs_client_secret",)


def connection_post(connection: HcxConnection, **changes) -> dict:
    """What the form posts for an unchanged connection: every secret input left blank."""
    data = {}
    for name in HcxConnectionForm.Meta.fields:
        if name in SECRET_FIELDS:
            data[name] = ""
        elif name == "verify_tls":
            if connection.verify_tls:
                data[name] = "on"
        else:
            data[name] = getattr(connection, name) or ""
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def form_errors(response) -> list[str]:
    return re.findall(r'class="text-danger small">([^<]*)<', response.content.decode())


def test_the_form_never_renders_a_stored_secret_and_says_which_are_stored(client_for, engineer):
    plan = make_plan(**SECRETS)
    page = client_for(engineer).get(f"/hcx/plans/{plan.pk}/connection/").content.decode()
    for secret in SECRETS.values():
        assert secret not in page
    for name in SECRETS:
        assert re.search(rf'data-testid="secret-{name}">stored<', page), name
        assert re.search(rf'<input type="password" name="{name}"(?![^>]*value=)', page), name
    assert "service principal" in page and "activation key pasted from the Azure portal" in page


def test_blank_secrets_keep_what_is_stored_and_the_audit_names_fields_only(client_for, engineer):
    plan = make_plan(**SECRETS)
    connection = HcxConnection.objects.get(plan=plan)
    data = connection_post(connection, location_city="Rotterdam", admin_password="New-Admin-Secret-9999")
    response = client_for(engineer).post(f"/hcx/plans/{plan.pk}/connection/", data)
    assert response.status_code == 302 and response["Location"] == setup_url(plan), form_errors(response)
    connection.refresh_from_db()
    assert connection.location_city == "Rotterdam" and connection.admin_password == "New-Admin-Secret-9999"
    for name, value in SECRETS.items():
        if name != "admin_password":
            assert getattr(connection, name) == value, name
    audit = AuditEntry.objects.get(action="hcx_connection.change")
    assert audit.user == engineer and audit.detail["fields"] == ["admin_password", "location_city"]
    assert "New-Admin-Secret-9999" not in repr(audit.detail)


def test_forget_clears_a_stored_secret(client_for, engineer):
    plan = make_plan(**SECRETS)
    connection = HcxConnection.objects.get(plan=plan)
    client_for(engineer).post(
        f"/hcx/plans/{plan.pk}/connection/", connection_post(connection, activation_key_forget="on")
    )
    connection.refresh_from_db()
    assert connection.activation_key == "" and connection.password == SECRETS["password"]


def test_the_form_creates_the_connection_when_the_plan_has_none(client_for, engineer):
    plan = make_plan()
    HcxConnection.objects.filter(plan=plan).delete()
    client = client_for(engineer)
    page = client.get(f"/hcx/plans/{plan.pk}/connection/").content.decode()
    assert 'data-testid="secret-password">not set<' in page
    response = client.post(
        f"/hcx/plans/{plan.pk}/connection/",
        {
            "connector_url": "https://hcx.corp.example",
            "username": "administrator@vsphere.local",
            "password": "First-Secret-1",
            "verify_tls": "on",
            "activation_key": "KEY-1",
            "cloud_url": "https://hcx-cloud.example",
            "cloud_username": "cloudadmin@vsphere.local",
            "cloud_password": "Cloud-1",
        },
    )
    assert response.status_code == 302
    connection = HcxConnection.objects.get(plan=plan)
    assert connection.password == "First-Secret-1" and connection.activation_key == "KEY-1"
    assert AuditEntry.objects.get(action="hcx_connection.add").detail["fields"][:3] == [
        "activation_key",
        "cloud_password",
        "cloud_url",
    ]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"connector_url": "not a url"}, "Enter a valid URL"),
        ({"connector_url": "ftp://hcx.corp.example"}, "Enter a valid URL"),
        ({"avs_client_id": ""}, "Needed for the Azure service principal: the client id is missing"),
        (
            {
                "cloud_username": "",
                **{f: "" for f in AZURE_FIELDS},
                **{f"{f}_forget": "on" for f in AZURE_SECRETS},
            },
            "Needed for the pasted activation key path: the cloudadmin user is missing",
        ),
        ({"ca_certificates": "hello"}, "These are not PEM certificates"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_changes(client_for, engineer, changes, message):
    plan = make_plan(
        **SECRETS, cloud_url="https://hcx-cloud.example", cloud_username="cloudadmin@vsphere.local"
    )
    connection = HcxConnection.objects.get(plan=plan)
    before = {
        f.name: getattr(connection, f.name) for f in HcxConnection._meta.fields if f.name != "last_updated"
    }
    response = client_for(engineer).post(
        f"/hcx/plans/{plan.pk}/connection/",
        connection_post(connection, password="Typed-But-Refused-1", **changes),
    )
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert "Typed-But-Refused-1" not in page and SECRETS["password"] not in page
    connection.refresh_from_db()
    assert {f: getattr(connection, f) for f in before} == before
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)  # the live checklist reads through the reader threads
def test_no_page_or_answer_ever_carries_a_stored_secret(client_for, engineer, stakeholder):
    plan = make_plan(**SECRETS)
    pem, sha256 = self_signed()
    ask_for_certificate(plan, pem, sha256)
    client = client_for(engineer)
    bodies = [
        client.get(setup_url(plan)),
        client.get(f"{setup_url(plan)}live/?format=json&since=0"),
        client.get(f"/hcx/plans/{plan.pk}/connection/"),
        client.post(
            f"/hcx/plans/{plan.pk}/connection/",
            connection_post(HcxConnection.objects.get(plan=plan), connector_url="bad"),
        ),
        client.get(f"/hcx/plans/{plan.pk}/"),
        client.get(f"/api/hcx-plans/{plan.pk}/setup/"),
        client.post(
            f"/api/hcx-plans/{plan.pk}/setup/", {"steps": [runnable()[0]]}, content_type="application/json"
        ),
        client.get(f"/api/hcx-plans/{plan.pk}/"),
        client_for(stakeholder).get(setup_url(plan)),
    ]
    assert [r.status_code for r in bodies] == [200, 200, 200, 400, 200, 200, 202, 200, 200]
    job = Job.objects.get()
    recorded = repr((job.params, job.name, list(AuditEntry.objects.values_list("detail", flat=True))))
    for secret in SECRETS.values():
        for response in bodies:
            assert secret not in response.content.decode(), (secret, response.request["PATH_INFO"])
        assert secret not in recorded


# --- queries ---------------------------------------------------------------------------------------


def test_the_page_queries_stay_bounded_whatever_the_history(
    client_for, engineer, django_assert_max_num_queries
):
    plan = make_plan()
    client = client_for(engineer)
    client.get(setup_url(plan))  # warm the session and content-type caches
    with django_assert_max_num_queries(25) as few:
        assert client.get(setup_url(plan)).status_code == 200
    for key in ORDER:
        job = Job.objects.create(
            kind=KIND,
            name=key,
            status=JobStatus.COMPLETED,
            object_type=ContentType.objects.get_for_model(HcxPlan),
            object_id=plan.pk,
        )
        record(
            plan,
            key,
            StepState.DONE if key != ORDER[-1] else StepState.FAILED,
            job=job,
            summary=key,
            message="broken",
        )
    job = running_job(plan)
    for number in range(30):
        job.log(f"line {number}")
    with django_assert_max_num_queries(len(few) + 2):  # + the running job's log, + its user
        page = client.get(setup_url(plan)).content.decode()
    assert page.count('data-seq="') == 30


# --- the plan form's extension gateways -----------------------------------------------------------


def test_the_plan_form_takes_one_gateway_per_line_and_shows_them_back(client_for, engineer):
    client = client_for(engineer)
    data = form_data(extension_gateways="App-VLAN101 10.10.101.1/24\n\n  App VLAN 102   10.10.102.1/23  \n")
    response = client.post("/hcx/plans/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = HcxPlan.objects.get(name="Rotterdam")
    assert plan.extension_gateways == {"App-VLAN101": "10.10.101.1/24", "App VLAN 102": "10.10.102.1/23"}
    form = client.get(f"/hcx/plans/{plan.pk}/edit/").content.decode()
    assert "App-VLAN101 10.10.101.1/24\nApp VLAN 102 10.10.102.1/23" in form


@pytest.mark.parametrize(
    "text, message",
    [
        ("App-VLAN101 10.10.101.1/24\nApp-VLAN102", "Line 2 (“App-VLAN102”): give the network's name"),
        ("App-VLAN101 10.10.101.1", "Line 1 (App-VLAN101): '10.10.101.1' has no prefix"),
        ("App-VLAN101 10.10.101.0/24", "Line 1 (App-VLAN101): '10.10.101.0/24' is the network's own address"),
        ("A 10.0.0.1/24\nB 10.0.1.1/24\nA 10.0.2.1/24", "Line 3 (A): this network already has a gateway"),
        ("App-VLAN101 gateway/24", "Line 1 (App-VLAN101): 'gateway/24' is not a gateway/prefix"),
    ],
)
def test_a_bad_gateway_line_is_refused_naming_the_line(client_for, engineer, text, message):
    response = client_for(engineer).post("/hcx/plans/add/", form_data(extension_gateways=text))
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert not HcxPlan.objects.exists()


def test_the_plan_page_shows_each_gateway_beside_its_network(client_for, planner):
    plan = make_plan()
    plan.extension_gateways = {"App-VLAN101": "10.10.101.1/24"}
    plan.save()
    page = client_for(planner).get(f"/hcx/plans/{plan.pk}/").content.decode()
    assert "App-VLAN101 (VLAN 101) · gateway 10.10.101.1/24" in page
    assert "App-VLAN102 (VLAN 102) · <span" in page and "no gateway given" in page
