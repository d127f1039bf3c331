"""REST: /api/notification-preferences/ (the caller's own), /api/webhooks/ (admins; the URL is
write-only) and /api/notifications/ (the delivery log, read-only)."""

from django.db import IntegrityError, transaction
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.choices import DeliveryStatus, NotificationEvent
from core.models import Notification, NotificationPreference, Webhook
from core.roles import has_role

from .actions import do_delete_webhook, do_save_webhook, do_test_webhook
from .filtersets import NotificationFilterSet
from .forms import WebhookForm
from .views import notifications, webhooks_with_counts


class HasRole(permissions.BasePermission):
    def has_permission(self, request, view):
        return has_role(request.user)


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    event = serializers.ChoiceField(choices=NotificationEvent.choices)

    class Meta:
        model = NotificationPreference
        fields = ["id", "event"]


class NotificationPreferenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in user's own opt-ins to email, one row per event. Nobody sees another's."""

    serializer_class = NotificationPreferenceSerializer
    permission_classes = [HasRole]
    queryset = NotificationPreference.objects.none()  # for the schema; get_queryset is per user
    pagination_class = None  # at most one row per event

    def get_queryset(self):
        return NotificationPreference.objects.filter(user=self.request.user).order_by("event")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                serializer.save(user=request.user)
        except IntegrityError:
            return Response(
                {"event": ["You are already opted in to this event."]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="Write-only; left out or blank on an update keeps the stored URL.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationEvent.choices), required=False
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    sent = serializers.IntegerField(read_only=True)
    pending = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "name",
            "url",
            "events",
            "active",
            "created",
            "created_by",
            "sent",
            "pending",
            "failed",
        ]
        read_only_fields = ["created"]

    def validate(self, attrs):
        # The page's form holds the rules (URL scheme, unique name, a blank URL keeps the stored one).
        current = self.instance
        data = {
            "name": attrs.get("name", current.name if current else ""),
            "url": attrs.get("url", ""),
            "events": attrs.get("events", current.events if current else []),
        }
        if attrs.get("active", current.active if current else True):
            data["active"] = "on"
        form = WebhookForm(data=data, instance=current)
        if not form.is_valid():
            raise serializers.ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        changed = [k for k in attrs if k != "url"] + (["url"] if attrs.get("url") else [])
        return {**attrs, "url": form.cleaned_data["url"], "changed": changed}

    def save(self, **kwargs):
        changed = self.validated_data.pop("changed")
        webhook = self.instance or Webhook()
        for key, value in self.validated_data.items():
            setattr(webhook, key, value)
        self.instance = do_save_webhook(webhook, acting_user=self.context["request"].user, changed=changed)
        return self.instance

    def to_representation(self, instance):
        # The list query counts deliveries; a webhook just saved through the API has none counted yet.
        for field, wanted in (
            ("sent", DeliveryStatus.SENT),
            ("pending", DeliveryStatus.PENDING),
            ("failed", DeliveryStatus.FAILED),
        ):
            if not hasattr(instance, field):
                setattr(instance, field, instance.deliveries.filter(status=wanted).count())
        return super().to_representation(instance)


class WebhookViewSet(viewsets.ModelViewSet):
    """Webhooks (admins only). `url` is write-only: it is never returned."""

    queryset = webhooks_with_counts()
    serializer_class = WebhookSerializer
    permission_action = None  # "Send a test" names its own (change)

    def perform_destroy(self, instance):
        do_delete_webhook(instance, acting_user=self.request.user)

    @action(detail=True, methods=["post"], permission_action="change_webhook")
    def test(self, request, pk=None):
        """Queue a test message to this webhook; its outcome shows in /api/notifications/."""
        notification = do_test_webhook(self.get_object(), acting_user=request.user)
        return Response({"notification": notification.pk}, status=status.HTTP_202_ACCEPTED)


class NotificationSerializer(serializers.ModelSerializer):
    channel = serializers.SerializerMethodField()
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    webhook = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "event",
            "channel",
            "user",
            "webhook",
            "subject",
            "body",
            "data",
            "status",
            "attempts",
            "last_error",
            "created",
            "next_attempt",
            "sent",
        ]

    def get_channel(self, notification) -> str:
        return "webhook" if notification.webhook_id else "email"

    def get_webhook(self, notification) -> dict | None:
        if not notification.webhook_id:
            return None
        return {"id": notification.webhook_id, "name": notification.webhook.name}


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log (engineers and admins), with the page's filters."""

    queryset = notifications()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created", "status", "event"]


def register(router) -> None:
    router.register(
        "notification-preferences", NotificationPreferenceViewSet, basename="notificationpreference"
    )
    router.register("webhooks", WebhookViewSet, basename="webhook")
    router.register("notifications", NotificationViewSet, basename="notification")
