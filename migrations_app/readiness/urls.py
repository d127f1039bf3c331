"""Pages of readiness and approval; included by migrations_app/urls.py under the migrations_app namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("approvals/", views.ApprovalQueueView.as_view(), name="approval_list"),
    path("waves/<int:pk>/readiness/", views.ReadinessReportView.as_view(), name="wave_readiness"),
    path("waves/<int:pk>/readiness/run/", views.RunReadinessView.as_view(), name="wave_readiness_run"),
    path("waves/<int:pk>/switch-type/", views.SwitchTypeView.as_view(), name="wave_switch_type"),
    path("waves/<int:pk>/submit/", views.SubmitView.as_view(), name="wave_submit"),
    path("waves/<int:pk>/approve/", views.ApproveView.as_view(), name="wave_approve"),
    path("waves/<int:pk>/reject/", views.RejectView.as_view(), name="wave_reject"),
]
