"""One FilterSet for the delivery log page and the API, so both filter alike."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.choices import DeliveryStatus, NotificationEvent
from core.filters import TimeFilter
from core.models import Notification, Webhook

CHANNELS = [("email", _("Email")), ("webhook", _("Webhook"))]


class NotificationFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event = filters.ChoiceFilter(choices=NotificationEvent.choices)
    channel = filters.ChoiceFilter(choices=CHANNELS, method="filter_channel", label=_("Channel"))
    webhook_id = filters.ModelChoiceFilter(
        queryset=Webhook.objects.only("pk", "name"), field_name="webhook", label=_("Webhook")
    )
    webhook = filters.CharFilter(field_name="webhook__name", label=_("Webhook (name)"))
    user = filters.CharFilter(field_name="user__username", label=_("Recipient (user name)"))
    subject = filters.CharFilter(lookup_expr="icontains", label=_("Subject contains"))
    after = TimeFilter(field_name="created", lookup_expr="gte", label=_("From (ISO time)"))
    before = TimeFilter(field_name="created", lookup_expr="lt", label=_("Until (ISO time)"))

    class Meta:
        model = Notification
        fields = ["status", "event", "channel", "webhook_id", "webhook", "user", "subject", "after", "before"]

    def filter_channel(self, queryset, name, value):
        return queryset.filter(webhook__isnull=value != "webhook")
