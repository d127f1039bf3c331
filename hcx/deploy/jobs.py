"""The "hcx.deploy_connector" job, and the action that starts it.

Params hold references and the spec without passwords:
`{"vcenter_id": 3, "ova_path": "/srv/ova/hcx.ova", "spec": {...}, "wait_url": "", "wait_seconds": 900}`.
The two appliance passwords travel separately (see secrets.py).
"""

from django.db import transaction

from core.choices import EventLevel
from core.jobs import JobError, job_handler
from core.models import AuditEntry, Job
from inventory.discovery.connect import connect, disconnect, parse_url
from inventory.models import VCenter

from .deploy import DEFAULT_WAIT_SECONDS, deploy_connector
from .ova import open_package
from .secrets import discard_connector_passwords, get_connector_passwords, stash_connector_passwords
from .spec import ConnectorSpec

KIND = "hcx.deploy_connector"


def start_connector_deployment(
    acting_user,
    vcenter: VCenter,
    ova_path: str,
    spec: ConnectorSpec,
    *,
    wait_url: str = "",
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> Job:
    """Check the spec, enqueue the job, hand over the passwords and write the audit row, in one transaction."""
    spec.validate()
    with transaction.atomic():
        job = Job.enqueue(
            KIND,
            name=f"Deploy HCX Connector {spec.vm_name}",
            user=acting_user,
            obj=vcenter,
            params={
                "vcenter_id": vcenter.pk,
                "ova_path": str(ova_path),
                "spec": spec.public_dict(),
                "wait_url": wait_url,
                "wait_seconds": wait_seconds,
            },
        )
        # Before commit: the worker gets the task only on commit, and then the passwords are there.
        stash_connector_passwords(job, spec.admin_password, spec.root_password)
        AuditEntry.record(
            acting_user, "hcx.connector.deploy", vcenter, job=job.pk, vm_name=spec.vm_name, ova=str(ova_path)
        )
    return job


@job_handler(KIND)
def deploy_connector_job(
    job,
    vcenter_id: int,
    ova_path: str,
    spec: dict,
    wait_url: str = "",
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
):
    vcenter = VCenter.objects.filter(pk=vcenter_id).first()
    if vcenter is None:
        raise JobError(f"vCenter #{vcenter_id} no longer exists")
    if not vcenter.can_discover:
        raise JobError(f"vCenter {vcenter} has no URL and user name to connect with")
    connector = ConnectorSpec.from_dict(spec)
    last = {"text": None}

    def report(percent, text):
        job.set_progress(percent, text)
        if text != last["text"]:
            job.log(text)
            last["text"] = text

    def warn(text):
        job.log(text, EventLevel.WARNING)

    try:
        job.log(f"Reading {ova_path}")
        package = open_package(ova_path)
        job.log(
            f"{package}: OVF descriptor {package.descriptor_name}, {len(package.files)} file(s), "
            f"networks {', '.join(package.networks) or 'none'}"
        )
        endpoint = parse_url(vcenter.url)
        job.log(f"Connecting to {endpoint}")
        si = connect(vcenter.url, vcenter.username, vcenter.password, verify_tls=vcenter.verify_tls)
        try:
            return deploy_connector(
                si,
                package,
                connector,
                nfc_host=f"{endpoint.host}:{endpoint.port}",
                verify_tls=vcenter.verify_tls,
                passwords=lambda: get_connector_passwords(job),
                answer_check=wait_url or None,
                wait_seconds=wait_seconds,
                report=report,
                warn=warn,
                check_cancelled=job.check_cancelled,
            )
        finally:
            disconnect(si)
    finally:
        discard_connector_passwords(job)
