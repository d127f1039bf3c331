"""django-tables2 tables for groups, members, dependencies and imports. Sorting and paging in the database."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inventory.choices import PowerState
from inventory.tables import BaseTable, MiBAsGiBColumn, NumberColumn

from ..choices import GroupSource, Risk
from ..models import Dependency, DependencyGroup, DependencyImport, GroupMember

RISK_COLORS = {Risk.LOW: "success", Risk.MEDIUM: "warning", Risk.HIGH: "danger"}


def _sorted(*fields):
    return (*fields, "pk")


def endpoint_html(endpoint):
    """A VM as a link with its group, an external endpoint as a marked name and IP."""
    if endpoint.vm_id:
        vm = endpoint.vm
        membership = getattr(vm, "group_membership", None)
        group = (
            format_html(' <span class="badge text-bg-light border">{}</span>', membership.group.name)
            if membership
            else ""
        )
        return format_html('<a href="{}">{}</a>{}', vm.get_absolute_url(), vm.name, group)
    label = endpoint.name or endpoint.ip or "?"
    ip = (
        format_html(' <span class="text-muted small">{}</span>', endpoint.ip)
        if endpoint.name and endpoint.ip
        else ""
    )
    return format_html('{}{} <span class="badge text-bg-warning">external</span>', label, ip)


class DependencyGroupTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    source = tables.Column(verbose_name=_("Built from"), order_by=_sorted("source"))
    rule = tables.Column(order_by=_sorted("rule"))
    priority = NumberColumn(order_by=_sorted("priority"))
    risk = tables.Column(order_by=_sorted("risk"))
    owner = tables.Column(order_by=_sorted("owner"))
    vm_count = NumberColumn(verbose_name=_("VMs"), order_by=_sorted("vm_count"))
    used_mib = MiBAsGiBColumn(verbose_name=_("Used GiB"), order_by=_sorted("used_mib"))
    provisioned_mib = MiBAsGiBColumn(verbose_name=_("Provisioned GiB"), order_by=_sorted("provisioned_mib"))

    class Meta(BaseTable.Meta):
        model = DependencyGroup
        fields = [
            "name",
            "source",
            "rule",
            "priority",
            "risk",
            "owner",
            "vm_count",
            "used_mib",
            "provisioned_mib",
        ]
        empty_text = _(
            "No groups match. Build some from tags, folders or name patterns, or accept a suggestion."
        )

    def render_risk(self, record):
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            RISK_COLORS.get(record.risk, "secondary"),
            record.get_risk_display(),
        )

    def render_source(self, record):
        color = "info" if record.source == GroupSource.SUGGESTED else "secondary"
        return format_html('<span class="badge text-bg-{}">{}</span>', color, record.get_source_display())


class GroupMemberTable(BaseTable):
    select = tables.CheckBoxColumn(
        accessor="vm_id",
        attrs={"th__input": {"aria-label": "Select all"}, "td__input": {"aria-label": "Select this VM"}},
    )
    vm = tables.Column(
        verbose_name=_("VM"),
        linkify=lambda record: record.vm.get_absolute_url(),
        order_by=_sorted("vm__name"),
    )
    power = tables.Column(
        verbose_name=_("Power"), accessor="vm__power_state", order_by=_sorted("vm__power_state")
    )
    cluster = tables.Column(
        accessor="vm__cluster__name", verbose_name=_("Cluster"), order_by=_sorted("vm__cluster__name")
    )
    folder = tables.Column(accessor="vm__folder", verbose_name=_("Folder"), order_by=_sorted("vm__folder"))
    used_mib = MiBAsGiBColumn(
        accessor="vm__used_mib", verbose_name=_("Used GiB"), order_by=_sorted("vm__used_mib")
    )
    reason = tables.Column(verbose_name=_("Why"), order_by=_sorted("reason"))

    class Meta(BaseTable.Meta):
        model = GroupMember
        fields = ["select", "vm", "power", "cluster", "folder", "used_mib", "reason"]
        empty_text = _("No VMs in this group yet.")

    def render_power(self, record):
        vm = record.vm
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            PowerState.COLORS.get(vm.power_state, "secondary"),
            vm.get_power_state_display(),
        )

    def render_vm(self, record, value):
        if record.vm.removed:
            return format_html('{} <span class="badge text-bg-danger">vanished</span>', value)
        return value


class DependencyTable(BaseTable):
    source = tables.Column(order_by=_sorted("source__name"), empty_values=())
    destination = tables.Column(order_by=_sorted("destination__name"), empty_values=())
    port = NumberColumn(order_by=_sorted("port"))
    protocol = tables.Column(order_by=_sorted("protocol"))
    seen = NumberColumn(verbose_name=_("Seen"), order_by=_sorted("seen"))
    process = tables.Column(verbose_name=_("Processes"), accessor="pk", orderable=False)
    last_import = tables.Column(verbose_name=_("Last import"), order_by=_sorted("last_import__created"))

    class Meta(BaseTable.Meta):
        model = Dependency
        fields = ["source", "destination", "port", "protocol", "seen", "process", "last_import"]
        empty_text = _("No connections match.")

    def render_source(self, record):
        return endpoint_html(record.source)

    def render_destination(self, record):
        return endpoint_html(record.destination)

    def render_process(self, record):
        left = record.source_process or record.source_application
        right = record.destination_process or record.destination_application
        return f"{left or '?'} → {right or '?'}" if left or right else "—"

    def render_last_import(self, record):
        return record.last_import.created.strftime("%Y-%m-%d %H:%M") if record.last_import else "—"


class DependencyImportTable(BaseTable):
    created = tables.DateTimeColumn(
        format="Y-m-d H:i", verbose_name=_("Imported"), order_by=_sorted("created")
    )
    file_name = tables.Column(order_by=_sorted("file_name"))
    format = tables.Column(order_by=_sorted("format"))
    user = tables.Column(verbose_name=_("By"), order_by=_sorted("user__username"))
    rows = NumberColumn(order_by=_sorted("rows"))
    edges = NumberColumn(verbose_name=_("Connections"), order_by=_sorted("edges"))
    matched = NumberColumn(verbose_name=_("VMs matched"), order_by=_sorted("matched"))
    external = NumberColumn(verbose_name=_("External"), order_by=_sorted("external"))
    job = tables.Column(linkify=True, verbose_name=_("Job"), orderable=False)

    class Meta(BaseTable.Meta):
        model = DependencyImport
        fields = ["created", "file_name", "format", "user", "rows", "edges", "matched", "external", "job"]
        empty_text = _("Nothing imported yet.")

    def render_job(self, record):
        return f"#{record.job_id}"
