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

    results = hcx.validate_migrations(
        [meshed.spec("vm-ok"), meshed.spec("vm-old", "RAV"), meshed.spec("vm-snap", "vMotion")]
    )

    assert [(r.vm_id, r.ok) for r in results] == [("vm-ok", True), ("vm-old", False), ("vm-snap", True)]
    assert (
        results[1].errors[0].message
        == "VM app-old has hardware version 8: RAV migration needs version 9 or later"
    )
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

    assert [p.phase for p in seen] == [
        Phase.VALIDATING,
        Phase.INITIAL_SYNC,
        Phase.INITIAL_SYNC,
        Phase.SWITCHOVER,
        Phase.CLEANUP,
        Phase.COMPLETE,
    ]
    copying = seen[2]
    assert 0 < copying.bytes_transferred < copying.bytes_total == 10 * GiB
    # No percent, throughput or ETA is sent: they come from the bytes and HCX's own times.
    assert copying.percent == 100 * copying.bytes_transferred // (10 * GiB)
    assert copying.throughput_mbps == pytest.approx(1000, rel=1e-3)
    assert copying.eta_seconds == pytest.approx((10 * GiB - copying.bytes_transferred) / 125_000_000, abs=2)
    assert seen[3].percent == 99 and seen[3].throughput_mbps is None and seen[3].eta_seconds is None
    done = seen[-1]
    assert (done.done, done.failed, done.percent, done.vm_name, done.migration_type) == (
        True,
        False,
        100,
        "app-1",
        "Bulk",
    )
    assert {p.state for p in seen[:-1]} == {"MIGRATING"} and done.state == "MIGRATION_COMPLETE"
    assert len(done.events) == 5


def test_a_failed_migration_carries_hcx_s_error(meshed, hcx, hcxsim):
    hcxsim.control.fault(
        "migration_fail", vm="vm-1", phase="SWITCHOVER", message="Guest OS refused to shut down"
    )
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
        [started[0].migration_id],
        [started[1].migration_id],
    ]


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

    assert [(s.migration_id == earlier.migration_id, s.recovered) for s in started] == [
        (True, True),
        (False, False),
    ]
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
    group = hcx.create_mobility_group(
        {"name": "wave-1", "groupDefaults": {}}, migrations=[meshed.spec(f"vm-{n}") for n in range(10)]
    )
    hcx.start_mobility_group(group.id)
    hcx.start_migrations([meshed.spec(f"vm-{n}") for n in range(10, 1000)])
    hcxsim.control.advance(31)
    before = hcxsim.control.state()["migrationQueries"]

    everything = list(hcx.iter_migrations())
    queries = hcxsim.control.state()["migrationQueries"] - before
    running = list(hcx.iter_migrations(states=["MIGRATING"], page_size=300))
    in_group = list(hcx.iter_migrations(group_ids=[group.id]))
    chosen = list(hcx.iter_migrations(ids=[everything[5].id, everything[700].id]))

    assert [m.vm_id for m in everything] == [f"vm-{n}" for n in range(1000)]
    assert queries == 2
    assert len(running) == 1000 and sum(m.phase == Phase.QUEUED for m in running) == 800
    assert [m.vm_id for m in in_group] == [f"vm-{n}" for n in range(10)]
    assert [m.vm_id for m in chosen] == ["vm-5", "vm-700"]


def test_without_a_total_the_pages_are_read_until_a_short_one(meshed, hcx, hcxsim):
    hcxsim.control.set_variants(query_paging="none")
    hcx.start_migrations([meshed.spec(f"vm-{n}") for n in range(7)])
    before = hcxsim.control.state()["migrationQueries"]

    read = list(hcx.iter_migrations(page_size=3))

    assert [m.vm_id for m in read] == [f"vm-{n}" for n in range(7)]
    assert hcxsim.control.state()["migrationQueries"] - before == 3


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
    created = hcx.create_mobility_group(
        group_body(meshed, "wave-1"), migrations=[meshed.spec("vm-1", switchover_start=meshed.at(3600))]
    )
    hcx.start_mobility_group(created.id)
    migration_id = created.migration_ids["vm-1"]
    hcxsim.control.advance(60)
    later = meshed.at(7200).replace(microsecond=0)

    hcx.set_switchover_window([migration_id], later, meshed.at(9000))
    moved = hcx.get_migration(migration_id)
    hcx.switchover_now([migration_id])
    now = hcx.get_migration(migration_id)

    assert (moved.phase, moved.waiting_for_window, moved.switchover_start) == (
        Phase.WAITING_FOR_SWITCHOVER,
        True,
        later,
    )
    assert moved.reschedule_allowed is True
    assert (now.phase, now.switchover_start) == (Phase.SWITCHOVER, None)


def test_a_migration_outside_any_group_cannot_be_rescheduled_and_says_why(meshed, hcx):
    [started] = hcx.start_migrations([meshed.spec("vm-1", switchover_start=meshed.at(3600))])

    [result] = hcx.switchover_now([started.migration_id])

    assert [m.message for m in result.errors] == [
        "HCX names no mobility group for it, and a schedule is set per group"
    ]


def test_a_refused_switchover_comes_back_with_hcx_s_words_and_the_others_change(meshed, hcx, hcxsim):
    created = hcx.create_mobility_group(
        group_body(meshed, "wave-1"),
        migrations=[meshed.spec(vm, switchover_start=meshed.at(3600)) for vm in ("vm-1", "vm-2")],
    )
    hcx.start_mobility_group(created.id)
    ids = [m.id for m in hcx.iter_migrations(group_ids=[created.id])]
    hcxsim.control.fault(
        "switchover_refuse", vm="app-1", message="Switchover refused: a backup holds a snapshot"
    )

    results = hcx.switchover_now(ids)

    assert [(r.migration_id, [m.message for m in r.errors]) for r in results] == [
        (ids[0], ["Switchover refused: a backup holds a snapshot"]),
        (ids[1], []),
    ]
    assert [hcx.get_migration(i).switchover_start is None for i in ids] == [False, True]


def test_a_schedule_is_sent_once_per_mobility_group(meshed, hcx, hcxsim):
    groups = []
    for n in (1, 2):
        created = hcx.create_mobility_group(
            group_body(meshed, f"wave-{n}"),
            migrations=[meshed.spec(f"vm-{n}", switchover_start=meshed.at(3600))],
        )
        hcx.start_mobility_group(created.id)
        groups.append(created.id)
    ids = [m.id for m in hcx.iter_migrations(group_ids=groups)]
    later = meshed.at(7200).replace(microsecond=0)

    results = hcx.set_switchover_window(ids, later, later + datetime.timedelta(hours=1))

    assert [(r.migration_id, r.group_id, r.ok) for r in results] == [
        (ids[0], groups[0], True),
        (ids[1], groups[1], True),
    ]
    assert {hcx.get_migration(i).switchover_start for i in ids} == {later}


# --- mobility groups ----------------------------------------------------------------------------------


def group_body(meshed, name: str) -> dict:
    return bodies.mobility_group(
        name=name,
        source=bodies.site(meshed.local),
        destination=bodies.site(meshed.remote),
        migration_type="Bulk",
        service_mesh_id=meshed.mesh_id,
        tags=["wave"],
    )


def test_a_mobility_group_is_created_read_listed_and_deleted(meshed, hcx):
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))

    read = hcx.get_mobility_group(created.id)
    listed = [g["name"] for g in hcx.list_mobility_groups()]
    hcx.delete_mobility_group(created.id)

    assert read["groupDefaults"]["servicemeshId"] == meshed.mesh_id and read["tags"] == ["wave"]
    assert listed == ["wave-1"]
    assert hcx.find_mobility_group("wave-1") is None


def test_a_group_is_read_from_the_group_listing_and_one_not_listed_is_not_found(meshed, hcx):
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))

    read = hcx.get_mobility_group(created.id)
    with pytest.raises(HcxNotFound, match="lists no mobility group nope"):
        hcx.get_mobility_group("nope")

    assert (read["migrationGroupId"], read["name"]) == (created.id, "wave-1")


def test_a_group_delete_whose_answer_was_lost_is_not_sent_again_once_the_group_is_gone(meshed, hcx, hcxsim):
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))
    hcxsim.control.fault("drop", path="/mobility/groups/delete$", after=True, times=1)

    hcx.delete_mobility_group(created.id)  # sent again, HCX would answer 404 for the group deleted

    assert hcx.find_mobility_group("wave-1") is None


def test_a_group_delete_dropped_before_hcx_had_it_is_sent_again(meshed, hcx, hcxsim):
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))
    hcxsim.control.fault("drop", path="/mobility/groups/delete$", times=1)

    hcx.delete_mobility_group(created.id)

    assert hcx.find_mobility_group("wave-1") is None
    with pytest.raises(HcxNotFound):
        hcx.get_mobility_group(created.id)


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


def test_a_group_is_created_with_its_migrations_started_and_archived_once_over(meshed, hcx, hcxsim):
    created = hcx.create_mobility_group(
        group_body(meshed, "wave-1"), migrations=[meshed.spec(vm) for vm in ("vm-1", "vm-2")]
    )
    drafts = list(hcx.iter_migrations(group_ids=[created.id]))

    recovered = hcx.start_mobility_group(created.id)
    running = list(hcx.iter_migrations(group_ids=[created.id]))
    refused_archive = hcx.archive_mobility_groups([created.id])
    hcxsim.control.advance(100_000)

    assert [(m.vm_id, m.phase) for m in drafts] == [("vm-1", Phase.DRAFT), ("vm-2", Phase.DRAFT)]
    assert recovered is False and [m.id for m in running] == [m.id for m in drafts]
    assert {m.phase for m in running} == {Phase.VALIDATING}
    assert refused_archive is False
    assert hcx.archive_mobility_groups([created.id]) is True
    assert hcx.find_mobility_group("wave-1") is None


def test_a_group_start_whose_answer_was_lost_is_found_by_its_migrations_states(meshed, hcxsim):
    hcx = client(hcxsim, timeout=0.5, retry=Retry(attempts=2, backoff=1.0))
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"), migrations=[meshed.spec("vm-1")])
    hcxsim.control.fault("delay", path="/mobility/groups/start$", seconds=1.0, times=1)

    recovered = hcx.start_mobility_group(created.id)

    assert recovered is True
    assert [m["state"] for m in migrations_of(hcxsim, "vm-1")] == ["MIGRATING"]


def test_a_group_that_already_started_is_not_started_twice(meshed, hcx, hcxsim):
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"), migrations=[meshed.spec("vm-1")])
    hcx.start_mobility_group(created.id)

    assert hcx.start_mobility_group(created.id) is True
    assert len(migrations_of(hcxsim, "vm-1")) == 1


def test_a_group_s_drafts_start_by_id_and_the_group_stays_while_they_run(meshed, hcx):
    created = hcx.create_mobility_group(
        group_body(meshed, "wave-1"), migrations=[meshed.spec(vm) for vm in ("vm-1", "vm-2")]
    )

    started = hcx.start_migrations([{"migrationId": created.migration_ids[vm]} for vm in ("vm-1", "vm-2")])
    with pytest.raises(MigrationRefused, match="in progress: cancel them first"):
        hcx.delete_mobility_group(created.id)

    assert [s.migration_id for s in started] == [created.migration_ids["vm-1"], created.migration_ids["vm-2"]]
    assert hcx.get_mobility_group(created.id)["summary"]["running"] == 2


@pytest.mark.parametrize("naming", ["id", "migrationGroupId"])
def test_groups_are_found_whichever_fields_hcx_names_them_by(meshed, hcx, hcxsim, naming):
    hcxsim.control.set_variants(group_fields=naming)
    created = hcx.create_mobility_group(group_body(meshed, "wave-1"))

    found = hcx.find_mobility_group("wave-1")
    read = hcx.get_mobility_group(created.id)

    assert (found["migrationGroupId"], found["name"]) == (created.id, "wave-1")
    assert (read["id"], read["entityName"]) == (created.id, "wave-1")


def test_the_migration_body_refuses_a_window_without_a_time_zone(meshed):
    with pytest.raises(ValueError, match="time zone"):
        meshed.spec("vm-1", switchover_start=datetime.datetime(2030, 1, 1, 22, 0))
