"""Statuses with named state groups: code checks `status in JobStatus.TERMINAL`, never literals."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    # Ended to wait for a person's decision (trusting a certificate): not a failure; the person acts,
    # and a new job goes on from there.
    NEEDS_INPUT = "needs_input", _("Needs your input")

    # Named groups (set below: TextChoices members cannot hold class attributes)


JobStatus.ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)
JobStatus.TERMINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.NEEDS_INPUT)
JobStatus.COLORS = {
    JobStatus.PENDING: "secondary",
    JobStatus.RUNNING: "primary",
    JobStatus.COMPLETED: "success",
    JobStatus.FAILED: "danger",
    JobStatus.CANCELLED: "warning",
    JobStatus.NEEDS_INPUT: "warning",
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


class NotificationEvent(models.TextChoices):
    """What people can be told about (issue 6): a wave's decisions and its run."""

    WAVE_SUBMITTED = "wave.submitted", _("Wave submitted for approval")
    WAVE_APPROVED = "wave.approved", _("Wave approved")
    WAVE_REJECTED = "wave.rejected", _("Wave rejected")
    WAVE_LAUNCHED = "wave.launched", _("Wave or batch launched")
    WAVE_COMPLETED = "wave.completed", _("Wave completed")
    MIGRATION_FAILED = "migration.failed", _("Migrations failed")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed after retries")


DeliveryStatus.COLORS = {DeliveryStatus.PENDING: "secondary", DeliveryStatus.SENT: "success",
                         DeliveryStatus.FAILED: "danger"}
