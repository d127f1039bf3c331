"""The Connector deployment as a plan's "deploy" set-up step: a background job against the vCenter
simulator, with the appliance passwords read from the plan's HCX connection."""

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType

from core.choices import JobStatus
from core.jobs import JobError, run
from core.models import AuditEntry, Job, JobEvent
from hcx.choices import ProfileKind, SetupStepKey, StepState
from hcx.deploy.jobs import KIND, start_connector_deployment
from hcx.deploy.placement import Placement
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep
from hcx.setup.runner import SetupBusy
from inventory.models import VCenter
from tests.conftest import make_user
from tests.ova import build_ova
from tests.peers.worker import wait_for
from tests.test_hcx_deploy import (  # noqa: F401
    ADMIN_PASSWORD,
    ROOT_PASSWORD,
    appliance_fixture,
    ovf_values,
    vms_named,
)
from tests.test_hcx_plan_checks import make_plan

PLACEMENT = Placement(datacenter="DC0", cluster="DC0_C0", datastore="LocalDS_0")


def make_deploy_plan(
    sim, appliance_url: str, *, name="Main datacenter", hostname="hcx-connector.example.com", passwords=True
) -> HcxPlan:
    """A sound plan whose vCenter is the simulator `sim`, whose management port group is one the
    simulator has, and whose connection says where the appliance API answers."""
    vcenter = VCenter.objects.create(
        name=f"onprem-{uuid.uuid4().hex[:6]}",
        url=sim.url,
        username=sim.username,
        password=sim.password,
        verify_tls=False,
    )
    plan = make_plan(
        name,
        networks=0,
        vcenter=vcenter,
        connector_hostname=hostname,
        profiles={ProfileKind.MANAGEMENT: {"port_group": "DC0_DVPG0"}},
    )
    HcxConnection.objects.create(
        plan=plan,
        appliance_url=appliance_url,
        admin_password=ADMIN_PASSWORD if passwords else "",
        root_password=ROOT_PASSWORD if passwords else "",
    )
    return plan


def deploy_step(plan) -> HcxSetupStep:
    return HcxSetupStep.objects.get(plan=plan, step=SetupStepKey.DEPLOY)


@pytest.fixture
def ova_dir(settings, tmp_path):
    settings.HCX_OVA_DIR = tmp_path / "ova"
    settings.HCX_OVA_DIR.mkdir()
    build_ova(settings.HCX_OVA_DIR)
    return settings.HCX_OVA_DIR


@pytest.fixture
def sim(vcsim):
    return vcsim(vm=1, fresh=True)  # a simulator of its own: these tests add VMs


@pytest.mark.django_db(transaction=True)
def test_the_worker_deploys_the_plans_connector_with_the_connections_passwords(
    celery_worker, vcsim, hcxsim, settings
):
    sim = vcsim(vm=1, fresh=True)
    # The worker reads HCX_OVA_DIR from its own settings, which are these tests' (same environment).
    settings.HCX_OVA_DIR.mkdir(parents=True, exist_ok=True)
    ova = build_ova(settings.HCX_OVA_DIR, name=f"test-{uuid.uuid4().hex[:8]}.ova")
    try:
        # The demo's arrangement: the HCX simulator's appliance API stands for the new appliance's.
        plan = make_deploy_plan(sim, hcxsim.admin_url, hostname="hcx-by-worker.example.com")
        engineer = make_user("engineer")

        job = start_connector_deployment(engineer, plan, ova.name, PLACEMENT, ssh_enabled=True)

        job = wait_for(
            lambda: Job.objects.filter(pk=job.pk, status__in=JobStatus.TERMINAL).first(),
            timeout=120,
            message="the deployment job to finish",
        )
    finally:
        ova.unlink()
    messages = list(JobEvent.objects.filter(job=job).values_list("message", flat=True))
    assert job.status == JobStatus.COMPLETED, (job.error, messages)
    assert job.object == plan and job.progress == 100 and job.data["imported"] is True
    for phase in (
        "Reading ",
        "Connecting to https://127.0.0.1:",
        "Creating the import spec",
        "Uploading disks",
        "powered on",
        f"Waiting for the appliance API at {hcxsim.admin_url}",
        "is up",
    ):
        assert any(phase in message for message in messages), (phase, messages)
    step = deploy_step(plan)
    assert step.state == StepState.DONE and step.job_id == job.pk
    assert (
        step.summary
        == f"VM hcx-by-worker imported and powered on, appliance API answering at {hcxsim.admin_url}"
    )
    assert step.data["vm"] == job.data["vm"]
    recorded = repr((job.params, job.data, job.error, job.progress_text, messages, step.summary, step.data))
    assert ADMIN_PASSWORD not in recorded and ROOT_PASSWORD not in recorded
    audit = AuditEntry.objects.get(action="hcx_connector.deploy")
    assert audit.user == engineer and audit.object_id == plan.pk and ADMIN_PASSWORD not in repr(audit.detail)
    [vm] = vms_named(sim.connect(), "hcx-by-worker")
    assert vm["runtime.powerState"] == "poweredOn"
    values = ovf_values(vm["config"])
    assert values["mgr_cli_passwd"] == ADMIN_PASSWORD and values["mgr_root_passwd"] == ROOT_PASSWORD
    assert values["hostname"] == "hcx-by-worker.example.com" and values["mgr_ip_0"] == "192.168.10.9"
    assert values["mgr_domain_search_list"] == "example.com" and values["mgr_isSSHEnabled"] == "True"
    assert [net.name for net in vm["network"]] == ["DC0_DVPG0"]


@pytest.mark.django_db
def test_missing_passwords_fail_the_job_and_the_step_with_where_to_set_them(sim, ova_dir, appliance):
    plan = make_deploy_plan(sim, appliance, hostname="hcx-nopw", passwords=False)
    job = start_connector_deployment(make_user("engineer"), plan, "hcx-connector.ova", PLACEMENT)

    run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "has no appliance admin password and no appliance root password" in job.error
    assert f"/hcx/plans/{plan.pk}/connection/" in job.error
    step = deploy_step(plan)
    assert step.state == StepState.FAILED and step.message == job.error and step.job_id == job.pk
    assert vms_named(sim.connect(), "hcx-nopw") == []


@pytest.mark.django_db
def test_deploying_again_finds_the_vm_imports_nothing_and_needs_no_passwords(sim, ova_dir, appliance):
    plan = make_deploy_plan(sim, appliance, hostname="hcx-twice")
    engineer = make_user("engineer")
    first = start_connector_deployment(engineer, plan, "hcx-connector.ova", PLACEMENT)
    run(first.pk)
    first.refresh_from_db()
    assert first.status == JobStatus.COMPLETED, first.error
    HcxConnection.objects.filter(plan=plan).update(admin_password="", root_password="")

    second = start_connector_deployment(engineer, plan, "hcx-connector.ova", PLACEMENT)
    run(second.pk)

    second.refresh_from_db()
    assert second.status == JobStatus.COMPLETED, second.error
    assert second.data["imported"] is False and second.data["vm"] == first.data["vm"]
    assert len(vms_named(sim.connect(), "hcx-twice")) == 1
    step = deploy_step(plan)
    assert step.state == StepState.DONE and step.job_id == second.pk
    assert step.summary.startswith("VM hcx-twice powered on, appliance API answering at ")


@pytest.mark.django_db
def test_the_job_fails_clearly_and_imports_nothing_when_the_ova_went_bad_after_queueing(
    sim, ova_dir, appliance
):
    plan = make_deploy_plan(sim, appliance, hostname="hcx-broken")
    job = start_connector_deployment(make_user("engineer"), plan, "hcx-connector.ova", PLACEMENT)
    build_ova(ova_dir, ovf="<Envelope/>")  # replaced while the job waited for a worker

    run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "has no VirtualSystem" in job.error
    assert deploy_step(plan).state == StepState.FAILED
    assert vms_named(sim.connect(), "hcx-broken") == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["../hcx-connector.ova", "/etc/hcx-connector.ova", "sub/../../outside.ova"])
def test_an_ova_outside_the_folder_is_refused_before_anything_is_queued(sim, ova_dir, appliance, name):
    build_ova(ova_dir.parent, name="outside.ova")
    plan = make_deploy_plan(sim, appliance)

    with pytest.raises(JobError, match="is outside the OVA folder"):
        start_connector_deployment(make_user("engineer"), plan, name, PLACEMENT)

    assert not Job.objects.filter(kind=KIND).exists()


@pytest.mark.django_db
def test_a_symlink_out_of_the_folder_is_refused(sim, ova_dir, appliance):
    (ova_dir / "linked.ova").symlink_to(build_ova(ova_dir.parent, name="elsewhere.ova"))
    plan = make_deploy_plan(sim, appliance)

    with pytest.raises(JobError, match="linked.ova is outside the OVA folder"):
        start_connector_deployment(make_user("engineer"), plan, "linked.ova", PLACEMENT)


@pytest.mark.django_db
def test_a_deployment_is_refused_while_a_setup_job_of_the_plan_runs(sim, ova_dir, appliance):
    plan = make_deploy_plan(sim, appliance)
    running = Job.objects.create(
        kind="hcx.setup",
        name="HCX set-up",
        status=JobStatus.RUNNING,
        object_type=ContentType.objects.get_for_model(HcxPlan),
        object_id=plan.pk,
    )

    with pytest.raises(SetupBusy) as caught:
        start_connector_deployment(make_user("engineer"), plan, "hcx-connector.ova", PLACEMENT)

    assert caught.value.job == running
    assert not Job.objects.filter(kind=KIND).exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_the_request_is_checked_before_it_is_queued(sim, ova_dir, appliance):
    plan = make_deploy_plan(sim, appliance)
    engineer = make_user("engineer")
    (ova_dir / "notes.ova").write_text("not a tar")

    with pytest.raises(JobError, match="notes.ova is not an OVA"):
        start_connector_deployment(engineer, plan, "notes.ova", PLACEMENT)
    with pytest.raises(
        JobError,
        match="There is no OVA named missing.ova in .*; the folder holds: hcx-connector.ova, notes.ova",
    ):
        start_connector_deployment(engineer, plan, "missing.ova", PLACEMENT)
    HcxPlan.objects.filter(pk=plan.pk).update(connector_gateway="10.9.9.1")
    plan.refresh_from_db()
    with pytest.raises(JobError, match="gateway 10.9.9.1 is outside the Connector's subnet 192.168.10.0/24"):
        start_connector_deployment(engineer, plan, "hcx-connector.ova", PLACEMENT)
    VCenter.objects.filter(pk=plan.vcenter_id).update(url="")
    plan.refresh_from_db()
    with pytest.raises(JobError, match="has no URL and user name to connect with"):
        start_connector_deployment(engineer, plan, "hcx-connector.ova", PLACEMENT)
    assert not Job.objects.filter(kind=KIND).exists()
