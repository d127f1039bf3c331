"""The Connector deployment as a background job, run by a real Celery worker against the vCenter simulator."""

import pytest

from core.choices import JobStatus
from core.models import AuditEntry, Job, JobEvent
from hcx.deploy.jobs import start_connector_deployment
from inventory.models import VCenter
from tests.conftest import make_user
from tests.ova import build_ova
from tests.peers.vcsim import read_vms
from tests.peers.worker import wait_for
from tests.test_hcx_deploy import ADMIN_PASSWORD, ROOT_PASSWORD, appliance_fixture, make_spec  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_deploys_the_connector_and_never_records_a_password(
    celery_worker, vcsim, tmp_path, appliance
):
    sim = vcsim(vm=1, fresh=True)
    vcenter = VCenter.objects.create(
        name="onprem", url=sim.url, username=sim.username, password=sim.password, verify_tls=False
    )
    engineer = make_user("engineer")

    job = start_connector_deployment(
        engineer,
        vcenter,
        build_ova(tmp_path),
        make_spec(vm_name="hcx-by-worker"),
        wait_url=appliance,
        wait_seconds=30,
    )

    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status__in=JobStatus.TERMINAL).first(),
        timeout=120,
        message="the deployment job to finish",
    )
    messages = list(JobEvent.objects.filter(job=job).values_list("message", flat=True))
    assert job.status == JobStatus.COMPLETED, (job.error, messages)
    assert job.progress == 100 and job.data["imported"] is True
    for phase in (
        "Reading ",
        "Connecting to https://127.0.0.1:",
        "Creating the import spec",
        "Uploading disks",
        "powered on",
        "Waiting for the appliance API",
        "is up",
    ):
        assert any(phase in message for message in messages), (phase, messages)
    recorded = repr((job.params, job.data, job.error, job.progress_text, messages))
    assert ADMIN_PASSWORD not in recorded and ROOT_PASSWORD not in recorded
    audit = AuditEntry.objects.get(action="hcx.connector.deploy")
    assert audit.user == engineer and ADMIN_PASSWORD not in repr(audit.detail)
    [vm] = [
        p
        for p in read_vms(sim.connect(), ("name", "runtime.powerState")).values()
        if p["name"] == "hcx-by-worker"
    ]
    assert vm["runtime.powerState"] == "poweredOn"
