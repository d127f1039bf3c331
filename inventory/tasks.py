"""Celery beat tasks of the inventory app."""

from celery import shared_task

from .rvtools.uploads import remove_stale_uploads


@shared_task(name="inventory.remove_stale_uploads")
def remove_stale_uploads_task():
    """Celery beat, hourly: uploads their job left behind, after UPLOAD_RETENTION_HOURS."""
    return remove_stale_uploads()
