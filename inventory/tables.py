"""django-tables2 tables for the inventory lists. Sorting and paging happen in the database.

Sortable columns end their `order_by` with the primary key, so that rows with equal values
keep one order from page to page.
"""

import django_tables2 as tables
from django.core.paginator import Paginator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .choices import PowerState, ToolsStatus
from .models import Cluster, Datastore, Host, Network, VirtualMachine
from .querysets import network_names

PER_PAGE = 50
MAX_PER_PAGE = 500


class ClampedPaginator(Paginator):
    """Honours `?per_page=` up to MAX_PER_PAGE, so that no request can ask for the whole estate."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        try:
            per_page = int(per_page)
        except (TypeError, ValueError):
            per_page = PER_PAGE
        super().__init__(object_list, max(1, min(per_page, MAX_PER_PAGE)), *args, **kwargs)


PAGINATION = {"per_page": PER_PAGE, "paginator_class": ClampedPaginator}


def _badge(color: str, text) -> str:
    return format_html('<span class="badge text-bg-{}">{}</span>', color, text)


def _gib(mib) -> str:
    from core.sizes import gib_figure

    return gib_figure(mib)


class MiBAsGiBColumn(tables.Column):
    """A MiB field shown in GiB (the unit vCenter's UI calls GB)."""

    attrs = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}

    def render(self, value):
        return _gib(value)


class NumberColumn(tables.Column):
    attrs = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}


# django-tables2 hands a choice field's cell its get_FOO_display() as `value`; calling it again costs
# as much (Django rebuilds and translates the whole choice list on each call), about a tenth of the
# VM list's render time at 50 rows (bench/pages.py).
class PowerColumn(tables.Column):
    def render(self, value, record):
        return _badge(PowerState.COLORS.get(record.power_state, "secondary"), value)


class ToolsColumn(tables.Column):
    def render(self, value, record):
        return _badge(ToolsStatus.COLORS.get(record.tools_status, "secondary"), value)

    def value(self, record):
        return record.get_tools_status_display()


class BaseTable(tables.Table):
    class Meta:
        # List pages boost sort and page links into an htmx table refresh; links to objects navigate.
        attrs = {"class": "table table-sm table-hover align-middle", "tbody": {"hx-boost": "false"}}
        empty_text = _("Nothing matches these filters.")


def _sorted(*fields):
    return (*fields, "pk")


class VirtualMachineTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    power_state = PowerColumn(verbose_name=_("Power"), order_by=_sorted("power_state"), empty_values=())
    num_cpu = NumberColumn(verbose_name=_("vCPUs"), order_by=_sorted("num_cpu"))
    memory_mib = MiBAsGiBColumn(verbose_name=_("Memory GiB"), order_by=_sorted("memory_mib"))
    provisioned_mib = MiBAsGiBColumn(verbose_name=_("Provisioned GiB"), order_by=_sorted("provisioned_mib"))
    used_mib = MiBAsGiBColumn(verbose_name=_("Used GiB"), order_by=_sorted("used_mib"))
    guest_os = tables.Column(order_by=_sorted("guest_os"))
    hw_version = NumberColumn(verbose_name=_("HW"), order_by=_sorted("hw_version"))
    tools_status = ToolsColumn(verbose_name=_("Tools"), order_by=_sorted("tools_status"), empty_values=())
    primary_ip = tables.Column(verbose_name=_("Primary IP"), order_by=_sorted("primary_ip"))
    networks = tables.Column(verbose_name=_("Networks"), accessor="pk", orderable=False)
    cluster = tables.Column(linkify=True, order_by=_sorted("cluster__name"))
    host = tables.Column(linkify=True, order_by=_sorted("host__name"))

    class Meta(BaseTable.Meta):
        model = VirtualMachine
        fields = [
            "name",
            "power_state",
            "num_cpu",
            "memory_mib",
            "provisioned_mib",
            "used_mib",
            "guest_os",
            "hw_version",
            "tools_status",
            "primary_ip",
            "networks",
            "cluster",
            "host",
        ]
        row_attrs = {"class": lambda record: "table-danger" if record.removed else ""}

    def render_name(self, record, value):
        if record.removed:
            return format_html('{} <span class="badge text-bg-danger">vanished</span>', value)
        return value

    def render_networks(self, record):
        return format_html_join(", ", "{}", ((name,) for name in network_names(record)))


class ClusterTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    vcenter = tables.Column(verbose_name=_("vCenter"), order_by=_sorted("vcenter__name"))
    datacenter = tables.Column(order_by=_sorted("datacenter"))
    num_hosts = NumberColumn(verbose_name=_("Hosts"), order_by=_sorted("num_hosts"))
    vm_count = NumberColumn(verbose_name=_("VMs"), order_by=_sorted("vm_count"))
    num_cpu_cores = NumberColumn(verbose_name=_("Cores"), order_by=_sorted("num_cpu_cores"))
    total_memory_mib = MiBAsGiBColumn(verbose_name=_("Memory GiB"), order_by=_sorted("total_memory_mib"))
    ha_enabled = tables.BooleanColumn(verbose_name=_("HA"))
    drs_enabled = tables.BooleanColumn(verbose_name=_("DRS"))

    class Meta(BaseTable.Meta):
        model = Cluster
        fields = [
            "name",
            "vcenter",
            "datacenter",
            "num_hosts",
            "vm_count",
            "num_cpu_cores",
            "total_memory_mib",
            "ha_enabled",
            "drs_enabled",
        ]


class HostTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    cluster = tables.Column(linkify=True, order_by=_sorted("cluster__name"))
    vcenter = tables.Column(verbose_name=_("vCenter"), order_by=_sorted("vcenter__name"))
    vm_count = NumberColumn(verbose_name=_("VMs"), order_by=_sorted("vm_count"))
    cpu_vendor = tables.Column(order_by=_sorted("cpu_vendor"))
    cpu_model = tables.Column(order_by=_sorted("cpu_model"))
    num_cpu_cores = NumberColumn(verbose_name=_("Cores"), order_by=_sorted("num_cpu_cores"))
    memory_mib = MiBAsGiBColumn(verbose_name=_("Memory GiB"), order_by=_sorted("memory_mib"))
    esx_version = tables.Column(order_by=_sorted("esx_version"))
    in_maintenance = tables.BooleanColumn(verbose_name=_("Maintenance"))

    class Meta(BaseTable.Meta):
        model = Host
        fields = [
            "name",
            "cluster",
            "vcenter",
            "vm_count",
            "cpu_vendor",
            "cpu_model",
            "num_cpu_cores",
            "memory_mib",
            "esx_version",
            "in_maintenance",
        ]


class DatastoreTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    vcenter = tables.Column(verbose_name=_("vCenter"), order_by=_sorted("vcenter__name"))
    type = tables.Column(order_by=_sorted("type"))
    capacity_mib = MiBAsGiBColumn(verbose_name=_("Capacity GiB"), order_by=_sorted("capacity_mib"))
    free_mib = MiBAsGiBColumn(verbose_name=_("Free GiB"), order_by=_sorted("free_mib"))
    provisioned_mib = MiBAsGiBColumn(verbose_name=_("Provisioned GiB"), order_by=_sorted("provisioned_mib"))
    vm_count = NumberColumn(verbose_name=_("VMs"), order_by=_sorted("vm_count"))

    class Meta(BaseTable.Meta):
        model = Datastore
        fields = ["name", "vcenter", "type", "capacity_mib", "free_mib", "provisioned_mib", "vm_count"]


class NetworkTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    vcenter = tables.Column(verbose_name=_("vCenter"), order_by=_sorted("vcenter__name"))
    switch_name = tables.Column(verbose_name=_("Switch"), order_by=_sorted("switch_name"))
    switch_type = tables.Column(order_by=_sorted("switch_type"))
    vlan = tables.Column(verbose_name=_("VLAN"), order_by=_sorted("vlan_id", "vlan"))
    vm_count = NumberColumn(verbose_name=_("VMs"), order_by=_sorted("vm_count"))

    class Meta(BaseTable.Meta):
        model = Network
        fields = ["name", "vcenter", "switch_name", "switch_type", "vlan", "vm_count"]
