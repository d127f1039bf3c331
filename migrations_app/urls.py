"""The planning pages, one URL module per part: dependencies and groups, waves, readiness and
approval, the auto-planner and estimates, launching and watching migrations."""

from django.urls import include, path

app_name = "migrations_app"

urlpatterns = [
    path("", include("migrations_app.dependencies.urls")),
    path("", include("migrations_app.waves.urls")),
    path("", include("migrations_app.readiness.urls")),
    path("", include("migrations_app.planner.urls")),
    path("", include("migrations_app.launch.urls")),
    path("", include("migrations_app.reports.urls")),
]
