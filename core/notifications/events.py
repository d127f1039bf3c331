"""Where events become outbox rows: `notify()` is called inside the transaction of the event.

Nothing is sent here. The rows are written with the event, so that a rolled-back event tells nobody,
and a worker is asked to send them once the transaction commits. A broker that is down loses
nothing: the rows stay pending and the sweep (tasks.sweep) sends them. The apps word their own
events and call `notify` (waves: migrations_app/notifications.py).
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from core.choices import NotificationEvent
from core.models import Notification, Webhook

logger = logging.getLogger(__name__)

SUBJECT_MAX = Notification._meta.get_field("subject").max_length


def recipients(event: str):
    """Users who opted in to `event`, can sign in, hold a role and have an address to write to."""
    return (
        get_user_model()
        .objects.filter(is_active=True, notification_preferences__event=event)
        .exclude(email="")
        .filter(Q(groups__isnull=False) | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
    )


def subscribed_webhooks(event: str) -> list[int]:
    # The URL is deferred: its decryption is for the worker alone. Few rows, so the event list is
    # read here rather than with a JSON lookup that SQLite lacks.
    return [
        pk
        for pk, events in Webhook.objects.filter(active=True).values_list("pk", "events")
        if event in (events or [])
    ]


def link(obj) -> str:
    try:
        path = obj.get_absolute_url()
    except Exception:  # objects without a page: no link
        return ""
    return f"{settings.NOTIFICATIONS['SITE_URL']}{path}"


def notify(
    event: str, *, subject: str, body: str = "", data: dict | None = None, obj=None
) -> list[Notification]:
    """Write one outbox row per opted-in user and per active webhook subscribed to `event`; send
    them after commit. Returns the rows (none when nobody listens)."""
    event = NotificationEvent(event)
    data = dict(data or {})
    if obj is not None:
        data.setdefault("object", {"type": obj._meta.label_lower, "id": obj.pk, "name": str(obj)})
        url = link(obj)
        if url:
            data.setdefault("url", url)
            body = f"{body}\n\n{url}" if body else url
    common = {"event": event, "subject": subject[:SUBJECT_MAX], "body": body, "data": data}
    rows = [Notification(user_id=pk, **common) for pk in recipients(event).values_list("pk", flat=True)]
    rows += [Notification(webhook_id=pk, **common) for pk in subscribed_webhooks(event)]
    if not rows:
        return []
    rows = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in rows]
    if None in ids:  # backends that return no keys from bulk_create (none of ours): the sweep sends them
        return rows
    transaction.on_commit(lambda: send_soon(ids))
    return rows


def send_soon(ids: list[int]) -> None:
    """Ask workers to send these rows. Never raises: a row not handed over is sent by the sweep."""
    from .tasks import deliver

    for pk in ids:
        try:
            deliver.apply_async((pk,), retry=False)
        except Exception as exc:  # broker down or unreachable: keep the request going
            logger.warning(
                "notifications: broker unavailable (%s); %d message(s) wait for the sweep",
                type(exc).__name__,
                len(ids),
            )
            return
