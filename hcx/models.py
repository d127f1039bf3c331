"""The HCX deployment plan per on-premises site: the Connector's address, the four network
profiles with their address pools, the AVS /22 management block and the networks to extend.

The plan is what an engineer fills in before deploying anything; `hcx.planning.checks` reads it
and says what is wrong. Later issues (deploy, pair, mesh) read the same rows.
"""

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import TimestampedModel

from .choices import LinkType, ProfileKind, SetupStepKey, StepState
from .planning.addresses import (
    validate_gateways,
    validate_host_list,
    validate_ip_list,
    validate_ip_ranges,
    validate_ipv4_network,
)


class HcxPlan(TimestampedModel):
    """An HCX Connector deployment plan for one on-premises site."""

    name = models.CharField(
        _("site"), max_length=200, unique=True, help_text=_("The on-premises site's name")
    )
    vcenter = models.ForeignKey(
        "inventory.VCenter",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on-premises vCenter"),
    )
    connector_hostname = models.CharField(_("Connector host name"), max_length=253)
    connector_ip = models.GenericIPAddressField(_("Connector IP"), protocol="IPv4")
    connector_prefix_length = models.PositiveSmallIntegerField(_("Connector prefix length"), default=24)
    connector_gateway = models.GenericIPAddressField(_("Connector gateway"), protocol="IPv4")
    dns_servers = models.JSONField(_("DNS servers"), default=list, blank=True, validators=[validate_ip_list])
    ntp_servers = models.JSONField(
        _("NTP servers"), default=list, blank=True, validators=[validate_host_list]
    )
    avs_block = models.CharField(
        _("AVS management block"),
        max_length=43,
        validators=[validate_ipv4_network],
        help_text=_("The private cloud's /22, for example 10.20.0.0/22"),
    )
    link_type = models.CharField(
        _("link type"), max_length=20, choices=LinkType.choices, default=LinkType.EXPRESSROUTE
    )
    bandwidth_mbps = models.PositiveIntegerField(
        _("link bandwidth (Mbps)"), validators=[MinValueValidator(1)]
    )
    latency_ms = models.PositiveIntegerField(_("link latency (ms, round trip)"))
    concurrent_migrations = models.PositiveIntegerField(_("expected concurrent migrations"), default=0)
    estate_vm_count = models.PositiveIntegerField(
        _("estate VM count"),
        null=True,
        blank=True,
        help_text=_("Leave empty to count the linked vCenter's VMs that still exist"),
    )
    networks = models.ManyToManyField(
        "inventory.Network", blank=True, related_name="+", verbose_name=_("networks to extend")
    )
    extension_gateways = models.JSONField(
        _("gateways of the extended networks"),
        default=dict,
        blank=True,
        validators=[validate_gateways],
        help_text=_(
            'Each network to extend with its gateway/prefix, for example {"App-VLAN101": "10.10.41.1/24"}'
        ),
    )
    wan_opt = models.BooleanField(_("WAN optimization licensed"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("HCX deployment plan")
        verbose_name_plural = _("HCX deployment plans")
        permissions = [
            ("run_setup", "Can run the HCX set-up steps of a plan"),
            ("deploy_connector", "Can deploy the HCX Connector appliance"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.connector_prefix_length is not None and not 1 <= self.connector_prefix_length <= 32:
            raise ValidationError(
                {"connector_prefix_length": _("An IPv4 prefix length is between 1 and 32.")}
            )

    def vm_count(self) -> int:
        """The estate size the Cloud Manager is sized for: the figure entered, else the vCenter's VMs."""
        if self.estate_vm_count is not None:
            return self.estate_vm_count
        if self.vcenter_id is None:
            return 0
        from inventory.models import VirtualMachine

        return VirtualMachine.objects.filter(vcenter_id=self.vcenter_id, removed__isnull=True).count()


class HcxNetworkProfilePlan(models.Model):
    """One of the plan's four network profiles: port group, address pool, gateway, DNS, MTU."""

    plan = models.ForeignKey(HcxPlan, on_delete=models.CASCADE, related_name="profiles")
    kind = models.CharField(_("profile"), max_length=20, choices=ProfileKind.choices)
    port_group = models.CharField(_("port group"), max_length=300)
    network = models.ForeignKey(
        "inventory.Network",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inventory network"),
    )
    ip_ranges = models.JSONField(
        _("IP ranges"),
        default=list,
        validators=[validate_ip_ranges],
        help_text=_("Address pool, for example 10.0.0.10-10.0.0.20, 10.0.0.30-10.0.0.35"),
    )
    gateway = models.GenericIPAddressField(_("gateway"), null=True, blank=True)
    prefix_length = models.PositiveSmallIntegerField(_("prefix length"))
    primary_dns = models.GenericIPAddressField(_("primary DNS"), null=True, blank=True)
    secondary_dns = models.GenericIPAddressField(_("secondary DNS"), null=True, blank=True)
    mtu = models.PositiveIntegerField(_("MTU"), default=1500)

    class Meta:
        ordering = ["plan", "kind"]
        constraints = [models.UniqueConstraint(fields=["plan", "kind"], name="hcx_profile_unique_kind")]
        verbose_name = _("network profile")
        verbose_name_plural = _("network profiles")

    def __str__(self):
        return f"{self.plan}: {self.get_kind_display()}"

    def clean(self):
        super().clean()
        if self.prefix_length is not None:
            version = ipaddress.ip_address(self.gateway).version if self.gateway else 4
            if not 1 <= self.prefix_length <= (32 if version == 4 else 128):
                raise ValidationError(
                    {"prefix_length": _("The prefix length does not fit the gateway's IP version.")}
                )

    @property
    def subnet(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        """The subnet of the gateway (or, for a profile without one, of the pool's first address)."""
        anchor = self.gateway or (self.ip_ranges[0]["start"] if self.ip_ranges else None)
        if not anchor or self.prefix_length is None:
            return None
        try:
            return ipaddress.ip_network(f"{anchor}/{self.prefix_length}", strict=False)
        except (ValueError, KeyError, TypeError):
            return None


class HcxConnection(TimestampedModel):
    """How the portal reaches a plan's HCX Connector and its AVS private cloud.

    Secrets are EncryptedTextFields: forms show them as write-only inputs (blank keeps the stored
    value) and no serializer, page, log or job parameter ever carries them.
    """

    plan = models.OneToOneField(HcxPlan, on_delete=models.CASCADE, related_name="connection")
    # The Connector: service API (the 443 role) and appliance management API (the 9443 role).
    connector_url = models.URLField(
        _("Connector URL"),
        blank=True,
        help_text=_("Service API, for example https://hcx-connector.corp.local"),
    )
    appliance_url = models.URLField(
        _("appliance management URL"), blank=True, help_text=_("Empty: the Connector URL on port 9443")
    )
    username = models.CharField(
        _("HCX user"),
        max_length=200,
        default="administrator@vsphere.local",
        help_text=_("A vSphere SSO user with the HCX role"),
    )
    password = EncryptedTextField(_("HCX user password"), blank=True)
    admin_password = EncryptedTextField(_("appliance admin password"), blank=True)
    root_password = EncryptedTextField(_("appliance root password"), blank=True)
    verify_tls = models.BooleanField(_("verify TLS certificates"), default=True)
    ca_certificates = models.TextField(
        _("trusted CA certificates (PEM)"),
        blank=True,
        help_text=_("Extra certificates to trust for the Connector, PEM"),
    )
    location_city = models.CharField(
        _("location (city)"), max_length=100, blank=True, help_text=_("For example Amsterdam")
    )
    # Azure: a service principal that may read the private cloud and issue HCX activation keys.
    avs_subscription_id = models.CharField(_("Azure subscription id"), max_length=64, blank=True)
    avs_resource_group = models.CharField(_("resource group"), max_length=90, blank=True)
    avs_private_cloud = models.CharField(_("private cloud name"), max_length=80, blank=True)
    avs_tenant_id = models.CharField(_("tenant id"), max_length=64, blank=True)
    avs_client_id = models.CharField(_("client id"), max_length=64, blank=True)
    avs_client_secret = EncryptedTextField(_("client secret"), blank=True)
    arm_url = models.URLField(
        _("Azure Resource Manager URL"), blank=True, help_text=_("Empty: https://management.azure.com")
    )
    login_url = models.URLField(
        _("Entra ID login URL"), blank=True, help_text=_("Empty: https://login.microsoftonline.com")
    )
    # Without a service principal: the key and the Cloud Manager details pasted from the Azure portal.
    activation_key = EncryptedTextField(_("activation key"), blank=True)
    cloud_url = models.URLField(
        _("HCX Cloud Manager URL"), blank=True, help_text=_("Filled from AVS when Azure is set")
    )
    cloud_username = models.CharField(_("cloudadmin user"), max_length=200, blank=True)
    cloud_password = EncryptedTextField(_("cloudadmin password"), blank=True)
    trusted_cloud_certificate = models.TextField(
        _("trusted Cloud Manager certificate (PEM)"),
        blank=True,
        help_text=_("Accepted by an engineer at the pairing's certificate prompt"),
    )
    admin_groups = models.CharField(
        _("HCX administrator groups"),
        max_length=500,
        blank=True,
        help_text=_(
            "SSO groups given HCX's System Administrator and Enterprise Administrator roles, comma "
            "separated. Empty: vsphere.local\\Administrators. Roles HCX already maps are left alone."
        ),
    )
    # Failed logins in a row with the stored HCX user and password, shared by every worker: past
    # HCX_LOGIN["MAX_FAILURES"] nothing logs in again until a new password is saved (hcx/setup/logins.py).
    login_failures = models.PositiveIntegerField(_("failed HCX logins in a row"), default=0, editable=False)
    login_failed_at = models.DateTimeField(_("last failed HCX login"), null=True, blank=True, editable=False)
    login_refusal = models.CharField(_("what HCX said"), max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = _("HCX connection")
        verbose_name_plural = _("HCX connections")

    def __str__(self):
        return f"{self.plan}: {self.connector_url or 'no Connector URL'}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("hcx:hcxplan_setup", args=[self.plan_id])

    @property
    def effective_appliance_url(self) -> str:
        if self.appliance_url:
            return self.appliance_url
        if not self.connector_url:
            return ""
        from urllib.parse import urlsplit

        parts = urlsplit(self.connector_url)
        return f"{parts.scheme}://{parts.hostname}:9443"

    @property
    def login_refused(self) -> bool:
        """HCX refused the stored password often enough that the portal stopped logging in."""
        from django.conf import settings

        return self.login_failures >= settings.HCX_LOGIN["MAX_FAILURES"]

    @property
    def uses_azure(self) -> bool:
        """A service principal is set: keys and Cloud Manager details come from AVS."""
        return bool(self.avs_subscription_id and self.avs_client_id and self.avs_client_secret)


class HcxSetupStep(models.Model):
    """The last known state of one set-up step of a plan, as read from HCX by the step's job."""

    plan = models.ForeignKey(HcxPlan, on_delete=models.CASCADE, related_name="setup_steps")
    step = models.CharField(_("step"), max_length=30, choices=SetupStepKey.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=StepState.choices, default=StepState.NOT_STARTED
    )
    summary = models.CharField(_("summary"), max_length=500, blank=True, help_text=_("What HCX showed"))
    message = models.TextField(_("message"), blank=True, help_text=_("Why it failed or what it needs"))
    data = models.JSONField(_("data"), default=dict, blank=True, help_text=_("HCX ids found or created"))
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    observed = models.DateTimeField(_("observed"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "step"], name="hcx_setup_step_unique")]
        verbose_name = _("set-up step")
        verbose_name_plural = _("set-up steps")

    def __str__(self):
        return f"{self.plan}: {self.get_step_display()} ({self.get_state_display()})"


class AvsInventory(models.Model):
    """What the AVS side of a site offers to migrate into, as HCX's remote inventory listed it when
    last read (hcx/avs_inventory.py): the choices a planner picks a wave's target from. `items` holds,
    per kind (AVS_INVENTORY_KINDS), a list of `{"id", "name"}` in name order."""

    site = models.OneToOneField(HcxPlan, on_delete=models.CASCADE, related_name="avs_inventory")
    endpoint_id = models.CharField(_("AVS endpoint id"), max_length=200, blank=True)
    items = models.JSONField(_("items"), default=dict, blank=True)
    read_at = models.DateTimeField(_("read at"))
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["site"]
        verbose_name = _("AVS inventory")
        verbose_name_plural = _("AVS inventories")

    def __str__(self):
        return f"{self.site}: AVS inventory read {self.read_at:%Y-%m-%d %H:%M}"

    def names(self, kind: str) -> list[str]:
        return [i["name"] for i in self.items.get(kind) or []]


# The kinds an AvsInventory keeps, with what the pages call them.
AVS_INVENTORY_KINDS = {
    "clusters": "clusters",
    "resource_pools": "resource pools",
    "folders": "folders",
    "datastores": "datastores",
    "networks": "segments and networks",
}
