from django.apps import AppConfig


class MigrationsAppConfig(AppConfig):
    """Dependency groups, waves, batches, approvals, readiness, planning and reports."""

    name = "migrations_app"
    verbose_name = "Migration waves"
