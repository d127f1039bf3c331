import os

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_migrate

        from . import checks, job_registry  # noqa: F401  checks: registers system checks
        from .roles import sync_role_permissions
        from .tables import install as speed_up_tables
        from .tasks import run_job

        speed_up_tables()
        job_registry.register_task(run_job)  # Job.send uses it; the model does not import the runner

        post_migrate.connect(sync_role_permissions, dispatch_uid="core.sync_role_permissions")

        if settings.CELERY_BROKER_URL == "filesystem://":
            for key in ("data_folder_in", "processed_folder", "control_folder"):
                path = settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]
                os.makedirs(path, exist_ok=True)
