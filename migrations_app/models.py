"""Dependency groups, connection data, target clusters, waves with their VMs and network mappings,
readiness findings, approval decisions and auto-plan proposals.

A VM belongs to at most one group (GroupMember.vm is unique) and to at most one wave
(WaveItem.vm is unique): the database refuses the second, not only the form.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel
from hcx.choices import MigrationType

from .choices import (
    AvsSku,
    Decision,
    DependencyFormat,
    FindingSeverity,
    GroupSource,
    MappingTarget,
    MigrationDirection,
    MigrationEventKind,
    MigrationState,
    Risk,
    WaveStatus,
)


class DependencyGroup(TimestampedModel):
    """An application, or any set of VMs that must move together."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=GroupSource.choices, default=GroupSource.MANUAL
    )
    rule = models.CharField(
        _("rule"), max_length=500, blank=True, help_text=_("The tag, folder or pattern it was built from")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower moves earlier (the auto-planner's order)")
    )
    risk = models.CharField(_("risk"), max_length=10, choices=Risk.choices, default=Risk.MEDIUM)
    owner = models.CharField(_("application owner"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["priority", "name"]
        verbose_name = _("dependency group")
        verbose_name_plural = _("dependency groups")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("migrations_app:dependencygroup", args=[self.pk])


class GroupMember(models.Model):
    group = models.ForeignKey(DependencyGroup, on_delete=models.CASCADE, related_name="members")
    vm = models.OneToOneField(
        "inventory.VirtualMachine", on_delete=models.CASCADE, related_name="group_membership"
    )
    reason = models.CharField(
        _("why"), max_length=500, blank=True, help_text=_("Why this VM is in the group")
    )

    class Meta:
        ordering = ["group", "vm"]
        verbose_name = _("group member")
        verbose_name_plural = _("group members")

    def __str__(self):
        return f"{self.vm} in {self.group}"


class DependencyImport(models.Model):
    """One imported file of connection data, with its summary."""

    format = models.CharField(_("format"), max_length=20, choices=DependencyFormat.choices)
    file_name = models.CharField(_("file"), max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    edges = models.PositiveIntegerField(_("connections kept"), default=0)
    matched = models.PositiveIntegerField(_("endpoints matched to VMs"), default=0)
    external = models.PositiveIntegerField(_("external endpoints"), default=0)
    created = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("dependency import")
        verbose_name_plural = _("dependency imports")
        permissions = [("import_dependencies", "Can import dependency data")]

    def __str__(self):
        return f"{self.file_name} ({self.get_format_display()})"


class Endpoint(models.Model):
    """One side of a connection: a VM of the inventory, or something outside it (kept on purpose:
    a dependency on something that stays behind is what a planner must see)."""

    vm = models.OneToOneField(
        "inventory.VirtualMachine", on_delete=models.CASCADE, null=True, blank=True, related_name="endpoint"
    )
    name = models.CharField(_("name"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        ordering = ["name", "ip"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "ip"],
                condition=models.Q(vm__isnull=True),
                name="migrations_external_endpoint_unique",
            ),
        ]
        verbose_name = _("endpoint")
        verbose_name_plural = _("endpoints")

    def __str__(self):
        return str(self.vm) if self.vm_id else (self.name or self.ip or "?")

    @property
    def is_external(self) -> bool:
        return self.vm_id is None


class Dependency(models.Model):
    """A connection seen from source to destination on a port: one edge of the dependency graph."""

    source = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="outgoing")
    destination = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="incoming")
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    protocol = models.CharField(_("protocol"), max_length=10, blank=True, default="tcp")
    source_application = models.CharField(_("source application"), max_length=300, blank=True)
    source_process = models.CharField(_("source process"), max_length=300, blank=True)
    destination_application = models.CharField(_("destination application"), max_length=300, blank=True)
    destination_process = models.CharField(_("destination process"), max_length=300, blank=True)
    seen = models.PositiveIntegerField(_("times seen"), default=1)
    last_import = models.ForeignKey(
        DependencyImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["source", "destination", "port"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "destination", "port", "protocol"], name="migrations_dependency_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("destination")), name="migrations_dependency_no_self_loop"
            ),
        ]
        verbose_name = _("dependency")
        verbose_name_plural = _("dependencies")

    def __str__(self):
        return f"{self.source} -> {self.destination}:{self.port or '*'}/{self.protocol}"


class TargetCluster(TimestampedModel):
    """An AVS cluster that waves migrate into, with the figures the capacity check needs."""

    site = models.ForeignKey("hcx.HcxPlan", on_delete=models.CASCADE, related_name="target_clusters")
    name = models.CharField(_("name"), max_length=200, help_text=_("The AVS cluster, for example Cluster-1"))
    sku = models.CharField(_("host type"), max_length=10, choices=AvsSku.choices, default=AvsSku.AV36P)
    hosts = models.PositiveSmallIntegerField(_("hosts"), default=3, validators=[MinValueValidator(3)])
    failures_to_tolerate = models.PositiveSmallIntegerField(_("vSAN failures to tolerate"), default=1)
    datastores = models.JSONField(_("datastores"), default=list, blank=True)
    folders = models.JSONField(_("VM folders"), default=list, blank=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="migrations_target_cluster_unique")
        ]
        verbose_name = _("target cluster")
        verbose_name_plural = _("target clusters")

    def __str__(self):
        return f"{self.site} / {self.name}"


class Wave(TimestampedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=WaveStatus.choices, default=WaveStatus.DRAFT
    )
    revision = models.PositiveIntegerField(
        _("revision"), default=1, help_text=_("Bumped by every change; an approval holds for one revision")
    )
    sequence = models.PositiveIntegerField(_("order"), default=100, help_text=_("Lower runs earlier"))
    pilot = models.BooleanField(_("pilot"), default=False)
    window_start = models.DateTimeField(_("change window start"), null=True, blank=True)
    window_end = models.DateTimeField(_("change window end"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    site = models.ForeignKey(
        "hcx.HcxPlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waves",
        verbose_name=_("site pair"),
        help_text=_("The site whose service mesh carries the wave"),
    )
    target_cluster = models.ForeignKey(
        TargetCluster, on_delete=models.PROTECT, null=True, blank=True, related_name="waves"
    )
    target_datastore = models.CharField(_("target datastore"), max_length=200, blank=True)
    target_folder = models.CharField(_("target folder"), max_length=500, blank=True)
    target_resource_pool = models.CharField(_("target resource pool"), max_length=500, blank=True)
    migration_type = models.CharField(
        _("default migration type"), max_length=20, choices=MigrationType.choices, default=MigrationType.BULK
    )
    max_vms = models.PositiveIntegerField(_("VM cap"), null=True, blank=True)
    max_tb = models.DecimalField(_("TB cap"), max_digits=8, decimal_places=2, null=True, blank=True)
    # Options handed to HCX at launch (issue 5 reads them).
    remove_isos = models.BooleanField(_("remove ISOs"), default=True)
    remove_snapshots = models.BooleanField(_("remove snapshots"), default=False)
    force_power_off = models.BooleanField(_("force power-off"), default=False)
    retain_mac = models.BooleanField(_("retain MAC"), default=True)
    upgrade_tools = models.BooleanField(_("upgrade VMware Tools"), default=False)
    upgrade_hardware = models.BooleanField(_("upgrade hardware"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    readiness_revision = models.PositiveIntegerField(
        _("readiness checked at revision"),
        null=True,
        blank=True,
        help_text=_("The revision the findings are for"),
    )

    class Meta:
        ordering = ["sequence", "window_start", "name"]
        verbose_name = _("wave")
        verbose_name_plural = _("waves")
        permissions = [
            ("submit_wave", "Can submit a wave for approval"),
            ("approve_wave", "Can approve or reject a wave"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("migrations_app:wave", args=[self.pk])

    def clean(self):
        super().clean()
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValidationError({"window_end": _("The change window must end after it starts.")})


class WaveItem(models.Model):
    """A VM in a wave, alone or as part of one of its groups."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="items")
    vm = models.OneToOneField("inventory.VirtualMachine", on_delete=models.CASCADE, related_name="wave_item")
    group = models.ForeignKey(
        DependencyGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    migration_type = models.CharField(
        _("migration type"),
        max_length=20,
        choices=MigrationType.choices,
        blank=True,
        help_text=_("Empty: the wave's default"),
    )

    class Meta:
        ordering = ["wave", "vm"]
        verbose_name = _("wave item")
        verbose_name_plural = _("wave items")

    def __str__(self):
        return f"{self.vm} in {self.wave}"

    @property
    def effective_migration_type(self) -> str:
        return self.migration_type or self.wave.migration_type


class NetworkMapping(models.Model):
    """Where a source port group's VMs land: an extended network or an AVS segment."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="network_mappings")
    source = models.ForeignKey("inventory.Network", on_delete=models.CASCADE, related_name="+")
    target_kind = models.CharField(
        _("target kind"), max_length=20, choices=MappingTarget.choices, default=MappingTarget.EXTENDED
    )
    target_name = models.CharField(_("target network"), max_length=300)

    class Meta:
        ordering = ["wave", "source"]
        constraints = [models.UniqueConstraint(fields=["wave", "source"], name="migrations_mapping_unique")]
        verbose_name = _("network mapping")
        verbose_name_plural = _("network mappings")

    def __str__(self):
        return f"{self.source} -> {self.target_name}"


class ReadinessFinding(models.Model):
    """One readiness rule's finding for a VM of a wave, for one migration type (product.md §5).
    Replaced as a whole each time the wave's readiness runs."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="findings")
    vm = models.ForeignKey(
        "inventory.VirtualMachine", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    migration_type = models.CharField(
        _("migration type"), max_length=20, choices=MigrationType.choices, blank=True
    )
    rule = models.CharField(_("rule"), max_length=60)
    severity = models.CharField(_("severity"), max_length=10, choices=FindingSeverity.choices)
    message = models.CharField(_("reason"), max_length=500)
    fix = models.CharField(_("how to fix"), max_length=500, blank=True)

    class Meta:
        ordering = ["wave", "severity", "rule", "vm"]
        indexes = [models.Index(fields=["wave", "severity"], name="migrations_finding_wave_idx")]
        verbose_name = _("readiness finding")
        verbose_name_plural = _("readiness findings")

    def __str__(self):
        return f"{self.rule}: {self.message}"


class Approval(models.Model):
    """An engineer's decision on one revision of a wave. One decision per revision: the unique
    constraint is what makes two engineers deciding at the same moment end with one winner."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="approvals")
    revision = models.PositiveIntegerField(_("revision"))
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("comment"), blank=True)
    change_ticket = models.CharField(_("change ticket"), max_length=100, blank=True)
    created = models.DateTimeField(_("decided"), auto_now_add=True)

    class Meta:
        ordering = ["wave", "-created"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "revision"], name="migrations_one_decision_per_revision")
        ]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")

    def __str__(self):
        return f"{self.wave} r{self.revision}: {self.get_decision_display()}"


class PlanProposal(models.Model):
    """An auto-planner result waiting for a planner to accept all or part of it.

    `data` is `{"waves": [{"name", "sequence", "pilot", "window_start", "window_end", "groups": [ids],
    "vms": [ids], "need": {...}, "estimate": {...}, "why": "..."}], "unplaced": [{"group": id, "why": "..."}],
    "cluster_use": {"usable", "planned", "waves": [{"number", "total", ...}]} or null, "settings": {...}}`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    data = models.JSONField(_("proposal"), default=dict)
    accepted = models.DateTimeField(_("accepted"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("plan proposal")
        verbose_name_plural = _("plan proposals")

    def __str__(self):
        return f"Proposal #{self.pk}"


class Batch(models.Model):
    """The unit an engineer launches: chosen VMs (or whole groups) of an approved wave. Each send of
    its migrations to HCX is a mobility group named after it (launch/dispatch.py); `hcx_group_name`
    and `hcx_group_id` hold the latest."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    launched = models.DateTimeField(_("launched"), null=True, blank=True)
    hcx_group_name = models.CharField(_("HCX mobility group"), max_length=200, blank=True)
    hcx_group_id = models.CharField(_("HCX mobility group id"), max_length=100, blank=True)
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The approved revision of the wave the batch was made from: it sends only while the wave is still
    # at that revision (launch/binding.py). Empty for batches made before the binding existed.
    revision = models.PositiveIntegerField(
        _("wave revision"),
        null=True,
        blank=True,
        help_text=_("The approved revision of the wave it was made from"),
    )

    class Meta:
        ordering = ["wave", "number"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [models.UniqueConstraint(fields=["wave", "number"], name="batch_number_per_wave")]
        permissions = [
            ("launch_wave", "Can launch waves and batches"),
            ("control_migration", "Can cancel, retry, roll back and switch over migrations"),
        ]

    def __str__(self):
        return f"{self.wave} / {self.name}"


class VmMigration(models.Model):
    """One attempt to move one VM with HCX (or back, for a rollback). A retry is a new row
    (`attempt` + 1, `retry_of`), so the history stays. Its state changes only through
    `migrations_app/launch/transitions.py`. A VM has at most one active migration: the database
    refuses a second, so no VM is ever sent twice."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="migrations")
    # The wave again (always batch.wave) so that a wave's progress is one indexed read.
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="migrations")
    vm = models.ForeignKey("inventory.VirtualMachine", on_delete=models.CASCADE, related_name="migrations")
    direction = models.CharField(
        _("direction"), max_length=10, choices=MigrationDirection.choices, default=MigrationDirection.FORWARD
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    migration_type = models.CharField(_("migration type"), max_length=20, choices=MigrationType.choices)
    state = models.CharField(
        _("state"), max_length=30, choices=MigrationState.choices, default=MigrationState.WAITING
    )
    hcx_id = models.CharField(_("HCX migration id"), max_length=100, null=True, blank=True, unique=True)
    hcx_state = models.CharField(_("HCX state"), max_length=60, blank=True, help_text=_("HCX's own word"))
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)
    bytes_transferred = models.BigIntegerField(_("bytes transferred"), default=0)
    bytes_total = models.BigIntegerField(_("bytes in all"), default=0)
    throughput_mbps = models.FloatField(_("throughput (Mbit/s)"), null=True, blank=True)
    eta_seconds = models.PositiveIntegerField(_("ETA (s)"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=1000, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # HCX's validation answer for this VM: {"errors": [{code, message}], "warnings": [...]}.
    validation = models.JSONField(_("validation"), default=dict, blank=True)
    seed_checkpoint = models.BooleanField(
        _("seed checkpoint"), default=False, help_text=_("HCX keeps copied disks if it fails, for a retry")
    )
    switchover_start = models.DateTimeField(_("switchover window start"), null=True, blank=True)
    switchover_end = models.DateTimeField(_("switchover window end"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    submitted = models.DateTimeField(_("sent to HCX"), null=True, blank=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    ended = models.DateTimeField(_("ended"), null=True, blank=True)
    hcx_clock_ahead_minutes = models.PositiveIntegerField(
        _("HCX's clock ahead (minutes)"),
        null=True,
        blank=True,
        help_text=_("How far HCX's clock was ahead of the portal's when its times were last taken as now"),
    )
    # Set by every write (transitions.py), bulk ones included; live pages read what changed since.
    updated = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["batch", "vm__name", "attempt"]
        verbose_name = _("VM migration")
        verbose_name_plural = _("VM migrations")
        constraints = [
            models.UniqueConstraint(
                fields=["vm"],
                condition=~Q(state__in=sorted(MigrationState.TERMINAL)),
                name="one_active_migration_per_vm",
                violation_error_message=_("This VM already has a migration in progress."),
            ),
        ]
        indexes = [
            models.Index(fields=["wave", "updated"], name="vmmigration_wave_updated"),
            models.Index(fields=["state"], name="vmmigration_state"),
        ]

    def __str__(self):
        return f"{self.vm} ({self.get_direction_display()}, attempt {self.attempt})"

    @property
    def is_active(self) -> bool:
        return self.state in MigrationState.ACTIVE

    @property
    def state_color(self) -> str:
        return MigrationState.COLORS.get(self.state, "secondary")


class MigrationEvent(models.Model):
    """What happened to a migration: a state change, an action by a person, a message from HCX."""

    migration = models.ForeignKey(VmMigration, on_delete=models.CASCADE, related_name="events")
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(
        _("kind"), max_length=10, choices=MigrationEventKind.choices, default=MigrationEventKind.STATE
    )
    state = models.CharField(_("state"), max_length=30, choices=MigrationState.choices, blank=True)
    message = models.CharField(_("message"), max_length=1000, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("migration event")
        verbose_name_plural = _("migration events")
        indexes = [models.Index(fields=["wave", "at"], name="migrationevent_wave_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.migration}: {self.message}"
