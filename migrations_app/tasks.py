"""Celery tasks of the planning app (found by Celery's autodiscovery); each part adds its own."""

from .launch.tasks import *  # noqa: F401,F403
