"""A real Celery worker process for tests about asynchronous work.

It runs `celery worker` in a subprocess against the test database and the same broker as
the tests (Redis with REDIS_URL, else the filesystem broker in a temporary folder), on a
queue of its own so that parallel runs never take each other's tasks. Tests that use it
need committed data: mark them `@pytest.mark.django_db(transaction=True)`.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or 5432
    return f"postgresql://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """`beat=True` runs Celery beat inside the worker (`-B`), so the periodic tasks of
    settings.CELERY_BEAT_SCHEDULE (the reconciler) run on their own, as in production."""

    def __init__(self, env, log_path, *, beat: bool = False):
        self.env = env
        self.log_path = log_path
        self.beat = beat
        self.proc = None

    def start(self, timeout=60):
        self.log = open(self.log_path, "ab")
        beat = ["-B", f"--schedule={Path(self.log_path).with_name('beat-schedule')}"] if self.beat else []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "avsportal",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                *beat,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Celery worker exited at start; see {self.log_path}")
            if b" ready." in Path(self.log_path).read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"Celery worker not ready after {timeout}s; see {self.log_path}")

    def kill(self):
        """SIGKILL, as a crashed or OOM-killed worker."""
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                # A beat worker has a task every second to finish; it need not finish it.
                self.proc.wait(3 if self.beat else 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "log", None):
            self.log.close()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start one worker for the session; yields the WorkerProcess (restartable with .start())."""
    worker = _worker(tmp_path_factory)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def celery_beat_worker(django_db_setup, tmp_path_factory):
    """A worker with an embedded beat, for this test only (its periodic tasks would act on other
    tests' data): the reconciler runs every LAUNCH["RECONCILE_SECONDS"] until the test ends."""
    worker = _worker(tmp_path_factory, beat=True)
    worker.start()
    yield worker
    worker.stop()


def _worker(tmp_path_factory, *, beat: bool = False) -> WorkerProcess:
    from django.db import connection

    from avsportal.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_QUEUE=queue,
        DJANGO_SETTINGS_MODULE="tests.settings",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TEST_DB_NAME", None)
    options = None
    if not settings.REDIS_URL:
        broker_dir = tmp_path_factory.mktemp("broker")
        env["CELERY_BROKER_DIR"] = str(broker_dir)
        options = {
            "data_folder_in": str(broker_dir / "queue"),
            "data_folder_out": str(broker_dir / "queue"),
            "processed_folder": str(broker_dir / "processed"),
            "control_folder": str(broker_dir / "control"),
            "store_processed": False,
        }
        for folder in ("queue", "processed", "control"):
            (broker_dir / folder).mkdir()
    if beat:
        # Its own beat feeds it: the tests' app keeps sending to the session worker.
        return WorkerProcess(env, tmp_path_factory.mktemp("beat-worker") / "worker.log", beat=True)
    if options is not None:
        app.conf.broker_transport_options = options
    app.conf.task_default_queue = queue
    return WorkerProcess(env, tmp_path_factory.mktemp("worker") / "worker.log")


def wait_for(predicate, timeout=60, interval=0.2, message="condition"):
    """Poll until `predicate()` is truthy; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
