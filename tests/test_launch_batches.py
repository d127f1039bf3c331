"""Making and launching batches: which VMs a batch may hold, what a launch writes and enqueues, and who
may do it. Nothing here reaches HCX (the submit job does; test_launch_dispatch.py)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.choices import JobStatus
from core.models import AuditEntry, Job
from hcx.choices import MigrationType
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.launch import batches
from migrations_app.launch.errors import LaunchError
from migrations_app.models import VmMigration, WaveItem
from tests.factories import make_batch, make_group, make_target_cluster, make_vcenter, make_vm, make_wave

S = MigrationState


@pytest.fixture
def wave(db):
    vcenter = make_vcenter()
    vms = [make_vm(vcenter, f"app-{i}") for i in range(1, 5)]
    cluster = make_target_cluster()
    return make_wave("Wave 1", vms, status=WaveStatus.APPROVED, site=cluster.site, target_cluster=cluster)


def vm(wave, name):
    return wave.items.get(vm__name=name).vm


def names(batch) -> list[str]:
    return sorted(batch.migrations.values_list("vm__name", flat=True))


def test_it_makes_a_batch_of_every_vm_left_with_one_waiting_migration_each(wave, engineer):
    WaveItem.objects.filter(wave=wave, vm__name="app-4").update(migration_type=MigrationType.VMOTION)

    batch = batches.do_create_batch(wave, acting_user=engineer)

    assert (batch.number, batch.name, batch.hcx_group_name) == (1, "Batch 1", f"avsportal-w{wave.pk}-b1")
    rows = {m.vm.name: m for m in batch.migrations.select_related("vm")}
    assert sorted(rows) == ["app-1", "app-2", "app-3", "app-4"]
    assert {m.state for m in rows.values()} == {S.WAITING}
    assert (rows["app-1"].migration_type, rows["app-1"].seed_checkpoint) == (MigrationType.BULK, True)
    assert (rows["app-4"].migration_type, rows["app-4"].seed_checkpoint) == (MigrationType.VMOTION, False)
    assert AuditEntry.objects.filter(action="batch.create", object_id=batch.pk, user=engineer).exists()
    assert batch.launched is None and Job.objects.count() == 0


@pytest.mark.parametrize(
    "status", [WaveStatus.DRAFT, WaveStatus.SUBMITTED, WaveStatus.REJECTED, WaveStatus.COMPLETED]
)
def test_it_refuses_a_wave_that_is_not_approved_or_running(wave, engineer, status):
    wave.status = status
    wave.save()

    with pytest.raises(LaunchError, match="only an approved or running wave"):
        batches.do_create_batch(wave, acting_user=engineer)
    assert VmMigration.objects.count() == 0


def test_it_refuses_vms_outside_the_wave_naming_them(wave, engineer):
    stranger = make_vm(make_vcenter(), "elsewhere")

    with pytest.raises(LaunchError) as refused:
        batches.do_create_batch(wave, acting_user=engineer, vms=[vm(wave, "app-1"), stranger])

    assert refused.value.items == ["elsewhere"]
    assert wave.batches.count() == 0


def test_it_refuses_vms_in_flight_or_already_migrated_and_leaves_them_out_of_a_whole_batch(wave, engineer):
    first = batches.do_create_batch(wave, acting_user=engineer, vms=[vm(wave, "app-1"), vm(wave, "app-2")])
    VmMigration.objects.filter(batch=first, vm__name="app-2").update(state=S.COMPLETE)

    with pytest.raises(LaunchError) as refused:
        batches.do_create_batch(
            wave, acting_user=engineer, vms=[vm(wave, "app-1"), vm(wave, "app-2"), vm(wave, "app-3")]
        )
    assert refused.value.items == ["app-1 (a migration in flight)", "app-2 (already migrated)"]

    rest = batches.do_create_batch(wave, acting_user=engineer)
    assert (rest.number, names(rest)) == (2, ["app-3", "app-4"])
    with pytest.raises(LaunchError, match="nothing is left to launch"):
        batches.do_create_batch(wave, acting_user=engineer)


def test_a_vm_rolled_back_may_be_launched_again(wave, engineer):
    app = vm(wave, "app-1")
    forward = make_batch(wave, [app])
    VmMigration.objects.filter(batch=forward).update(state=S.COMPLETE)
    back = make_batch(wave, [app])
    VmMigration.objects.filter(batch=back).update(state=S.COMPLETE, direction=MigrationDirection.REVERSE)

    assert names(batches.do_create_batch(wave, acting_user=engineer, vms=[app])) == ["app-1"]


def test_it_takes_groups_whole(wave, engineer):
    group = make_group("shop", [vm(wave, "app-2"), vm(wave, "app-3")])
    WaveItem.objects.filter(wave=wave, vm__name__in=["app-2", "app-3"]).update(group=group)
    outside = make_group("elsewhere", [make_vm(make_vcenter(), "other")])

    batch = batches.do_create_batch(
        wave, acting_user=engineer, groups=[group], vms=[vm(wave, "app-1")], name=" Shop first "
    )

    assert (batch.name, names(batch)) == ("Shop first", ["app-1", "app-2", "app-3"])
    with pytest.raises(LaunchError) as refused:
        batches.do_create_batch(wave, acting_user=engineer, groups=[outside])
    assert refused.value.items == ["elsewhere"]


def test_launching_marks_it_runs_the_wave_and_enqueues_one_job_while_it_runs(wave, engineer):
    batch = batches.do_create_batch(wave, acting_user=engineer)

    job = batches.do_launch_batch(batch, acting_user=engineer)

    batch.refresh_from_db()
    wave.refresh_from_db()
    assert batch.launched is not None and batch.job_id == job.pk
    assert wave.status == WaveStatus.RUNNING
    assert (job.kind, job.params, job.object_id, job.user) == (
        "launch.submit_batch",
        {"batch_id": batch.pk},
        batch.pk,
        engineer,
    )
    assert batches.do_launch_batch(batch, acting_user=engineer).pk == job.pk  # a double click while it runs
    job.mark(JobStatus.COMPLETED)
    again = batches.do_launch_batch(batch, acting_user=engineer)
    assert again.pk != job.pk
    assert list(
        AuditEntry.objects.filter(object_id=batch.pk, action__contains="launch")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["batch.launch", "batch.relaunch"]


def test_launching_a_wave_launches_one_batch_of_all_its_vms(wave, engineer):
    batch = batches.do_launch_wave(wave, acting_user=engineer)

    assert batch.launched is not None and names(batch) == ["app-1", "app-2", "app-3", "app-4"]
    wave.refresh_from_db()
    assert wave.status == WaveStatus.RUNNING
    # A running wave takes further batches (of what is left).
    with pytest.raises(LaunchError, match="nothing is left"):
        batches.do_launch_wave(wave, acting_user=engineer)
    assert wave.batches.count() == 1


def test_only_engineers_and_admins_launch(wave, planner, stakeholder, admin_user):
    for user in (planner, stakeholder):
        with pytest.raises(PermissionDenied):
            batches.do_create_batch(wave, acting_user=user)
    batch = batches.do_create_batch(wave, acting_user=admin_user)
    with pytest.raises(PermissionDenied):
        batches.do_launch_batch(batch, acting_user=stakeholder)


def test_making_a_batch_costs_the_same_queries_for_many_vms(engineer, django_assert_max_num_queries):
    vcenter = make_vcenter()
    cluster = make_target_cluster()

    def wave_of(count, name):
        return make_wave(
            name,
            [make_vm(vcenter, f"{name}-{i}") for i in range(count)],
            status=WaveStatus.APPROVED,
            site=cluster.site,
            target_cluster=cluster,
        )

    small, large = wave_of(2, "small"), wave_of(30, "large")
    with CaptureQueriesContext(connection) as baseline:
        batches.do_create_batch(small, acting_user=engineer)
    with django_assert_max_num_queries(len(baseline)):
        batches.do_create_batch(large, acting_user=engineer)
