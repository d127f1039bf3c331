"""An engineer's actions on launched migrations, against the HCX simulator: cancel (before sending and
in HCX), retry (a new attempt that reuses HCX's seed), rollback (a reverse migration that completes),
switchover now and a moved window (with HCX's refusals per VM), an audit row per action, and the same
actions run by the real worker as a Job.

Migrations are sent to HCX by the test itself (the client, with `spec()` below) and HCX's readings
are taken in through transitions.observe(), as the reconciler does, so that these tests depend only
on the controls, the client and the simulator."""

import pytest
from django.utils import timezone

from core.choices import JobStatus
from core.models import AuditEntry, Job
from hcx.client import HcxService, Retry, Waiter, bodies
from hcx.client.migrations import Phase
from hcx.models import HcxConnection
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.launch import controls
from migrations_app.launch.transitions import OBSERVED_FIELDS, move, observe
from migrations_app.models import MigrationEvent, VmMigration
from tests.factories import make_batch, make_estate, make_link_site, make_wave
from tests.hcx_migrations import GiB, Meshed
from tests.peers.worker import wait_for

S = MigrationState
TYPES = {"bulk": "Bulk", "rav": "RAV", "vmotion": "vMotion", "cold": "Cold"}
WHOLE_RUN = 31 + 10 + 300 + 60 + 5  # a 1 GiB Bulk migration without a window, start to end


class Site:
    """The simulator as the site of a wave: sends the portal's migrations and reads them back."""

    def __init__(self, sim):
        self.sim = sim
        self.meshed = Meshed(sim)
        self.plan = make_link_site("Amsterdam")
        HcxConnection.objects.create(
            plan=self.plan, connector_url=sim.service_url, username=sim.username, password=sim.password
        )
        self.hcx = HcxService(
            sim.service_url,
            sim.username,
            sim.password,
            waiter=Waiter(interval=0),
            retry=Retry(attempts=2, backoff=0.01),
            timeout=10,
        )

    def migrations(self, vms, migration_type: str = "bulk", **wave_fields) -> list[VmMigration]:
        self.meshed.register(*({"id": vm.moid, "name": vm.name, "diskBytes": GiB} for vm in vms))
        wave = make_wave(
            f"Wave {VmMigration.objects.count()}",
            vms=vms,
            status=WaveStatus.RUNNING,
            site=self.plan,
            migration_type=migration_type,
            **wave_fields,
        )
        return list(make_batch(wave).migrations.select_related("vm").order_by("vm__name"))

    def spec(self, m: VmMigration, **kwargs) -> dict:
        local, remote = self.meshed.site(), self.meshed.site(remote=True)
        back = m.direction == MigrationDirection.REVERSE
        # A rollback names the VM by its id in AVS, as HCX's remote inventory lists it (specs.py).
        in_avs = (
            {v.name: v.id for v in self.hcx.remote_inventory("virtualmachines", self.meshed.remote)}
            if back
            else {}
        )
        return bodies.migration(
            vm_id=in_avs.get(m.vm.name, m.vm.moid),
            vm_name=m.vm.name,
            migration_type=TYPES[m.migration_type],
            source=remote if back else local,
            destination=local if back else remote,
            placement=[bodies.container("resgroup-21", "Compute-ResourcePool", "ResourcePool")],
            datastore_id="datastore-31",
            seed_checkpoint=m.seed_checkpoint,
            **kwargs,
        )

    def send(self, rows, **spec_kwargs) -> list[VmMigration]:
        """What dispatch does: SUBMITTING, a mobility group made with them and started, then HCX's
        state with the HCX id."""
        for m in rows:
            move(m, S.SUBMITTING)
        self.groups = getattr(self, "groups", 0) + 1
        back = rows[0].direction == MigrationDirection.REVERSE
        local, remote = self.meshed.site(), self.meshed.site(remote=True)
        specs = [self.spec(m, **spec_kwargs) for m in rows]
        group = self.hcx.create_mobility_group(
            bodies.mobility_group(
                name=f"send-{self.groups}",
                source=remote if back else local,
                destination=local if back else remote,
            ),
            specs,
        )
        self.hcx.start_mobility_group(group.id)
        ids = {p.vm_id: p.id for p in self.hcx.iter_migrations(group_ids=[group.id])}
        for m, spec in zip(rows, specs, strict=True):
            # A rollback is named by the VM's id in AVS (which HCX reports back) or its moref.
            named = spec["entity"]["entityId"]
            move(m, S.VALIDATING, hcx_id=ids.get(named) or ids[m.vm.moid], submitted=timezone.now())
        return rows

    def sync(self, rows) -> list[VmMigration]:
        """What the reconciler does: HCX's readings through observe()."""
        fresh = list(
            VmMigration.objects.filter(pk__in=[m.pk for m in rows]).select_related("vm").order_by("vm__name")
        )
        readings = {p.id: p for p in self.hcx.iter_migrations(ids=[m.hcx_id for m in fresh if m.hcx_id])}
        for m in fresh:
            changed, events = observe(m, readings[m.hcx_id])
            if changed:
                m.save(update_fields=OBSERVED_FIELDS)
                MigrationEvent.objects.bulk_create(events)
        return fresh

    def phase(self, m: VmMigration) -> str:
        return self.hcx.get_migration(m.hcx_id).phase

    def advance(self, seconds: float):
        self.sim.control.advance(seconds)


@pytest.fixture
def site(hcxsim):
    return Site(hcxsim)


@pytest.fixture
def vms(db):
    return make_estate(vms=3).vms


def audit_rows(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=f"migration.{action}"))


def states(rows) -> list[str]:
    return [VmMigration.objects.get(pk=m.pk).state for m in rows]


# --- cancel ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_cancels_migrations_never_sent_at_once_without_asking_hcx(site, vms, engineer):
    rows = site.migrations(vms[:2])

    result = controls.do_cancel_migrations(rows, acting_user=engineer)

    assert result.done == rows and result.refused == {}
    assert states(rows) == [S.CANCELLED, S.CANCELLED]
    assert site.sim.control.state()["migrations"] == []
    event = MigrationEvent.objects.filter(migration=rows[0]).latest("id")
    assert (event.state, event.user, event.message) == (
        S.CANCELLED,
        engineer,
        f"Cancelled by {engineer.username} before it was sent to HCX",
    )
    [audit] = audit_rows("cancel")
    assert (audit.user, audit.object_id, audit.detail["done"]) == (
        engineer,
        rows[0].wave_id,
        [str(v) for v in vms[:2]],
    )


@pytest.mark.django_db
def test_it_cancels_migrations_in_hcx_and_records_it_when_hcx_accepts(site, vms, engineer):
    rows = site.send(site.migrations(vms[:2]), switchover_start=site.meshed.at(86400))
    site.advance(60)
    site.sync(rows)

    result = controls.do_cancel_migrations(rows, acting_user=engineer, remove_seed_data=True)

    assert [m.pk for m in result.done] == [m.pk for m in rows] and result.refused == {}
    assert states(rows) == [S.CANCELLED, S.CANCELLED]
    assert [site.phase(m) for m in rows] == [Phase.CANCELLED, Phase.CANCELLED]
    [audit] = audit_rows("cancel")
    assert (audit.user, audit.detail["remove_seed_data"], audit.detail["refused"]) == (engineer, True, {})


@pytest.mark.django_db
def test_a_cancel_after_the_switchover_started_is_refused_per_vm_and_the_others_are_cancelled(
    site, vms, engineer
):
    site.meshed.settings(switchoverSeconds={"Bulk": 3600})
    switching, waiting, portal_lags = site.send(site.migrations(vms))
    site.hcx.set_switchover_window([waiting.hcx_id], site.meshed.at(86400))
    site.advance(60)  # switching and portal_lags are in their switchover now, waiting waits for its window
    site.sync([switching, waiting])  # the portal has not read portal_lags since it was sent

    result = controls.do_cancel_migrations([switching, waiting, portal_lags], acting_user=engineer)

    refused = {m.pk: why for m, why in result.refused.items()}
    assert refused[switching.pk] == "Its switchover has started: HCX cannot cancel it any more."
    assert refused[portal_lags.pk] == (
        f"Migration of {portal_lags.vm.name} cannot be cancelled: its switchover has started"
    )
    assert [m.pk for m in result.done] == [waiting.pk]
    assert states([switching, waiting, portal_lags]) == [S.SWITCHOVER, S.CANCELLED, S.VALIDATING]
    assert site.phase(portal_lags) == Phase.SWITCHOVER
    assert MigrationEvent.objects.filter(migration=portal_lags, message__contains="was refused").exists()
    assert len(audit_rows("cancel")) == 1


@pytest.mark.django_db
def test_when_hcx_cannot_be_reached_nothing_changes_and_the_result_says_why(site, vms, engineer, settings):
    settings.HCX_SETUP = {**settings.HCX_SETUP, "RETRY_ATTEMPTS": 2, "RETRY_BACKOFF": 0.01}
    [m] = site.send(site.migrations(vms[:1]), switchover_start=site.meshed.at(86400))
    site.sim.control.fault("error", path="/mobility/migrations/forceCancel$", status=503, times=None)

    result = controls.do_cancel_migrations([m], acting_user=engineer)

    assert result.done == []
    assert result.refused[m].startswith("HCX of Amsterdam could not do it: ")
    assert result.messages == [result.refused[m]]
    assert states([m]) == [S.VALIDATING] and site.phase(m) == Phase.VALIDATING


@pytest.mark.django_db
def test_a_migration_being_sent_right_now_is_not_cancelled(site, vms, engineer):
    [m] = site.migrations(vms[:1])
    move(m, S.SUBMITTING)

    result = controls.do_cancel_migrations([m], acting_user=engineer)

    assert result.refused == {m: "It is being sent to HCX right now: cancel it again in a moment."}
    assert states([m]) == [S.SUBMITTING]


# --- retry -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_bulk_is_retried_as_a_new_attempt_that_hcx_starts_from_its_seed(site, vms, engineer):
    [failed] = site.migrations(vms[:1])
    site.meshed.register({"id": vms[0].moid, "diskBytes": 10 * GiB})
    site.sim.control.fault("migration_fail", vm=vms[0].moid, phase="INITIAL_SYNC", message="Disk read error")
    VmMigration.objects.filter(pk=failed.pk).update(seed_checkpoint=True)
    failed.seed_checkpoint = True
    site.send([failed])
    site.advance(31 + 90)
    [failed] = site.sync([failed])
    assert failed.state == S.FAILED

    result = controls.do_retry_migrations([failed], acting_user=engineer)

    [attempt] = result.done
    assert (
        attempt.state,
        attempt.attempt,
        attempt.retry_of,
        attempt.batch_id,
        attempt.direction,
        attempt.seed_checkpoint,
    ) == (S.WAITING, 2, failed, failed.batch_id, MigrationDirection.FORWARD, True)
    site.send([attempt])
    site.sim.control.set_variants(progress_extras="present")  # the simulator's own seedBytesReused
    item = next(i for i in site.sim.control.state()["migrations"] if i["migrationId"] == attempt.hcx_id)
    assert item["progress"]["seedBytesReused"] == pytest.approx(5 * GiB, rel=0.01)
    [audit] = audit_rows("retry")
    assert (audit.user, audit.detail["done"], audit.detail["migrations"]) == (
        engineer,
        [str(vms[0])],
        [attempt.pk],
    )


@pytest.mark.django_db
def test_only_the_latest_finished_attempt_of_a_vm_is_retried(site, vms, engineer):
    first, running, waiting = site.migrations(vms)
    move(first, S.CANCELLED)
    second = controls.do_retry_migrations([first], acting_user=engineer).done[0]
    move(running, S.SUBMITTING)
    move(running, S.VALIDATING, hcx_id="m-running")

    result = controls.do_retry_migrations([first, running, waiting], acting_user=engineer)

    reasons = {m.pk: why for m, why in result.refused.items()}
    assert result.done == []
    assert reasons[first.pk] == "Its VM already has a migration in progress (attempt 2, waiting to be sent)."
    assert (
        reasons[running.pk]
        == "It is validating: only a refused, failed or cancelled migration can be retried."
    )
    assert reasons[waiting.pk].startswith("It is waiting to be sent")
    assert VmMigration.objects.filter(vm=first.vm).count() == 2 and second.attempt == 2
    assert len(audit_rows("retry")) == 2


@pytest.mark.django_db
def test_retrying_many_migrations_takes_the_same_number_of_queries(
    site, engineer, django_assert_max_num_queries
):
    vms = make_estate(vms=30, prefix="many-").vms
    rows = site.migrations(vms)
    VmMigration.objects.filter(pk__in=[m.pk for m in rows]).update(state=S.FAILED)

    with django_assert_max_num_queries(12):
        result = controls.do_retry_migrations(rows, acting_user=engineer)

    assert len(result.done) == 30


# --- rollback ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_completed_migration_is_rolled_back_by_a_reverse_migration_that_completes(site, vms, engineer):
    [m] = site.send(site.migrations(vms[:1]))
    site.advance(WHOLE_RUN)
    [m] = site.sync([m])
    assert m.state == S.COMPLETE

    [reverse] = controls.do_roll_back_migrations([m], acting_user=engineer).done
    site.send([reverse])
    site.advance(WHOLE_RUN)
    [reverse] = site.sync([reverse])
    again = controls.do_roll_back_migrations([m], acting_user=engineer)

    assert (reverse.direction, reverse.attempt, reverse.batch_id, reverse.state) == (
        MigrationDirection.REVERSE,
        1,
        m.batch_id,
        S.COMPLETE,
    )
    item = next(i for i in site.sim.control.state()["migrations"] if i["migrationId"] == reverse.hcx_id)
    assert (item["isReverse"], item["destination"]["endpointId"]) == (True, site.meshed.local)
    assert again.refused == {m: "It was already rolled back."}
    assert [a.user for a in audit_rows("rollback")] == [engineer, engineer]


@pytest.mark.django_db
def test_an_unfinished_migration_cannot_be_rolled_back(site, vms, engineer):
    running, waiting = site.migrations(vms[:2])
    site.send([running])

    result = controls.do_roll_back_migrations([running, waiting], acting_user=engineer)

    assert result.done == []
    assert {m.pk: why for m, why in result.refused.items()} == {
        running.pk: "It is validating: only a complete migration can be rolled back.",
        waiting.pk: "It is waiting to be sent: only a complete migration can be rolled back.",
    }
    assert not VmMigration.objects.filter(direction=MigrationDirection.REVERSE).exists()


@pytest.mark.django_db
def test_a_failed_rollback_is_rolled_back_again_as_its_next_attempt(site, vms, engineer):
    [m] = site.migrations(vms[:1])
    VmMigration.objects.filter(pk=m.pk).update(state=S.COMPLETE)
    [first] = controls.do_roll_back_migrations([m], acting_user=engineer).done
    move(first, S.SUBMITTING)
    move(first, S.REFUSED)

    [second] = controls.do_roll_back_migrations([m], acting_user=engineer).done

    assert (second.direction, second.attempt, second.retry_of) == (MigrationDirection.REVERSE, 2, first)


# --- switchover ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_switchover_now_makes_a_waiting_bulk_switch_over_and_a_vmotion_is_refused(site, vms, engineer):
    bulk, vmotion = site.migrations(vms[:2])
    VmMigration.objects.filter(pk=vmotion.pk).update(migration_type="vmotion")
    vmotion.migration_type = "vmotion"
    site.send([bulk], switchover_start=site.meshed.at(86400))
    site.advance(60)
    [bulk] = site.sync([bulk])
    assert bulk.state == S.WAITING_FOR_SWITCHOVER and bulk.switchover_start is not None

    result = controls.do_switch_over_now([bulk, vmotion], acting_user=engineer)

    assert [m.pk for m in result.done] == [bulk.pk]
    assert result.refused == {
        vmotion: "HCX vMotion migrations switch over right after their copy: their "
        "switchover cannot be scheduled."
    }
    assert site.phase(bulk) == Phase.SWITCHOVER
    assert VmMigration.objects.get(pk=bulk.pk).switchover_start is None
    assert MigrationEvent.objects.filter(
        migration=bulk, message=f"Switchover now by {engineer.username}"
    ).exists()
    [audit] = audit_rows("switchover_now")
    assert audit.user == engineer


@pytest.mark.django_db
def test_a_switchover_hcx_refuses_comes_back_as_the_vm_s_reason_and_the_others_switch_over(
    site, vms, engineer
):
    rows = site.send(site.migrations(vms[:2]), switchover_start=site.meshed.at(86400))
    site.advance(60)
    rows = site.sync(rows)
    site.sim.control.fault(
        "switchover_refuse", vm=vms[0].moid, message="Switchover refused: a backup holds a snapshot"
    )

    result = controls.do_switch_over_now(rows, acting_user=engineer)

    assert result.refused == {rows[0]: "Switchover refused: a backup holds a snapshot"}
    assert [m.pk for m in result.done] == [rows[1].pk]
    assert [site.phase(m) for m in rows] == [Phase.WAITING_FOR_SWITCHOVER, Phase.SWITCHOVER]
    assert audit_rows("switchover_now")[0].detail["refused"] == {
        str(vms[0]): "Switchover refused: a backup holds a snapshot"
    }


@pytest.mark.django_db
def test_a_moved_window_is_set_in_hcx_and_kept_on_the_row(site, vms, engineer):
    [m] = site.send(site.migrations(vms[:1]), switchover_start=site.meshed.at(86400))
    site.advance(60)
    [m] = site.sync([m])
    start, end = site.meshed.at(7200).replace(microsecond=0), site.meshed.at(9000).replace(microsecond=0)

    result = controls.do_move_switchover_window([m], start, end, acting_user=engineer)

    assert [d.pk for d in result.done] == [m.pk]
    reading = site.hcx.get_migration(m.hcx_id)
    row = VmMigration.objects.get(pk=m.pk)
    assert (reading.switchover_start, reading.switchover_end) == (start, end)
    assert (row.switchover_start, row.switchover_end) == (start, end)
    assert site.sync([m])[0].switchover_start == start  # the reconciler reads the same window back
    [audit] = audit_rows("move_window")
    assert (audit.detail["start"], audit.detail["end"]) == (start.isoformat(), end.isoformat())


# --- in the background -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_job_cancels_in_hcx_in_the_worker_after_the_never_sent_ones_are_cancelled_at_once(
    site, engineer, celery_worker
):
    vms = make_estate(vms=2, prefix="job-").vms
    in_hcx, never_sent = site.migrations(vms)
    site.send([in_hcx], switchover_start=site.meshed.at(86400))

    job = controls.do_enqueue_control("cancel", [in_hcx, never_sent], acting_user=engineer)
    cancelled_at_once = states([never_sent])
    wait_for(lambda: Job.objects.get(pk=job.pk).status in JobStatus.TERMINAL, timeout=60, message="the job")

    job.refresh_from_db()
    assert cancelled_at_once == [S.CANCELLED]
    assert job.status == JobStatus.COMPLETED, job.error
    assert (job.kind, job.user, job.params["migration_ids"]) == ("launch.control", engineer, [in_hcx.pk])
    assert sorted(d["id"] for d in job.data["done"]) == sorted([in_hcx.pk, never_sent.pk])
    assert states([in_hcx]) == [S.CANCELLED] and site.phase(in_hcx) == Phase.CANCELLED
    assert [a.user for a in audit_rows("cancel")] == [engineer, engineer]
