"""Launching survives its faults (issue 5): the Celery worker killed with `kill -9` in the middle of
a wave or of a batch submit, Redis restarted, the web server restarted, HCX answering 503 or timing
out for a minute, its session expiring, a migration failing at switchover.

Each test keeps the promises an engineer relies on: no migration lost, none started twice, the wave
finishes and the log says what happened. Each ends by counting the simulator's migrations per VM
against the portal's VmMigration rows (`assert_hcx_matches_portal`).

The worker tests run a real worker with its beat (the reconciler every RECONCILE_SECONDS) against the
`hcxsim` simulator, whose clock the test moves on (`drive`), so that "the middle of a wave" is a state
the test waits for rather than a moment it guesses.
"""

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings

from core.choices import JobStatus
from core.jobs import run
from core.models import Job
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.launch import batches, controls, progress
from migrations_app.launch.reconcile import forget_clients, reconcile_site
from migrations_app.models import MigrationEvent, VmMigration, Wave
from tests.launch_helpers import make_launch_setup
from tests.peers.worker import _worker, wait_for

S = MigrationState
RECONCILE_SECONDS = "0.5"
# What HCX calls its migrations' final states, and the portal's words for them.
HCX_FINAL = {
    "MIGRATION_COMPLETE": S.COMPLETE,
    "MIGRATION_FAILED": S.FAILED,
    "MIGRATION_CANCELLED": S.CANCELLED,
}


@pytest.fixture(autouse=True)
def _fresh_clients():
    """The simulator is reset per test: no HCX client (nor session) of this process outlives a test."""
    forget_clients()
    yield
    forget_clients()


# --- the worker: started, killed and restarted by the test -------------------------------------------


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (the worker's embedded beat is a child process)."""
    parents = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents[ppid].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Worker:
    """A Celery worker with its embedded beat (tests/peers/worker.py), which the test starts when its
    data is ready, kills as an OOM kill does (the worker and its beat, SIGKILL, no clean-up) and
    starts again. Its jobs come from `send_jobs_here`."""

    def __init__(self, tmp_path_factory, **env):
        self.process = _worker(tmp_path_factory, beat=True)
        self.process.env.update(LAUNCH_RECONCILE_SECONDS=RECONCILE_SECONDS, **env)
        self.queue = self.process.env["CELERY_QUEUE"]
        self.logs: list[Path] = []

    def start(self):
        # A fresh log per run, so that what the second worker logs can be told from the first's.
        self.process.log_path = self.process.log_path.with_name(f"worker-{len(self.logs) + 1}.log")
        self.logs.append(self.process.log_path)
        self.process.start()

    def kill(self):
        pids = [self.process.proc.pid, *_children(self.process.proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.proc.wait()
        self.process.log.close()

    def stop(self):
        if self.process.proc is None:
            return
        children = _children(self.process.proc.pid)
        self.process.stop()
        self.process.proc.wait(10)  # gone with its database connection before the test database goes
        for pid in children:  # a beat left behind by a stop that had to kill its parent
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log(self, run: int = -1) -> str:
        return self.logs[run].read_text(errors="replace")

    def connection(self):
        from kombu import Connection

        if self.process.env.get("REDIS_URL"):
            return Connection(self.process.env["REDIS_URL"])
        folder = Path(self.process.env["CELERY_BROKER_DIR"])
        return Connection(
            "filesystem://",
            transport_options={
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "control_folder": str(folder / "control"),
                "store_processed": False,
            },
        )

    def send_jobs_here(self, monkeypatch):
        """Jobs enqueued by the test (a launch's submit job) go to this worker's queue and broker,
        declared now so that a job sent before the worker starts waits for it."""
        from kombu import Exchange, Queue

        from avsportal.celery import app

        with self.connection() as conn:
            Queue(self.queue, Exchange(self.queue, type="direct"), routing_key=self.queue)(
                conn.default_channel
            ).declare()

        def send(job):
            with self.connection() as conn:
                result = app.send_task("core.run_job", args=[job.pk], queue=self.queue, connection=conn)
            Job.objects.filter(pk=job.pk).update(task_id=result.id or "")

        monkeypatch.setattr(Job, "send", send)


@pytest.fixture
def make_worker(django_db_setup, tmp_path_factory):
    """`make_worker(**env)`: a Worker not started yet; every one made is stopped when the test ends."""
    made = []

    def make(**env) -> Worker:
        worker = Worker(tmp_path_factory, **env)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


# --- waiting on the portal while HCX's clock moves on --------------------------------------------------


def drive(sim, done, *, step: float = 30, timeout: float = 60, message: str):
    """Move the simulator's clock `step` seconds at a time until `done()` is truthy (its value is
    returned); fail with `message` after `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {message}; portal: {portal_states()}"
            )
        sim.control.advance(step)
        time.sleep(0.2)


def portal_states(wave=None) -> dict[str, int]:
    qs = VmMigration.objects.all() if wave is None else VmMigration.objects.filter(wave=wave)
    return dict(Counter(qs.values_list("state", flat=True)))


def wave_completed(wave) -> bool:
    return Wave.objects.get(pk=wave.pk).status == WaveStatus.COMPLETED


def states_by_vm(wave) -> dict[str, list[str]]:
    found = defaultdict(list)
    for name, state in VmMigration.objects.filter(wave=wave).order_by("pk").values_list("vm__name", "state"):
        found[name].append(state)
    return dict(found)


def assert_hcx_matches_portal(sim, wave):
    """HCX's migrations per VM are exactly the portal's rows with an HCX id, in the same final state,
    and each VM went to AVS exactly once."""
    in_hcx = defaultdict(dict)
    for m in sim.control.state()["migrations"]:
        in_hcx[m["entity"]["entityName"]][m["migrationId"]] = m["state"]
    ours = defaultdict(dict)
    for name, hcx_id, state in VmMigration.objects.filter(wave=wave, hcx_id__isnull=False).values_list(
        "vm__name", "hcx_id", "state"
    ):
        ours[name][hcx_id] = state
    vms = set(wave.items.values_list("vm__name", flat=True))
    assert set(in_hcx) == set(ours) == vms, (dict(in_hcx), dict(ours))
    for name in sorted(vms):
        assert set(in_hcx[name]) == set(ours[name]), f"{name}: HCX {in_hcx[name]} vs portal {ours[name]}"
        for hcx_id, hcx_state in in_hcx[name].items():
            assert HCX_FINAL.get(hcx_state) == ours[name][hcx_id], (
                f"{name} {hcx_id}: HCX {hcx_state}, portal {ours[name][hcx_id]}"
            )
        assert list(in_hcx[name].values()).count("MIGRATION_COMPLETE") == 1, (name, in_hcx[name])
    # Nothing the portal tracks is left without an HCX id (lost) or still in flight.
    assert not VmMigration.objects.filter(wave=wave, state__in=sorted(S.ACTIVE)).exists(), portal_states(wave)


def submitting_events(wave) -> Counter:
    """How often each migration was claimed for sending: more than once would be a second start."""
    return Counter(
        MigrationEvent.objects.filter(wave=wave, state=S.SUBMITTING).values_list("migration_id", flat=True)
    )


# --- 1. the worker killed in the middle of a wave -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_wave_loses_nothing_and_a_new_one_finishes_the_wave(
    hcxsim, make_worker, engineer, monkeypatch, settings
):
    # Two replication slots for five VMs: a wave that sends in three rounds, so that at the kill some
    # are done, some in flight in HCX and one still waits for a slot.
    settings.HCX_LIMITS = {**settings.HCX_LIMITS, "MAX_REPLICATIONS_PER_MESH": 2}
    setup = make_launch_setup(hcxsim, vms=5)
    worker = make_worker(HCX_MAX_REPLICATIONS_PER_MESH="2")
    worker.send_jobs_here(monkeypatch)
    worker.start()
    batch = batches.do_launch_wave(setup.wave, acting_user=engineer)

    def mid_wave():
        states = Counter(VmMigration.objects.filter(batch=batch).values_list("state", flat=True))
        return states[S.COMPLETE] >= 2 and states[S.WAITING] >= 1 and sum(states[s] for s in S.IN_HCX) >= 1

    drive(hcxsim, mid_wave, message="two migrations done, others in flight and one waiting")
    worker.kill()
    in_flight_at_kill = set(
        VmMigration.objects.filter(batch=batch, state__in=sorted(S.IN_HCX)).values_list("hcx_id", flat=True)
    )
    hcxsim.control.advance(120)  # HCX goes on while no worker looks

    worker.start()
    drive(hcxsim, lambda: wave_completed(setup.wave), message="the wave to complete after the restart")

    assert states_by_vm(setup.wave) == {f"app-{i}": [S.COMPLETE] for i in range(1, 6)}
    assert_hcx_matches_portal(hcxsim, setup.wave)
    assert in_flight_at_kill <= set(VmMigration.objects.filter(batch=batch).values_list("hcx_id", flat=True))
    assert Job.objects.get(pk=batch.job_id).status == JobStatus.COMPLETED
    # The new worker's log says what it did: it read HCX, sent the VM that waited and finished the wave.
    # The task logs its result after its writes are committed, so the log may trail the database.
    said = ("migrations_app.reconcile", "sent 1 migration(s)", "finished 1 wave(s)")
    wait_for(
        lambda: all(text in worker.log() for text in said),
        timeout=30,
        message=f"the new worker's log to say {said}",
    )


# --- 2. the worker killed in the middle of a batch submit ---------------------------------------------


def fault_pending(sim, fault_id: int) -> bool:
    return any(f["id"] == fault_id for f in sim.control._call("GET", "/faults")["items"])


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_hcx_takes_a_batch_start_leaves_one_migration_per_vm(
    hcxsim, make_worker, engineer, monkeypatch
):
    setup = make_launch_setup(hcxsim, vms=3)
    # HCX takes its time over the start: it answers after 4 s (within the client's timeout), and
    # starts the migrations whether or not the caller is still there to hear it.
    fault = hcxsim.control.fault("delay", path="/mobility/groups/start$", seconds=4, times=1)
    worker = make_worker()
    worker.send_jobs_here(monkeypatch)
    batch = batches.do_launch_wave(setup.wave, acting_user=engineer)  # its submit job is first in the queue
    worker.start()

    # The fault is used up when the start reaches HCX: the submit job is now waiting for HCX's answer.
    wait_for(lambda: not fault_pending(hcxsim, fault["id"]), timeout=30, message="the start to reach HCX")
    assert Job.objects.get(pk=batch.job_id).status == JobStatus.RUNNING
    assert portal_states(setup.wave) == {S.SUBMITTING: 3}
    worker.kill()
    wait_for(
        lambda: [m["state"] for m in setup.hcx_migrations()] == ["MIGRATING"] * 3,
        timeout=30,
        message="HCX to start the group it was sent",
    )
    assert portal_states(setup.wave) == {S.SUBMITTING: 3}  # the portal never heard HCX's ids

    worker.start()
    drive(hcxsim, lambda: wave_completed(setup.wave), message="the wave to complete after the restart")

    assert_hcx_matches_portal(hcxsim, setup.wave)
    assert len(setup.hcx_migrations()) == 3
    # The log says what happened to each: found in HCX after the interrupted send, not sent again.
    for m in VmMigration.objects.filter(wave=setup.wave):
        messages = list(
            MigrationEvent.objects.filter(migration=m).order_by("at", "pk").values_list("message", flat=True)
        )
        assert any(
            f"Found in HCX after an interrupted send ({m.hcx_id}); not sent again" == text
            for text in messages
        ), messages
    assert "sent 0 migration(s), 0 refused by HCX, 3 recovered" in worker.log()


# --- 3. Redis restarted ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own (no persistence: a restart loses every queued message)."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.answers, timeout=10, message=f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    if not django_settings.REDIS_URL:
        pytest.skip(
            "needs Redis: without REDIS_URL the worker uses the filesystem broker, which has no server "
            "to restart"
        )
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_redis_restart_mid_wave_is_survived_by_the_worker_and_its_beat(
    hcxsim, make_worker, redis_server, engineer, monkeypatch, settings
):
    settings.HCX_LIMITS = {**settings.HCX_LIMITS, "MAX_REPLICATIONS_PER_MESH": 2}
    setup = make_launch_setup(hcxsim, vms=4)
    worker = make_worker(REDIS_URL=redis_server.url, HCX_MAX_REPLICATIONS_PER_MESH="2")
    worker.send_jobs_here(monkeypatch)
    worker.start()
    batch = batches.do_launch_wave(setup.wave, acting_user=engineer)
    drive(
        hcxsim,
        lambda: VmMigration.objects.filter(batch=batch, state__in=sorted(S.IN_HCX)).count() == 2,
        message="the first two migrations in HCX",
    )

    redis_server.stop()  # every queued message is gone with it
    # Down long enough for both to fail: the worker's consumer, and its beat sending a cycle.
    wait_for(
        lambda: "Cannot connect to redis" in worker.log() and "Couldn't apply scheduled task" in worker.log(),
        timeout=30,
        message="the worker and its beat to find Redis gone",
    )
    frozen = portal_states(setup.wave)
    hcxsim.control.advance(600)  # the first two finish in HCX while nothing can reach the worker
    redis_server.start()

    drive(
        hcxsim,
        lambda: wave_completed(setup.wave),
        timeout=90,
        message="the wave to complete after Redis is back",
    )

    assert frozen[S.WAITING] == 2  # the last two were sent only after Redis came back
    assert_hcx_matches_portal(hcxsim, setup.wave)
    log = worker.log()
    assert log.count("Connected to redis://") >= 2, log[-3000:]  # connected at start, and again


# --- 4. the web server restarted ------------------------------------------------------------------


class RestartableAsgi:
    """The portal's ASGI application under uvicorn in a thread (as tests/peers/asgi.py), stopped and
    started again on the same port, as a restarted web server."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = self.thread = self.sock = None

    def start(self):
        import uvicorn

        from avsportal.asgi import application

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(application, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        wait_for(
            lambda: self.server.started or not self.thread.is_alive(), timeout=20, message="uvicorn to start"
        )
        assert self.server.started, "uvicorn did not start"

    def stop(self):
        if self.server is not None and self.thread.is_alive():
            self.server.should_exit = True
            self.thread.join(15)
            assert not self.thread.is_alive(), "uvicorn did not stop"
        if self.sock is not None:
            self.sock.close()


@pytest.fixture
def web_server(transactional_db):
    server = RestartableAsgi()
    server.start()
    yield server
    server.stop()


def sse(response):
    """(event, data, id) from a text/event-stream as it arrives; comments as ("comment", text, None)."""
    import json

    name, data, event_id = None, [], None
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line.startswith("id:"):
            event_id = line.split(":", 1)[1].strip()
        elif line.startswith(":"):
            yield "comment", line[1:].strip(), None
        elif line == "" and data:
            yield name, json.loads("\n".join(data)), event_id
            name, data, event_id = None, [], None


def seen_in(body: dict) -> dict[int, tuple[str, str]]:
    return {r["id"]: (r["state"], r["updated"]) for r in body["migrations"]}


def portal_rows(wave, since=None) -> dict[int, tuple[str, str]]:
    qs = VmMigration.objects.filter(wave=wave)
    if since is not None:
        qs = qs.filter(updated__gt=progress.parse_cursor(since))
    return {
        pk: (state, progress.format_cursor(updated))
        for pk, state, updated in qs.values_list("pk", "state", "updated")
    }


@pytest.mark.django_db(transaction=True)
def test_a_web_server_restart_ends_the_stream_and_a_reader_resumes_from_its_cursor_missing_nothing(
    hcxsim, web_server, engineer, stakeholder, monkeypatch
):
    setup = make_launch_setup(hcxsim, vms=3, disk_bytes=1024**3)
    monkeypatch.setattr(Job, "send", lambda job: None)  # the test runs the submit job itself
    run(
        batches.do_launch_batch(
            batches.do_create_batch(setup.wave, acting_user=engineer), acting_user=engineer
        ).pk
    )
    wave = setup.wave
    cookies = {django_settings.SESSION_COOKIE_NAME: _session_cookie(stakeholder)}
    url = f"{web_server.url}/plan/waves/{wave.pk}/progress/stream/?since={progress.latest_cursor(wave)}"

    with requests.get(url, cookies=cookies, stream=True, timeout=(5, 20)) as response:
        assert response.status_code == 200
        events = sse(response)
        assert next(events)[0] == "comment"
        hcxsim.control.advance(31)  # validated: copying
        reconcile_site(setup.site)
        seen = {}
        for name, body, event_id in events:
            if name == "progress":
                seen.update(seen_in(body))
                cursor = event_id
                if {state for state, _ in seen.values()} == {S.INITIAL_SYNC} and len(seen) == 3:
                    break
        assert cursor == body["cursor"] == max(updated for _, updated in portal_rows(wave).values())

        # The server stops: the open stream ends (it does not hang waiting for events that never come).
        stopper = threading.Thread(target=web_server.stop)
        stopper.start()
        try:
            for name, _body, _id in events:
                assert name == "comment", "an event came after the server was told to stop"
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
            pass  # cut mid-chunk: ended all the same
        stopper.join()

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, cookies=cookies, timeout=5)
    # While no web server runs, HCX moves on twice and the reconciler records it.
    hcxsim.control.advance(30)
    reconcile_site(setup.site)
    hcxsim.control.advance(300)
    reconcile_site(setup.site)
    missed = portal_rows(wave, since=cursor)
    assert {state for state, _ in missed.values()} == {S.CLEANUP} and len(missed) == 3

    web_server.start()
    # The polling API from the cursor: every row that changed, at its newest.
    answer = requests.get(
        f"{web_server.url}/api/waves/{wave.pk}/progress/",
        params={"since": cursor},
        cookies=cookies,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    polled = answer.json()
    assert {pk: row for pk, row in seen_in(polled).items() if pk in missed} == missed
    assert polled["cursor"] == max(updated for _, updated in missed.values())
    # The stream from the same cursor (as a browser's reconnect sends it) says the same, then goes on.
    with requests.get(
        f"{web_server.url}/plan/waves/{wave.pk}/progress/stream/",
        cookies=cookies,
        headers={"Last-Event-ID": cursor},
        stream=True,
        timeout=(5, 20),
    ) as response:
        events = sse(response)
        name, body, event_id = next(e for e in events if e[0] == "progress")
        assert {pk: row for pk, row in seen_in(body).items() if pk in missed} == missed
        assert event_id == polled["cursor"]
        hcxsim.control.advance(60)
        reconcile_site(setup.site)
        done = {}
        for name, body, _id in events:
            if name == "progress":
                done.update(seen_in(body))
                if len(done) == 3 and {state for state, _ in done.values()} == {S.COMPLETE}:
                    break
        assert body["rollup"]["done"] == 3

    assert wave_completed(wave)
    assert_hcx_matches_portal(hcxsim, wave)


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


# --- 5. HCX answering 503, or not answering, for a minute -------------------------------------------


def cycle_until(sim, site, done, *, step: float = 60, cycles: int = 40):
    """Reconciler cycles here, HCX's clock `step` seconds on between them, until `done()`."""
    for _ in range(cycles):
        if done():
            return
        sim.control.advance(step)
        reconcile_site(site)
    assert done(), f"not done after {cycles} cycles; portal: {portal_states()}"


def snapshot(wave) -> list[tuple]:
    return list(
        VmMigration.objects.filter(wave=wave)
        .order_by("pk")
        .values_list("state", "updated", "bytes_transferred", "message", "hcx_id")
    )


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ({"kind": "error", "status": 503}, "HTTP 503"),
        ({"kind": "delay", "seconds": 1}, "did not answer within"),
    ],
    ids=["503", "timeout"],
)
@pytest.mark.django_db
def test_a_minute_of_hcx_failing_changes_nothing_says_so_and_the_wave_then_catches_up(
    hcxsim, engineer, settings, caplog, fault, said
):
    settings.HCX_SETUP = {
        **settings.HCX_SETUP,
        "HTTP_TIMEOUT": 0.3,
        "RETRY_ATTEMPTS": 1,
        "RETRY_BACKOFF": 0.01,
    }
    settings.HCX_LIMITS = {**settings.HCX_LIMITS, "MAX_REPLICATIONS_PER_MESH": 2}
    setup = make_launch_setup(hcxsim, vms=4)
    run(
        batches.do_launch_batch(
            batches.do_create_batch(setup.wave, acting_user=engineer), acting_user=engineer
        ).pk
    )
    reconcile_site(setup.site)  # logged in: the cycles below reuse the session
    assert portal_states(setup.wave) == {S.VALIDATING: 2, S.WAITING: 2}
    before, events = snapshot(setup.wave), MigrationEvent.objects.count()

    hcxsim.control.fault(path="^/hybridity/api/", times=None, **fault)  # every HCX call, login too
    with caplog.at_level(logging.WARNING, logger="migrations_app.launch.reconcile"):
        for _ in range(6):  # a cycle every 10 simulated seconds for a minute
            hcxsim.control.advance(10)
            stats = reconcile_site(setup.site)
            assert said in stats.skipped and stats.rows_written == 0
            assert snapshot(setup.wave) == before and MigrationEvent.objects.count() == events

    outage = [r.getMessage() for r in caplog.records if "ended without changes" in r.getMessage()]
    assert len(outage) == 6 and all(said in text and "the next cycle reads again" in text for text in outage)
    assert len(setup.hcx_migrations()) == 2  # nothing new sent while HCX could not be read

    hcxsim.control.clear_faults()
    stats = reconcile_site(setup.site)  # HCX answers again: the portal catches up with its minute
    assert not stats.skipped and stats.rows_written == 2
    assert all(
        m.state not in (S.VALIDATING, S.WAITING) for m in VmMigration.objects.filter(hcx_id__isnull=False)
    )
    cycle_until(hcxsim, setup.site, lambda: wave_completed(setup.wave))

    assert_hcx_matches_portal(hcxsim, setup.wave)
    assert set(submitting_events(setup.wave).values()) == {1}


# --- 6. the HCX session expiring mid-wave ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_hcx_session_expiring_mid_wave_is_logged_in_again_and_the_wave_goes_on(
    hcxsim, make_worker, engineer, monkeypatch, settings
):
    settings.HCX_LIMITS = {**settings.HCX_LIMITS, "MAX_REPLICATIONS_PER_MESH": 2}
    setup = make_launch_setup(hcxsim, vms=4)
    worker = make_worker(HCX_MAX_REPLICATIONS_PER_MESH="2")
    worker.send_jobs_here(monkeypatch)
    worker.start()
    batch = batches.do_launch_wave(setup.wave, acting_user=engineer)
    drive(
        hcxsim,
        lambda: (
            VmMigration.objects.filter(batch=batch, state__in=sorted(S.IN_HCX - {S.VALIDATING})).count() == 2
        ),
        message="the first two migrations under way",
    )
    wait_for(
        lambda: "wrote 2 row(s)" in worker.log(), timeout=30, message="a cycle to read HCX with its session"
    )

    hcxsim.control.fault("expire_sessions")  # every token HCX gave out is refused from now on
    drive(
        hcxsim, lambda: wave_completed(setup.wave), message="the wave to complete after the session expired"
    )

    assert_hcx_matches_portal(hcxsim, setup.wave)
    log = worker.log()
    assert "session expired, logging in again" in log
    assert "reconciler cycle ended without changes" not in log  # the expiry cost no cycle


# --- 7. a migration failing at switchover -----------------------------------------------------------


@pytest.mark.django_db
def test_a_switchover_failure_ends_failed_with_hcx_s_words_and_a_retry_completes_the_wave(hcxsim, engineer):
    setup = make_launch_setup(hcxsim, vms=3)
    words = "Switchover of app-2 failed: the target datastore vsanDatastore ran out of space"
    hcxsim.control.fault("migration_fail", phase="SWITCHOVER", vm="app-2", message=words, times=1)
    batch = batches.do_create_batch(setup.wave, acting_user=engineer)
    run(batches.do_launch_batch(batch, acting_user=engineer).pk)

    cycle_until(
        hcxsim,
        setup.site,
        lambda: not VmMigration.objects.filter(batch=batch, state__in=sorted(S.ACTIVE)).exists(),
    )

    assert states_by_vm(setup.wave) == {"app-1": [S.COMPLETE], "app-2": [S.FAILED], "app-3": [S.COMPLETE]}
    failed = VmMigration.objects.get(batch=batch, vm__name="app-2")
    assert words in failed.message and failed.ended is not None
    assert (
        MigrationEvent.objects.filter(migration=failed, state=S.FAILED, message__contains=words).count() == 1
    )
    assert not wave_completed(setup.wave)  # a VM not moved: the wave is not done

    result = controls.do_retry_migrations([failed], acting_user=engineer)
    [again] = result.done
    assert (again.state, again.attempt, again.retry_of_id) == (S.WAITING, 2, failed.pk)
    cycle_until(hcxsim, setup.site, lambda: wave_completed(setup.wave))

    assert states_by_vm(setup.wave) == {
        "app-1": [S.COMPLETE],
        "app-2": [S.FAILED, S.COMPLETE],
        "app-3": [S.COMPLETE],
    }
    assert_hcx_matches_portal(hcxsim, setup.wave)  # app-2: its failed run and its retry, nothing more
    failed.refresh_from_db()
    assert failed.state == S.FAILED and words in failed.message  # the first attempt keeps its story
