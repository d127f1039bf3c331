import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from core.choices import DeliveryStatus
from core.models import Notification, Webhook

PER_PAGE = 50


def status_badge(record) -> str:
    return format_html(
        '<span class="badge text-bg-{}">{}</span>',
        DeliveryStatus.COLORS[record.status],
        record.get_status_display(),
    )


class NotificationTable(tables.Table):
    created = tables.DateTimeColumn(verbose_name="Queued", format="Y-m-d H:i:s", order_by=("created", "id"))
    event = tables.Column(order_by=("event", "id"))
    recipient = tables.Column(verbose_name="To", empty_values=(), orderable=False)
    subject = tables.Column(orderable=False)
    status = tables.Column(order_by=("status", "id"))
    attempts = tables.Column(verbose_name="Tries", order_by=("attempts", "id"))
    last_error = tables.Column(verbose_name="Last error", orderable=False, default="")
    sent = tables.DateTimeColumn(format="Y-m-d H:i:s", order_by=("sent", "id"), default="—")

    class Meta:
        model = Notification
        fields = ("created", "event", "recipient", "subject", "status", "attempts", "last_error", "sent")
        order_by = ("-created",)
        attrs = {"class": "table table-sm align-top", "data-testid": "notification-table"}
        empty_text = (
            "Nothing sent yet: messages appear here once users opt in under My notifications "
            "(or an admin adds a webhook) and a wave is submitted, decided or launched."
        )

    def render_event(self, record):
        return record.get_event_display()

    def render_recipient(self, record):
        if record.webhook_id:
            return format_html(
                'webhook <a href="{}">{}</a>',
                reverse("core:webhook_edit", args=[record.webhook_id]),
                record.webhook.name,
            )
        return format_html("email to {}", record.user.get_username())

    def render_status(self, record):
        return status_badge(record)


class WebhookTable(tables.Table):
    name = tables.Column(
        linkify=lambda record: reverse("core:webhook_edit", args=[record.pk]), order_by=("name",)
    )
    events = tables.Column(orderable=False)
    active = tables.BooleanColumn(order_by=("active", "name"))
    sent = tables.Column(verbose_name="Sent", order_by=("sent", "name"))
    pending = tables.Column(verbose_name="Pending", order_by=("pending", "name"))
    failed = tables.Column(verbose_name="Failed", order_by=("failed", "name"))

    class Meta:
        model = Webhook
        fields = ("name", "events", "active", "sent", "pending", "failed")
        attrs = {"class": "table table-sm align-top", "data-testid": "webhook-table"}
        empty_text = "No webhooks yet: add one to post wave events to a Teams or Slack channel."

    def render_events(self, value):
        labels = dict(Notification._meta.get_field("event").choices)
        return ", ".join(str(labels.get(e, e)) for e in value) or "none"
