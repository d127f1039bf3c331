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


DeliveryStatus.COLORS = {
    DeliveryStatus.PENDING: "secondary",
    DeliveryStatus.SENT: "success",
    DeliveryStatus.FAILED: "danger",
}


class AuditAction(models.TextChoices):
    """What an audit row says happened, as `<object>.<verb>`: the object first, so the log filters by
    object (`wave` shows every wave row), then what was done to it. Every `AuditEntry.record` names one
    of these; migration core/0006 renamed the rows written under the older names."""

    # vCenters and imports
    VCENTER_ADD = "vcenter.add", _("vCenter added")
    VCENTER_CHANGE = "vcenter.change", _("vCenter changed")
    VCENTER_DISCOVER = "vcenter.discover", _("vCenter discovery started")
    RVTOOLS_IMPORT = "rvtools.import", _("RVTools file imported")
    DEPENDENCIES_IMPORT = "dependencies.import", _("Dependency data imported")
    # dependency groups
    GROUP_CREATE = "group.create", _("Group created")
    GROUP_CHANGE = "group.change", _("Group changed")
    GROUP_DELETE = "group.delete", _("Group deleted")
    GROUP_ADD_MEMBERS = "group.add_members", _("VMs added to a group")
    GROUP_REMOVE_MEMBERS = "group.remove_members", _("VMs removed from a group")
    GROUP_BUILD_TAG = "group.build_tag", _("Group built from vSphere tags")
    GROUP_BUILD_FOLDER = "group.build_folder", _("Group built from folders")
    GROUP_BUILD_PATTERN = "group.build_pattern", _("Group built from a name pattern")
    GROUP_BUILD_SUGGESTED = "group.build_suggested", _("Group built from a suggestion")
    GROUP_BUILD_MANUAL = "group.build_manual", _("Group built by hand")
    # plans and waves
    PROPOSAL_CREATE = "proposal.create", _("Wave plan proposed")
    PROPOSAL_ACCEPT = "proposal.accept", _("Wave plan accepted")
    TARGET_CLUSTER_CREATE = "target_cluster.create", _("Target cluster added")
    TARGET_CLUSTER_CHANGE = "target_cluster.change", _("Target cluster changed")
    TARGET_CLUSTER_DELETE = "target_cluster.delete", _("Target cluster deleted")
    WAVE_CREATE = "wave.create", _("Wave created")
    WAVE_CHANGE = "wave.change", _("Wave changed")
    WAVE_DELETE = "wave.delete", _("Wave deleted")
    WAVE_CHECK_READINESS = "wave.check_readiness", _("Wave readiness checked")
    WAVE_SUBMIT = "wave.submit", _("Wave submitted for approval")
    WAVE_APPROVE = "wave.approve", _("Wave approved")
    WAVE_REJECT = "wave.reject", _("Wave rejected")
    WAVE_WITHDRAW_APPROVAL = "wave.withdraw_approval", _("Wave approval withdrawn (the wave changed)")
    WAVE_VALIDATE_IN_HCX = "wave.validate_in_hcx", _("Wave validated in HCX")
    WAVE_COMPLETE = "wave.complete", _("Wave completed")
    # launching
    BATCH_CREATE = "batch.create", _("Batch created")
    BATCH_LAUNCH = "batch.launch", _("Batch launched")
    BATCH_RELAUNCH = "batch.relaunch", _("Batch launched again")
    MIGRATION_CANCEL = "migration.cancel", _("Migrations cancelled")
    MIGRATION_RETRY = "migration.retry", _("Migrations retried")
    MIGRATION_ROLLBACK = "migration.rollback", _("Migrations rolled back")
    MIGRATION_SWITCHOVER_NOW = "migration.switchover_now", _("Migrations switched over now")
    MIGRATION_MOVE_WINDOW = "migration.move_window", _("Switchover window moved")
    # HCX
    HCX_PLAN_CREATE = "hcx_plan.create", _("HCX plan created")
    HCX_PLAN_CHANGE = "hcx_plan.change", _("HCX plan changed")
    HCX_PLAN_DELETE = "hcx_plan.delete", _("HCX plan deleted")
    HCX_CONNECTION_ADD = "hcx_connection.add", _("HCX connection added")
    HCX_CONNECTION_CHANGE = "hcx_connection.change", _("HCX connection changed")
    HCX_CERTIFICATE_TRUST = "hcx_certificate.trust", _("HCX certificate trusted")
    HCX_SETUP_RUN = "hcx_setup.run", _("HCX setup started")
    HCX_OVA_UPLOAD = "hcx_ova.upload", _("HCX Connector OVA uploaded")
    HCX_CONNECTOR_DEPLOY = "hcx_connector.deploy", _("HCX Connector deployment started")
    # the portal
    JOB_CANCEL = "job.cancel", _("Job cancel asked")
    NOTIFICATIONS_SET = "notifications.set", _("Notification choices saved")
    WEBHOOK_SAVE = "webhook.save", _("Webhook saved")
    WEBHOOK_DELETE = "webhook.delete", _("Webhook deleted")
    WEBHOOK_TEST = "webhook.test", _("Webhook test sent")

    @classmethod
    def object_choices(cls) -> list[tuple[str, str]]:
        """The objects the actions concern (`wave`, `batch`...), for filtering the log by object."""
        seen = dict.fromkeys(value.split(".", 1)[0] for value in cls.values)
        words = {"hcx": "HCX", "vcenter": "vCenter", "rvtools": "RVTools", "ova": "OVA"}
        return [(o, " ".join(words.get(w, w) for w in o.split("_"))) for o in seen]
