from django.urls import path

from . import views
from .audit.views import AuditLogView
from .job_feed import JobFeed
from .live.stream import endpoint
from .notifications import urls as notification_urls

app_name = "core"

urlpatterns = [
    path("jobs/", views.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/", views.JobView.as_view(), name="job"),
    path("jobs/<int:pk>/live/", endpoint(JobFeed), name="job_live"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("audit/", AuditLogView.as_view(), name="audit_log"),
]
urlpatterns += notification_urls.urlpatterns
