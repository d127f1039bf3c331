from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    DISCOVERY = "discovery", _("vCenter discovery")
    RVTOOLS = "rvtools", _("RVTools import")
    DEMO = "demo", _("Demo data")


class PowerState(models.TextChoices):
    ON = "poweredOn", _("Powered on")
    OFF = "poweredOff", _("Powered off")
    SUSPENDED = "suspended", _("Suspended")


PowerState.COLORS = {PowerState.ON: "success", PowerState.OFF: "secondary", PowerState.SUSPENDED: "warning"}


class ToolsStatus(models.TextChoices):
    """vim.vm.GuestInfo.ToolsStatus, as vCenter and RVTools ("Tools" column) name it."""

    OK = "toolsOk", _("OK")
    OLD = "toolsOld", _("Out of date")
    NOT_RUNNING = "toolsNotRunning", _("Not running")
    NOT_INSTALLED = "toolsNotInstalled", _("Not installed")
    UNKNOWN = "", _("Unknown")


ToolsStatus.COLORS = {
    ToolsStatus.OK: "success",
    ToolsStatus.OLD: "warning",
    ToolsStatus.NOT_RUNNING: "warning",
    ToolsStatus.NOT_INSTALLED: "danger",
    ToolsStatus.UNKNOWN: "secondary",
}


class SwitchType(models.TextChoices):
    STANDARD = "standard", _("Standard vSwitch")
    DISTRIBUTED = "distributed", _("Distributed switch")
    NSX = "nsx", _("NSX segment")
    UNKNOWN = "", _("Unknown")


class DiskMode(models.TextChoices):
    PERSISTENT = "persistent", _("Dependent")
    INDEPENDENT_PERSISTENT = "independent_persistent", _("Independent persistent")
    INDEPENDENT_NONPERSISTENT = "independent_nonpersistent", _("Independent non-persistent")
    NONPERSISTENT = "nonpersistent", _("Non-persistent")
    UNDOABLE = "undoable", _("Undoable")
    APPEND = "append", _("Append")


class RdmMode(models.TextChoices):
    NONE = "", _("Not an RDM")
    PHYSICAL = "physicalMode", _("Physical RDM")
    VIRTUAL = "virtualMode", _("Virtual RDM")
