"""The job runner: handlers register by kind; `run` moves a Job through its states.

A handler is `def handler(job: Job, **params) -> dict | None`. It logs with `job.log()`,
reports with `job.set_progress()`, raises `JobError` for failures a user can act on, and
calls `job.check_cancelled()` between steps. Handlers must be idempotent: a worker that
dies mid-job gets the task again (acks_late) and the handler runs again from the start.
"""

import logging
import traceback
from collections.abc import Callable

from .choices import EventLevel, JobStatus

logger = logging.getLogger(__name__)

_HANDLERS: dict[str, Callable] = {}


class JobError(Exception):
    """A failure with a message for the user (wrong password, bad file...)."""


class JobCancelled(Exception):
    pass


def job_handler(kind: str):
    def register(func):
        _HANDLERS[kind] = func
        return func

    return register


def get_handler(kind: str) -> Callable:
    _load_handlers()
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"no job handler registered for {kind!r}") from None


def _load_handlers():
    """Handlers live in each app's `jobs` module; import them all once."""
    from django.apps import apps
    from django.utils.module_loading import autodiscover_modules

    if not getattr(_load_handlers, "done", False):
        autodiscover_modules("jobs")
        _load_handlers.done = bool(apps.ready)


def check_cancelled(job):
    from .models import Job

    if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise JobCancelled()


def run(job_id: int):
    """Run one job. Safe to call again for a job that a dead worker left running."""
    from .models import Job

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("job %s no longer exists", job_id)
        return
    if job.status in JobStatus.TERMINAL:
        return  # delivered twice: already done
    handler = get_handler(job.kind)
    if job.status == JobStatus.RUNNING:
        job.log("Resuming after the previous worker stopped", EventLevel.WARNING)
    job.mark(JobStatus.RUNNING)
    job.check_cancelled = lambda: check_cancelled(job)
    try:
        data = handler(job, **job.params)
    except JobCancelled:
        job.log("Cancelled by request", EventLevel.WARNING)
        job.mark(JobStatus.CANCELLED)
    except JobError as exc:
        job.log(str(exc), EventLevel.ERROR)
        job.mark(JobStatus.FAILED, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - any crash must still end the job
        logger.exception("job %s (%s) crashed", job.pk, job.kind)
        message = f"Unexpected error: {type(exc).__name__}: {exc}"
        job.log(message, EventLevel.ERROR)
        job.log("".join(traceback.format_exception(exc))[-1800:], EventLevel.DEBUG)
        job.mark(JobStatus.FAILED, error=message)
    else:
        job.mark(JobStatus.COMPLETED, data=data)
