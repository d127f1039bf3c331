"""The on-premises estate: what discovery and RVTools imports store, and what readiness reads.

Every object belongs to one vCenter (`VCenter`, keyed by its instance UUID) and is keyed
inside it by its managed-object id (`vm-218`, `host-522`...), so that discovery and imports
of the same vCenter update the same rows. Networks are keyed by name: a standard port group
has no managed-object id in RVTools, and vCenter names networks uniquely per datacenter.
Sizes are stored in MiB as vCenter reports them; "GB" on pages means GiB.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import TimestampedModel

from .choices import DiskMode, PowerState, RdmMode, SourceKind, SwitchType, ToolsStatus


class VCenter(TimestampedModel):
    """A vCenter: its connection details when we discover it, its identity either way."""

    name = models.CharField(_("name"), max_length=200, unique=True, help_text=_("The vCenter's host name"))
    instance_uuid = models.CharField(_("instance UUID"), max_length=64, blank=True)
    url = models.CharField(
        _("URL"), max_length=300, blank=True, help_text=_("vcenter.example.com, or https://host:port/sdk")
    )
    username = models.CharField(_("user name"), max_length=200, blank=True)
    password = EncryptedTextField(_("password"), blank=True)
    verify_tls = models.BooleanField(_("verify TLS certificate"), default=True)
    origin = models.CharField(
        _("origin"), max_length=20, choices=SourceKind.choices, default=SourceKind.DISCOVERY
    )
    version = models.CharField(_("version"), max_length=100, blank=True)
    last_synced = models.DateTimeField(_("last synced"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_uuid"],
                condition=~models.Q(instance_uuid=""),
                name="inventory_vcenter_unique_uuid",
            )
        ]
        permissions = [
            ("discover_vcenter", "Can run a vCenter discovery"),
            ("import_inventory", "Can import an RVTools export"),
        ]
        verbose_name = _("vCenter")
        verbose_name_plural = _("vCenters")

    def __str__(self):
        return self.name

    @property
    def can_discover(self) -> bool:
        return bool(self.url and self.username)


class InventoryObject(TimestampedModel):
    """Something that lives in one vCenter and is known there by its managed-object id."""

    vcenter = models.ForeignKey(VCenter, on_delete=models.CASCADE, related_name="+")
    moid = models.CharField(_("managed object id"), max_length=100)
    name = models.CharField(_("name"), max_length=300)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name


class Cluster(InventoryObject):
    datacenter = models.CharField(_("datacenter"), max_length=200, blank=True)
    num_hosts = models.PositiveIntegerField(_("hosts"), default=0)
    num_cpu_cores = models.PositiveIntegerField(_("CPU cores"), default=0)
    total_cpu_mhz = models.PositiveBigIntegerField(_("total CPU MHz"), default=0)
    total_memory_mib = models.PositiveBigIntegerField(_("total memory MiB"), default=0)
    ha_enabled = models.BooleanField(_("HA enabled"), null=True)
    drs_enabled = models.BooleanField(_("DRS enabled"), null=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["vcenter", "moid"], name="inventory_cluster_unique_moid")
        ]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")


class Host(InventoryObject):
    cluster = models.ForeignKey(
        Cluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="hosts"
    )
    datacenter = models.CharField(_("datacenter"), max_length=200, blank=True)
    cpu_model = models.CharField(_("CPU model"), max_length=200, blank=True)
    cpu_vendor = models.CharField(_("CPU vendor"), max_length=50, blank=True, help_text=_("intel, amd..."))
    num_cpu_sockets = models.PositiveIntegerField(_("CPU sockets"), default=0)
    num_cpu_cores = models.PositiveIntegerField(_("CPU cores"), default=0)
    cpu_mhz = models.PositiveIntegerField(_("CPU MHz"), default=0)
    memory_mib = models.PositiveBigIntegerField(_("memory MiB"), default=0)
    esx_version = models.CharField(_("ESXi version"), max_length=200, blank=True)
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    in_maintenance = models.BooleanField(_("in maintenance mode"), default=False)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["vcenter", "moid"], name="inventory_host_unique_moid")]
        verbose_name = _("host")
        verbose_name_plural = _("hosts")


class Datastore(InventoryObject):
    type = models.CharField(_("type"), max_length=50, blank=True, help_text=_("VMFS, NFS, vsan, vvol"))
    capacity_mib = models.PositiveBigIntegerField(_("capacity MiB"), default=0)
    free_mib = models.PositiveBigIntegerField(_("free MiB"), default=0)
    provisioned_mib = models.PositiveBigIntegerField(_("provisioned MiB"), default=0)
    url = models.CharField(_("URL"), max_length=500, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["vcenter", "moid"], name="inventory_datastore_unique_moid")
        ]
        verbose_name = _("datastore")
        verbose_name_plural = _("datastores")


class Network(TimestampedModel):
    """A port group (standard or distributed) or an NSX segment, as VMs see it."""

    vcenter = models.ForeignKey(VCenter, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=300)
    moid = models.CharField(_("managed object id"), max_length=100, blank=True)
    switch_name = models.CharField(_("switch"), max_length=200, blank=True)
    switch_type = models.CharField(_("switch type"), max_length=20, choices=SwitchType.choices, blank=True)
    vlan = models.CharField(_("VLAN"), max_length=100, blank=True, help_text=_("An id, a range or a trunk"))
    vlan_id = models.PositiveIntegerField(
        _("VLAN id"), null=True, blank=True, help_text=_("Set for a single VLAN")
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["vcenter", "name"], name="inventory_network_unique_name")
        ]
        verbose_name = _("network")
        verbose_name_plural = _("networks")

    def __str__(self):
        return self.name


class Tag(models.Model):
    """A vSphere tag (category:name) or a label applied by the portal."""

    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class VirtualMachine(InventoryObject):
    instance_uuid = models.CharField(_("instance UUID"), max_length=64, blank=True)
    bios_uuid = models.CharField(_("BIOS UUID"), max_length=64, blank=True)
    power_state = models.CharField(
        _("power state"), max_length=20, choices=PowerState.choices, default=PowerState.OFF
    )
    is_template = models.BooleanField(_("template"), default=False)
    cluster = models.ForeignKey(Cluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="vms")
    host = models.ForeignKey(Host, on_delete=models.SET_NULL, null=True, blank=True, related_name="vms")
    datacenter = models.CharField(_("datacenter"), max_length=200, blank=True)
    folder = models.CharField(_("folder"), max_length=500, blank=True)
    resource_pool = models.CharField(_("resource pool"), max_length=500, blank=True)
    guest_os = models.CharField(
        _("guest OS"), max_length=200, blank=True, help_text=_("As the configuration file says")
    )
    guest_os_tools = models.CharField(_("guest OS (tools)"), max_length=200, blank=True)
    guest_family = models.CharField(
        _("guest family"), max_length=50, blank=True, help_text=_("windows, linux, other")
    )
    num_cpu = models.PositiveIntegerField(_("vCPUs"), default=0)
    memory_mib = models.PositiveBigIntegerField(_("memory MiB"), default=0)
    provisioned_mib = models.PositiveBigIntegerField(_("provisioned MiB"), default=0)
    used_mib = models.PositiveBigIntegerField(_("used MiB"), default=0)
    hw_version = models.PositiveIntegerField(_("hardware version"), null=True, blank=True)
    firmware = models.CharField(_("firmware"), max_length=20, blank=True)
    tools_status = models.CharField(_("VMware Tools"), max_length=30, choices=ToolsStatus.choices, blank=True)
    tools_version = models.CharField(_("tools version"), max_length=50, blank=True)
    primary_ip = models.GenericIPAddressField(_("primary IP"), null=True, blank=True)
    dns_name = models.CharField(_("DNS name"), max_length=300, blank=True)
    annotation = models.TextField(_("annotation"), blank=True)
    cbt_enabled = models.BooleanField(_("CBT"), null=True)
    ft_enabled = models.BooleanField(_("fault tolerance"), default=False)
    usb_devices = models.PositiveIntegerField(_("USB devices"), default=0)
    passthrough_devices = models.PositiveIntegerField(_("PCI passthrough devices"), default=0)
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="vms")
    origin = models.CharField(
        _("origin"), max_length=20, choices=SourceKind.choices, default=SourceKind.DISCOVERY
    )
    migrated_copy_name = models.CharField(
        _("copy left by HCX"),
        max_length=300,
        blank=True,
        help_text=_(
            "The name of the copy an HCX Bulk migration left on-premises (in Migrated VMs): the VM is in AVS"
        ),
    )
    removed = models.DateTimeField(
        _("vanished"), null=True, blank=True, help_text=_("Set when a later discovery no longer found the VM")
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["vcenter", "moid"], name="inventory_vm_unique_moid")]
        indexes = [
            # the VM list's default sort and its most common filters
            models.Index(fields=["name", "id"], name="inventory_vm_name_idx"),
            models.Index(fields=["power_state"], name="inventory_vm_power_idx"),
            models.Index(fields=["guest_os"], name="inventory_vm_os_idx"),
        ]
        verbose_name = _("virtual machine")
        verbose_name_plural = _("virtual machines")

    def get_absolute_url(self):
        return reverse("inventory:virtualmachine", args=[self.pk])

    @property
    def provisioned_gb(self) -> float:
        return round(self.provisioned_mib / 1024, 1)

    @property
    def used_gb(self) -> float:
        return round(self.used_mib / 1024, 1)

    @property
    def memory_gb(self) -> float:
        return round(self.memory_mib / 1024, 1)


class VmDevice(models.Model):
    """A device of a VM, keyed inside the VM by its label ("Hard disk 1", "Network adapter 1")."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(_("label"), max_length=100)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.vm_id}: {self.label}"


class VirtualDisk(VmDevice):
    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="disks")
    key = models.IntegerField(_("device key"), null=True, blank=True)
    capacity_mib = models.PositiveBigIntegerField(_("capacity MiB"), default=0)
    datastore = models.ForeignKey(
        Datastore, on_delete=models.SET_NULL, null=True, blank=True, related_name="disks"
    )
    path = models.CharField(_("file"), max_length=1000, blank=True)
    thin = models.BooleanField(_("thin"), null=True)
    mode = models.CharField(_("mode"), max_length=30, choices=DiskMode.choices, default=DiskMode.PERSISTENT)
    sharing = models.CharField(
        _("sharing"), max_length=30, blank=True, help_text=_("sharingNone or sharingMultiWriter")
    )
    rdm_mode = models.CharField(_("RDM"), max_length=20, choices=RdmMode.choices, blank=True)
    controller = models.CharField(_("controller"), max_length=100, blank=True)
    controller_type = models.CharField(_("controller type"), max_length=100, blank=True)
    bus_sharing = models.CharField(_("SCSI bus sharing"), max_length=30, blank=True)

    class Meta:
        ordering = ["vm", "label"]
        constraints = [models.UniqueConstraint(fields=["vm", "label"], name="inventory_disk_unique_label")]
        verbose_name = _("virtual disk")
        verbose_name_plural = _("virtual disks")


class VirtualNic(VmDevice):
    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="nics")
    adapter = models.CharField(_("adapter"), max_length=50, blank=True)
    network = models.ForeignKey(
        Network, on_delete=models.SET_NULL, null=True, blank=True, related_name="nics"
    )
    network_name = models.CharField(_("network name"), max_length=300, blank=True)
    mac_address = models.CharField(_("MAC address"), max_length=20, blank=True)
    connected = models.BooleanField(_("connected"), default=False)
    start_connected = models.BooleanField(_("connect at power on"), default=False)
    ip_addresses = models.JSONField(_("IP addresses"), default=list, blank=True)
    direct_path_io = models.BooleanField(_("DirectPath I/O"), default=False)

    class Meta:
        ordering = ["vm", "label"]
        constraints = [models.UniqueConstraint(fields=["vm", "label"], name="inventory_nic_unique_label")]
        verbose_name = _("network adapter")
        verbose_name_plural = _("network adapters")


class CdRom(VmDevice):
    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="cdroms")
    connected = models.BooleanField(_("connected"), default=False)
    start_connected = models.BooleanField(_("connect at power on"), default=False)
    device_type = models.CharField(
        _("backing"), max_length=100, blank=True, help_text=_("ISO, client device, host device")
    )
    iso_path = models.CharField(_("ISO file"), max_length=1000, blank=True)

    class Meta:
        ordering = ["vm", "label"]
        constraints = [models.UniqueConstraint(fields=["vm", "label"], name="inventory_cdrom_unique_label")]
        verbose_name = _("CD/DVD drive")
        verbose_name_plural = _("CD/DVD drives")

    @property
    def has_iso(self) -> bool:
        return bool(self.iso_path) or "iso" in self.device_type.lower()


class Snapshot(models.Model):
    """A snapshot, keyed inside its VM by name and creation time (RVTools has no snapshot id)."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="snapshots")
    name = models.CharField(_("name"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("taken"), null=True, blank=True)
    size_mib = models.FloatField(_("size MiB"), null=True, blank=True)
    quiesced = models.BooleanField(_("quiesced"), default=False)
    state = models.CharField(_("power state"), max_length=20, blank=True)

    class Meta:
        ordering = ["vm", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["vm", "name", "created_at"], name="inventory_snapshot_unique_name_time"
            )
        ]
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")

    def __str__(self):
        return self.name
