"""One FilterSet per inventory model, shared by the list pages and the API, so both filter alike.

Relations are filtered both by id (`cluster_id=3`) and by name (`cluster=Prod-01`). Filters that
reach through disks, NICs or tags use EXISTS subqueries, so a VM with two NICs on the same
network is listed once and the page count stays right.
"""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IntegerFilter, SearchFilter

from .choices import PowerState, SourceKind, SwitchType, ToolsStatus
from .models import Cluster, Datastore, Host, Network, VCenter, VirtualDisk, VirtualMachine, VirtualNic


class VCenterFilterSet(filters.FilterSet):
    q = SearchFilter("name", "url", "instance_uuid")
    origin = filters.ChoiceFilter(choices=SourceKind.choices)

    class Meta:
        model = VCenter
        fields = ["q", "origin"]


class ClusterFilterSet(filters.FilterSet):
    q = SearchFilter("name", "datacenter", "moid")
    vcenter_id = filters.ModelChoiceFilter(
        queryset=VCenter.objects.all(), field_name="vcenter", label=_("vCenter")
    )
    vcenter = filters.CharFilter(field_name="vcenter__name", label=_("vCenter (name)"))
    datacenter = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Cluster
        fields = ["q", "vcenter_id", "vcenter", "datacenter", "ha_enabled", "drs_enabled"]


class HostFilterSet(filters.FilterSet):
    q = SearchFilter("name", "moid", "cpu_model", "esx_version", "model")
    vcenter_id = filters.ModelChoiceFilter(
        queryset=VCenter.objects.all(), field_name="vcenter", label=_("vCenter")
    )
    vcenter = filters.CharFilter(field_name="vcenter__name", label=_("vCenter (name)"))
    cluster_id = filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), field_name="cluster", label=_("Cluster")
    )
    cluster = filters.CharFilter(field_name="cluster__name", label=_("Cluster (name)"))
    cpu_vendor = filters.CharFilter(lookup_expr="iexact", label=_("CPU vendor"))

    class Meta:
        model = Host
        fields = ["q", "vcenter_id", "vcenter", "cluster_id", "cluster", "cpu_vendor", "in_maintenance"]


class DatastoreFilterSet(filters.FilterSet):
    q = SearchFilter("name", "moid", "url")
    vcenter_id = filters.ModelChoiceFilter(
        queryset=VCenter.objects.all(), field_name="vcenter", label=_("vCenter")
    )
    vcenter = filters.CharFilter(field_name="vcenter__name", label=_("vCenter (name)"))
    type = filters.CharFilter(lookup_expr="iexact", label=_("Type"))

    class Meta:
        model = Datastore
        fields = ["q", "vcenter_id", "vcenter", "type"]


class NetworkFilterSet(filters.FilterSet):
    q = SearchFilter("name", "switch_name", "vlan")
    vcenter_id = filters.ModelChoiceFilter(
        queryset=VCenter.objects.all(), field_name="vcenter", label=_("vCenter")
    )
    vcenter = filters.CharFilter(field_name="vcenter__name", label=_("vCenter (name)"))
    switch_type = filters.MultipleChoiceFilter(
        choices=SwitchType.choices, distinct=False, label=_("Switch type")
    )
    switch = filters.CharFilter(field_name="switch_name", lookup_expr="iexact", label=_("Switch"))
    vlan = filters.CharFilter(lookup_expr="iexact", label=_("VLAN"))
    vlan_id = IntegerFilter(label=_("VLAN id"))

    class Meta:
        model = Network
        fields = ["q", "vcenter_id", "vcenter", "switch_type", "switch", "vlan", "vlan_id"]


def unplanned(queryset):
    """VMs to plan still: in no wave, and not in AVS already (HCX Bulk left a copy on-premises: the
    planner leaves those out too, migrations_app/planner/proposals.py)."""
    return queryset.filter(wave_item__isnull=True, migrated_copy_name="")


class RemovedChoice:
    PRESENT = "false"
    VANISHED = "true"
    ALL = "all"
    CHOICES = [
        (PRESENT, _("Present only")),
        (VANISHED, _("Vanished only")),
        (ALL, _("Present and vanished")),
    ]


class VirtualMachineFilterSet(filters.FilterSet):
    q = SearchFilter(
        "name",
        "dns_name",
        "primary_ip",
        "guest_os",
        "guest_os_tools",
        "annotation",
        help_text=_("Name, DNS name, IP, guest OS or annotation"),
    )
    vcenter_id = filters.ModelChoiceFilter(
        queryset=VCenter.objects.all(), field_name="vcenter", label=_("vCenter")
    )
    vcenter = filters.CharFilter(field_name="vcenter__name", label=_("vCenter (name)"))
    cluster_id = filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), field_name="cluster", label=_("Cluster")
    )
    cluster = filters.CharFilter(field_name="cluster__name", label=_("Cluster (name)"))
    host_id = IntegerFilter(field_name="host_id", label=_("Host id"))
    host = filters.CharFilter(field_name="host__name", label=_("Host (name)"))
    # distinct=False: these are the VM's own columns, so no row can repeat; django-filter's default
    # DISTINCT made the database sort the whole match on every page (bench/pages.py).
    power_state = filters.MultipleChoiceFilter(choices=PowerState.choices, distinct=False, label=_("Power"))
    guest_os = filters.CharFilter(lookup_expr="icontains", label=_("Guest OS contains"))
    guest_family = filters.CharFilter(lookup_expr="iexact", label=_("Guest family"))
    network_id = IntegerFilter(method="filter_network_id", label=_("Network id"))
    network = filters.CharFilter(method="filter_network", label=_("Network (name)"))
    datastore_id = IntegerFilter(method="filter_datastore_id", label=_("Datastore id"))
    datastore = filters.CharFilter(method="filter_datastore", label=_("Datastore (name)"))
    tag = filters.CharFilter(method="filter_tag", label=_("Tag"))
    is_template = filters.BooleanFilter(label=_("Template"))
    tools_status = filters.MultipleChoiceFilter(
        choices=ToolsStatus.choices, distinct=False, label=_("VMware Tools")
    )
    hw_version = IntegerFilter(label=_("HW version"))
    hw_version__lt = IntegerFilter(field_name="hw_version", lookup_expr="lt", label=_("HW version below"))
    unplanned = filters.BooleanFilter(
        method="filter_unplanned",
        label=_("Unplanned"),
        help_text=_("Yes: in no wave and not in AVS already; no: in a wave or in AVS"),
    )
    removed = filters.ChoiceFilter(
        choices=RemovedChoice.CHOICES,
        method="filter_removed",
        empty_label=None,
        label=_("Vanished VMs"),
        help_text=_("Vanished VMs (no longer found by discovery) are hidden unless asked for"),
    )

    class Meta:
        model = VirtualMachine
        fields = [
            "q",
            "vcenter_id",
            "vcenter",
            "cluster_id",
            "cluster",
            "host_id",
            "host",
            "power_state",
            "guest_os",
            "guest_family",
            "network_id",
            "network",
            "datastore_id",
            "datastore",
            "tag",
            "is_template",
            "tools_status",
            "hw_version",
            "hw_version__lt",
            "unplanned",
            "removed",
        ]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Hiding vanished VMs is the default, so it must apply when the parameter is absent too.
        if not self.form.cleaned_data.get("removed"):
            queryset = queryset.filter(removed__isnull=True)
        return queryset

    def filter_unplanned(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            unplanned(queryset)
            if value
            else queryset.filter(Q(wave_item__isnull=False) | ~Q(migrated_copy_name=""))
        )

    def filter_removed(self, queryset, name, value):
        if value == RemovedChoice.VANISHED:
            return queryset.filter(removed__isnull=False)
        if value == RemovedChoice.ALL:
            return queryset
        return queryset.filter(removed__isnull=True)

    def filter_network_id(self, queryset, name, value):
        return queryset.filter(Exists(VirtualNic.objects.filter(vm=OuterRef("pk"), network_id=value)))

    def filter_network(self, queryset, name, value):
        # RVTools rows may carry only the network's name, without a matching Network row.
        nics = VirtualNic.objects.filter(Q(network__name=value) | Q(network_name=value), vm=OuterRef("pk"))
        return queryset.filter(Exists(nics))

    def filter_datastore_id(self, queryset, name, value):
        return queryset.filter(Exists(VirtualDisk.objects.filter(vm=OuterRef("pk"), datastore_id=value)))

    def filter_datastore(self, queryset, name, value):
        return queryset.filter(Exists(VirtualDisk.objects.filter(vm=OuterRef("pk"), datastore__name=value)))

    def filter_tag(self, queryset, name, value):
        through = VirtualMachine.tags.through
        return queryset.filter(Exists(through.objects.filter(virtualmachine=OuterRef("pk"), tag__name=value)))
