"""Statuses with named state groups: code checks `status in JobStatus.TERMINAL`, never literals."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")

    # Named groups (set below: TextChoices members cannot hold class attributes)


JobStatus.ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)
JobStatus.TERMINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
JobStatus.COLORS = {
    JobStatus.PENDING: "secondary",
    JobStatus.RUNNING: "primary",
    JobStatus.COMPLETED: "success",
    JobStatus.FAILED: "danger",
    JobStatus.CANCELLED: "warning",
}


class EventLevel(models.TextChoices):
    DEBUG = "debug", _("Debug")
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


EventLevel.COLORS = {
    EventLevel.DEBUG: "secondary",
    EventLevel.INFO: "info",
    EventLevel.WARNING: "warning",
    EventLevel.ERROR: "danger",
}
