"""Reverse migrations (a rollback: from the cloud site back to the source site) and retries on the HCX
simulator, through the HCX client over HTTP: a VM comes back only when its migration to the cloud
completed and it was not brought back already; reverse migrations run through the same phases and
limits; a retry with Seed Checkpoint reuses the copied bytes; a switchover HCX refuses for one VM of a
group leaves that one waiting while the others go through."""

import pytest

from hcx.client import HcxService, Retry, Waiter, bodies
from hcx.client.migrations import MigrationRefused, Phase
from tests.hcx_migrations import GiB, Meshed

# Long enough for a 1 GiB Bulk migration without a window: validation, copy, switchover, cleanup.
WHOLE_RUN = 31 + 10 + 300 + 60 + 5


@pytest.fixture
def meshed(hcxsim):
    # The seed tests read the simulator's own seedBytesReused (variants.py progress_extras).
    return Meshed(hcxsim, variants={"progress_extras": "present"})


@pytest.fixture
def hcx(meshed, hcxsim):
    return HcxService(
        hcxsim.service_url,
        hcxsim.username,
        hcxsim.password,
        waiter=Waiter(interval=0),
        retry=Retry(attempts=2, backoff=0.01),
        timeout=10,
    )


def avs_ids(hcx, meshed: Meshed) -> dict[str, str]:
    """The ids of the VMs in AVS by name, from HCX's remote inventory: a migrated VM gets a new one."""
    return {v.name: v.id for v in hcx.remote_inventory("virtualmachines", meshed.remote)}


def back(
    hcx,
    meshed: Meshed,
    vm: str,
    migration_type: str = "Bulk",
    *,
    by_name_only: bool = False,
    avs_id: str | None = None,
    **kwargs,
) -> dict:
    """A reverse migration: from the paired cloud site to this Manager's site, of the VM named app-N in
    AVS, by its id there (by its on-premises id `vm` when AVS does not list it)."""
    name = vm.replace("vm-", "app-")
    body = bodies.migration(
        vm_id=avs_id or avs_ids(hcx, meshed).get(name, vm),
        vm_name=name,
        migration_type=migration_type,
        source=meshed.site(remote=True),
        destination=meshed.site(),
        placement=[bodies.container("resgroup-11", "Source-ResourcePool", "ResourcePool")],
        datastore_id="datastore-11",
        **kwargs,
    )
    if by_name_only:
        del body["entity"]["entityId"]
    return body


def migrated(meshed, hcx, hcxsim, *vms: str, migration_type: str = "Bulk") -> list[str]:
    meshed.register(*({"id": vm, "diskBytes": GiB} for vm in vms))
    started = hcx.start_migrations([meshed.spec(vm, migration_type) for vm in vms])
    hcxsim.control.advance(WHOLE_RUN)
    assert {hcx.get_migration(s.migration_id).phase for s in started} == {Phase.COMPLETE}
    return [s.migration_id for s in started]


def errors_of(results, vm: str) -> list[tuple[str, str]]:
    return [(m.code, m.message) for r in results if r.vm_id == vm for m in r.errors]


# --- a completed migration comes back ------------------------------------------------------------


def test_it_migrates_a_completed_vm_back_through_the_same_phases(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")

    assert hcx.validate_migrations([back(hcx, meshed, "vm-1")])[0].ok
    [started] = hcx.start_migrations([back(hcx, meshed, "vm-1")])
    seen = [hcx.get_migration(started.migration_id).phase]
    for seconds in (31, 20, 300, 60):
        hcxsim.control.advance(seconds)
        seen.append(hcx.get_migration(started.migration_id).phase)

    assert seen == [Phase.VALIDATING, Phase.INITIAL_SYNC, Phase.SWITCHOVER, Phase.CLEANUP, Phase.COMPLETE]
    item = next(m for m in hcxsim.control.state()["migrations"] if m["migrationId"] == started.migration_id)
    assert (item["source"]["endpointId"], item["destination"]["endpointId"]) == (meshed.remote, meshed.local)
    assert item["isReverse"] is True and item["pairingId"] == meshed.remote
    assert item["progress"]["message"] == "Reverse migration complete: the VM is back at the source site"


def test_a_migrated_vm_is_named_back_by_its_new_id_in_avs_not_by_its_on_premises_moref(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")
    [in_avs] = [v for v in hcx.remote_inventory("virtualmachines", meshed.remote) if v.name == "app-1"]

    by_moref = hcx.validate_migrations([back(hcx, meshed, "vm-1", avs_id="vm-1")])
    by_avs_id = hcx.validate_migrations([back(hcx, meshed, "vm-1", avs_id=in_avs.id)])

    assert in_avs.id != "vm-1" and in_avs.endpoint_id == meshed.remote
    assert errors_of(by_moref, "vm-1") == [
        (
            "NOT_AT_REMOTE_SITE",
            f"VM app-1: vm-1 is not a VM of the remote site (it is known there as {in_avs.id}): "
            "name the VM by its id in the remote inventory",
        )
    ]
    assert by_avs_id[0].ok


def test_it_finds_the_vm_to_bring_back_by_its_name(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")

    in_avs = avs_ids(hcx, meshed)["app-1"]

    [started] = hcx.start_migrations([back(hcx, meshed, "vm-1", by_name_only=True)])

    progress = hcx.get_migration(started.migration_id)
    # HCX reports it under its id in AVS, the VM the reverse migration moves.
    assert (progress.vm_id, progress.vm_name, progress.phase) == (in_avs, "app-1", Phase.VALIDATING)


def test_a_vm_already_brought_back_cannot_come_back_twice_but_may_migrate_again(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")
    in_avs = avs_ids(hcx, meshed)["app-1"]
    [reverse] = hcx.start_migrations([back(hcx, meshed, "vm-1")])
    hcxsim.control.advance(WHOLE_RUN)

    again = hcx.validate_migrations([back(hcx, meshed, "vm-1", avs_id=in_avs)])
    forward = hcx.validate_migrations([meshed.spec("vm-1")])

    assert errors_of(again, in_avs) == [
        (
            "NOT_AT_REMOTE_SITE",
            "VM app-1 is not at the remote site: it was already migrated back "
            f"(reverse migration {reverse.migration_id})",
        )
    ]
    assert forward[0].ok


# --- what cannot come back ------------------------------------------------------------------------


def test_a_vm_that_never_reached_the_cloud_is_refused_per_vm_and_nothing_starts(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")
    meshed.register({"id": "vm-2", "diskBytes": GiB})
    [running] = hcx.start_migrations([meshed.spec("vm-2")])  # still validating

    with pytest.raises(MigrationRefused) as caught:
        hcx.start_migrations(
            [back(hcx, meshed, "vm-1"), back(hcx, meshed, "vm-2"), back(hcx, meshed, "vm-9")]
        )

    results = caught.value.results
    assert [r.vm_id for r in results if not r.errors] == [avs_ids(hcx, meshed)["app-1"]]
    assert errors_of(results, "vm-2") == [
        (
            "NOT_AT_REMOTE_SITE",
            "VM app-2 is not at the remote site: it has no completed migration to it, so "
            "there is nothing to migrate back",
        )
    ]
    assert [code for code, _ in errors_of(results, "vm-9")] == ["NOT_AT_REMOTE_SITE"]
    assert [m["migrationId"] for m in hcxsim.control.state()["migrations"] if m["isReverse"]] == []
    assert hcx.get_migration(running.migration_id).phase == Phase.VALIDATING


def test_a_vm_whose_migration_failed_is_not_at_the_remote_site(meshed, hcx, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": GiB})
    hcxsim.control.fault("migration_fail", vm="vm-1", phase="SWITCHOVER")
    hcx.start_migrations([meshed.spec("vm-1")])
    hcxsim.control.advance(WHOLE_RUN)

    results = hcx.validate_migrations([back(hcx, meshed, "vm-1")])

    assert [code for code, _ in errors_of(results, "vm-1")] == ["NOT_AT_REMOTE_SITE"]


def test_a_vm_coming_back_already_cannot_be_started_back_again(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")
    [first] = hcx.start_migrations([back(hcx, meshed, "vm-1")])

    results = hcx.validate_migrations([back(hcx, meshed, "vm-1")])

    assert errors_of(results, avs_ids(hcx, meshed)["app-1"]) == [
        ("MIGRATION_IN_PROGRESS", f"VM app-1 already has a migration in progress ({first.migration_id})")
    ]


def test_a_reverse_start_whose_answer_was_lost_is_found_and_not_taken_for_the_forward_one(
    meshed, hcx, hcxsim
):
    [forward] = migrated(meshed, hcx, hcxsim, "vm-1")
    hcxsim.control.fault("delay", path="/mobility/migrations/start$", seconds=1.0, times=1)
    slow = HcxService(
        hcxsim.service_url,
        hcxsim.username,
        hcxsim.password,
        waiter=Waiter(interval=0),
        retry=Retry(attempts=2, backoff=1.0),
        timeout=0.5,
    )

    [started] = slow.start_migrations([back(hcx, meshed, "vm-1")])

    reverse = [m for m in hcxsim.control.state()["migrations"] if m["isReverse"]]
    assert [m["migrationId"] for m in reverse] == [started.migration_id]
    assert started.migration_id != forward and started.recovered


# --- same limits ----------------------------------------------------------------------------------


def test_reverse_and_forward_vmotions_take_turns_in_the_site_pair_s_lane(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1", migration_type="vMotion")
    meshed.register({"id": "vm-2", "diskBytes": 100 * GiB})

    [forward] = hcx.start_migrations([meshed.spec("vm-2", "vMotion")])
    [reverse] = hcx.start_migrations([back(hcx, meshed, "vm-1", "vMotion")])
    hcxsim.control.advance(31)

    assert hcx.get_migration(forward.migration_id).phase == Phase.INITIAL_SYNC
    waiting = hcx.get_migration(reverse.migration_id)
    assert waiting.phase == Phase.QUEUED
    assert "one at a time between a site pair; app-2 is migrating now" in waiting.message


def test_reverse_bulk_migrations_count_toward_the_replication_limit(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")
    meshed.settings(maxReplicationsPerMesh=1)
    meshed.register({"id": "vm-2", "diskBytes": 100 * GiB})
    hcx.start_migrations([meshed.spec("vm-2")])
    hcxsim.control.advance(31)

    [reverse] = hcx.start_migrations([back(hcx, meshed, "vm-1")])
    hcxsim.control.advance(31)

    assert hcx.get_migration(reverse.migration_id).phase == Phase.QUEUED


# --- retry with Seed Checkpoint, refused switchovers ------------------------------------------------


def test_a_cancelled_rav_with_seed_checkpoint_is_retried_from_its_copied_bytes(meshed, hcx, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 100 * GiB})
    [first] = hcx.start_migrations([meshed.spec("vm-1", "RAV", seed_checkpoint=True)])
    hcxsim.control.advance(31 + 400)  # about half of the 859 s copy
    copied = hcx.get_migration(first.migration_id).bytes_transferred
    hcx.cancel_migrations([first.migration_id])

    [retry] = hcx.start_migrations([meshed.spec("vm-1", "RAV", seed_checkpoint=True)])

    item = next(m for m in hcxsim.control.state()["migrations"] if m["migrationId"] == retry.migration_id)
    assert 0 < copied < 100 * GiB
    assert item["progress"]["seedBytesReused"] == pytest.approx(copied, rel=0.01)


def test_a_cancel_that_removes_the_seed_data_makes_the_retry_copy_everything(meshed, hcx, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 100 * GiB})
    [first] = hcx.start_migrations([meshed.spec("vm-1", seed_checkpoint=True)])
    hcxsim.control.advance(31 + 400)
    hcx.cancel_migrations([first.migration_id], remove_seed_data=True)

    [retry] = hcx.start_migrations([meshed.spec("vm-1", seed_checkpoint=True)])

    item = next(m for m in hcxsim.control.state()["migrations"] if m["migrationId"] == retry.migration_id)
    assert item["progress"]["seedBytesReused"] == 0


def test_a_forward_run_s_seed_is_not_reused_by_the_reverse_migration(meshed, hcx, hcxsim):
    migrated(meshed, hcx, hcxsim, "vm-1")
    [reverse] = hcx.start_migrations([back(hcx, meshed, "vm-1", seed_checkpoint=True)])
    hcxsim.control.advance(31 + 5)  # half of the 1 GiB copy back
    hcx.cancel_migrations([reverse.migration_id])

    [again] = hcx.start_migrations([back(hcx, meshed, "vm-1", seed_checkpoint=True)])

    items = {m["migrationId"]: m for m in hcxsim.control.state()["migrations"]}
    assert items[again.migration_id]["progress"]["seedBytesReused"] == pytest.approx(
        items[reverse.migration_id]["progress"]["total"]["bytesTransferred"], rel=0.01
    )


def test_a_refused_switchover_in_a_group_leaves_that_one_waiting_and_the_others_go_through(
    meshed, hcx, hcxsim
):
    meshed.register({"id": "vm-1", "diskBytes": GiB}, {"id": "vm-2", "diskBytes": GiB})
    group = hcx.create_mobility_group(
        bodies.mobility_group(name="wave-1", source=meshed.site(), destination=meshed.site(remote=True)),
        migrations=[meshed.spec(vm, switchover_start=meshed.at(86400)) for vm in ("vm-1", "vm-2")],
    )
    hcx.start_mobility_group(group.id)
    hcxsim.control.advance(60)
    ids = [m.id for m in hcx.iter_migrations(group_ids=[group.id])]
    hcxsim.control.fault("switchover_refuse", vm="vm-1", message="Switchover refused: the VM is locked")

    results = hcx.switchover_now(ids)

    assert [[m.message for m in r.errors] for r in results] == [["Switchover refused: the VM is locked"], []]
    assert [hcx.get_migration(i).phase for i in ids] == [Phase.WAITING_FOR_SWITCHOVER, Phase.SWITCHOVER]
