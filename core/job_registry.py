"""Which handler runs each kind of job, and the task that carries a job to a worker.

The Job model reads this registry and the runner (jobs.py) fills and reads it; neither imports the
other's module the wrong way round: models -> job_registry <- jobs -> models. Handlers register
with `@job_handler(kind)` in each app's `jobs` module (imported on first use, below); the Celery
task that runs a job is registered by CoreConfig.ready, as the task's module imports the runner.
"""

from collections.abc import Callable

from django.conf import settings

_HANDLERS: dict[str, Callable] = {}
_SENDER: list = []  # [the task core.run_job], set once at start-up


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


def time_limits(kind: str) -> dict:
    """Celery's soft and hard time limits for a job of `kind` (settings.JOBS["TIME_LIMITS"]); none for a kind
    not listed. Every job runs through the one task `core.run_job`, so the limits go with each message."""
    soft = settings.JOBS["TIME_LIMITS"].get(kind)
    if not soft:
        return {}
    return {"soft_time_limit": soft, "time_limit": soft + settings.JOBS["HARD_GRACE_SECONDS"]}


def register_task(task) -> None:
    """The Celery task that runs a job by its id (core.tasks.run_job)."""
    _SENDER[:] = [task]


def task():
    if not _SENDER:
        raise LookupError("no task runs jobs: core's AppConfig.ready registers core.tasks.run_job")
    return _SENDER[0]
