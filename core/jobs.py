"""The job runner: handlers register by kind (job_registry.py); `run` moves a Job through its states.

A handler is `def handler(job: Job, **params) -> dict | None`. It logs with `job.log()`,
reports with `job.set_progress()`, raises `JobError` for failures a user can act on (`JobNeedsInput`
when it waits for a person's decision), and
calls `job.check_cancelled()` between steps. Handlers must be idempotent: a worker that
dies mid-job gets the task again (acks_late, or `recover_interrupted` when a worker starts and
every JOBS["RECOVER_SECONDS"] on the beat) and the handler runs again from the start. A job whose
message never reached a worker that could run it (the broker or the database failed as it was sent
or picked up) is sent again by `resend_stranded`, on the same beat.

A running job holds a lock that the system drops when its worker dies (`JobLock`): that is how
a worker starting up tells a job whose worker was killed from one another worker is running,
and how a second delivery of a job that is still running is recognised and skipped.
"""

import datetime
import fcntl
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from .choices import EventLevel, JobStatus
from .job_registry import get_handler, job_handler, time_limits  # noqa: F401 - handlers import job_handler from here

logger = logging.getLogger(__name__)


class JobError(Exception):
    """A failure with a message for the user (wrong password, bad file...)."""


class JobNeedsInput(JobError):
    """The job stopped to wait for a person's decision (an HCX set-up step asks to trust a
    certificate). The job ends as NEEDS_INPUT, not FAILED: nothing is broken, someone must decide.
    `data` becomes the job's result."""

    def __init__(self, message: str, data: dict | None = None):
        super().__init__(message)
        self.data = data


class JobCancelled(Exception):
    pass


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 and seconds >= 60 else f"{seconds} s"


def check_cancelled(job):
    from .models import Job

    if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise JobCancelled()


def run(job_id: int):
    """Run one job. Safe to call again for a job that a dead worker left running, and for one a
    live worker is running (that delivery is skipped)."""
    from .models import Job

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("job %s no longer exists", job_id)
        return
    if job.status in JobStatus.TERMINAL:
        return  # delivered twice: already done
    handler = get_handler(job.kind)
    lock = JobLock(job.pk)
    if not lock.acquire():
        logger.info("job %s is running on another worker: this delivery is a duplicate", job.pk)
        return
    try:
        job.refresh_from_db(fields=["status"])
        if job.status in JobStatus.TERMINAL:
            return  # ended between the first look and the lock
        if job.status == JobStatus.RUNNING:
            job.log("Resuming after the previous worker stopped", EventLevel.WARNING)
        job.mark(JobStatus.RUNNING)
        job.check_cancelled = lambda: check_cancelled(job)
        _run_handler(job, handler)
    finally:
        lock.release()


def _run_handler(job, handler):
    try:
        data = handler(job, **job.params)
    except JobCancelled:
        _end(job, JobStatus.CANCELLED, "Cancelled by request", EventLevel.WARNING)
    except JobNeedsInput as exc:
        _end(
            job,
            JobStatus.NEEDS_INPUT,
            str(exc),
            EventLevel.WARNING,
            progress_text=str(exc)[:300],
            data=exc.data,
        )
    except SoftTimeLimitExceeded:
        # Raised wherever the handler was; its open transaction is rolled back on the way out.
        limit = time_limits(job.kind).get("soft_time_limit", 0)
        message = (
            f'Stopped: a job of this kind may run {_duration(limit)} (settings JOBS["TIME_LIMITS"]) '
            "and this one ran out of time; what it had not committed was not written"
        )
        _end(job, JobStatus.FAILED, message, error=message)
    except JobError as exc:
        _end(job, JobStatus.FAILED, str(exc), error=str(exc))
    except (OperationalError, InterfaceError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        message = f"The database failed or restarted while this job ran ({first_line}); start it again"
        logger.warning("job %s (%s): %s", job.pk, job.kind, message)
        _end(job, JobStatus.FAILED, message, error=message)
    except Exception as exc:  # noqa: BLE001 - any crash must still end the job
        # The trace and the exception's own words (file paths, addresses, what a peer answered) go to
        # the server log only: every role reads a job's events.
        logger.exception("job %s (%s) crashed", job.pk, job.kind)
        message = (
            f"The job stopped on an unexpected error ({type(exc).__name__}); nothing more was done. "
            f"An administrator finds the details in the server log under job {job.pk}."
        )
        _end(job, JobStatus.FAILED, message, error=message)
    else:
        _end(job, JobStatus.COMPLETED, data=data)


END_RETRY_SECONDS = 60


def _end(job, status: str, message: str = "", level: str = EventLevel.ERROR, **fields):
    """Record how the job ended. The database may be what failed (restarted, failed over): keep
    trying on a new connection for a while rather than leave the job RUNNING with nobody on it."""
    deadline = time.monotonic() + END_RETRY_SECONDS
    while True:
        try:
            if message:
                job.log(message, level)
            job.mark(status, **fields)
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() > deadline:
                raise  # still RUNNING, lock gone with the session: the next worker start ends it
            connection.close()
            time.sleep(1)


# --- which running jobs still have a worker ---------------------------------------------------

LOCK_NAMESPACE = 0x4A4F42  # "JOB": our advisory locks apart from anybody else's


class JobLock:
    """Held while a worker runs the job; the system drops it when the worker's process dies.

    On PostgreSQL an advisory lock of the worker's database session (the server ends the session
    of a killed process); on SQLite, which lives on one machine, a file lock beside the database.
    `supported` is False where neither applies: there every lock is granted and nothing is
    recovered at start-up.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.vendor = connection.vendor
        self.path = _lock_dir() / f"{job_id}.lock" if self.vendor == "sqlite" and _lock_dir() else None
        self.supported = self.vendor == "postgresql" or self.path is not None
        self.fd = None
        self.held = False

    def acquire(self) -> bool:
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, self.job_id & 0x7FFFFFFF]
                )
                self.held = bool(cursor.fetchone()[0])
        elif self.path is not None:
            self.path.parent.mkdir(exist_ok=True)
            self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held = True
            except BlockingIOError:
                os.close(self.fd)
                self.fd = None
        else:
            self.held = True
        return self.held

    def release(self):
        if not self.held:
            return
        self.held = False
        if self.vendor == "postgresql":
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, self.job_id & 0x7FFFFFFF]
                    )
            except (OperationalError, InterfaceError):
                pass  # the session is gone, and its locks with it
        elif self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)  # closing drops the lock
            self.fd = None


def _lock_dir() -> Path | None:
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        return None  # an in-memory database: no other process can see its jobs
    return Path(os.path.abspath(name) + ".job-locks")


INTERRUPTED = "Interrupted: the worker running this job stopped (killed, crashed or out of memory)"
MAX_INTERRUPTIONS = 3


def recover_interrupted() -> list[int]:
    """End the wait of each RUNNING job whose worker died: send it again (handlers are idempotent),
    or fail it after MAX_INTERRUPTIONS deaths, as a job that kills its worker each time would.
    Returns the ids sent again."""
    from .models import Job

    def again(job) -> bool:
        hard = time_limits(job.kind).get("time_limit")
        if hard and job.started and timezone.now() - job.started > datetime.timedelta(seconds=hard):
            # killed at its hard time limit (its soft limit did not stop it), or died after running that long:
            # sent again it would only run out of time again
            message = (
                f"Stopped: a job of this kind may run {_duration(time_limits(job.kind)['soft_time_limit'])} "
                '(settings JOBS["TIME_LIMITS"]) and this one ran out of time; its worker process was ended'
            )
            job.log(message, EventLevel.ERROR)
            job.mark(JobStatus.FAILED, error=message)
            return False
        times = job.events.filter(message__startswith=INTERRUPTED).count() + 1
        if times >= MAX_INTERRUPTIONS:
            message = (
                f"The worker running this job stopped {times} times (killed, crashed or out of memory); "
                "not trying again"
            )
            job.log(message, EventLevel.ERROR)
            job.mark(JobStatus.FAILED, error=message)
            return False
        job.log(f"{INTERRUPTED}; running it again", EventLevel.WARNING)
        return True

    # Where locks are not supported a running job's worker cannot be told alive or dead: leave it.
    return _sweep(Job.objects.filter(status=JobStatus.RUNNING), JobStatus.RUNNING, again, unknown_lock=False)


STRANDED = "Not picked up by a worker"


def resend_stranded() -> list[int]:
    """Send again each job still PENDING JOBS["RESEND_PENDING_SECONDS"] after it was created (or after
    its last send): its message was lost, or it waits behind a long queue, and a copy costs nothing
    then (a worker skips a delivery of a job that is running or done). Returns the ids sent again."""
    from .models import Job

    after = settings.JOBS["RESEND_PENDING_SECONDS"]
    cutoff = timezone.now() - datetime.timedelta(seconds=after)

    def again(job) -> bool:
        job.log(
            f"{STRANDED} within {after // 60} min (its message may have been lost when the broker or the "
            "database failed): sending it again",
            EventLevel.WARNING,
        )
        return True

    stale = Job.objects.filter(status=JobStatus.PENDING, created__lt=cutoff).exclude(
        events__created__gte=cutoff
    )
    return _sweep(stale, JobStatus.PENDING, again, unknown_lock=True)


def _sweep(candidates, status: str, again: Callable, *, unknown_lock: bool) -> list[int]:
    """For each job of `candidates` that no worker holds (its lock free; with `unknown_lock`, also
    where locks are not supported) and that is still `status`: `again(job)` logs what it decided and
    says whether to send the job again. Those are sent once all were looked at; returns their ids."""
    from .models import Job

    chosen = []
    for job in candidates.order_by("pk"):
        lock = JobLock(job.pk)
        if not (lock.acquire() if lock.supported else unknown_lock):
            continue  # a live worker has it
        try:
            if Job.objects.filter(pk=job.pk, status=status).exists() and again(job):  # not ended meanwhile
                chosen.append(job.pk)
        finally:
            lock.release()
    for job in Job.objects.filter(pk__in=chosen):
        job.send()
    return chosen


def recover() -> tuple[list[int], list[int]]:
    """Both sweeps, as the beat runs them: (interrupted jobs sent again, stranded jobs sent again)."""
    return recover_interrupted(), resend_stranded()


@worker_ready.connect
def _recover_on_worker_start(**kwargs):
    try:
        sent = recover_interrupted()
    except Exception:  # noqa: BLE001 - a worker that cannot look still takes new tasks
        logger.exception("could not look for jobs interrupted by a worker's death")
        return
    if sent:
        logger.warning("sent again %d job(s) interrupted by a worker's death: %s", len(sent), sent)
