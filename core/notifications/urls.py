from django.urls import path

from . import views

# Included by core/urls.py (namespace "core").
urlpatterns = [
    path("notifications/mine/", views.PreferencesView.as_view(), name="notification_preferences"),
    path("notifications/log/", views.NotificationListView.as_view(), name="notification_list"),
    path("notifications/webhooks/", views.WebhookListView.as_view(), name="webhook_list"),
    path("notifications/webhooks/add/", views.WebhookEditView.as_view(), name="webhook_add"),
    path("notifications/webhooks/<int:pk>/edit/", views.WebhookEditView.as_view(), name="webhook_edit"),
    path("notifications/webhooks/<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook_delete"),
    path("notifications/webhooks/<int:pk>/test/", views.WebhookTestView.as_view(), name="webhook_test"),
]
