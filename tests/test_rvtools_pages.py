"""The RVTools upload page and its job, up to a real Celery worker."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import jobs
from core.choices import JobStatus
from core.models import AuditEntry, Job
from inventory.models import VCenter, VirtualDisk, VirtualMachine
from tests.peers.worker import wait_for
from tests.test_rvtools_import import REAL_EXPORT, generated_estate, read_sheet, trimmed, write_xlsx

URL = reverse("inventory:rvtools_import")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT / "uploads"


@pytest.fixture
def no_broker(monkeypatch):
    """The request enqueues; the test runs the job itself, as the worker would."""
    monkeypatch.setattr(Job, "send", lambda self: None)


def upload(client, path, name=None, **fields):
    with open(path, "rb") as handle:
        return client.post(URL, {"file": SimpleUploadedFile(name or path.name, handle.read()), **fields})


@pytest.mark.django_db
def test_planners_see_the_form_and_what_it_accepts(client_for, planner):
    page = client_for(planner).get(URL).content.decode()
    assert 'type="file"' in page and 'accept=".xlsx,.zip,.csv"' in page
    assert "RVTools_tab" in page and "50 MB" in page


@pytest.mark.django_db
def test_stakeholders_may_not_import(client_for, stakeholder, media, no_broker, tmp_path):
    client = client_for(stakeholder)
    assert client.get(URL).status_code == 403
    response = upload(client, write_xlsx(tmp_path / "x.xlsx", generated_estate(1)))
    assert response.status_code == 403
    assert not Job.objects.exists() and not media.exists()


@pytest.mark.django_db
def test_a_too_large_upload_is_refused_with_a_message(client_for, planner, settings, media, no_broker):
    settings.MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.xlsx", b"0" * (1024 * 1024 + 1))
    response = client_for(planner).post(URL, {"file": big})
    assert response.status_code == 200
    assert "big.xlsx is 1.0 MB; the largest accepted upload is 1 MB." in response.content.decode()
    assert not Job.objects.exists() and not media.exists()


@pytest.mark.django_db
def test_a_file_of_another_kind_is_refused(client_for, planner, media, no_broker):
    response = client_for(planner).post(URL, {"file": SimpleUploadedFile("run.sh", b"#!/bin/sh\nrm -rf /\n")})
    assert "run.sh is not an RVTools export" in response.content.decode()
    assert not Job.objects.exists() and not media.exists()


@pytest.mark.django_db
def test_an_upload_is_stored_under_a_random_name_and_imported_by_its_job(
    client_for, planner, media, no_broker, tmp_path
):
    response = upload(
        client_for(planner), write_xlsx(tmp_path / "estate.xlsx", generated_estate(3)), "../../estate.xlsx"
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.kind == "inventory.import_rvtools" and job.user == planner
    stored = list(media.iterdir())
    assert len(stored) == 1 and stored[0].suffix == ".xlsx" and "estate" not in stored[0].name
    assert AuditEntry.objects.filter(user=planner, action="rvtools.import").exists()

    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    assert job.data["vms"] == {"created": 3, "updated": 0, "unchanged": 0, "vanished": 0}
    assert VirtualMachine.objects.count() == 3 and VirtualDisk.objects.count() == 6
    messages = [e.message for e in job.events.all()]
    assert "Read vInfo: 3 rows" in messages and any("VMs 3 new" in m for m in messages)
    assert not any(media.iterdir())  # removed once imported


@pytest.mark.django_db
def test_a_trimmed_export_is_imported_into_the_vcenter_named_on_the_form(
    client_for, planner, media, no_broker, tmp_path
):
    sample = write_xlsx(tmp_path / "workshop.xlsx", trimmed(generated_estate(3)))
    upload(client_for(planner), sample, vcenter=" vc-workshop.example.com ")
    job = Job.objects.get()
    assert job.params["vcenter"] == "vc-workshop.example.com"
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    assert VCenter.objects.get().name == "vc-workshop.example.com" and VirtualMachine.objects.count() == 3
    messages = [e.message for e in job.events.all()]
    assert any("no VI SDK Server column" in m and "as named on import" in m for m in messages)
    assert any("no VM ID column" in m and "discovery of the vCenter will not merge" in m for m in messages)
    assert job.data["notes"] == [m for m in messages if "column:" in m]


@pytest.mark.django_db
def test_a_bad_upload_fails_its_job_with_each_problem(client_for, planner, media, no_broker, tmp_path):
    sheets = generated_estate(3)
    sheets["vDisk"][4][3] = "abc"
    upload(client_for(planner), write_xlsx(tmp_path / "estate.xlsx", sheets))
    job = Job.objects.get()
    jobs.run(job.pk)
    job.refresh_from_db()
    problem = 'sheet vDisk, row 5, column "Capacity MiB": "abc" is not a number'
    assert job.status == JobStatus.FAILED and problem in job.error and "nothing was imported" in job.error
    assert problem in [e.message for e in job.events.all()]
    assert not VirtualMachine.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_planners_upload_runs_in_the_worker_to_completion(celery_worker, client_for, planner):
    response = upload(client_for(planner), REAL_EXPORT)
    job = Job.objects.get()
    assert response["Location"] == job.get_absolute_url()

    def finished():
        job.refresh_from_db()
        return job.status in JobStatus.TERMINAL

    wait_for(finished, timeout=120, message="the import job to finish")
    assert job.status == JobStatus.COMPLETED, job.error
    assert VirtualMachine.objects.count() == len(read_sheet(REAL_EXPORT, "vInfo"))
    assert job.progress == 100 and job.events.filter(message__startswith="Read vDisk").exists()
    assert not Path(job.params["path"]).exists()  # removed once imported


@pytest.mark.django_db
def test_uploads_left_behind_are_removed_after_the_retention_but_not_while_a_job_needs_them(
    client_for, planner, media, no_broker, settings, tmp_path
):
    import os
    import time

    from inventory.rvtools.uploads import remove_stale_uploads
    from inventory.tasks import remove_stale_uploads_task

    settings.UPLOAD_RETENTION_HOURS = 24
    upload(client_for(planner), write_xlsx(tmp_path / "estate.xlsx", generated_estate(2)))  # its job waits
    [waiting] = media.iterdir()
    orphan = media / "0123456789abcdef0123456789abcdef.xlsx"  # a worker died with it
    orphan.write_bytes(b"left behind")
    young = media / "fedcba9876543210fedcba9876543210.csv"
    young.write_bytes(b"just stored")
    two_days_ago = time.time() - 48 * 3600
    for path in (waiting, orphan):
        os.utime(path, (two_days_ago, two_days_ago))
    assert remove_stale_uploads_task() == [orphan.name]
    assert waiting.exists() and young.exists() and not orphan.exists()
    assert remove_stale_uploads(now=time.time() + 48 * 3600) == [young.name]  # the job still needs `waiting`
