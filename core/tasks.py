from celery import shared_task

from . import jobs


@shared_task(name="core.run_job")
def run_job(job_id: int):
    jobs.run(job_id)


from .notifications.tasks import deliver, sweep  # noqa: E402,F401  found by Celery's autodiscovery
