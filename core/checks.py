"""System checks for misconfiguration that would otherwise surface as a confusing runtime error."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_secrets(app_configs, **kwargs):
    problems = []
    if not settings.DEBUG and "insecure-dev-key" in settings.SECRET_KEY:
        problems.append(
            Error("SECRET_KEY is the development key", hint="Set SECRET_KEY.", id="avsportal.E001")
        )
    if not settings.DEBUG and not settings.FIELD_ENCRYPTION_KEY:
        problems.append(
            Warning(
                "FIELD_ENCRYPTION_KEY is not set: stored passwords are encrypted with a key derived from SECRET_KEY",
                hint="Set FIELD_ENCRYPTION_KEY so that SECRET_KEY can be rotated without losing stored passwords.",
                id="avsportal.W001",
            )
        )
    return problems
