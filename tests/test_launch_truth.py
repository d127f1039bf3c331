"""The run view tells the truth: VMs per phase, repeats of an event on one line, ETAs as times in the
wave's zone, sizes in one convention, a "ready to switch over" callout whose confirmation says what
HCX will do, and a stream that sends the wave's status when it changes with no migration changing."""

import datetime
import json
import time

import pytest

from core.sizes import mib_text, size_text
from hcx.choices import MigrationType
from migrations_app.choices import MigrationEventKind, MigrationState, WaveStatus
from migrations_app.launch import progress
from migrations_app.launch.stream import Tracker
from migrations_app.models import MigrationEvent, VmMigration, Wave
from tests.test_launch_pages import make_scene, set_state
from tests.test_launch_stream import counted_looks  # noqa: F401 (fixture)

S = MigrationState
GiB = 1024**3
pytestmark = pytest.mark.django_db


def event(m, state, at, message=None):
    return MigrationEvent.objects.create(
        migration=m,
        wave_id=m.wave_id,
        at=at,
        kind=MigrationEventKind.STATE,
        state=state,
        message=message or S(state).label,
    )


def test_sizes_are_binary_with_thousands_separators():
    assert [size_text(n) for n in (0, 512 * 1024**2, 7.4 * GiB, 1023.9 * GiB, 1536 * GiB, 12_800 * GiB)] == [
        "0 MiB",
        "512 MiB",
        "7.4 GiB",
        "1,023.9 GiB",
        "1.50 TiB",
        "12.50 TiB",
    ]
    assert size_text(2_000 * 1024**4) == "2,000.00 TiB"
    assert mib_text(10 * 1024) == "10.0 GiB"


def test_a_flood_of_delta_syncs_reads_as_one_line_per_repeat(client_for, stakeholder):
    wave = make_scene(vms=2)
    syncing, other = wave.migrations.select_related("vm").order_by("pk")
    t0 = datetime.datetime(2031, 1, 5, 10, tzinfo=datetime.UTC)
    for i in range(14):  # every two hours: a delta sync, then the wait again (hcx-wire.md §9.2)
        event(syncing, S.DELTA_SYNC, t0 + datetime.timedelta(hours=2 * i))
        event(syncing, S.WAITING_FOR_SWITCHOVER, t0 + datetime.timedelta(hours=2 * i, minutes=2))
    event(other, S.INITIAL_SYNC, t0 + datetime.timedelta(hours=30))

    lines = progress.latest_events(wave)

    assert [(line["vm"], line["message"], line["count"]) for line in lines] == [
        (other.vm.name, "Initial sync", 1),
        (syncing.vm.name, "Waiting for switchover", 14),
        (syncing.vm.name, "Delta sync", 14),
    ]
    # Times in the wave's zone (Europe/Amsterdam, an hour ahead of UTC in January).
    assert lines[2]["at"] == "2031-01-06 13:00:00" and lines[2]["first_at"] == "2031-01-05 11:00:00"
    text = client_for(stakeholder).get(f"/plan/waves/{wave.pk}/progress/").content.decode()
    assert "Delta sync<span data-event-repeats> ×14, first at 2031-01-05 11:00:00</span>" in text
    assert text.count("Delta sync<span") == 1


def test_an_eta_is_a_time_in_the_waves_zone():
    wave = make_scene(vms=1)
    m = wave.migrations.select_related("vm").get()
    reported = datetime.datetime(2031, 1, 5, 12, tzinfo=datetime.UTC)
    VmMigration.objects.filter(pk=m.pk).update(
        state=S.INITIAL_SYNC,
        eta_seconds=3 * 3600 + 125,
        updated=reported,
        bytes_transferred=7 * GiB,
        bytes_total=20 * GiB,
    )
    [row], _ = progress.changes(wave, None)
    assert row["eta_text"].startswith("2031-01-05 16:02 CET (")  # 12:00 UTC + 3 h 02 min, in Amsterdam
    assert row["bytes_text"] == "7.0 GiB of 20.0 GiB"


def test_the_page_shows_phases_and_the_ready_callout(client_for, stakeholder, engineer):
    wave = make_scene(vms=4)
    waiting, syncing, copying, _not_sent = wave.migrations.order_by("pk")
    set_state(waiting, S.WAITING_FOR_SWITCHOVER)
    set_state(syncing, S.DELTA_SYNC)
    set_state(copying, S.INITIAL_SYNC)

    text = client_for(stakeholder).get(f"/plan/waves/{wave.pk}/progress/").content.decode()

    assert (
        'data-phase="copying"' in text and "Waiting for the window: <span data-phase-count>2</span>" in text
    )
    assert (
        "Copying: <span data-phase-count>1</span>" in text
        and "Not started: <span data-phase-count>1</span>" in text
    )
    assert "Ready to switch over: <span data-ready-count>2</span> VM<span data-ready-plural>s</span>" in text
    assert "0 of 4 VMs done · 2 ready to switch over" in text
    assert "Switch them over now" not in text  # a reader may not act
    assert (
        "Switch them over now"
        in client_for(engineer).get(f"/plan/waves/{wave.pk}/progress/").content.decode()
    )


def test_switching_the_ready_ones_over_confirms_with_what_hcx_does(client_for, engineer):
    wave = make_scene(vms=3)
    ready, vmotion, copying = wave.migrations.select_related("vm").order_by("pk")
    set_state(ready, S.WAITING_FOR_SWITCHOVER)
    set_state(vmotion, S.WAITING_FOR_SWITCHOVER, migration_type=MigrationType.VMOTION)
    set_state(copying, S.INITIAL_SYNC)

    response = client_for(engineer).post(
        f"/plan/waves/{wave.pk}/migrations/act/", {"action": "switchover_now", "scope": "ready"}
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "Switch over 1 VM now, outside the planned window?" in text
    assert ready.vm.name in text and vmotion.vm.name not in text and copying.vm.name not in text
    assert "HCX powers off the source VM, runs a final delta sync and powers the VM on in AVS" in text
    assert "Expected downtime per VM: 5–15 min for 1 Bulk VM" in text


def test_switchover_now_is_refused_for_a_vmotion_with_the_reason(client_for, engineer):
    wave = make_scene(vms=1)
    m = set_state(wave.migrations.get(), S.QUEUED, migration_type=MigrationType.VMOTION)
    text = (
        client_for(engineer)
        .post(f"/plan/waves/{wave.pk}/migrations/act/", {"action": "switchover_now", "ids": [m.pk]})
        .content.decode()
    )
    assert "their switchover cannot be scheduled" in text


def test_the_rollback_confirmation_says_what_a_reverse_migration_does(client_for, engineer):
    wave = make_scene(vms=1)
    m = set_state(wave.migrations.get(), S.COMPLETE)
    text = (
        client_for(engineer)
        .post(f"/plan/waves/{wave.pk}/migrations/act/", {"action": "rollback", "ids": [m.pk]})
        .content.decode()
    )
    assert "HCX migrates each VM from AVS back to the source site" in text
    assert "The VM keeps running in AVS until its rollback switches over." in text


@pytest.mark.django_db(transaction=True)  # the looks read in the stream's reader threads
def test_the_stream_sends_the_waves_status_when_only_the_status_changed(counted_looks):  # noqa: F811
    wave = make_scene(vms=1)
    since = progress.parse_cursor(progress.latest_cursor(wave))
    tracker = Tracker(since + datetime.timedelta(hours=1), WaveStatus.RUNNING)  # every row already sent
    looks = counted_looks
    assert looks.tick(wave, None, tracker, announced=None) is None

    Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.COMPLETED)
    text = looks.tick(wave, None, tracker, announced=time.time())  # finish_waves() announces it

    body = json.loads(text.split("data: ", 1)[1])
    assert body["wave_status"] == {
        "value": "completed",
        "label": "Completed",
        "color": WaveStatus.COLORS["completed"],
    }
    assert body["rollup"]["summary"] == "0 of 1 VM done"
    assert looks.tick(wave, None, tracker, announced=time.time()) is None  # sent once


def test_the_migration_page_writes_sizes_and_times_as_the_progress_page_does(client_for, stakeholder):
    wave = make_scene(vms=1)
    m = wave.migrations.get()
    reported = datetime.datetime(2031, 1, 5, 12, tzinfo=datetime.UTC)
    VmMigration.objects.filter(pk=m.pk).update(
        state=S.INITIAL_SYNC,
        eta_seconds=600,
        updated=reported,
        started=reported,
        bytes_transferred=7 * GiB,
        bytes_total=20 * GiB,
    )
    text = client_for(stakeholder).get(f"/plan/migrations/{m.pk}/").content.decode()
    assert "7.0 GiB of 20.0 GiB" in text
    assert "2031-01-05 13:10 CET" in text  # the ETA, in the wave's zone
    assert "2031-01-05 13:00:00" in text  # started, in the wave's zone too


def test_the_migration_page_offers_only_the_actions_that_apply(client_for, engineer):
    wave = make_scene(vms=2)
    bulk, vmotion = wave.migrations.order_by("pk")
    set_state(bulk, S.WAITING_FOR_SWITCHOVER)
    set_state(vmotion, S.QUEUED, migration_type=MigrationType.VMOTION)
    client = client_for(engineer)
    assert 'value="switchover_now"' in client.get(f"/plan/migrations/{bulk.pk}/").content.decode()
    text = client.get(f"/plan/migrations/{vmotion.pk}/").content.decode()
    assert 'value="switchover_now"' not in text and 'value="cancel"' in text
