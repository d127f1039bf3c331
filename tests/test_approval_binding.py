"""An approval covers one revision of a wave, and a launch sends only that revision (issue 15).

Two ways around it, each tried by a planner through the pages and through the API:
(a) after approval, change the wave's target cluster (rename it, change its datastores or folders, point
    it at another site): the cluster is shared by every wave into it, and launch reads it;
(b) make a batch from the approved wave, then take VMs out of the wave (its domain controllers went
    to HCX another way) and have the old batch launched after a new approval.
Both now withdraw the approval or refuse the launch, and what a batch made before a change holds is
never sent (HCX's own count of migrations, from the simulator, says so), even from a job queued
before the change.
"""

import itertools

import pytest

from core.choices import JobStatus
from core.jobs import run
from core.models import AuditEntry, Job
from core.roles import ENGINEER
from migrations_app.choices import Decision, MigrationState, WaveStatus
from migrations_app.launch import batches, controls
from migrations_app.launch.errors import LaunchError
from migrations_app.models import Approval, TargetCluster, VmMigration, Wave, WaveItem
from tests.conftest import make_user
from tests.factories import make_target_cluster, make_vcenter, make_vm, make_wave
from tests.launch_helpers import make_launch_setup
from tests.peers.worker import wait_for
from tests.schema_check import assert_documented

pytestmark = pytest.mark.django_db
S = MigrationState


_approvers = itertools.count(1)


def approver():
    """An engineer other than the one who launches (four eyes)."""
    return make_user(ENGINEER, f"approver-{next(_approvers)}")


def approve(wave: Wave, engineer) -> Wave:
    """The wave approved at its current revision, as readiness/approval.do_approve leaves it."""
    wave.refresh_from_db()
    Approval.objects.create(
        wave=wave, revision=wave.revision, decision=Decision.APPROVED, user=engineer, change_ticket="CHG0015"
    )
    Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.APPROVED)
    wave.refresh_from_db()
    return wave


def withdrawn_entries(wave: Wave) -> list[dict]:
    return list(
        AuditEntry.objects.filter(action="wave.withdraw_approval", object_id=wave.pk).values_list(
            "detail", flat=True
        )
    )


@pytest.fixture
def shared(db, engineer):
    """Three waves into one AVS cluster (approved, submitted, draft) and one into another."""
    vcenter = make_vcenter()
    cluster = make_target_cluster(name="Cluster-1", datastores=["vsanDatastore"], folders=["Migrated"])
    other = make_target_cluster(cluster.site, name="Cluster-2")
    waves = {}
    for i, (name, status, target) in enumerate(
        [
            ("Approved", WaveStatus.APPROVED, cluster),
            ("Submitted", WaveStatus.SUBMITTED, cluster),
            ("Draft", WaveStatus.DRAFT, cluster),
            ("Elsewhere", WaveStatus.APPROVED, other),
        ]
    ):
        waves[name] = make_wave(
            name,
            [make_vm(vcenter, f"vm-{i}")],
            site=cluster.site,
            target_cluster=target,
            target_datastore="vsanDatastore",
        )
        if status == WaveStatus.APPROVED:
            approve(waves[name], engineer)
        else:
            Wave.objects.filter(pk=waves[name].pk).update(status=status)
    return cluster, waves


def edit_cluster(client, cluster: TargetCluster, via: str, **changes):
    values = {
        "site": cluster.site_id,
        "name": cluster.name,
        "sku": cluster.sku,
        "hosts": cluster.hosts,
        "failures_to_tolerate": cluster.failures_to_tolerate,
        "datastores": cluster.datastores,
        "folders": cluster.folders,
        **changes,
    }
    if via == "page":
        form = {
            **values,
            "datastores": ", ".join(values["datastores"]),
            "folders": ", ".join(values["folders"]),
        }
        return client.post(f"/plan/targets/{cluster.pk}/edit/", form, follow=True)
    return client.patch(f"/api/target-clusters/{cluster.pk}/", changes, content_type="application/json")


# --- (a) the target cluster -------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["page", "api"])
@pytest.mark.parametrize(
    "changes, said",
    [
        ({"name": "Cluster-9"}, "name 'Cluster-1' -> 'Cluster-9'"),
        ({"datastores": ["vsanDatastore-2"]}, "datastores ['vsanDatastore'] -> ['vsanDatastore-2']"),
        ({"folders": ["Elsewhere"]}, "folders ['Migrated'] -> ['Elsewhere']"),
    ],
)
def test_it_withdraws_every_approval_and_submission_when_a_planner_changes_a_shared_target_cluster(
    shared, client_for, planner, engineer, via, changes, said
):
    cluster, waves = shared

    response = edit_cluster(client_for(planner), cluster, via, **changes)

    assert response.status_code == 200
    status = {name: Wave.objects.get(pk=w.pk) for name, w in waves.items()}
    assert {name: (w.status, w.revision) for name, w in status.items()} == {
        "Approved": (WaveStatus.DRAFT, 2),
        "Submitted": (WaveStatus.DRAFT, 2),
        "Draft": (WaveStatus.DRAFT, 2),
        "Elsewhere": (WaveStatus.APPROVED, 1),
    }
    for name in ("Approved", "Submitted"):
        [entry] = withdrawn_entries(waves[name])
        assert said in entry["what"] and entry["revision"] == 2
    assert AuditEntry.objects.filter(
        action="wave.withdraw_approval", object_id=waves["Approved"].pk, user=planner
    ).exists()
    if via == "page":
        assert (
            "Approved: Approval withdrawn: the wave changed (it was approved; now revision 2)"
            in response.content.decode()
        )
    with pytest.raises(
        LaunchError,
        match=r"Approved changed after approval \(revision 1 approved, now 2\): "
        "approve it again",
    ):
        batches.do_create_batch(status["Approved"], acting_user=engineer)
    assert VmMigration.objects.count() == 0


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_capacity_figure_moves_no_vm_and_keeps_the_approvals(shared, client_for, planner, via):
    cluster, waves = shared

    response = edit_cluster(client_for(planner), cluster, via, hosts=6)

    assert response.status_code == 200
    assert TargetCluster.objects.get(pk=cluster.pk).hosts == 6
    approved = Wave.objects.get(pk=waves["Approved"].pk)
    assert (approved.status, approved.revision) == (WaveStatus.APPROVED, 1)


@pytest.mark.parametrize("via", ["page", "api"])
def test_it_refuses_to_move_the_target_cluster_of_a_running_wave(shared, client_for, planner, via):
    cluster, waves = shared
    Wave.objects.filter(pk=waves["Approved"].pk).update(status=WaveStatus.RUNNING)

    response = edit_cluster(client_for(planner), cluster, via, name="Cluster-9")

    assert response.status_code == (400 if via == "page" else 409)
    if via == "api":
        assert_documented(response, "PATCH", "/api/target-clusters/{id}/")
    assert "is the target of waves that are running" in response.content.decode()
    assert "Approved" in response.content.decode()
    assert TargetCluster.objects.get(pk=cluster.pk).name == "Cluster-1"
    assert Wave.objects.get(pk=waves["Submitted"].pk).status == WaveStatus.SUBMITTED  # nothing of it kept


def test_a_completed_wave_does_not_hold_its_cluster_back(shared, client_for, planner):
    cluster, waves = shared
    Wave.objects.filter(pk=waves["Approved"].pk).update(status=WaveStatus.COMPLETED)

    response = edit_cluster(client_for(planner), cluster, "api", name="Cluster-9")

    assert response.status_code == 200
    assert Wave.objects.get(pk=waves["Approved"].pk).revision == 1  # history stays as it was


# --- (b) VMs taken out after a batch was made -------------------------------------------------------


def take_out(client, wave: Wave, vm, via: str):
    if via == "page":
        return client.post(f"/plan/waves/{wave.pk}/remove/", {"select": [vm.pk]}, follow=True)
    item = WaveItem.objects.get(wave=wave, vm=vm)
    return client.delete(f"/api/wave-items/{item.pk}/")


def sent_to_hcx(setup) -> list[str]:
    return sorted(m["entity"]["entityName"] for m in setup.hcx_migrations())


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_batch_made_before_vms_left_the_wave_never_sends_them(
    hcxsim_fast, client_for, planner, engineer, via
):
    setup = make_launch_setup(hcxsim_fast, vms=3)
    wave = approve(setup.wave, approver())
    dc = setup.vms[2]  # app-3: the domain controller, moved with HCX's own tools instead
    old = batches.do_create_batch(wave, acting_user=engineer)

    response = take_out(client_for(planner), wave, dc, via)
    assert response.status_code in (200, 204)

    wave.refresh_from_db()
    assert (wave.status, wave.revision) == (WaveStatus.DRAFT, 2)
    # What the old batch held waits no more: the VMs are free for a batch of the new revision.
    assert set(old.migrations.values_list("state", flat=True)) == {S.CANCELLED}
    assert "changed (removed 1 VMs" in old.migrations.get(vm=dc).message
    with pytest.raises(LaunchError, match=r"Wave 1 changed after approval \(revision 1 approved, now 2\)"):
        batches.do_launch_batch(old, acting_user=engineer)

    wave = approve(wave, approver())  # revision 2, without the domain controller
    with pytest.raises(
        LaunchError,
        match=r"Batch 1 was made from revision 1 of Wave 1, which changed after "
        r"approval \(revision 1 approved, now 2\)",
    ):
        batches.do_launch_batch(old, acting_user=engineer)
    assert old.migrations.filter(state=S.WAITING).count() == 0
    retried = controls.do_retry_migrations([old.migrations.get(vm=dc)], acting_user=engineer)
    assert list(retried.refused.values()) == [
        "Not retried: Wave 1 changed after this batch was made (revision 1 "
        "approved, now 2): make a new batch."
    ]

    new = batches.do_create_batch(wave, acting_user=engineer)
    run(batches.do_launch_batch(new, acting_user=engineer).pk)
    assert sent_to_hcx(setup) == ["app-1", "app-2"]
    assert new.revision == 2


def test_a_job_queued_before_a_vm_left_the_wave_does_not_send_it(hcxsim_fast, client_for, planner, engineer):
    """The launch is queued (the wave runs); the planner's change is refused; a change that went
    around the actions (the row deleted in the database) is caught by the worker at send time."""
    setup = make_launch_setup(hcxsim_fast, vms=3)
    wave = approve(setup.wave, approver())
    dc = setup.vms[2]
    batch = batches.do_create_batch(wave, acting_user=engineer)
    job = batches.do_launch_batch(batch, acting_user=engineer)  # queued: no worker has run it yet

    refused = take_out(client_for(planner), wave, dc, "api")
    assert refused.status_code == 409 and "running" in refused.json()["detail"]

    WaveItem.objects.filter(wave=wave, vm=dc).delete()
    run(job.pk)  # what the Celery worker does with the queued job

    assert sent_to_hcx(setup) == ["app-1", "app-2"]
    cancelled = batch.migrations.get(vm=dc)
    assert cancelled.state == S.CANCELLED
    assert (
        cancelled.message
        == "Not sent: app-3 is no longer in Wave 1 (it was taken out after this batch was made)."
    )


def test_a_queued_job_sends_nothing_of_a_wave_whose_revision_moved_on(hcxsim_fast, engineer):
    """A batch whose wave is no longer at the revision it was made from sends nothing, whatever moved
    the revision on."""
    setup = make_launch_setup(hcxsim_fast, vms=2)
    wave = approve(setup.wave, approver())
    batch = batches.do_create_batch(wave, acting_user=engineer)
    job = batches.do_launch_batch(batch, acting_user=engineer)

    Wave.objects.filter(pk=wave.pk).update(revision=3)
    Approval.objects.create(wave=wave, revision=3, decision=Decision.APPROVED, user=approver())
    run(job.pk)

    assert sent_to_hcx(setup) == []
    assert {m.state for m in batch.migrations.all()} == {S.CANCELLED}
    assert batch.migrations.first().message == (
        "Not sent: Wave 1 changed after this batch was made (revision 1 approved, now 3): make a new batch."
    )


@pytest.mark.django_db(transaction=True)
def test_the_celery_worker_does_not_send_a_vm_taken_out_while_the_launch_was_queued(
    celery_worker, hcxsim_fast, engineer
):
    """The same, through Celery: the launch waits in the broker (no worker is running) while the VM
    leaves the wave; the worker that then takes the job sends the other VMs only."""
    setup = make_launch_setup(hcxsim_fast, vms=3)
    wave = approve(setup.wave, approver())
    dc = setup.vms[2]
    celery_worker.stop()
    try:
        batch = batches.do_launch_wave(wave, acting_user=engineer)
        WaveItem.objects.filter(wave=wave, vm=dc).delete()
    finally:
        celery_worker.start()

    job = wait_for(
        lambda: Job.objects.filter(pk=batch.job_id, status__in=JobStatus.TERMINAL).first(),
        timeout=60,
        message="the submit job to finish",
    )
    assert job.status == JobStatus.COMPLETED, job.error
    assert sent_to_hcx(setup) == ["app-1", "app-2"]
    assert batch.migrations.get(vm=dc).state == S.CANCELLED
