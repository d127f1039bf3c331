"""Changes to preferences and webhooks: one transaction each, with an audit row (never the URL)."""

from django.db import transaction

from core.choices import AuditAction, NotificationEvent
from core.models import AuditEntry, Notification, NotificationPreference, Webhook

from .events import send_soon

SET_PREFERENCES = AuditAction.NOTIFICATIONS_SET
SAVE_WEBHOOK, DELETE_WEBHOOK, TEST_WEBHOOK = (
    AuditAction.WEBHOOK_SAVE,
    AuditAction.WEBHOOK_DELETE,
    AuditAction.WEBHOOK_TEST,
)


def do_set_preferences(user, events) -> list[str]:
    """The user's opt-ins become exactly `events`."""
    wanted = sorted({NotificationEvent(e).value for e in events})
    with transaction.atomic():
        mine = NotificationPreference.objects.filter(user=user)
        had = set(mine.values_list("event", flat=True))
        mine.exclude(event__in=wanted).delete()
        NotificationPreference.objects.bulk_create(
            [NotificationPreference(user=user, event=e) for e in wanted if e not in had],
            ignore_conflicts=True,
        )
        if had != set(wanted):
            AuditEntry.record(user, SET_PREFERENCES, user, events=wanted)
    return wanted


def do_save_webhook(webhook: Webhook, *, acting_user, changed: list[str]) -> Webhook:
    created = webhook.pk is None
    with transaction.atomic():
        if created:
            webhook.created_by = acting_user
        webhook.save()
        AuditEntry.record(
            acting_user,
            SAVE_WEBHOOK,
            webhook,
            created=created,
            changed=sorted(changed),
            events=webhook.events,
            active=webhook.active,
        )
    return webhook


def do_delete_webhook(webhook: Webhook, *, acting_user) -> None:
    with transaction.atomic():
        AuditEntry.record(acting_user, DELETE_WEBHOOK, webhook, name=webhook.name)
        webhook.delete()


def do_test_webhook(webhook: Webhook, *, acting_user) -> Notification:
    """Queue a test message through the outbox, as a real event would go, so that it shows in the
    delivery log with its outcome. It carries the webhook's first event (receivers route on it)."""
    event = (webhook.events or [NotificationEvent.WAVE_SUBMITTED])[0]
    who = acting_user.get_username()
    with transaction.atomic():
        notification = Notification.objects.create(
            event=event,
            webhook=webhook,
            subject=f"Test message from AVS Portal, sent by {who}",
            body="If you can read this, the webhook works.",
            data={"test": True, "by": who},
        )
        AuditEntry.record(acting_user, TEST_WEBHOOK, webhook, notification=notification.pk)
        transaction.on_commit(lambda: send_soon([notification.pk]))
    return notification
