from django.db import models
from django.utils.translation import gettext_lazy as _


class GroupSource(models.TextChoices):
    """How a dependency group came to be, so a planner knows which ones a machine proposed."""

    MANUAL = "manual", _("By hand")
    TAG = "tag", _("vSphere tag")
    FOLDER = "folder", _("Folder")
    PATTERN = "pattern", _("Name pattern")
    SUGGESTED = "suggested", _("Suggested from dependencies")


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class DependencyFormat(models.TextChoices):
    AZURE_MIGRATE = "azure_migrate", _("Azure Migrate dependency export")
    CSV = "csv", _("CSV of source, destination, port, protocol")


class WaveStatus(models.TextChoices):
    """A wave's life. Only DRAFT and REJECTED waves are edited freely; an edit to a SUBMITTED or
    APPROVED wave bumps its revision and sends it back to DRAFT (approval is bound to a revision)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")


WaveStatus.COLORS = {
    WaveStatus.DRAFT: "secondary",
    WaveStatus.SUBMITTED: "info",
    WaveStatus.APPROVED: "success",
    WaveStatus.REJECTED: "danger",
    WaveStatus.RUNNING: "primary",
    WaveStatus.COMPLETED: "dark",
}


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class FindingSeverity(models.TextChoices):
    BLOCKER = "blocker", _("Blocker")
    WARNING = "warning", _("Warning")


FindingSeverity.COLORS = {FindingSeverity.BLOCKER: "danger", FindingSeverity.WARNING: "warning"}


class MappingTarget(models.TextChoices):
    EXTENDED = "extended", _("Extended network (HCX network extension)")
    SEGMENT = "segment", _("AVS NSX segment")


class AvsSku(models.TextChoices):
    """AVS host types; their per-host figures live in settings.AVS_HOST_TYPES."""

    AV36 = "AV36", "AV36"
    AV36P = "AV36P", "AV36P"
    AV52 = "AV52", "AV52"
    AV64 = "AV64", "AV64"
