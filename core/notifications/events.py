"""Where events become outbox rows: `notify()` is called inside the transaction of the event.

Nothing is sent here. The rows are written with the event, so that a rolled-back event tells nobody,
and a worker is asked to send them once the transaction commits. A broker that is down loses
nothing: the rows stay pending and the sweep (tasks.sweep) sends them.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from core.choices import NotificationEvent
from core.models import Notification, Webhook

logger = logging.getLogger(__name__)

FAILED_LISTED = 50  # VMs named in one message; the count says how many in all
SUBJECT_MAX = Notification._meta.get_field("subject").max_length


def recipients(event: str):
    """Users who opted in to `event`, can sign in, hold a role and have an address to write to."""
    return (
        get_user_model().objects.filter(is_active=True, notification_preferences__event=event)
        .exclude(email="").filter(Q(groups__isnull=False) | Q(is_superuser=True))
        .distinct().order_by("pk")
    )


def subscribed_webhooks(event: str) -> list[int]:
    # The URL is deferred: its decryption is for the worker alone. Few rows, so the event list is
    # read here rather than with a JSON lookup that SQLite lacks.
    return [pk for pk, events in Webhook.objects.filter(active=True).values_list("pk", "events")
            if event in (events or [])]


def link(obj) -> str:
    try:
        path = obj.get_absolute_url()
    except Exception:  # objects without a page: no link
        return ""
    return f"{settings.NOTIFICATIONS['SITE_URL']}{path}"


def notify(event: str, *, subject: str, body: str = "", data: dict | None = None, obj=None) -> list[Notification]:
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
            logger.warning("notifications: broker unavailable (%s); %d message(s) wait for the sweep",
                           type(exc).__name__, len(ids))
            return


# --- The events, worded once: callers pass the object and who acted ---

def _who(user) -> str:
    return user.get_username() if user is not None else "the portal"


LABELS = {"vms": "VMs", "count": "How many", "change_ticket": "Change ticket"}


def wave_event(event: str, wave, *, user=None, **details) -> list[Notification]:
    """Notify `event` about `wave`. `details` (a change ticket, a comment, a batch, failed VM names)
    go into the message and its JSON data."""
    name, who = wave.name, _who(user)
    subjects = {
        NotificationEvent.WAVE_SUBMITTED: f"Wave {name} was submitted for approval by {who}",
        NotificationEvent.WAVE_APPROVED: f"Wave {name} was approved by {who}",
        NotificationEvent.WAVE_REJECTED: f"Wave {name} was rejected by {who}",
        NotificationEvent.WAVE_LAUNCHED: f"Wave {name}: {details.get('batch') or 'a batch'} was launched by {who}",
        NotificationEvent.WAVE_COMPLETED: f"Wave {name} completed",
        NotificationEvent.MIGRATION_FAILED: f"Wave {name}: {_failed(details)} failed",
    }
    lines = [f"{LABELS.get(key, key.replace('_', ' ').capitalize())}: {_text(value)}"
             for key, value in details.items() if value]
    data = {"wave": {"id": wave.pk, "name": name, "revision": wave.revision}, "by": user.get_username() if user else None,
            **details}
    return notify(event, subject=subjects[NotificationEvent(event)], body="\n".join(lines), data=data, obj=wave)


def _failed(details) -> str:
    vms = details.get("vms")
    count = details.get("count") or (len(vms) if isinstance(vms, (list, tuple)) else 0)
    return f"{count} migration{'s' if count != 1 else ''}" if count else "migrations"


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "".join(f"\n- {v}" for v in value)
    return str(value)


def migrations_failed(migrations) -> list[Notification]:
    """Tell about VM migrations that just failed: one message per wave, naming the VMs and why.
    Call it where they fail, in that transaction, with the rows that moved to a failed state."""
    from migrations_app.models import VmMigration

    ids = [m.pk for m in migrations]
    if not ids:
        return []
    by_wave: dict = {}
    for m in VmMigration.objects.filter(pk__in=ids).select_related("vm", "wave").order_by("wave_id", "vm__name"):
        by_wave.setdefault(m.wave, []).append(m)
    sent = []
    for wave, failed in by_wave.items():
        vms = [f"{m.vm.name}: {m.message}" if m.message else m.vm.name for m in failed[:FAILED_LISTED]]
        sent += wave_event(NotificationEvent.MIGRATION_FAILED, wave, count=len(failed), vms=vms)
    return sent
