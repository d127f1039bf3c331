"""Pages of launching and watching: batches, the live progress page and its stream, and the actions
on migrations (cancel, retry, rollback, switchover); included under the migrations_app namespace."""

from django.urls import path

from . import stream, validate_views, views

urlpatterns = [
    path("waves/<int:pk>/progress/", views.WaveProgressView.as_view(), name="wave_progress"),
    path("waves/<int:pk>/progress/stream/", stream.progress_stream, name="wave_progress_stream"),
    path("waves/<int:pk>/launch/", views.WaveLaunchView.as_view(), name="wave_launch"),
    path("waves/<int:pk>/batches/add/", views.BatchAddView.as_view(), name="batch_add"),
    path("waves/<int:pk>/migrations/act/", views.MigrationActionView.as_view(), name="vmmigration_action"),
    path(
        "waves/<int:pk>/validate-in-hcx/",
        validate_views.WaveValidationView.as_view(),
        name="wave_validate_hcx",
    ),
    path("batches/<int:pk>/", views.BatchProgressView.as_view(), name="batch"),
    path("batches/<int:pk>/launch/", views.BatchLaunchView.as_view(), name="batch_launch"),
    path("migrations/", views.VmMigrationListView.as_view(), name="vmmigration_list"),
    path("migrations/<int:pk>/", views.VmMigrationView.as_view(), name="vmmigration"),
]
