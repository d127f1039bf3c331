"""Pages: my notifications (every user with a role, their own only), webhooks (admins), and the
delivery log (engineers and admins). Webhook URLs never appear on any of them."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.urls import reverse, reverse_lazy
from django.views import View
from django.views.generic import FormView
from django_tables2 import SingleTableView

from core.access import PermissionMixin, user_can
from core.choices import DeliveryStatus
from core.generic_views import ObjectDeleteView, ObjectEditView, ObjectListView
from core.models import Notification, NotificationPreference, Webhook
from core.roles import ROLES, has_role, roles_text

from .actions import do_delete_webhook, do_save_webhook, do_set_preferences, do_test_webhook
from .filtersets import NotificationFilterSet
from .forms import PreferencesForm, WebhookForm
from .tables import PER_PAGE, NotificationTable, WebhookTable


class RoleRequiredMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user):
            raise PermissionDenied(f"This page is for {roles_text(ROLES)}.")
        return super().dispatch(request, *args, **kwargs)


class PreferencesView(RoleRequiredMixin, FormView):
    """My notifications: which events email me, at the address in my profile. Only my own."""

    form_class = PreferencesForm
    template_name = "notifications/preferences.html"
    success_url = reverse_lazy("core:notification_preferences")

    def get_initial(self):
        return {
            "events": list(
                NotificationPreference.objects.filter(user=self.request.user).values_list("event", flat=True)
            )
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["email"] = self.request.user.email
        context["can_view_log"] = user_can(self.request.user, Notification, "view")
        context["can_manage_webhooks"] = user_can(self.request.user, Webhook, "view")
        return context

    def form_valid(self, form):
        events = do_set_preferences(self.request.user, form.cleaned_data["events"])
        if events and not self.request.user.email:
            messages.warning(
                self.request,
                "Saved, but your profile has no email address: ask an admin to add one, "
                "or nothing can reach you.",
            )
        else:
            messages.success(
                self.request,
                f"Saved: you get email for {len(events)} event{'s' if len(events) != 1 else ''}.",
            )
        return super().form_valid(form)


def webhooks_with_counts():
    return (
        Webhook.objects.defer("url")
        .annotate(
            sent=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
            pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        .order_by("name")
    )


class WebhookListView(PermissionMixin, SingleTableView):
    model = Webhook
    table_class = WebhookTable
    table_pagination = {"per_page": PER_PAGE}
    template_name = "notifications/webhook_list.html"

    def get_queryset(self):
        return webhooks_with_counts()


class WebhookEditView(ObjectEditView):
    model = Webhook
    form_class = WebhookForm
    template_name = "notifications/webhook_edit.html"
    invalid_status = 200

    def save(self, form):
        webhook = do_save_webhook(
            form.save(commit=False), acting_user=self.request.user, changed=form.changed_fields
        )
        messages.success(self.request, f"Webhook {webhook.name} saved.")
        return redirect("core:webhook_list")


class WebhookDeleteView(ObjectDeleteView):
    model = Webhook
    queryset = webhooks_with_counts()
    what = "webhook"
    success_url = reverse_lazy("core:webhook_list")

    def consequence(self, webhook):
        entries = webhook.sent + webhook.pending + webhook.failed
        waiting = f", including {webhook.pending} not yet sent" if webhook.pending else ""
        return (
            f"It stops getting messages at once. Its {entries} entr{pluralize(entries, 'y,ies')} in the delivery log "
            f"go with it{waiting}. To pause it instead, edit it and untick “active”."
        )

    def cancel_url(self, webhook):
        return reverse("core:webhook_edit", args=[webhook.pk])

    def delete(self, webhook):
        do_delete_webhook(webhook, acting_user=self.request.user)
        return f"Webhook {webhook.name} deleted."


class WebhookTestView(PermissionMixin, View):
    """ "Send a test": through the outbox and a worker, like any event; the log shows how it went."""

    model = Webhook
    permission_action = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        webhook = get_object_or_404(Webhook.objects.defer("url"), pk=pk)
        do_test_webhook(webhook, acting_user=request.user)
        messages.success(request, f"A test message to {webhook.name} is on its way; its outcome shows below.")
        return redirect(f"{reverse('core:notification_list')}?webhook_id={webhook.pk}")


def notifications():
    return Notification.objects.select_related("user", "webhook").defer("webhook__url")


class NotificationListView(ObjectListView):
    """The delivery log (outbox): what went to whom, what waits, what failed and why."""

    model = Notification
    filterset_class = NotificationFilterSet
    table_class = NotificationTable
    table_pagination = {"per_page": PER_PAGE}
    template_name = "notifications/notification_list.html"

    def get_queryset(self):
        return notifications()
