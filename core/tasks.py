from celery import shared_task

from . import jobs


@shared_task(name="core.run_job")
def run_job(job_id: int):
    jobs.run(job_id)


@shared_task(name="core.recover_jobs")
def recover_jobs():
    """Celery beat, every JOBS["RECOVER_SECONDS"]: jobs whose worker died while the others kept
    running (a pool process killed: no worker starts to look), and jobs whose message was lost."""
    interrupted, stranded = jobs.recover()
    return {"interrupted": interrupted, "stranded": stranded}


from .notifications.tasks import deliver, sweep  # noqa: E402,F401  found by Celery's autodiscovery
