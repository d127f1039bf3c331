"""Launching against the HCX simulator (real HTTP): what HCX receives, validation refusals per VM, the
limits, running the submit job twice, recovery of an interrupted send, HCX being unavailable, and a
launch through the real Celery worker."""

import datetime
import json
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from core.choices import JobStatus, NotificationEvent
from core.jobs import run
from core.models import Job, Notification, NotificationPreference
from hcx.choices import MigrationType
from hcx.client import bodies
from inventory.models import VirtualMachine
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.launch import batches
from migrations_app.launch.dispatch import dispatch, send_group_name, site_lock
from migrations_app.launch.errors import LaunchError
from migrations_app.launch.site import SiteContext, service_for
from migrations_app.launch.specs import spec_for
from migrations_app.models import Batch, TargetCluster, VmMigration
from tests.factories import make_batch
from tests.launch_helpers import (
    AVS_CLUSTER,
    AVS_DATACENTER,
    AVS_DATASTORE,
    AVS_FOLDER,
    AVS_FOLDER_ID,
    AVS_SEGMENT,
    ONPREM_CLUSTER,
    ONPREM_DATASTORE,
    PORT_GROUP,
    make_launch_setup,
    sync,
)
from tests.peers.worker import wait_for

S = MigrationState


def launch(setup, user, **kwargs) -> Batch:
    """Create and launch a batch, and run its submit job here (as the worker would)."""
    batch = batches.do_create_batch(setup.wave, acting_user=user, **kwargs)
    job = batches.do_launch_batch(batch, acting_user=user)
    run(job.pk)
    return batch


def rows(batch) -> dict[str, VmMigration]:
    return {m.vm.name: m for m in VmMigration.objects.filter(batch=batch).select_related("vm")}


def by_vm(setup) -> dict[str, list[dict]]:
    found = {}
    for m in setup.hcx_migrations():
        found.setdefault(m["entity"]["entityName"], []).append(m)
    return found


def ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.django_db
def test_it_sends_one_migration_per_vm_with_the_wave_s_target_options_and_window(hcxsim_fast, engineer):
    setup = make_launch_setup(
        hcxsim_fast, vms=2, remove_snapshots=True, force_power_off=True, upgrade_tools=True
    )
    start, end = setup.meshed.at(86_400), setup.meshed.at(90_000)
    setup.wave.window_start, setup.wave.window_end = start, end
    setup.wave.save()

    batch = launch(setup, engineer)

    batch.refresh_from_db()
    assert batch.launched and batch.hcx_group_id
    setup.wave.refresh_from_db()
    assert setup.wave.status == WaveStatus.RUNNING
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == JobStatus.COMPLETED, job.error
    assert job.data["sent"] == 2
    state = setup.hcx()
    [group] = state["mobilityGroups"]
    assert group["name"].startswith(f"avsportal-w{setup.wave.pk}-b1-")
    assert (group["name"], group["migrationGroupId"]) == (batch.hcx_group_name, batch.hcx_group_id)
    assert group["groupDefaults"]["servicemeshId"] == setup.meshed.mesh_id
    sent = by_vm(setup)
    assert sorted(sent) == ["app-1", "app-2"] and all(len(v) == 1 for v in sent.values())
    ours = rows(batch)
    for name, [m] in sent.items():
        assert ours[name].state not in S.NOT_SENT and ours[name].hcx_id == m["migrationId"]
        assert ours[name].submitted is not None
        assert m["entity"]["entityId"] == ours[name].vm.moid
        assert m["migrationType"] == "vSphereReplication"
        assert m["migrationGroupId"] == batch.hcx_group_id
        assert m["source"]["endpointId"] == setup.meshed.local
        assert m["destination"]["endpointId"] == setup.meshed.remote
        # HCX's vCenters, as every working start payload names them (hcx-wire.md §6).
        assert (m["source"]["computeResourceId"], m["destination"]["computeResourceId"]) == (
            setup.meshed.site()["computeResourceId"],
            setup.meshed.site(remote=True)["computeResourceId"],
        )
        assert m["servicemeshId"] == setup.meshed.mesh_id
        assert [(p["id"], p["name"], p["type"]) for p in m["placement"]] == [
            (AVS_CLUSTER[0], AVS_CLUSTER[1], "ClusterComputeResource"),
            (AVS_FOLDER_ID, AVS_FOLDER, "Folder"),
            (AVS_DATACENTER[0], AVS_DATACENTER[1], "Datacenter"),
        ]
        assert m["storage"]["defaultStorage"]["id"] == AVS_DATASTORE[0]
        options = m["switchoverParams"]["options"]
        assert options == {
            **options,
            "removeISOs": True,
            "removeSnapshots": True,
            "forcePowerOffVm": True,
            "retainMac": True,
            "upgradeVMTools": True,
            "upgradeHardware": False,
        }
        assert m["switchoverParams"]["schedule"] == {"startTime": ms(start), "expiryTime": ms(end)}
        assert m["transferParams"]["longRecovery"] is True
        [mapping] = m["networkParams"]["networkMappings"]
        assert (mapping["srcNetworkValue"], mapping["destNetworkValue"], mapping["destNetworkName"]) == (
            PORT_GROUP[0],
            AVS_SEGMENT[0],
            AVS_SEGMENT[1],
        )
        assert {k: v for k, v in mapping.items() if k.endswith(("Id", "Href", "DisplayName"))} == {
            "srcNetworkId": PORT_GROUP[0],
            "srcNetworkHref": PORT_GROUP[0],
            "srcNetworkDisplayName": PORT_GROUP[1],
            "destNetworkId": AVS_SEGMENT[0],
            "destNetworkHref": AVS_SEGMENT[0],
            "destNetworkDisplayName": AVS_SEGMENT[1],
        }


@pytest.mark.django_db
def test_a_vm_hcx_refuses_ends_refused_with_hcx_s_words_while_the_others_start(
    hcxsim_fast, engineer, stakeholder
):
    setup = make_launch_setup(
        hcxsim_fast,
        vms=3,
        remove_isos=False,
        facts={"app-2": {"isoAttached": True}, "app-3": {"toolsRunning": False}},
    )
    stakeholder.email = "board@example.org"
    stakeholder.save()
    NotificationPreference.objects.create(user=stakeholder, event=NotificationEvent.MIGRATION_FAILED)

    batch = launch(setup, engineer)

    ours = rows(batch)
    assert ours["app-2"].state == S.REFUSED and ours["app-2"].hcx_id is None
    assert "ISO image mounted" in ours["app-2"].message
    assert [e["code"] for e in ours["app-2"].validation["errors"]] == ["ISO_ATTACHED"]
    assert ours["app-1"].state not in S.NOT_SENT | {S.REFUSED} and ours["app-1"].validation["errors"] == []
    # A warning does not stop the VM; it is kept for the engineer.
    assert ours["app-3"].hcx_id and [w["code"] for w in ours["app-3"].validation["warnings"]] == [
        "TOOLS_NOT_RUNNING"
    ]
    assert sorted(by_vm(setup)) == ["app-1", "app-3"]
    job = Job.objects.get(pk=batch.job_id)
    assert job.data["refused"] == 1
    assert any("app-2" in e.message and "ISO" in e.message for e in job.events.all())
    # Whoever follows failures hears of it, once, with HCX's reason.
    [told] = Notification.objects.filter(event=NotificationEvent.MIGRATION_FAILED)
    assert told.user == stakeholder and "app-2: " in told.body and "ISO image mounted" in told.body


@pytest.mark.django_db
def test_it_sends_no_more_replications_than_the_limits_and_more_once_slots_free(
    hcxsim_fast, engineer, settings
):
    settings.HCX_LIMITS = {**settings.HCX_LIMITS, "MAX_REPLICATIONS_PER_MESH": 2}
    setup = make_launch_setup(hcxsim_fast, vms=5)
    setup.meshed.settings(maxReplicationsPerMesh=2)

    batch = launch(setup, engineer)

    ours = rows(batch)
    assert sorted(n for n, m in ours.items() if m.hcx_id) == ["app-1", "app-2"]
    waiting = [m for m in ours.values() if m.state == S.WAITING]
    assert len(waiting) == 3 and all(
        "2 of 2" in m.message and "replication slot" in m.message for m in waiting
    )
    assert len(setup.hcx_migrations()) == 2

    setup.finish()
    sync(setup.site)
    result = dispatch(setup.site)

    assert (result.sent, result.waiting) == (2, 1)
    assert len(setup.hcx_migrations()) == 4
    assert rows(batch)["app-5"].state == S.WAITING


@pytest.mark.django_db
def test_it_sends_hcx_vmotions_one_at_a_time(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=2, migration_type=MigrationType.VMOTION)

    batch = launch(setup, engineer)

    ours = rows(batch)
    assert ours["app-1"].hcx_id and ours["app-2"].state == S.WAITING
    assert "one at a time" in ours["app-2"].message
    assert not ours["app-1"].seed_checkpoint
    assert dispatch(setup.site).sent == 0  # still one running

    setup.finish()
    sync(setup.site)
    assert dispatch(setup.site).sent == 1
    [m] = [m for m in setup.hcx_migrations() if m["entity"]["entityName"] == "app-2"]
    assert m["migrationType"] == "vMotion" and m["switchoverParams"]["schedule"]["startTime"] == 0


@pytest.mark.django_db
def test_running_the_submit_job_twice_sends_nothing_twice(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=3)
    batch = launch(setup, engineer)
    first = Job.objects.get(pk=batch.job_id)

    again = batches.do_launch_batch(batch, acting_user=engineer)  # the first job is over: a new one
    run(again.pk)
    run(first.pk)  # a redelivered task of a finished job does nothing
    assert dispatch(setup.site).sent == 0

    assert again.pk != first.pk
    assert Job.objects.get(pk=again.pk).status == JobStatus.COMPLETED
    assert (
        Job.objects.get(pk=again.pk).data["sent"] == 0 and Job.objects.get(pk=again.pk).data["refused"] == 0
    )
    assert len(setup.hcx_migrations()) == 3
    assert len(setup.hcx()["mobilityGroups"]) == 1
    assert VmMigration.objects.filter(batch=batch).count() == 3


@pytest.mark.django_db
def test_a_send_interrupted_after_hcx_took_it_is_recovered_not_sent_again(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=2)
    batch = batches.do_create_batch(setup.wave, acting_user=engineer)
    batches.do_launch_batch(batch, acting_user=engineer)  # its job never runs: a worker dies mid-send
    started = sent_behind_the_portal(setup, batch, "app-1")
    # Both rows were SUBMITTING when the worker died; HCX got app-1's group but not app-2's.
    VmMigration.objects.filter(batch=batch).update(state=S.SUBMITTING)

    result = dispatch(setup.site)

    assert (result.recovered, result.sent) == (1, 1)
    ours = rows(batch)
    assert ours["app-1"].hcx_id == started.id
    assert ours["app-2"].hcx_id and ours["app-2"].state not in S.NOT_SENT
    assert {name: len(found) for name, found in by_vm(setup).items()} == {"app-1": 1, "app-2": 1}


def group_body(ctx, batch, *, reverse: bool = False) -> dict:
    source, destination = (ctx.remote, ctx.local) if reverse else (ctx.local, ctx.remote)
    return bodies.mobility_group(
        name=send_group_name(batch),
        source=source.body(),
        destination=destination.body(),
        service_mesh_id=ctx.mesh_id,
    )


def sent_behind_the_portal(setup, batch, vm_name: str, *, reverse: bool = False):
    """What HCX got from a send the worker died in: `vm_name`'s migration in a started group of the
    batch, as dispatch would have made it. Returns HCX's reading of it."""
    service = service_for(setup.site)
    try:
        ctx = SiteContext.load(setup.site, service)
        group = service.create_mobility_group(
            group_body(ctx, batch, reverse=reverse), [spec_for(rows(batch)[vm_name], ctx)]
        )
        service.start_mobility_group(group.id)
        [started] = service.iter_migrations(group_ids=[group.id])
    finally:
        service.close()
    return started


@pytest.mark.django_db
def test_a_send_interrupted_between_the_group_s_creation_and_its_start_starts_that_group(
    hcxsim_fast, engineer
):
    setup = make_launch_setup(hcxsim_fast, vms=2)
    batch = batches.do_create_batch(setup.wave, acting_user=engineer)
    batches.do_launch_batch(batch, acting_user=engineer)
    ours = rows(batch)
    service = service_for(setup.site)
    ctx = SiteContext.load(setup.site, service)
    group = service.create_mobility_group(group_body(ctx, batch), [spec_for(m, ctx) for m in ours.values()])
    service.close()
    VmMigration.objects.filter(batch=batch).update(state=S.SUBMITTING)

    result = dispatch(setup.site)

    assert (result.recovered, result.sent) == (2, 0), result.messages
    assert [g["migrationGroupId"] for g in setup.hcx()["mobilityGroups"]] == [group.id]
    sent = by_vm(setup)
    assert {name: [m["state"] for m in found] for name, found in sent.items()} == {
        "app-1": ["MIGRATING"],
        "app-2": ["MIGRATING"],
    }
    assert {m.hcx_id for m in rows(batch).values()} == {found[0]["migrationId"] for found in sent.values()}


@pytest.mark.django_db
def test_a_group_hcx_refuses_to_start_is_deleted_and_the_others_go_in_a_new_one(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=2)
    refusal = {
        "items": [
            {
                "entityId": "vm-102",
                "entityName": "app-2",
                "errors": [{"code": "BUSY", "message": "The VM is locked by a backup"}],
            }
        ]
    }
    hcxsim_fast.control.fault(
        "error", path="/mobility/groups/start$", status=400, body=json.dumps(refusal), times=1
    )

    batch = launch(setup, engineer)

    ours = rows(batch)
    assert ours["app-1"].hcx_id and ours["app-1"].state not in S.NOT_SENT
    assert (ours["app-2"].state, ours["app-2"].message) == (S.REFUSED, "The VM is locked by a backup")
    [group] = setup.hcx()["mobilityGroups"]  # the refused one was deleted
    assert group["migrationGroupId"] == Batch.objects.get(pk=batch.pk).hcx_group_id
    assert [m["entity"]["entityName"] for m in setup.hcx_migrations()] == ["app-1"]


@pytest.mark.django_db
def test_a_rollback_send_interrupted_after_hcx_took_it_is_recovered_by_the_vm_s_id_in_avs(
    hcxsim_fast, engineer
):
    setup = make_launch_setup(hcxsim_fast, vms=2)
    forward = launch(setup, engineer)
    setup.finish()
    sync(setup.site)
    back = make_batch(setup.wave, [m.vm for m in rows(forward).values()], launched=timezone.now())
    VmMigration.objects.filter(batch=back).update(direction=MigrationDirection.REVERSE)
    started = sent_behind_the_portal(setup, back, "app-1", reverse=True)
    # Both rollbacks were SUBMITTING when the worker died; HCX got app-1's start but not app-2's.
    VmMigration.objects.filter(batch=back).update(state=S.SUBMITTING)

    result = dispatch(setup.site)

    assert (result.recovered, result.sent) == (1, 1)
    ours = rows(back)
    assert ours["app-1"].hcx_id == started.id
    assert ours["app-2"].hcx_id and ours["app-2"].state not in S.NOT_SENT
    assert len([m for m in setup.hcx_migrations() if m["isReverse"]]) == 2


@pytest.mark.django_db
def test_a_second_dispatch_of_a_site_while_one_sends_does_nothing(hcxsim_fast, engineer):
    if connection.vendor != "postgresql":
        pytest.skip("the per-site lock is PostgreSQL's (SQLite has a single writer)")
    setup = make_launch_setup(hcxsim_fast, vms=1)
    batches.do_launch_batch(batches.do_create_batch(setup.wave, acting_user=engineer), acting_user=engineer)
    held, release = threading.Event(), threading.Event()

    def other_worker():  # its own database connection, as another worker process has
        with site_lock(setup.site) as got:
            assert got
            held.set()
            release.wait(30)
        connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(30)
        result = dispatch(setup.site)
    finally:
        release.set()
        thread.join()

    assert result.busy and result.sent == 0
    assert setup.hcx_migrations() == []
    assert dispatch(setup.site).sent == 1


@pytest.mark.django_db
def test_hcx_unavailable_leaves_them_waiting_with_a_message_and_a_later_dispatch_sends_them(
    hcxsim_fast, engineer, settings
):
    settings.HCX_SETUP = {**settings.HCX_SETUP, "RETRY_ATTEMPTS": 0}
    setup = make_launch_setup(hcxsim_fast, vms=2)
    batch = batches.do_create_batch(setup.wave, acting_user=engineer)
    batches.do_launch_batch(batch, acting_user=engineer)
    hcxsim_fast.control.fault("error", path="/mobility/migrations/validate", status=503)

    result = dispatch(setup.site)

    assert (result.sent, result.waiting) == (0, 2) and "503" in result.error
    assert all(m.state == S.WAITING and "503" in m.message for m in rows(batch).values())
    assert setup.hcx_migrations() == []

    hcxsim_fast.control.clear_faults()
    assert dispatch(setup.site).sent == 2
    assert all(m.message == "" for m in rows(batch).values())


@pytest.mark.django_db
def test_a_target_the_avs_side_lacks_refuses_its_vms_saying_what_hcx_knows(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    TargetCluster.objects.filter(pk=setup.wave.target_cluster_id).update(name="Cluster-9")

    batch = launch(setup, engineer)

    [m] = rows(batch).values()
    assert m.state == S.REFUSED
    assert "no cluster 'Cluster-9'" in m.message and "Cluster-1" in m.message
    assert m.validation["errors"][0]["message"] == m.message
    job = Job.objects.get(pk=batch.job_id)
    assert job.data["refused"] == 1 and any("Cluster-9" in e.message for e in job.events.all())
    assert setup.hcx_migrations() == []


@pytest.mark.django_db
def test_a_site_without_a_working_service_mesh_cannot_migrate(hcxsim_fast):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    hcxsim_fast.control.reset("paired")

    with pytest.raises(LaunchError, match=r"no working \(COMMITTED\) service mesh with a migration service"):
        SiteContext.load(setup.site)


@pytest.mark.django_db
def test_a_mesh_whose_update_failed_is_not_used(hcxsim_fast):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    hcxsim_fast.control._call("POST", f"/service-meshes/{setup.meshed.mesh_id}/fail-update", json={})

    with pytest.raises(LaunchError, match="meshes: .*mesh-avs UPDATE_FAILED"):
        SiteContext.load(setup.site)


@pytest.mark.django_db
def test_under_hcx_9_the_default_mesh_is_ignored_and_the_site_s_edge_mesh_carries_the_migrations(
    hcxsim_fast, engineer
):
    setup = make_launch_setup(hcxsim_fast, vms=1, meshed_variants={"hcx_version": "9.x"})
    names = {m["name"]: m for m in setup.hcx()["serviceMeshes"]}

    ctx = SiteContext.load(setup.site)
    batch = launch(setup, engineer)

    default = next(m for name, m in names.items() if name.startswith("default-service-mesh-"))
    assert (default["state"], names["mesh-avs"]["backingApplianceType"]) == ("NOT_APPLICABLE", "EDGE")
    assert [m["name"] for m in ctx.meshes] == ["mesh-avs"]
    [m] = setup.hcx_migrations()
    assert m["servicemeshId"] == setup.meshed.mesh_id == names["mesh-avs"]["serviceMeshId"]
    assert rows(batch)["app-1"].state not in S.NOT_SENT


@pytest.mark.django_db
def test_each_migration_goes_over_a_working_mesh_that_offers_its_service(hcxsim_fast):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    service = service_for(setup.site)
    local, remote = service.login().endpoint_id, setup.meshed.remote
    profiles = [
        {
            "endpointId": local,
            "computeProfileId": service.list_compute_profiles(local)[0]["computeProfileId"],
        },
        {
            "endpointId": remote,
            "computeProfileId": service.list_compute_profiles(remote)[0]["computeProfileId"],
        },
    ]
    started = service.create_service_mesh(
        {
            "name": "vmotion-only",
            "computeProfiles": profiles,
            "services": [{"name": "INTERCONNECT"}, {"name": "VMOTION"}],
        }
    )
    hcxsim_fast.control.advance(1200)
    service.close()

    ctx = SiteContext.load(setup.site)

    assert [m["name"] for m in ctx.meshes] == ["mesh-avs", "vmotion-only"]
    assert ctx.mesh_for(MigrationType.BULK) == ctx.mesh_for(MigrationType.VMOTION) == setup.meshed.mesh_id
    ctx.meshes = [m for m in ctx.meshes if m["serviceMeshId"] == started.object_id]
    assert ctx.mesh_for(MigrationType.COLD) == started.object_id
    with pytest.raises(LaunchError, match="No working service mesh of Amsterdam offers BULK_MIGRATION"):
        ctx.mesh_for(MigrationType.BULK)


@pytest.mark.django_db
def test_a_rollback_goes_from_avs_back_to_where_the_vm_came_from(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1, upgrade_hardware=True)
    setup.wave.window_start, setup.wave.window_end = setup.meshed.at(60), setup.meshed.at(7200)
    setup.wave.save()
    forward = launch(setup, engineer)
    setup.finish()
    sync(setup.site)
    [done] = rows(forward).values()
    assert done.state == S.COMPLETE
    back = make_batch(setup.wave, [done.vm], launched=timezone.now())
    VmMigration.objects.filter(batch=back).update(direction=MigrationDirection.REVERSE)

    result = dispatch(setup.site)

    assert result.sent == 1, result.messages
    [m] = [m for m in setup.hcx_migrations() if m["migrationId"] == rows(back)["app-1"].hcx_id]
    assert m["source"]["endpointId"] == setup.meshed.remote
    assert m["destination"]["endpointId"] == setup.meshed.local
    # Named by its new id in AVS, from HCX's remote inventory: AVS does not know the on-premises moref.
    [in_avs] = [
        v
        for v in service_for(setup.site).remote_inventory("virtualmachines", setup.meshed.remote)
        if v.name == "app-1"
    ]
    assert m["entity"]["entityId"] == in_avs.id != done.vm.moid
    assert m["migrationGroupId"] not in (None, forward.hcx_group_id)  # a new small group
    assert [(p["id"], p["type"]) for p in m["placement"]] == [
        (ONPREM_CLUSTER[0], "ClusterComputeResource"),
        ("Apps", "Folder"),
    ]
    assert m["storage"]["defaultStorage"]["id"] == ONPREM_DATASTORE[0]
    assert m["switchoverParams"]["schedule"] == {"startTime": 0, "expiryTime": 0}
    assert m["switchoverParams"]["options"]["upgradeHardware"] is False
    [mapping] = m["networkParams"]["networkMappings"]
    assert (mapping["srcNetworkValue"], mapping["destNetworkValue"]) == (AVS_SEGMENT[0], PORT_GROUP[0])


@pytest.mark.django_db
def test_a_rollback_of_a_vm_avs_does_not_list_is_refused_with_why(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    forward = launch(setup, engineer)
    setup.finish()
    sync(setup.site)
    [done] = rows(forward).values()
    VirtualMachine.objects.filter(pk=done.vm_id).update(name="app-1-old")  # AVS knows it as app-1
    back = make_batch(setup.wave, [done.vm], launched=timezone.now())
    VmMigration.objects.filter(batch=back).update(direction=MigrationDirection.REVERSE)

    result = dispatch(setup.site)

    [refused] = rows(back).values()
    assert result.sent == 0 and refused.state == S.REFUSED
    assert refused.message == (
        f"app-1-old: the AVS side of {setup.site} has no VM of that name in HCX's inventory, "
        "so it cannot be rolled back: was it renamed, moved or deleted in AVS?"
    )
    assert [m for m in setup.hcx_migrations() if m["isReverse"]] == []


@pytest.mark.django_db
@pytest.mark.parametrize("named_by", ["avs id", "on-premises moref"])
def test_a_rollback_hcx_refuses_at_start_is_refused_and_the_others_go_back(hcxsim_fast, engineer, named_by):
    setup = make_launch_setup(hcxsim_fast, vms=2)
    forward = launch(setup, engineer)
    setup.finish()
    sync(setup.site)
    done = rows(forward)
    in_avs = {
        v.name: v.id for v in service_for(setup.site).remote_inventory("virtualmachines", setup.meshed.remote)
    }
    back = make_batch(setup.wave, [m.vm for m in done.values()], launched=timezone.now())
    VmMigration.objects.filter(batch=back).update(direction=MigrationDirection.REVERSE)
    # HCX's answer to the start names the refused VM: by the id it was sent (its id in AVS), or by the
    # on-premises moref; no source shows which (hcx-wire.md §6, "Reverse migrations").
    refused_id = in_avs["app-1"] if named_by == "avs id" else done["app-1"].vm.moid
    answer = {
        "items": [
            {
                "entityId": refused_id,
                "entityName": "app-1",
                "errors": [{"code": "X", "message": "The VM is locked in AVS"}],
                "warnings": [],
            },
            {"entityId": in_avs["app-2"], "entityName": "app-2", "errors": [], "warnings": []},
        ]
    }
    hcxsim_fast.control.fault(
        "error", path="/mobility/groups/start$", status=400, body=json.dumps(answer), times=1
    )

    result = dispatch(setup.site)

    now = rows(back)
    assert (now["app-1"].state, now["app-1"].message) == (S.REFUSED, "The VM is locked in AVS")
    assert now["app-2"].hcx_id and result.sent == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_launches_a_wave_end_to_end(celery_worker, hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=2)

    batch = batches.do_launch_wave(setup.wave, acting_user=engineer)

    job = wait_for(
        lambda: Job.objects.filter(pk=batch.job_id, status__in=JobStatus.TERMINAL).first(),
        timeout=60,
        message="the submit job to finish",
    )
    assert job.status == JobStatus.COMPLETED, job.error
    assert job.data["sent"] == 2
    ours = rows(batch)
    assert {m["migrationId"] for m in setup.hcx_migrations()} == {m.hcx_id for m in ours.values()}


@pytest.mark.django_db
def test_a_network_the_site_plan_extends_lands_on_its_extension_without_a_mapping(hcxsim_fast, engineer):
    setup = make_launch_setup(hcxsim_fast, vms=1)
    mapping = setup.wave.network_mappings.get()
    network = mapping.source
    mapping.delete()
    setup.site.networks.add(network)  # the wave page and readiness say "extended by the site plan"
    launch(setup, engineer)
    [m] = setup.hcx_migrations()
    [sent] = m["networkParams"]["networkMappings"]
    assert (sent["srcNetworkValue"], sent["destNetworkName"]) == (PORT_GROUP[0], PORT_GROUP[1])
