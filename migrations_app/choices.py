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


class MigrationState(models.TextChoices):
    """Where one VM's migration is. The first three are the portal's own (not in HCX yet, or HCX
    refused it); the others are HCX's phases (`hcx.client.migrations.Phase`, same strings)."""

    WAITING = "waiting", _("Waiting to be sent")
    SUBMITTING = "submitting", _("Being sent to HCX")
    REFUSED = "refused", _("Refused by HCX validation")
    VALIDATING = "validating", _("Validating")
    QUEUED = "queued", _("Queued in HCX")
    INITIAL_SYNC = "initial_sync", _("Initial sync")
    DELTA_SYNC = "delta_sync", _("Delta sync")
    WAITING_FOR_SWITCHOVER = "waiting_for_switchover", _("Waiting for switchover")
    SWITCHOVER = "switchover", _("Switchover")
    CLEANUP = "cleanup", _("Cleanup")
    COMPLETE = "complete", _("Complete")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


MigrationState.COLORS = {
    MigrationState.WAITING: "secondary",
    MigrationState.SUBMITTING: "secondary",
    MigrationState.REFUSED: "danger",
    MigrationState.VALIDATING: "info",
    MigrationState.QUEUED: "info",
    MigrationState.INITIAL_SYNC: "primary",
    MigrationState.DELTA_SYNC: "primary",
    MigrationState.WAITING_FOR_SWITCHOVER: "warning",
    MigrationState.SWITCHOVER: "primary",
    MigrationState.CLEANUP: "primary",
    MigrationState.COMPLETE: "success",
    MigrationState.FAILED: "danger",
    MigrationState.CANCELLED: "dark",
}
# Named once, so code asks `state in MigrationState.X` and never lists string literals.
MigrationState.TERMINAL = frozenset(
    {MigrationState.REFUSED, MigrationState.COMPLETE, MigrationState.FAILED, MigrationState.CANCELLED}
)
MigrationState.NOT_SENT = frozenset({MigrationState.WAITING, MigrationState.SUBMITTING})
MigrationState.IN_HCX = frozenset(
    set(MigrationState.values) - MigrationState.TERMINAL - MigrationState.NOT_SENT
)
MigrationState.ACTIVE = MigrationState.NOT_SENT | MigrationState.IN_HCX
# Cancel is offered only until a switchover starts (hcx-wire.md §9.2: no source says when HCX refuses it).
MigrationState.CANCELLABLE = MigrationState.NOT_SENT | frozenset(
    {
        MigrationState.VALIDATING,
        MigrationState.QUEUED,
        MigrationState.INITIAL_SYNC,
        MigrationState.DELTA_SYNC,
        MigrationState.WAITING_FOR_SWITCHOVER,
    }
)
# "Switchover now" and window moves: Bulk and RAV before their switchover starts.
MigrationState.RESCHEDULABLE = frozenset(
    {
        MigrationState.INITIAL_SYNC,
        MigrationState.DELTA_SYNC,
        MigrationState.WAITING_FOR_SWITCHOVER,
        MigrationState.QUEUED,
        MigrationState.VALIDATING,
    }
)
MigrationState.RETRYABLE = frozenset(
    {MigrationState.REFUSED, MigrationState.FAILED, MigrationState.CANCELLED}
)


class MigrationDirection(models.TextChoices):
    FORWARD = "forward", _("To AVS")
    REVERSE = "reverse", _("Rollback to the source site")


class MigrationEventKind(models.TextChoices):
    STATE = "state", _("State change")
    ACTION = "action", _("Action by a person")
    HCX = "hcx", _("Message from HCX")
