"""The worker's side: send one row, and the periodic sweep for rows no task was sent for."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.choices import DeliveryStatus
from core.models import Notification

from . import delivery


@shared_task(name="core.notifications.deliver")
def deliver(notification_id: int):
    outcome = delivery.deliver(notification_id)
    if outcome is not None and outcome.retry_in is not None:
        # The sweep would find it too; this keeps short waits short.
        deliver.apply_async((notification_id,), countdown=outcome.retry_in)


@shared_task(name="core.notifications.sweep")
def sweep():
    """Hand every pending row that is due to a worker (Celery beat, NOTIFICATIONS["SWEEP_SECONDS"])."""
    due = list(
        Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt__lte=timezone.now())
        .order_by("next_attempt")
        .values_list("pk", flat=True)[: settings.NOTIFICATIONS["SWEEP_BATCH"]]
    )
    for pk in due:
        deliver.delay(pk)
    return len(due)
