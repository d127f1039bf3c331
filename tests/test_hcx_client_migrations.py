"""The HCX client's migration calls against the HCX simulator over HTTP: validation per VM, starting
batches that are never duplicated when an answer is lost, typed progress through every phase,
paged reads of a thousand migrations, cancel, switchover windows, and mobility groups."""

import datetime

import pytest

from hcx.client import HcxConflict, HcxNotFound, HcxService, Retry, Waiter, bodies
from hcx.client.migrations import MigrationRefused, Phase
from tests.hcx_migrations import GiB, Meshed


def client(sim, **kwargs) -> HcxService:
    kwargs.setdefault("retry", Retry(attempts=2, backoff=0.01))
    kwargs.setdefault("timeout", 10)
    return HcxService(sim.service_url, sim.username, sim.password, waiter=Waiter(interval=0), **kwargs)


@pytest.fixture
def meshed(hcxsim):
    return Meshed(hcxsim)


@pytest.fixture
def hcx(meshed, hcxsim):
    return client(hcxsim)


def migrations_of(sim, vm_id: str) -> list[dict]:
    return [m for m in sim.control.state()["migrations"] if m["entityId"] == vm_id]


# --- validate and start -------------------------------------------------------------------------------

def test_validation_comes_back_per_vm_without_raising(meshed, hcx):
    meshed.register({"id": "vm-old", "hardwareVersion": 8}, {"id": "vm-snap", "snapshots": 1})

    results = hcx.validate_migrations([meshed.spec("vm-ok"), meshed.spec("vm-old", "RAV"),
                                       meshed.spec("vm-snap", "vMotion")])

    assert [(r.vm_id, r.ok) for r in results] == [("vm-ok", True), ("vm-old", False), ("vm-snap", True)]
    assert results[1].errors[0].message == "VM app-old has hardware version 8: RAV migration needs version 9 or later"
    assert [w.code for w in results[2].warnings] == ["SNAPSHOTS"]


def test_a_refused_batch_raises_with_each_vm_s_reasons_and_starts_nothing(meshed, hcx, hcxsim):
    meshed.register({"id": "vm-off", "powerState": "poweredOff"})

    with pytest.raises(MigrationRefused) as caught:
        hcx.start_migrations([meshed.spec("vm-1"), meshed.spec("vm-off", "vMotion")])

    assert [r.vm_id for r in caught.value.refused] == ["vm-off"]
    assert "app-off: VM app-off is poweredOff: HCX vMotion needs a powered-on VM" in str(caught.value)
    assert hcxsim.control.state()["migrations"] == []


def test_a_started_migration_is_followed_through_every_phase(meshed, hcx, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})
    [started] = hcx.start_migrations([meshed.spec("vm-1")])

    seen = [hcx.get_migration(started.migration_id)]
    for seconds in (31, 40, 50, 300, 60):
        hcxsim.control.advance(seconds)
        seen.append(hcx.get_migration(started.migration_id))

    assert [p.phase for p in seen] == [Phase.VALIDATING, Phase.INITIAL_SYNC, Phase.INITIAL_SYNC, Phase.SWITCHOVER,
                                       Phase.CLEANUP, Phase.COMPLETE]
    copying = seen[2]
    assert 0 < copying.bytes_transferred < copying.bytes_total == 10 * GiB
    assert 0 < copying.percent < 90 and copying.throughput_mbps == 1000
    assert copying.eta_seconds == pytest.approx((10 * GiB - copying.bytes_transferred) / 125_000_000 + 360, abs=2)
    done = seen[-1]
    assert (done.done, done.failed, done.percent, done.vm_name, done.migration_type) == (
        True, False, 100, "app-1", "Bulk")
    assert [e.state for e in done.events] == ["VALIDATING", "INITIAL_SYNC", "SWITCHOVER", "CLEANUP",
                                              "MIGRATION_COMPLETE"]


def test_a_failed_migration_carries_hcx_s_error(meshed, hcx, hcxsim):
    hcxsim.control.fault("migration_fail", vm="vm-1", phase="SWITCHOVER", message="Guest OS refused to shut down")
    [started] = hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.advance(3600)

    progress = hcx.get_migration(started.migration_id)

    assert (progress.phase, progress.failed, progress.done) == (Phase.FAILED, True, True)
    assert progress.errors == ("Guest OS refused to shut down",)


def test_a_start_whose_answer_came_too_late_is_found_not_sent_twice(meshed, hcxsim):
    # HCX starts the batch after the client gave up waiting: the client looks the VMs up and carries on.
    hcx = client(hcxsim, timeout=0.5, retry=Retry(attempts=2, backoff=1.0))
    hcxsim.control.fault("delay", path="/mobility/migrations/start$", seconds=1.0, times=1)

    started = hcx.start_migrations([meshed.spec("vm-1"), meshed.spec("vm-2")])

    assert [s.recovered for s in started] == [True, True]
    assert [[m["migrationId"] for m in migrations_of(hcxsim, vm)] for vm in ("vm-1", "vm-2")] == [
        [started[0].migration_id], [started[1].migration_id]]


def test_a_start_whose_connection_dropped_before_hcx_read_it_is_sent_once_more(meshed, hcx, hcxsim):
    hcxsim.control.fault("drop", path="/mobility/migrations/start$", times=1)

    started = hcx.start_migrations([meshed.spec("vm-1")])

    assert started[0].recovered is False
    assert [m["migrationId"] for m in migrations_of(hcxsim, "vm-1")] == [started[0].migration_id]


def test_a_retry_of_a_lost_start_sends_only_the_vms_hcx_does_not_have(meshed, hcx, hcxsim):
    # As if an earlier, lost answer had started vm-1 only: the retry finds it and starts vm-2.
    [earlier] = hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.fault("error", path="/mobility/migrations/start$", status=504, times=1)

    started = hcx.start_migrations([meshed.spec("vm-1"), meshed.spec("vm-2")])

    assert [(s.migration_id == earlier.migration_id, s.recovered) for s in started] == [(True, True), (False, False)]
    assert [len(migrations_of(hcxsim, vm)) for vm in ("vm-1", "vm-2")] == [1, 1]


def test_starting_a_vm_that_already_migrates_is_a_conflict(meshed, hcx):
    hcx.start_migrations([meshed.spec("vm-1")])

    with pytest.raises(HcxConflict, match="already has a migration in progress"):
        hcx.start_migrations([meshed.spec("vm-1")])


def test_a_vm_whose_migration_failed_can_be_started_again(meshed, hcx, hcxsim):
    hcxsim.control.fault("migration_fail", vm="vm-1", phase="VALIDATING", times=1)
    [first] = hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.advance(31)

    [second] = hcx.start_migrations([meshed.spec("vm-1")])

    assert second.migration_id != first.migration_id
    assert hcx.get_migration(second.migration_id).phase == Phase.VALIDATING


# --- reading many -----------------------------------------------------------------------------------

def test_a_thousand_migrations_are_read_in_two_queries_and_filtered(meshed, hcx, hcxsim):
    meshed.settings(defaultVmBytes=GiB)
    group = hcx.create_mobility_group({"name": "wave-1", "groupDefaults": {}})
    started = hcx.start_migrations([meshed.spec(f"vm-{n}", group_id=group.id if n < 10 else None)
                                    for n in range(1000)])
    hcxsim.control.advance(31)
    before = hcxsim.control.state()["migrationQueries"]

    everything = list(hcx.iter_migrations())
    queries = hcxsim.control.state()["migrationQueries"] - before
    queued = list(hcx.iter_migrations(states=["QUEUED"], page_size=300))
    in_group = list(hcx.iter_migrations(group_ids=[group.id]))
    chosen = list(hcx.iter_migrations(ids=[started[5].migration_id, started[700].migration_id]))

    assert [m.id for m in everything] == [s.migration_id for s in started]
    assert queries == 2
    assert len(queued) == 800 and {m.phase for m in queued} == {Phase.QUEUED}
    assert [m.vm_id for m in in_group] == [f"vm-{n}" for n in range(10)]
    assert [m.vm_id for m in chosen] == ["vm-5", "vm-700"]


def test_an_unknown_migration_is_not_found(meshed, hcx):
    with pytest.raises(HcxNotFound):
        hcx.get_migration("no-such-migration")


def test_a_query_answered_5xx_is_retried(meshed, hcx, hcxsim):
    [started] = hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.fault("error", path="/hybridity/api/migrations$", status=503, times=1)

    assert hcx.get_migration(started.migration_id).vm_id == "vm-1"


# --- cancel and switchover ----------------------------------------------------------------------------

def test_cancel_stops_a_migration_and_a_repeat_is_harmless(meshed, hcx, hcxsim):
    [started] = hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.advance(60)

    results = hcx.cancel_migrations([started.migration_id])
    hcx.cancel_migrations([hcx.get_migration(started.migration_id)])

    progress = hcx.get_migration(started.migration_id)
    assert [r.ok for r in results] == [True]
    assert (progress.phase, progress.cancelled, progress.done) == (Phase.CANCELLED, True, True)


def test_a_migration_that_is_switching_over_cannot_be_cancelled(meshed, hcx, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": GiB})
    [started] = hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.advance(60)

    with pytest.raises(MigrationRefused, match="its switchover has started"):
        hcx.cancel_migrations([started.migration_id])

    assert hcx.get_migration(started.migration_id).phase == Phase.SWITCHOVER


def test_a_window_is_moved_and_switchover_now_starts_it(meshed, hcx, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": GiB})
    [started] = hcx.start_migrations([meshed.spec("vm-1", switchover_start=meshed.at(3600))])
    hcxsim.control.advance(60)
    later = meshed.at(7200).replace(microsecond=0)

    hcx.set_switchover_window([started.migration_id], later, meshed.at(9000))
    moved = hcx.get_migration(started.migration_id)
    hcx.switchover_now([started.migration_id])
    now = hcx.get_migration(started.migration_id)

    assert (moved.phase, moved.waiting_for_window, moved.switchover_start) == (
        Phase.WAITING_FOR_SWITCHOVER, True, later)
    assert moved.reschedule_allowed is True
    assert (now.phase, now.switchover_start) == (Phase.SWITCHOVER, None)


def test_a_refused_switchover_raises_with_hcx_s_words(meshed, hcx, hcxsim):
    [started] = hcx.start_migrations([meshed.spec("vm-1", switchover_start=meshed.at(3600))])
    hcxsim.control.fault("switchover_refuse", vm="app-1", message="Switchover refused: a backup holds a snapshot")

    with pytest.raises(MigrationRefused) as caught:
        hcx.switchover_now([started.migration_id])

    assert [m.message for r in caught.value.refused for m in r.errors] == [
        "Switchover refused: a backup holds a snapshot"]


# --- mobility groups ----------------------------------------------------------------------------------

def group_body(meshed, name: str) -> dict:
    return bodies.mobility_group(name=name, source=bodies.site(meshed.local), destination=bodies.site(meshed.remote),
                                 migration_type="Bulk", service_mesh_id=meshed.mesh_id, tags=["wave"])


def test_a_mobility_group_is_created_read_listed_and_deleted(meshed, hcx):
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))

    read = hcx.get_mobility_group(created.id)
    listed = [g["name"] for g in hcx.list_mobility_groups()]
    hcx.delete_mobility_group(created.id)

    assert read["groupDefaults"]["servicemeshId"] == meshed.mesh_id and read["tags"] == ["wave"]
    assert listed == ["wave-1"]
    assert hcx.find_mobility_group("wave-1") is None


def test_a_duplicate_group_name_is_a_conflict(meshed, hcx):
    hcx.create_mobility_group(group_body(meshed, "wave-1"))

    with pytest.raises(HcxConflict, match="Mobility group with same name exist"):
        hcx.create_mobility_group(group_body(meshed, "wave-1"))


def test_a_group_create_whose_connection_dropped_is_not_duplicated(meshed, hcx, hcxsim):
    hcxsim.control.fault("drop", path="/mobility/groups$", times=1)

    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))

    assert [g["migrationGroupId"] for g in hcx.list_mobility_groups()] == [created.id]


def test_a_group_create_whose_answer_came_too_late_is_found_by_name(meshed, hcxsim):
    hcx = client(hcxsim, timeout=0.5, retry=Retry(attempts=2, backoff=1.0))
    hcxsim.control.fault("delay", path="/mobility/groups$", seconds=1.0, times=1)

    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))

    assert created.recovered is True
    assert [g["migrationGroupId"] for g in hcx.list_mobility_groups()] == [created.id]


def test_a_group_s_drafts_start_by_id_and_the_group_stays_while_they_run(meshed, hcx):
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"), migrations=[
        {k: v for k, v in meshed.spec(vm).items() if k in ("entity", "placement", "storage")}
        for vm in ("vm-1", "vm-2")])

    started = hcx.start_migrations([{"migrationId": created.migration_ids[vm]} for vm in ("vm-1", "vm-2")])
    with pytest.raises(MigrationRefused, match="in progress: cancel them first"):
        hcx.delete_mobility_group(created.id)

    assert [s.migration_id for s in started] == [created.migration_ids["vm-1"], created.migration_ids["vm-2"]]
    assert hcx.get_mobility_group(created.id)["summary"]["running"] == 2


def test_a_draft_start_whose_answer_was_lost_is_found_by_id(meshed, hcxsim):
    hcx = client(hcxsim, timeout=0.5, retry=Retry(attempts=2, backoff=1.0))
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"), migrations=[
        {k: v for k, v in meshed.spec("vm-1").items() if k in ("entity", "placement", "storage")}])
    hcxsim.control.fault("delay", path="/mobility/migrations/start$", seconds=1.0, times=1)

    [started] = hcx.start_migrations([{"migrationId": created.migration_ids["vm-1"]}])

    assert (started.migration_id, started.recovered) == (created.migration_ids["vm-1"], True)
    assert len(migrations_of(hcxsim, "vm-1")) == 1


def test_the_migration_body_refuses_a_window_without_a_time_zone(meshed):
    with pytest.raises(ValueError, match="time zone"):
        meshed.spec("vm-1", switchover_start=datetime.datetime(2030, 1, 1, 22, 0))
