"""The reconciler against the HCX simulator: HCX's state and progress reach the database in pages,
one state change is one event, and HCX failing, slow or forgetting its session changes nothing until
it answers again. One cycle per site at a time; a cycle's queries do not grow with its migrations;
and the real Celery worker with its beat follows a wave to its end on its own."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.jobs import run
from core.live import wakeup
from core.models import AuditEntry
from migrations_app.choices import MigrationEventKind, MigrationState, WaveStatus
from migrations_app.launch import batches
from migrations_app.launch.lease import site_lease
from migrations_app.launch.reconcile import forget_clients, reconcile_all, reconcile_site
from migrations_app.models import Batch, MigrationEvent, VmMigration, Wave
from tests.hcx_migrations import Meshed
from tests.launch_helpers import make_launch_setup
from tests.peers.worker import ROOT, database_url, wait_for
from tests.reconcile_setup import launch

S = MigrationState
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_clients():
    """Each test's simulator is reset: no HCX client (nor session) is kept from another test."""
    forget_clients()
    yield
    forget_clients()


def queries_answered(sim) -> int:
    return sim.control.state()["migrationQueries"]


def states(launched) -> list[str]:
    return list(launched.migrations.values_list("state", flat=True))


def event_states(m) -> list[str]:
    """The states of `m`'s state-change events (a note, such as HCX's clock being ahead, is not one)."""
    return list(
        MigrationEvent.objects.filter(migration=m, kind=MigrationEventKind.STATE)
        .order_by("at", "pk")
        .values_list("state", flat=True)
    )


def test_a_cycle_takes_state_and_progress_from_hcx_one_query_per_page(hcxsim, settings):
    settings.LAUNCH = {**settings.LAUNCH, "RECONCILE_PAGE_SIZE": 2}
    launched = launch(hcxsim, 5)
    hcxsim.control.advance(45)  # validated (30 s), then copying
    before = queries_answered(hcxsim)

    stats = reconcile_site(launched.site)

    assert stats.hcx_calls == 3 == queries_answered(hcxsim) - before  # 5 migrations, 2 a page
    assert (stats.migrations_read, stats.rows_written, stats.events_written) == (5, 5, 5)
    for m in launched.migrations:
        # HCX's running state name is not known: the phase comes from its progress flags.
        assert m.state == S.INITIAL_SYNC and m.hcx_state == "MIGRATING"
        assert 0 < m.bytes_transferred < m.bytes_total == 10 * 1024**3
        assert 0 < m.percent < 99 and m.throughput_mbps and m.eta_seconds
        assert m.started is not None and m.message.startswith("Transfer in progress")
        assert event_states(m) == [S.SUBMITTING, S.VALIDATING, S.INITIAL_SYNC]


def test_a_cycle_with_nothing_new_in_hcx_writes_nothing(hcxsim):
    launched = launch(hcxsim, 3)
    reconcile_site(launched.site)  # takes HCX's words for the validation
    updated = list(launched.migrations.values_list("updated", flat=True))
    events = MigrationEvent.objects.count()

    stats = reconcile_site(launched.site)  # still validating: nothing moved

    assert (stats.hcx_calls, stats.migrations_read, stats.rows_written, stats.events_written) == (1, 3, 0, 0)
    assert list(launched.migrations.values_list("updated", flat=True)) == updated
    assert MigrationEvent.objects.count() == events


def test_a_cycle_that_wrote_wakes_the_waves_live_pages_and_a_quiet_one_does_not(
    hcxsim, settings, django_capture_on_commit_callbacks
):
    if not settings.REDIS_URL:
        pytest.skip("wake-ups need Redis (REDIS_URL)")
    launched = launch(hcxsim, 2)
    listening = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listening.subscribe(wakeup.CHANNEL.format(f"wave:{launched.wave.pk}"))
    try:
        before = time.time()
        with django_capture_on_commit_callbacks(execute=True):  # takes HCX's words for the validation
            assert reconcile_site(launched.site).rows_written == 2
        assert float(next_message(listening)["data"]) >= before  # when it was announced, after the commit
        assert next_message(listening) is None  # one announcement for the cycle's rows

        with django_capture_on_commit_callbacks(execute=True):  # still validating: nothing moved
            assert reconcile_site(launched.site).rows_written == 0
        assert next_message(listening) is None
    finally:
        listening.close()


def next_message(pubsub, seconds=2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=deadline - time.monotonic())
        if message is not None:
            return message
    return None


def test_each_state_change_is_logged_once_and_the_wave_completes(hcxsim):
    launched = launch(hcxsim, 2, disk_gib=1)
    # Validation 30 s, a 1 GiB copy each at 500 Mbps (17 s), switchover 300 s, cleanup 60 s.
    for seconds, expected in ((31, S.INITIAL_SYNC), (30, S.SWITCHOVER), (300, S.CLEANUP), (60, S.COMPLETE)):
        hcxsim.control.advance(seconds)
        reconcile_site(launched.site)
        reconcile_site(launched.site)  # a second look at the same picture adds nothing
        assert states(launched) == [expected, expected]

    for m in launched.migrations:
        assert event_states(m) == [
            S.SUBMITTING,
            S.VALIDATING,
            S.INITIAL_SYNC,
            S.SWITCHOVER,
            S.CLEANUP,
            S.COMPLETE,
        ]
        assert m.percent == 100 and m.ended is not None
    launched.wave.refresh_from_db()
    assert launched.wave.status == WaveStatus.COMPLETED
    audit = AuditEntry.objects.get(action="wave.complete")
    assert audit.object_id == launched.wave.pk and audit.detail["vms"] == 2
    assert reconcile_site(launched.site).hcx_calls == 0  # nothing left in flight: HCX is not asked


def test_a_migration_failing_in_hcx_ends_failed_with_hcx_s_message(hcxsim):
    meshed = Meshed(hcxsim)
    hcxsim.control.fault(
        "migration_fail", phase="INITIAL_SYNC", times=1, message="Datastore datastore-31 is full"
    )
    launched = launch(hcxsim, 2, meshed=meshed)
    hcxsim.control.advance(31 + 200)  # half of a 10 GiB copy at 500 Mbps is 86 s

    reconcile_site(launched.site)

    failed, other = launched.migrations
    assert failed.state == S.FAILED and "Datastore datastore-31 is full" in failed.message
    assert failed.ended is not None and failed.errors
    assert event_states(failed)[-1] == S.FAILED
    assert MigrationEvent.objects.get(migration=failed, state=S.FAILED).message == failed.message
    assert other.state in S.IN_HCX  # the other VM goes on


def test_a_503_storm_from_hcx_changes_nothing_and_the_next_cycle_catches_up(hcxsim, caplog):
    launched = launch(hcxsim, 3)
    reconcile_site(launched.site)
    hcxsim.control.advance(45)
    hcxsim.control.fault("error", path="/hybridity/api/migrations", status=503, times=None)
    snapshot = list(launched.migrations.values_list("state", "updated", "bytes_transferred"))
    events = MigrationEvent.objects.count()

    with caplog.at_level(logging.WARNING, logger="migrations_app.launch.reconcile"):
        stats = reconcile_site(launched.site)

    assert "HTTP 503" in stats.skipped and stats.rows_written == 0
    assert list(launched.migrations.values_list("state", "updated", "bytes_transferred")) == snapshot
    assert MigrationEvent.objects.count() == events
    assert "ended without changes" in caplog.text and "HTTP 503" in caplog.text

    hcxsim.control.clear_faults()
    stats = reconcile_site(launched.site)
    assert not stats.skipped and states(launched) == [S.INITIAL_SYNC] * 3


def test_hcx_timing_out_changes_nothing_and_the_next_cycle_catches_up(hcxsim, settings):
    settings.HCX_SETUP = {**settings.HCX_SETUP, "HTTP_TIMEOUT": 0.3, "RETRY_ATTEMPTS": 1}
    launched = launch(hcxsim, 2)
    reconcile_site(launched.site)
    hcxsim.control.advance(45)
    hcxsim.control.fault("delay", path="/hybridity/api/migrations", seconds=1)

    stats = reconcile_site(launched.site)

    assert "did not answer within" in stats.skipped and states(launched) == [S.VALIDATING] * 2
    hcxsim.control.clear_faults()
    assert not reconcile_site(launched.site).skipped and states(launched) == [S.INITIAL_SYNC] * 2


def test_an_expired_hcx_session_is_survived(hcxsim):
    launched = launch(hcxsim, 2)
    reconcile_site(launched.site)  # logs in; the client is kept for the next cycles
    hcxsim.control.advance(45)
    hcxsim.control.fault("expire_sessions")

    stats = reconcile_site(launched.site)

    assert not stats.skipped and stats.rows_written == 2
    assert states(launched) == [S.INITIAL_SYNC] * 2


def test_cycles_reuse_one_hcx_session(hcxsim):
    launched = launch(hcxsim, 2)
    before = hcxsim.control.state()["logins"]["attempts"]

    for _ in range(3):
        assert not reconcile_site(launched.site).skipped

    assert hcxsim.control.state()["logins"]["attempts"] - before == 1


def test_clients_of_a_site_in_one_worker_share_its_hcx_session(hcxsim):
    from migrations_app.launch.site import service_for

    launched = launch(hcxsim, 1)
    reconcile_site(site_again(launched))
    before = hcxsim.control.state()["logins"]["attempts"]

    for _ in range(3):  # launch jobs and the engineer's actions each build their own client
        service = service_for(site_again(launched))
        assert service.list_pairings()
        service.close()

    assert hcxsim.control.state()["logins"]["attempts"] == before


def store_password(site, password: str):
    """What saving the connection form with a new password does (hcx/setup/actions.py)."""
    from hcx.models import HcxConnection
    from hcx.setup.actions import do_save_connection

    connection = HcxConnection.objects.get(plan=site)
    connection.password = password
    do_save_connection(connection, acting_user=None, changed=["password"])


def test_a_password_hcx_refuses_is_tried_a_few_times_only_and_never_locks_the_account(hcxsim, settings):
    launched = launch(hcxsim, 2)
    store_password(launched.site, "Not-The-Passw0rd")
    limit = settings.HCX_LOGIN["MAX_FAILURES"]

    results = [reconcile_site(site_again(launched)) for _ in range(10)]

    logins = hcxsim.control.state()["logins"]
    assert logins["failures"] == limit < hcxsim_lockout() and logins["locked"] is False
    assert all("refused the user name or password" in r.skipped for r in results[:limit])
    assert all(
        "HCX refuses the stored password of administrator@vsphere.local (3 failed logins in a row"
        in r.skipped
        for r in results[limit:]
    )
    assert "save the right password in the HCX connection on the plan's set-up page" in results[-1].skipped
    assert "Not-The-Passw0rd" not in repr([r.skipped for r in results])
    assert states(launched) == [S.VALIDATING] * 2
    launched.site.connection.refresh_from_db()
    assert launched.site.connection.login_refused

    store_password(launched.site, hcxsim.password)
    hcxsim.control.advance(45)

    assert not reconcile_site(site_again(launched)).skipped and states(launched) == [S.INITIAL_SYNC] * 2
    launched.site.connection.refresh_from_db()
    assert launched.site.connection.login_failures == 0 and not launched.site.connection.login_refused


def site_again(launched):
    """The site as each cycle of reconcile_all reads it: fresh from the database."""
    from hcx.models import HcxPlan

    return HcxPlan.objects.select_related("connection").get(pk=launched.site.pk)


def test_an_account_hcx_says_is_locked_is_not_tried_again(hcxsim):
    launched = launch(hcxsim, 1)
    for _ in range(hcxsim_lockout()):  # someone else typed the wrong password
        requests.post(
            f"{hcxsim.service_url}/hybridity/api/sessions",
            timeout=10,
            json={"username": hcxsim.username, "password": "wrong"},
        )
    before = hcxsim.control.state()["logins"]["attempts"]

    first, second = reconcile_site(site_again(launched)), reconcile_site(site_again(launched))

    assert hcxsim.control.state()["logins"]["attempts"] - before == 1
    assert "Account locked due to failed login attempts" in first.skipped
    assert "The portal stopped logging in" in second.skipped


def hcxsim_lockout() -> int:
    return 5  # the simulator's --lockout-after default (hcx/simulator/state.py Config)


def test_after_a_refused_login_the_next_one_waits(hcxsim, settings):
    settings.HCX_LOGIN = {**settings.HCX_LOGIN, "BACKOFF_SECONDS": 3600}
    launched = launch(hcxsim, 1)
    store_password(launched.site, "Not-The-Passw0rd")
    before = hcxsim.control.state()["logins"]["attempts"]

    first, second = reconcile_site(site_again(launched)), reconcile_site(site_again(launched))

    assert hcxsim.control.state()["logins"]["attempts"] - before == 1
    assert "refused the user name or password" in first.skipped
    assert "the portal tries again after" in second.skipped


def test_a_migration_hcx_no_longer_knows_fails_with_a_clear_message(hcxsim, caplog):
    launched = launch(hcxsim, 2)
    gone = launched.migrations.first()
    VmMigration.objects.filter(pk=gone.pk).update(hcx_id="deleted-in-hcx")

    with caplog.at_level(logging.WARNING, logger="migrations_app.launch.reconcile"):
        stats = reconcile_site(launched.site)

    gone.refresh_from_db()
    assert stats.missing == 1 and gone.state == S.FAILED
    assert "no longer has migration deleted-in-hcx" in gone.message
    assert MigrationEvent.objects.get(migration=gone, state=S.FAILED).message == gone.message
    assert "HCX no longer has migration deleted-in-hcx" in caplog.text
    assert launched.migrations.last().state == S.VALIDATING


def test_a_migration_missing_from_a_page_is_asked_for_by_id_and_not_failed(hcxsim):
    launched = launch(hcxsim, 2)
    first, second = launched.migrations
    hcxsim.control.advance(45)
    # One answer that leaves a migration out, as an HCX that pages otherwise than documented might.
    hcxsim.control.fault("query_omit", vm=f"vm-{second.vm_id}", times=1)

    stats = reconcile_site(launched.site)

    assert (stats.missing, stats.hcx_calls) == (0, 2)
    assert states(launched) == [S.INITIAL_SYNC, S.INITIAL_SYNC]


@pytest.mark.parametrize("paging", ["totalSize", "none"])
def test_pages_are_read_to_the_end_whether_or_not_hcx_gives_a_total(hcxsim, settings, paging):
    settings.LAUNCH = {**settings.LAUNCH, "RECONCILE_PAGE_SIZE": 2}
    launched = launch(hcxsim, 5)
    hcxsim.control.set_variants(query_paging=paging)
    hcxsim.control.advance(45)

    stats = reconcile_site(launched.site)

    assert (stats.missing, stats.migrations_read) == (0, 5)
    assert set(states(launched)) == {S.INITIAL_SYNC}


def test_a_group_is_archived_in_hcx_once_all_its_migrations_are_over(hcxsim):
    launched = launch(hcxsim, 2, disk_gib=1)
    hcxsim.control.advance(31 + 30 + 300 + 60)

    stats = reconcile_site(launched.site)

    assert set(states(launched)) == {S.COMPLETE}
    assert stats.groups_archived == 1
    assert [g["isArchived"] for g in hcxsim.control.state()["mobilityGroups"]] == [True]


def test_the_lease_lets_one_cycle_per_site_run_at_a_time(hcxsim):
    launched = launch(hcxsim, 2)
    before = queries_answered(hcxsim)
    second = {}

    def other_worker():
        try:
            second["stats"] = reconcile_site(launched.site)
        finally:
            connection.close()

    with site_lease(launched.site) as held:
        assert held
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join()

    assert second["stats"].skipped == "another cycle of this site is running"
    assert queries_answered(hcxsim) == before  # the second cycle did not even ask HCX
    assert not reconcile_site(launched.site).skipped  # freed when the first one ended


LEASE_HOLDER = """
import sys, time, types, django
django.setup()
from migrations_app.launch.lease import site_lease
with site_lease(types.SimpleNamespace(pk=int(sys.argv[1]))) as held:
    print("held" if held else "busy", flush=True)
    time.sleep(600)
"""


def test_a_killed_worker_does_not_keep_the_lease(db):
    site = type("Site", (), {"pk": 424242})()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", LEASE_HOLDER, str(site.pk)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with site_lease(site) as held:
            assert not held
        os.kill(holder.pid, signal.SIGKILL)  # as an OOM kill: no clean-up runs
        holder.wait(10)
        with site_lease(site) as held:
            assert held
    finally:
        holder.kill()
        holder.wait()


def test_a_cycle_costs_the_same_queries_for_5_or_50_migrations(hcxsim):
    meshed = Meshed(hcxsim)
    small = launch(hcxsim, 5, meshed=meshed, name="Small", site_name="Small site")
    big = launch(hcxsim, 50, meshed=meshed, name="Big", site_name="Big site")
    hcxsim.control.advance(45)

    with CaptureQueriesContext(connection) as for_5:
        small_stats = reconcile_site(small.site)
    with CaptureQueriesContext(connection) as for_50:
        big_stats = reconcile_site(big.site)

    assert (small_stats.rows_written, big_stats.rows_written, big_stats.events_written) == (5, 50, 50)
    assert len(for_5) == len(for_50)
    assert set(states(big)) == {S.INITIAL_SYNC}


def test_reconcile_all_runs_a_cycle_for_each_site_with_work(hcxsim):
    meshed = Meshed(hcxsim)
    one = launch(hcxsim, 1, meshed=meshed, name="One", site_name="One site")
    two = launch(hcxsim, 2, meshed=meshed, name="Two", site_name="Two site")
    hcxsim.control.advance(45)

    results = reconcile_all()

    assert sorted((r.site, r.rows_written) for r in results) == [(one.site.pk, 1), (two.site.pk, 2)]
    assert states(one) + states(two) == [S.INITIAL_SYNC] * 3


@pytest.mark.django_db(transaction=True)
def test_the_celery_worker_s_beat_follows_a_wave_to_its_end(hcxsim_fast, celery_beat_worker):
    launched = launch(hcxsim_fast, 3, disk_gib=2)

    wait_for(
        lambda: Wave.objects.get(pk=launched.wave.pk).status == WaveStatus.COMPLETED,
        timeout=90,
        message="the wave to complete",
    )

    assert states(launched) == [S.COMPLETE] * 3
    for m in launched.migrations:
        assert event_states(m)[-1] == S.COMPLETE and m.percent == 100
    in_hcx = [m for m in hcxsim_fast.control.state()["migrations"] if m["state"] == "MIGRATION_COMPLETE"]
    assert len(in_hcx) == 3  # one HCX migration per VM, none started twice
    log = celery_beat_worker.log_path.read_text()
    assert "migrations_app.reconcile" in log


def test_cycles_send_what_waits_into_the_slots_that_free_up_until_the_wave_completes(
    hcxsim_fast, engineer, settings
):
    settings.HCX_LIMITS = {**settings.HCX_LIMITS, "MAX_REPLICATIONS_PER_MESH": 1}
    setup = make_launch_setup(hcxsim_fast, vms=3)
    batch = batches.do_create_batch(setup.wave, acting_user=engineer)
    run(
        batches.do_launch_batch(batch, acting_user=engineer).pk
    )  # the submit job sends one; two wait for a slot
    assert sorted(batch.migrations.values_list("state", flat=True)).count(S.WAITING) == 2

    for _cycle in range(12):
        setup.finish()
        reconcile_site(setup.site)
        setup.wave.refresh_from_db()
        if setup.wave.status == WaveStatus.COMPLETED:
            break

    assert setup.wave.status == WaveStatus.COMPLETED
    assert states_of(batch) == [S.COMPLETE] * 3
    assert sorted(m["entity"]["entityName"] for m in setup.hcx_migrations()) == ["app-1", "app-2", "app-3"]


def states_of(batch) -> list[str]:
    return list(batch.migrations.order_by("pk").values_list("state", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_worker_s_beat_sends_and_follows_a_launched_batch_to_the_end(
    hcxsim_fast, celery_beat_worker, engineer, settings
):
    setup = make_launch_setup(hcxsim_fast, vms=3)
    batch = batches.do_create_batch(setup.wave, acting_user=engineer)
    # Launched, but its submit job never ran (say its worker died): the reconciler's dispatch sends it.
    Batch.objects.filter(pk=batch.pk).update(launched=timezone.now())
    Wave.objects.filter(pk=setup.wave.pk).update(status=WaveStatus.RUNNING)

    wait_for(
        lambda: Wave.objects.get(pk=setup.wave.pk).status == WaveStatus.COMPLETED,
        timeout=90,
        message="the wave to complete",
    )

    assert states_of(batch) == [S.COMPLETE] * 3
    assert len(setup.hcx_migrations()) == 3  # one HCX migration per VM
