"""The "hcx.deploy_connector" job, the action that starts it, and the deployment both it and
`manage.py deploy_connector` run: the "deploy" step of a plan's HCX set-up.

Params hold references and the spec without passwords:
`{"plan_id": 3, "ova": "hcx-connector.ova", "spec": {...}, "wait_seconds": 900}`. The two
appliance passwords are read from the plan's HcxConnection (encrypted at rest) only when an
import needs them, so they never pass through Job.params, Job.data, the job's log or a cache.
"""

from django.db import transaction
from django.urls import NoReverseMatch, reverse

from core.choices import AuditAction, EventLevel
from core.jobs import JobCancelled, JobError, job_handler
from core.models import AuditEntry, Job
from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep
from hcx.setup.runner import SetupBusy, active_setup_job, record
from inventory.discovery.connect import connect, disconnect, parse_url

from .deploy import DEFAULT_WAIT_SECONDS, deploy_connector
from .library import resolve_ova
from .ova import open_package
from .placement import Placement, check_placement, connector_spec
from .spec import ConnectorSpec

KIND = "hcx.deploy_connector"
STEP = SetupStepKey.DEPLOY
PASSWORD_FIELDS = ("admin_password", "root_password")


def connection_page(plan: HcxPlan) -> str:
    """Where the appliance passwords are entered: the connection form, else the plan's set-up page."""
    for name in ("hcx:hcxplan_connection", "hcx:hcxplan_setup", "hcx:hcxplan"):
        try:
            return reverse(name, args=[plan.pk])
        except NoReverseMatch:
            continue
    return f"/hcx/plans/{plan.pk}/"


def missing_passwords(plan: HcxPlan) -> list[str]:
    connection = HcxConnection.objects.filter(plan=plan).first()
    return [
        str(HcxConnection._meta.get_field(name).verbose_name)
        for name in PASSWORD_FIELDS
        if connection is None or not getattr(connection, name)
    ]


def read_passwords(plan: HcxPlan) -> tuple[str, str]:
    """(admin, root) from the plan's connection, read fresh: a password set after the job was
    started is the one used."""
    missing = missing_passwords(plan)
    if missing:
        raise JobError(
            f"The HCX connection of {plan} has no {' and no '.join(missing)}: the new appliance is given "
            f"these at deployment. Set them on the plan's connection page ({connection_page(plan)}) and "
            "deploy again."
        )
    connection = HcxConnection.objects.get(plan=plan)
    return connection.admin_password, connection.root_password


def wait_url(plan: HcxPlan, spec: ConnectorSpec) -> str:
    """The appliance API to wait for: the connection's, else https://<Connector IP>:9443/."""
    connection = HcxConnection.objects.filter(plan=plan).first()
    return (connection.effective_appliance_url if connection else "") or f"https://{spec.ip}:9443/"


def prepare_deployment(plan: HcxPlan, ova: str, placement: Placement, *, ssh_enabled: bool = False):
    """Check everything that can be checked before a job is queued; returns (OVA path, spec).

    Raises JobError with a message for the user: OVA outside the folder or not a Connector OVA,
    a plan without a connectable vCenter, a placement not in the vCenter's inventory, settings
    the appliance would not boot with."""
    path = resolve_ova(ova)
    vcenter = plan.vcenter
    if vcenter is None:
        raise JobError(f"Plan {plan} has no on-premises vCenter: choose it on the plan first.")
    if not vcenter.can_discover:
        raise JobError(
            f"vCenter {vcenter} has no URL and user name to connect with: add them under vCenter connections."
        )
    problems = check_placement(plan, placement)
    if problems:
        raise JobError(" ".join(problems.values()))
    spec = connector_spec(plan, placement, ssh_enabled=ssh_enabled)
    spec.check_against(open_package(path))
    return path, spec


def start_connector_deployment(
    acting_user,
    plan: HcxPlan,
    ova: str,
    placement: Placement,
    *,
    ssh_enabled: bool = False,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> Job:
    """Check the request, then enqueue the job and write the audit row in one transaction.

    Raises JobError for a request that cannot work, SetupBusy while a set-up or deployment job
    of the plan is still running."""
    path, spec = prepare_deployment(plan, ova, placement, ssh_enabled=ssh_enabled)
    with transaction.atomic():
        # Lock the plan row: two clicks must not start two deployments of the same appliance.
        plan = HcxPlan.objects.select_for_update().get(pk=plan.pk)
        busy = active_setup_job(plan)
        if busy is not None:
            raise SetupBusy(busy)
        job = Job.enqueue(
            KIND,
            name=f"Deploy HCX Connector {spec.vm_name} for {plan}",
            user=acting_user,
            obj=plan,
            params={
                "plan_id": plan.pk,
                "ova": path.name,
                "spec": spec.public_dict(),
                "wait_seconds": wait_seconds,
            },
        )
        AuditEntry.record(
            acting_user,
            AuditAction.HCX_CONNECTOR_DEPLOY,
            plan,
            job=job.pk,
            vm_name=spec.vm_name,
            ova=path.name,
            placement=placement.as_dict(),
        )
    return job


def run_deployment(
    plan: HcxPlan,
    ova: str,
    spec: ConnectorSpec,
    *,
    job: Job | None = None,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float | None = None,
    report=lambda percent, text: None,
    warn=lambda text: None,
    check_cancelled=lambda: None,
) -> dict:
    """Deploy (or find) the plan's Connector and wait for its appliance API, keeping the plan's
    "deploy" set-up step in step: RUNNING, then DONE with what vCenter and the appliance showed,
    or FAILED with the reason. Running it again for a VM that exists imports nothing."""
    row = record(plan, STEP, StepState.RUNNING, job=job)
    if job is None and row.job_id is not None:  # run from the shell: an older job's link would mislead
        HcxSetupStep.objects.filter(pk=row.pk).update(job=None)
    try:
        vcenter = plan.vcenter
        if vcenter is None or not vcenter.can_discover:
            raise JobError(
                f"vCenter {vcenter or '(none)'} of plan {plan} has no URL and user name to connect with"
            )
        path = resolve_ova(ova)  # again: the folder may have changed since the job was queued
        report(0, f"Reading {path.name}")
        package = open_package(path)
        report(
            0,
            f"{package}: OVF descriptor {package.descriptor_name}, {len(package.files)} file(s), "
            f"networks {', '.join(package.networks) or 'none'}",
        )
        url = wait_url(plan, spec)
        endpoint = parse_url(vcenter.url)
        report(0, f"Connecting to {endpoint}")
        si = connect(vcenter.url, vcenter.username, vcenter.password, verify_tls=vcenter.verify_tls)
        try:
            extra = {"poll_seconds": poll_seconds} if poll_seconds is not None else {}
            result = deploy_connector(
                si,
                package,
                spec,
                nfc_host=f"{endpoint.host}:{endpoint.port}",
                verify_tls=vcenter.verify_tls,
                passwords=lambda: read_passwords(plan),
                answer_check=url,
                wait_seconds=wait_seconds,
                report=report,
                warn=warn,
                check_cancelled=check_cancelled,
                **extra,
            )
        finally:
            disconnect(si)
    except JobError as exc:
        record(plan, STEP, StepState.FAILED, message=str(exc))
        raise
    except JobCancelled:
        record(plan, STEP, StepState.FAILED, message="Cancelled by request; deploy again to go on.")
        raise
    except BaseException as exc:  # a crash still leaves the step in a true state
        record(plan, STEP, StepState.FAILED, message=f"Stopped: {type(exc).__name__}: {exc}"[:2000])
        raise
    verb = "imported and powered on" if result["imported"] else "powered on"
    summary = f"VM {result['vm_name']} {verb}, appliance API answering at {result['url']}"
    record(plan, STEP, StepState.DONE, summary=summary, data={**result, "ova": path.name})
    return result


@job_handler(KIND)
def deploy_connector_job(job, plan_id: int, ova: str, spec: dict, wait_seconds: float = DEFAULT_WAIT_SECONDS):
    plan = HcxPlan.objects.select_related("vcenter").filter(pk=plan_id).first()
    if plan is None:
        raise JobError(f"HCX plan #{plan_id} no longer exists")
    last = {"text": None}

    def report(percent, text):
        job.set_progress(percent, text)
        if text != last["text"]:
            job.log(text)
            last["text"] = text

    return run_deployment(
        plan,
        ova,
        ConnectorSpec.from_dict(spec),
        job=job,
        wait_seconds=wait_seconds,
        report=report,
        warn=lambda text: job.log(text, EventLevel.WARNING),
        check_cancelled=job.check_cancelled,
    )
