from django.db import models
from django.utils.translation import gettext_lazy as _


class LinkType(models.TextChoices):
    EXPRESSROUTE = "expressroute", _("ExpressRoute")
    VPN = "vpn", _("VPN")
    INTERNET = "internet", _("Internet")


class ProfileKind(models.TextChoices):
    """The four HCX network profiles (hcx-wire.md §5 `recommendationTags`, §12.1)."""

    MANAGEMENT = "management", _("Management")
    UPLINK = "uplink", _("Uplink")
    VMOTION = "vmotion", _("vMotion")
    REPLICATION = "replication", _("Replication")


# Profiles HCX cannot do without; vMotion and replication fall back to the management profile.
ProfileKind.REQUIRED = (ProfileKind.MANAGEMENT, ProfileKind.UPLINK)
ProfileKind.MAY_REUSE_MANAGEMENT = (ProfileKind.VMOTION, ProfileKind.REPLICATION)


class Severity(models.TextChoices):
    ERROR = "error", _("Error")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


Severity.ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)
Severity.HEADINGS = {
    Severity.ERROR: _("Errors"),
    Severity.WARNING: _("Warnings"),
    Severity.INFO: _("Information"),
}
Severity.COLORS = {Severity.ERROR: "danger", Severity.WARNING: "warning", Severity.INFO: "info"}


class MigrationType(models.TextChoices):
    BULK = "bulk", _("Bulk")
    VMOTION = "vmotion", _("HCX vMotion")
    COLD = "cold", _("Cold")
    RAV = "rav", _("Replication Assisted vMotion")


class ManagerSize(models.TextChoices):
    """AVS HCX Cloud Manager form factors (hcx-wire.md §12.4, `Set-HcxScaledCpuAndMemorySetting`)."""

    SMALL = "Small", _("Small: 4 vCPU, 12 GB, 60 GB")
    MEDIUM = "Medium", _("Medium: 8 vCPU, 24 GB, 120 GB")
    LARGE = "Large", _("Large: 32 vCPU, 48 GB, 300 GB")


class SetupStepKey(models.TextChoices):
    """The set-up path after the plan, in the order an engineer walks it (product.md §2)."""

    DEPLOY = "deploy", _("Deploy the HCX Connector")
    AVS = "avs", _("Register the AVS private cloud")
    ACTIVATE = "activate", _("Activate the Connector")
    REGISTER = "register", _("Register vCenter, SSO and location")
    PAIR = "pair", _("Pair with the AVS HCX Cloud Manager")
    NETWORK_PROFILES = "network_profiles", _("Create the network profiles")
    COMPUTE_PROFILE = "compute_profile", _("Create the compute profile")
    SERVICE_MESH = "service_mesh", _("Deploy the service mesh")
    EXTEND = "extend", _("Extend the chosen networks")


class StepState(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    NEEDS_INPUT = "needs_input", _("Needs your input")
    FAILED = "failed", _("Failed")


StepState.COLORS = {
    StepState.NOT_STARTED: "secondary",
    StepState.RUNNING: "primary",
    StepState.DONE: "success",
    StepState.NEEDS_INPUT: "warning",
    StepState.FAILED: "danger",
}
