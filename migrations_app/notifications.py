"""The notifications about waves, worded once: callers pass the wave and who acted; core's `notify`
writes the outbox rows in the caller's transaction and sends them after commit
(core/notifications/events.py)."""

from core.choices import NotificationEvent
from core.models import Notification
from core.notifications.events import notify
from migrations_app.models import VmMigration

FAILED_LISTED = 50  # VMs named in one message; the count says how many in all


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
    lines = [
        f"{LABELS.get(key, key.replace('_', ' ').capitalize())}: {_text(value)}"
        for key, value in details.items()
        if value
    ]
    data = {
        "wave": {"id": wave.pk, "name": name, "revision": wave.revision},
        "by": user.get_username() if user else None,
        **details,
    }
    return notify(
        event, subject=subjects[NotificationEvent(event)], body="\n".join(lines), data=data, obj=wave
    )


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
    ids = [m.pk for m in migrations]
    if not ids:
        return []
    by_wave: dict = {}
    for m in (
        VmMigration.objects.filter(pk__in=ids).select_related("vm", "wave").order_by("wave_id", "vm__name")
    ):
        by_wave.setdefault(m.wave, []).append(m)
    sent = []
    for wave, failed in by_wave.items():
        vms = [f"{m.vm.name}: {m.message}" if m.message else m.vm.name for m in failed[:FAILED_LISTED]]
        sent += wave_event(NotificationEvent.MIGRATION_FAILED, wave, count=len(failed), vms=vms)
    return sent
