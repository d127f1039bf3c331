"""Discovery survives its faults (issue 7): the worker killed with `kill -9` in the middle of reading a
vCenter of thousands of VMs, and vCenter dropping its connections or going silent mid-discovery.

The promises: nothing lost (the inventory ends exactly as vCenter says), nothing duplicated (a job is
never run twice at once, a VM never stored twice), and every job ends in a true state with a message
that says what happened. The faults come from a real network in the way (tests/peers/tcpproxy.py)
and a real worker killed as an OOM kill does (tests/peers/worker.py).
"""

import datetime
import os
import threading
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from core import jobs
from core.choices import JobStatus
from core.models import Job
from inventory.discovery.actions import do_start_discovery
from inventory.models import Cluster, Datastore, Host, Network, VCenter, VirtualDisk, VirtualMachine
from tests.peers.tcpproxy import TcpProxy
from tests.peers.vcsim import read_vms
from tests.peers.worker import WorkerProcess, database_url, wait_for

BIG = {"dc": 1, "cluster": 1, "host": 2, "vm": 2000}
MEDIUM = {"dc": 1, "cluster": 1, "host": 2, "vm": 300}
INVENTORY = (Cluster, Host, Datastore, Network, VirtualMachine, VirtualDisk)


# --- a worker of the test's own: started, killed and started again -------------------------------


class QueueWorker:
    """A Celery worker on a queue of its own, which the test starts when its data is ready, kills
    with SIGKILL and starts again. `env` can point it at another database (DATABASE_URL)."""

    def __init__(self, tmp_path: Path, *, beat: bool = False, **env):
        self.beat = beat  # with its own Celery beat (the reconciler, the job sweeps) on this database
        self.queue = f"faults-{uuid.uuid4().hex[:8]}"
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=database_url(connection.settings_dict),
            CELERY_QUEUE=self.queue,
            DJANGO_SETTINGS_MODULE="tests.settings",
            PYTHONUNBUFFERED="1",
        )
        self.env.pop("TEST_DB_NAME", None)
        self.broker_dir = None
        tmp_path.mkdir(parents=True, exist_ok=True)
        if not django_settings.REDIS_URL:
            self.broker_dir = tmp_path / "broker"
            for folder in ("queue", "processed", "control"):
                (self.broker_dir / folder).mkdir(parents=True)
            self.env["CELERY_BROKER_DIR"] = str(self.broker_dir)
        self.env.update(env)
        self.tmp_path = tmp_path
        self.runs: list[WorkerProcess] = []

    def start(self):
        # a log per run, so that what the second worker did is told from the first's
        process = WorkerProcess(self.env, self.tmp_path / f"worker-{len(self.runs) + 1}.log", beat=self.beat)
        self.runs.append(process)
        process.start()

    def kill(self):
        self.runs[-1].kill()
        self.runs[-1].log.close()

    def stop(self):
        for process in self.runs:
            process.stop()
            if process.proc:
                process.proc.wait(10)  # its database session ends before the test database goes

    def log(self, run: int = -1) -> str:
        return Path(self.runs[run].log_path).read_text(errors="replace")

    def connection(self):
        from kombu import Connection

        if self.broker_dir is None:
            return Connection(self.env.get("REDIS_URL") or django_settings.REDIS_URL)
        folder = self.broker_dir
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

    def send(self, job_id: int):
        from avsportal.celery import app

        with self.connection() as conn:
            result = app.send_task("core.run_job", args=[job_id], queue=self.queue, connection=conn)
        return result.id

    def send_jobs_here(self, monkeypatch):
        """Jobs the test enqueues go to this worker, declared now so that one sent before the
        worker starts waits for it."""
        from kombu import Exchange, Queue

        with self.connection() as conn:
            Queue(self.queue, Exchange(self.queue, type="direct"), routing_key=self.queue)(
                conn.default_channel
            ).declare()

        def send(job):
            Job.objects.filter(pk=job.pk).update(task_id=self.send(job.pk) or "")

        monkeypatch.setattr(Job, "send", send)


@pytest.fixture
def make_worker(django_db_setup, tmp_path):
    made = []

    def make(*, beat: bool = False, **env) -> QueueWorker:
        worker = QueueWorker(tmp_path / f"w{len(made)}", beat=beat, **env)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


def vcenter_behind(proxy: TcpProxy, sim, name: str) -> VCenter:
    return VCenter.objects.create(
        name=name,
        url=f"https://127.0.0.1:{proxy.port}/sdk",
        username=sim.username,
        password=sim.password,
        verify_tls=False,
    )


def reading_vm_pages(job) -> bool:
    return Job.objects.filter(pk=job.pk, progress_text__startswith="Read ").exists()


def ended(job) -> bool:
    return Job.objects.get(pk=job.pk).is_terminal


def messages(job) -> list[str]:
    return list(Job.objects.get(pk=job.pk).events.values_list("message", flat=True))


def inventory_counts(vc) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(
            **({"vm__vcenter": vc} if model is VirtualDisk else {"vcenter": vc})
        ).count()
        for model in INVENTORY
    }


# --- 1. the worker killed in the middle of a discovery ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_discovery_whose_worker_was_killed_is_run_again_by_the_next_worker_and_stores_each_vm_once(
    vcsim, engineer, make_worker, monkeypatch
):
    sim = vcsim(**BIG)
    total = len(read_vms(sim.connect()))
    with TcpProxy("127.0.0.1", sim.port) as proxy:
        proxy.slow(0.005)  # a slow WAN to vCenter: the kill lands while pages are still coming
        vc = vcenter_behind(proxy, sim, "big lab")
        worker = make_worker(DISCOVERY_PAGE_SIZE="100")
        worker.send_jobs_here(monkeypatch)
        worker.start()
        job = do_start_discovery(vc, acting_user=engineer)

        wait_for(lambda: reading_vm_pages(job), timeout=90, message="the worker to read the first VM pages")
        worker.kill()

        assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
        assert inventory_counts(vc)["VirtualMachine"] == 0  # all read before anything is written
        proxy.heal()
        worker.start()
        wait_for(
            lambda: ended(job), timeout=120, message="the interrupted discovery to end after the restart"
        )

        job.refresh_from_db()
        assert job.status == JobStatus.COMPLETED, job.error
        log = messages(job)
        assert f"{jobs.INTERRUPTED}; running it again" in log
        assert "Resuming after the previous worker stopped" in log
        assert job.data["vms"]["found"] == total == inventory_counts(vc)["VirtualMachine"]
        assert job.data["vms"]["created"] == total

        again = do_start_discovery(vc, acting_user=engineer)
        wait_for(lambda: ended(again), timeout=120, message="the second discovery to end")

    again.refresh_from_db()
    assert again.status == JobStatus.COMPLETED, again.error
    assert again.data["writes"] == 0  # nothing changed in vCenter: nothing rewritten
    stored = VirtualMachine.objects.filter(vcenter=vc)
    assert stored.count() == total == stored.values("moid").distinct().count()
    assert set(stored.values_list("moid", flat=True)) == set(read_vms(sim.connect()))
    assert not Job.objects.filter(status__in=JobStatus.ACTIVE).exists()
    assert "sent again 1 job(s) interrupted by a worker's death" in worker.log()


# --- what a live worker holds is never taken from it --------------------------------------------


@jobs.job_handler("tests.faults_steps")
def steps_handler(job, upto):
    for i in range(1, upto + 1):
        job.log(f"step {i}")
    return {"steps": upto}


class HeldElsewhere:
    """The job's lock held by another database session and process-level owner, as a live worker
    running the job holds it."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.taken = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        lock = jobs.JobLock(self.job_id)
        try:
            assert lock.acquire()
            self.taken.set()
            self.done.wait(30)
            lock.release()
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.taken.wait(10)
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(10)


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    found = []
    monkeypatch.setattr(Job, "send", lambda job: found.append(job.pk))
    return found


@pytest.mark.django_db(transaction=True)
def test_a_running_job_is_neither_run_twice_nor_taken_from_its_live_worker(sent):
    job = Job.enqueue("tests.faults_steps", name="Steps", params={"upto": 2})
    job.mark(JobStatus.RUNNING)
    with HeldElsewhere(job.pk):
        jobs.run(job.pk)  # a second delivery while the first worker works on it
        assert jobs.recover_interrupted() == []  # a worker starting up leaves it alone
        assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
        assert messages(job) == []

    # its worker died without ending it: the next worker to start sends it again, once
    assert jobs.recover_interrupted() == [job.pk]
    assert sent[-1] == job.pk
    jobs.run(job.pk)
    assert Job.objects.get(pk=job.pk).status == JobStatus.COMPLETED
    assert messages(job) == [
        f"{jobs.INTERRUPTED}; running it again",
        "Resuming after the previous worker stopped",
        "step 1",
        "step 2",
    ]
    assert jobs.recover_interrupted() == []


@pytest.mark.django_db(transaction=True)
def test_a_discovery_whose_message_was_lost_is_sent_again_by_the_beat_and_stores_each_vm_once(
    vcsim, make_worker
):
    """The broker (or the database) failed as the job was sent or picked up: no worker will ever run
    it, and no worker starting up looks at PENDING jobs. The beat's sweep sends it again."""
    sim = vcsim(**MEDIUM)
    vc = VCenter.objects.create(
        name="lost message lab", url=sim.url, username=sim.username, password=sim.password, verify_tls=False
    )
    job = Job.objects.create(
        kind="inventory.discover_vcenter", name="Discover lost message lab", params={"vcenter_id": vc.pk}
    )  # its message never reached the broker
    worker = make_worker(beat=True, JOBS_RECOVER_SECONDS="1", JOBS_RESEND_PENDING_SECONDS="2")
    worker.start()

    wait_for(lambda: ended(job), timeout=120, message="the sweep to send the job and a worker to run it")
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, messages(job)
    assert messages(job)[0].startswith(f"{jobs.STRANDED} within 0 min")
    assert VirtualMachine.objects.filter(vcenter=vc).count() == len(read_vms(sim.connect()))


def test_a_job_still_pending_is_sent_again_only_once_per_wait_and_a_running_one_never(db, sent, settings):
    settings.JOBS = {**settings.JOBS, "RESEND_PENDING_SECONDS": 600}
    old = timezone.now() - datetime.timedelta(minutes=15)
    stranded = Job.objects.create(kind="tests.faults_steps", name="Lost", params={"upto": 1})
    running = Job.objects.create(
        kind="tests.faults_steps", name="Running", params={"upto": 1}, status=JobStatus.RUNNING
    )
    fresh = Job.objects.create(kind="tests.faults_steps", name="Just sent", params={"upto": 1})
    Job.objects.filter(pk__in=[stranded.pk, running.pk]).update(created=old)

    assert jobs.resend_stranded() == [stranded.pk] == sent
    assert messages(stranded) == [
        f"{jobs.STRANDED} within 10 min (its message may have been lost when the broker "
        "or the database failed): sending it again"
    ]
    assert jobs.resend_stranded() == []  # sent again just now: it gets another wait
    assert messages(fresh) == [] and messages(running) == []


@pytest.mark.django_db(transaction=True)
def test_a_job_that_keeps_killing_its_worker_ends_failed_saying_so(sent):
    job = Job.enqueue("tests.faults_steps", name="Steps", params={"upto": 1})
    job.mark(JobStatus.RUNNING)
    for _ in range(jobs.MAX_INTERRUPTIONS - 1):
        assert jobs.recover_interrupted() == [job.pk]  # sent again; its worker dies again
    assert jobs.recover_interrupted() == []

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.completed
    assert job.error == (
        f"The worker running this job stopped {jobs.MAX_INTERRUPTIONS} times "
        "(killed, crashed or out of memory); not trying again"
    )


# --- 2. vCenter dropping its connections or going silent mid-discovery --------------------------


def run_in_thread(job_id: int) -> threading.Thread:
    """The job runs as in a worker, beside the test that breaks its network."""

    def target():
        try:
            jobs.run(job_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["drop", "silence"])
def test_vcenter_failing_mid_discovery_fails_the_job_naming_it_and_writes_nothing(
    vcsim, engineer, settings, sent, fault
):
    sim = vcsim(**MEDIUM)
    settings.VCENTER_TIMEOUT_SECONDS = 2
    settings.DISCOVERY_PAGE_SIZE = 20
    with TcpProxy("127.0.0.1", sim.port) as proxy:
        proxy.slow(0.01)
        vc = vcenter_behind(proxy, sim, "flaky lab")
        job = do_start_discovery(vc, acting_user=engineer)
        runner = run_in_thread(job.pk)
        wait_for(lambda: reading_vm_pages(job), timeout=60, message="the VM pages to be read")
        if fault == "drop":
            proxy.drop()  # every connection reset, new ones refused: vCenter went away
        else:
            proxy.pause()  # connections open and silent: vCenter hangs
        runner.join(60)
        assert not runner.is_alive()

        job.refresh_from_db()
        assert job.status == JobStatus.FAILED
        assert job.error.startswith(
            f"vCenter flaky lab (https://127.0.0.1:{proxy.port}/sdk) failed while its "
            "inventory was being read: "
        )
        assert ("no answer within 2 seconds" if fault == "silence" else "the connection") in job.error
        assert job.error.endswith("Nothing was changed; discover again when it answers")
        assert not any("Traceback" in m for m in messages(job))
        # discovery reads everything, then writes it in one transaction: a failed read wrote nothing
        assert set(inventory_counts(vc).values()) == {0}
        vc.refresh_from_db()
        assert vc.last_synced is None and vc.instance_uuid == ""

        proxy.heal()
        again = do_start_discovery(vc, acting_user=engineer)
        jobs.run(again.pk)

    again.refresh_from_db()
    assert again.status == JobStatus.COMPLETED, again.error
    assert (
        inventory_counts(vc)["VirtualMachine"] == len(read_vms(sim.connect())) == again.data["vms"]["found"]
    )
