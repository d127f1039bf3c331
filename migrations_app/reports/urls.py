"""Pages of reports; included by migrations_app/urls.py under the migrations_app namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/live/", views.DashboardLiveView.as_view(), name="dashboard_live"),
    path("reports/programme.pdf", views.ProgrammePdfView.as_view(), name="programme_pdf"),
    path("reports/export/<slug:what>/", views.ExportView.as_view(), name="report_export"),
    path("waves/<int:pk>/report/", views.WaveReportView.as_view(), name="wave_report"),
    path("waves/<int:pk>/report.pdf", views.WavePdfView.as_view(), name="wave_report_pdf"),
]
