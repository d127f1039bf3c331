"""Celery tasks of launching that are not Jobs: the periodic reconciler (Celery beat)."""

from celery import shared_task
from django.conf import settings

from .reconcile import reconcile_all

__all__ = ["reconcile"]
INTERVAL = settings.LAUNCH["RECONCILE_SECONDS"]


# A beat that waited in the queue longer than the interval is dropped (`expires`): the next one reads
# the same HCX state, so a backlog after a stopped worker is not worked off cycle by cycle. The time
# limits (honoured by the prefork pool) end a hung cycle, which frees its site's lease.
@shared_task(
    name="migrations_app.reconcile",
    ignore_result=True,
    expires=INTERVAL,
    soft_time_limit=settings.LAUNCH["LEASE_SECONDS"],
    time_limit=settings.LAUNCH["LEASE_SECONDS"] + 5,
)
def reconcile() -> list[dict]:
    """One reconciler cycle for every site with migrations going on; returns what each did."""
    return [stats.as_dict() for stats in reconcile_all()]
