"""Live progress: `changes()` gives what changed (late commits too), and the server-sent events stream,
served by uvicorn, sends a change to a signed-in reader and refuses everyone else."""

import asyncio
import datetime
import json
import threading
import time

import pytest
import requests

from core.live import readers as stream_readers
from migrations_app.choices import MigrationState
from migrations_app.launch import progress
from migrations_app.launch.stream import SharedLooks, Tracker
from migrations_app.launch.transitions import move
from migrations_app.models import VmMigration
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)
from tests.test_launch_pages import make_scene

S = MigrationState
READ_TIMEOUT = 20


@pytest.mark.django_db
def test_changes_gives_only_what_changed_since_the_cursor(settings):
    wave = make_scene(vms=5)
    old = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    VmMigration.objects.filter(wave=wave).update(updated=old)
    rows, cursor = progress.changes(wave, None)
    assert len(rows) == 5 and cursor == old
    later = old + datetime.timedelta(minutes=10)
    assert progress.changes(wave, later) == ([], later)  # nothing since: nothing, the cursor stays
    m = wave.migrations.order_by("pk").first()
    move(m, S.SUBMITTING)
    rows, cursor = progress.changes(wave, later)
    assert [(r["id"], r["state"]) for r in rows] == [(m.pk, "submitting")]
    assert cursor == VmMigration.objects.get(pk=m.pk).updated


@pytest.mark.django_db
def test_changes_still_gives_a_row_committed_after_a_newer_cursor(settings):
    """The reconciler stamps `updated` before its commit: a row stamped at 10:00:00 may commit after a
    reader has seen another row of 10:00:01. Inside the overlap it is still given; outside, not."""
    wave = make_scene(vms=3)
    a, b, c = wave.migrations.order_by("pk")
    base = datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.UTC)
    VmMigration.objects.filter(wave=wave).update(updated=base - datetime.timedelta(hours=1))
    VmMigration.objects.filter(pk=a.pk).update(updated=base + datetime.timedelta(seconds=1), percent=10)
    rows, cursor = progress.changes(wave, base)
    assert [r["id"] for r in rows] == [a.pk]
    overlap = settings.LAUNCH["STREAM_OVERLAP_SECONDS"]
    VmMigration.objects.filter(pk=b.pk).update(
        updated=cursor - datetime.timedelta(seconds=overlap - 1), percent=20
    )
    VmMigration.objects.filter(pk=c.pk).update(
        updated=cursor - datetime.timedelta(seconds=overlap + 1), percent=30
    )
    rows, _ = progress.changes(wave, cursor)
    assert {r["id"]: r["percent"] for r in rows} == {a.pk: 10, b.pk: 20}

    # A stream that already sent a and b at these times gets neither again, only what is newer.
    sent = {r["id"]: r["updated"] for r in rows}
    assert progress.changes(wave, cursor, seen=sent)[0] == []
    VmMigration.objects.filter(pk=b.pk).update(updated=cursor + datetime.timedelta(seconds=1), percent=40)
    rows, newer = progress.changes(wave, cursor, seen=sent)
    assert [(r["id"], r["percent"]) for r in rows] == [(b.pk, 40)] and newer > cursor


def read_events(response):
    """(event name, data) pairs from a text/event-stream, as they arrive."""
    name, data = None, []
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line == "" and data:
            yield name, json.loads("\n".join(data))
            name, data = None, []


@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_a_change_to_a_signed_in_reader(asgi_server, stakeholder):  # noqa: F811
    wave = make_scene(vms=3)
    m = wave.migrations.order_by("pk").first()
    cursor = progress.latest_cursor(wave)
    url = f"{asgi_server.url}/plan/waves/{wave.pk}/progress/stream/?since={cursor}"
    with requests.get(
        url, cookies=asgi_server.cookies(stakeholder), stream=True, timeout=(5, READ_TIMEOUT)
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = read_events(response)
        assert next(events) == ("comment", f"subscribed to wave {wave.pk}")
        # As the reconciler does: observe a reading, then save the observed fields.
        m.state, m.percent, m.bytes_transferred, m.bytes_total = (
            S.INITIAL_SYNC,
            42,
            4_200_000_000,
            10_000_000_000,
        )
        m.updated = datetime.datetime.now(datetime.UTC)
        m.save(update_fields=["state", "percent", "bytes_transferred", "bytes_total", "updated"])
        for name, body in events:
            if name == "progress" and any(r["id"] == m.pk and r["percent"] == 42 for r in body["migrations"]):
                break
        row = next(r for r in body["migrations"] if r["id"] == m.pk)
        assert (row["state"], row["state_label"], row["bytes_total"]) == (
            "initial_sync",
            "Initial sync",
            10_000_000_000,
        )
        assert body["rollup"]["in_flight"] == 1 and body["cursor"] == row["updated"]
        assert str(m.batch_id) in body["batches"]


@pytest.mark.django_db(transaction=True)
def test_the_stream_is_refused_to_anonymous_and_to_users_without_read_access(asgi_server, outsider):  # noqa: F811
    wave = make_scene(vms=1)
    url = f"{asgi_server.url}/plan/waves/{wave.pk}/progress/stream/"
    response = requests.get(url, timeout=(5, READ_TIMEOUT))
    assert response.status_code == 401 and "Sign in" in response.text
    response = requests.get(url, cookies=asgi_server.cookies(outsider), timeout=(5, READ_TIMEOUT))
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_reconnecting_browser_catches_up_from_its_last_event_id(asgi_server, engineer):  # noqa: F811
    wave = make_scene(vms=2)
    a, b = wave.migrations.order_by("pk")
    now = datetime.datetime.now(datetime.UTC)
    VmMigration.objects.filter(wave=wave).update(updated=now - datetime.timedelta(hours=1))
    last_seen = progress.format_cursor(now - datetime.timedelta(minutes=30))
    move(b, S.SUBMITTING)  # while the browser was away
    url = f"{asgi_server.url}/plan/waves/{wave.pk}/progress/stream/?since=2000-01-01T00:00:00Z"
    with requests.get(
        url,
        cookies=asgi_server.cookies(engineer),
        headers={"Last-Event-ID": last_seen},
        stream=True,
        timeout=(5, READ_TIMEOUT),
    ) as response:
        body = next(data for name, data in read_events(response) if name == "progress")
    # Last-Event-ID wins over ?since: only what changed after it, not the whole wave again.
    assert [r["id"] for r in body["migrations"]] == [b.pk]
    assert body["cursor"] == progress.format_cursor(VmMigration.objects.get(pk=b.pk).updated)


@pytest.mark.django_db(transaction=True)
def test_with_redis_a_committed_change_wakes_the_stream_at_once(asgi_server, engineer, settings):  # noqa: F811
    """The stream's own next look is an hour away: only the wake-up can bring the change in time
    (the read gives up after READ_TIMEOUT)."""
    if not settings.REDIS_URL:
        pytest.skip("wake-ups need Redis (REDIS_URL)")
    settings.LAUNCH = {**settings.LAUNCH, "STREAM_POLL_SECONDS": 3600}
    wave = make_scene(vms=2)
    VmMigration.objects.filter(wave=wave).update(
        updated=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    )
    a = wave.migrations.order_by("pk").first()
    url = f"{asgi_server.url}/plan/waves/{wave.pk}/progress/stream/?since={half_an_hour_ago()}"
    with requests.get(
        url, cookies=asgi_server.cookies(engineer), stream=True, timeout=(5, READ_TIMEOUT)
    ) as response:
        events = read_events(response)
        assert next(events) == ("comment", f"subscribed to wave {wave.pk}")
        move(a, S.SUBMITTING)  # announced when it commits (the reconciler's writes: test_launch_reconcile)
        body = next(data for name, data in events if name == "progress")
        assert [(r["id"], r["state"]) for r in body["migrations"]] == [(a.pk, "submitting")]


@pytest.mark.django_db(transaction=True)
def test_without_a_reachable_redis_the_stream_still_sees_changes_by_looking(asgi_server, engineer, settings):  # noqa: F811
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    settings.LAUNCH = {**settings.LAUNCH, "STREAM_POLL_SECONDS": 0.2}
    wave = make_scene(vms=1)
    VmMigration.objects.filter(wave=wave).update(
        updated=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    )
    (m,) = wave.migrations.all()
    url = f"{asgi_server.url}/plan/waves/{wave.pk}/progress/stream/?since={half_an_hour_ago()}"
    with requests.get(
        url, cookies=asgi_server.cookies(engineer), stream=True, timeout=(5, READ_TIMEOUT)
    ) as response:
        events = read_events(response)
        assert next(events) == ("comment", f"subscribed to wave {wave.pk}")
        move(m, S.SUBMITTING)  # its announcement fails: logged, the move stands
        body = next(data for name, data in events if name == "progress")
    assert [(r["id"], r["state"]) for r in body["migrations"]] == [(m.pk, "submitting")]
    assert VmMigration.objects.get(pk=m.pk).state == S.SUBMITTING


def half_an_hour_ago() -> str:
    """A cursor after the scene's rows (stamped an hour ago), so the stream's first look sends nothing."""
    return progress.format_cursor(datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=30))


class CountedLooks:
    """SharedLooks on an event loop of their own, in a thread of its own as a server's loop is (a
    look's Event belongs to its loop, and the test's thread may have a loop running already: the
    browser tests' Playwright), reading through the reader threads as streams do, counting the looks
    that reach the database: `looks.tick(...)` as a stream's loop would await it, `looks.reads` the
    looks so far."""

    def __init__(self):
        async def counted(fn, *args):
            self.reads += 1
            return await stream_readers.read(fn, *args)

        self.reads, self.shared, self.loop = 0, SharedLooks(read=counted), asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="counted-looks", daemon=True)
        self.thread.start()

    def tick(self, *args, **kwargs):
        return asyncio.run_coroutine_threadsafe(self.shared.tick(*args, **kwargs), self.loop).result(
            READ_TIMEOUT
        )

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(READ_TIMEOUT)
        self.loop.close()


@pytest.fixture
def counted_looks():
    looks = CountedLooks()
    yield looks
    looks.close()


@pytest.mark.django_db(transaction=True)  # the looks read in the reader threads
def test_streams_in_the_same_state_share_one_look_and_a_woken_one_never_takes_an_older_look(
    settings, counted_looks
):
    """A room of viewers: the first stream's look answers the others (no query of their own); a
    stream woken by a change announced after that look looks again and gets the change."""
    settings.LAUNCH = {**settings.LAUNCH, "STREAM_POLL_SECONDS": 60}  # looks stay fresh all through the test
    wave = make_scene(vms=3)
    a, b, c = wave.migrations.order_by("pk")
    VmMigration.objects.filter(wave=wave).update(
        updated=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    )
    since = progress.parse_cursor(half_an_hour_ago())
    looks = counted_looks
    first, second = Tracker(since), Tracker(since)
    third = Tracker(since - datetime.timedelta(minutes=1))  # opened its page earlier: another state
    move(a, S.SUBMITTING)

    text = looks.tick(wave, None, first, announced=0.0)
    assert migrations_in(text) == [a.pk]
    assert looks.tick(wave, None, second, announced=0.0) == text
    assert looks.reads == 1
    assert (second.cursor, second.sent) == (first.cursor, first.sent)

    move(b, S.SUBMITTING)
    announced = time.time()  # the writer announces after its commit
    text = looks.tick(wave, None, second, announced=announced)
    assert migrations_in(text) == [b.pk]
    assert looks.tick(wave, None, first, announced=announced) == text
    assert looks.reads == 2

    # Streams that only poll share a look too; the third viewer, in a state of its own, looks for itself.
    polling, also_polling = _copy(first), _copy(first)
    assert looks.tick(wave, None, polling, announced=None) is None  # nothing new since
    assert looks.tick(wave, None, also_polling, announced=None) is None
    assert looks.reads == 3
    assert sorted(migrations_in(looks.tick(wave, None, third, announced=None))) == [a.pk, b.pk]
    assert c.pk not in third.sent


def migrations_in(text: str) -> list[int]:
    """The migration ids an event's text carries."""
    data = next(line for line in text.splitlines() if line.startswith("data: "))
    return [r["id"] for r in json.loads(data[len("data: ") :])["migrations"]]


def _copy(tracker: Tracker) -> Tracker:
    twin = Tracker(tracker.cursor)
    twin.sent = dict(tracker.sent)
    return twin


@pytest.mark.django_db(transaction=True)
def test_a_change_nobody_announced_reaches_a_stream_once_the_shared_look_is_half_a_poll_old(
    settings, counted_looks
):
    settings.LAUNCH = {**settings.LAUNCH, "STREAM_POLL_SECONDS": 0.2}
    wave = make_scene(vms=1)
    (m,) = wave.migrations.all()
    VmMigration.objects.filter(wave=wave).update(
        updated=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    )
    since = progress.parse_cursor(half_an_hour_ago())
    looks, first = counted_looks, Tracker(since)
    assert looks.tick(wave, None, first, announced=0.0) is None
    move(m, S.SUBMITTING)  # say Redis was down: announced to nobody
    time.sleep(0.15)  # the look is now older than half the poll interval
    text = looks.tick(wave, None, _copy(first), announced=0.0)
    assert migrations_in(text) == [m.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("since", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-10:00"])
def test_a_cursor_out_of_range_is_a_400_and_not_a_broken_stream(asgi_server, stakeholder, since):  # noqa: F811
    wave = make_scene(vms=1)
    url = f"{asgi_server.url}/plan/waves/{wave.pk}/progress/stream/"
    response = requests.get(
        url, params={"since": since}, cookies=asgi_server.cookies(stakeholder), timeout=30
    )
    assert response.status_code == 400 and "out of range" in response.text
    response = requests.get(
        url, headers={"Last-Event-ID": since}, cookies=asgi_server.cookies(stakeholder), timeout=30
    )
    assert response.status_code == 400
