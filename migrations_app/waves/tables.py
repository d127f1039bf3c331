"""django-tables2 tables of this part; sorting and paging happen in the database."""

import django_tables2 as tables
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hcx.choices import MigrationType
from inventory.choices import PowerState
from inventory.tables import PAGINATION, BaseTable, MiBAsGiBColumn, NumberColumn, PowerColumn
from migrations_app.models import DependencyGroup, TargetCluster, Wave, WaveItem

from .capacity import usable_capacity
from .display import status_badge, tb, window_text

__all__ = ["PAGINATION"]


def _sorted(*fields):
    return (*fields, "pk")


class TbColumn(NumberColumn):
    def render(self, value):
        return tb(value)


class TickColumn(tables.CheckBoxColumn):
    """A checkbox per row, named for its row so a screen reader says what it ticks, and no "tick all"
    box in the header (it would need script to work)."""

    def __init__(self, *args, **kwargs):
        attrs = kwargs.setdefault("attrs", {})
        # django-tables2 takes `td__input` instead of `input`, not on top of it: the row boxes get the
        # general attributes (a `form` tying them to a form outside the table) merged in here.
        attrs["td__input"] = {
            **attrs.get("input", {}),
            **attrs.get("td__input", {}),
            "aria-label": lambda record: f"Select {record}",
        }
        super().__init__(*args, **kwargs)

    @property
    def header(self):
        return format_html('<span class="visually-hidden">{}</span>', _("Select"))


class WaveTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    status = tables.Column(order_by=_sorted("status"))
    sequence = NumberColumn(verbose_name=_("Order"), order_by=_sorted("sequence"))
    window = tables.Column(
        verbose_name=_("Change window"), accessor="window_start", order_by=_sorted("window_start")
    )
    site = tables.Column(order_by=_sorted("site__name"))
    target_cluster = tables.Column(verbose_name=_("Target cluster"), order_by=_sorted("target_cluster__name"))
    migration_type = tables.Column(verbose_name=_("Default type"), order_by=_sorted("migration_type"))
    vm_count = NumberColumn(verbose_name=_("VMs"), order_by=_sorted("vm_count"))
    used_mib = TbColumn(verbose_name=_("Used TiB"), order_by=_sorted("used_mib"))
    caps = tables.Column(verbose_name=_("Caps"), accessor="max_vms", orderable=False, empty_values=())
    revision = NumberColumn(verbose_name=_("Rev."), orderable=False)

    class Meta(BaseTable.Meta):
        model = Wave
        fields = [
            "sequence",
            "name",
            "status",
            "window",
            "site",
            "target_cluster",
            "migration_type",
            "vm_count",
            "used_mib",
            "caps",
            "revision",
        ]
        empty_text = _("No waves match.")

    def render_name(self, record, value):
        if record.pilot:
            return format_html('{} <span class="badge text-bg-warning">pilot</span>', value)
        return value

    def render_status(self, record):
        return status_badge(record)

    def render_window(self, record):
        return window_text(record) or "—"

    def render_target_cluster(self, record):
        return record.target_cluster.name

    def render_caps(self, record):
        parts = []
        if record.max_vms is not None:
            over = record.vm_count > record.max_vms
            parts.append(
                format_html(
                    '<span class="{}">{} VMs</span>',
                    "text-danger fw-semibold" if over else "",
                    record.max_vms,
                )
            )
        if record.max_tb is not None:
            over = record.used_mib / (1024 * 1024) > float(record.max_tb)
            parts.append(
                format_html(
                    '<span class="{}">{} TiB</span>', "text-danger fw-semibold" if over else "", record.max_tb
                )
            )
        return format_html(" · ".join(["{}"] * len(parts)), *parts) if parts else "—"


class TargetClusterTable(BaseTable):
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    site = tables.Column(order_by=_sorted("site__name"))
    sku = tables.Column(verbose_name=_("Host type"), order_by=_sorted("sku"))
    hosts = NumberColumn(order_by=_sorted("hosts"))
    failures_to_tolerate = NumberColumn(verbose_name=_("FTT"), order_by=_sorted("failures_to_tolerate"))
    usable = tables.Column(
        verbose_name=_("Usable vCPU · memory GiB · vSAN TiB"), accessor="pk", orderable=False
    )
    wave_count = NumberColumn(verbose_name=_("Waves"), order_by=_sorted("wave_count"))
    vm_count = NumberColumn(verbose_name=_("VMs planned"), order_by=_sorted("vm_count"))
    used_mib = TbColumn(verbose_name=_("Used TiB planned"), order_by=_sorted("used_mib"))

    class Meta(BaseTable.Meta):
        model = TargetCluster
        fields = [
            "name",
            "site",
            "sku",
            "hosts",
            "failures_to_tolerate",
            "usable",
            "wave_count",
            "vm_count",
            "used_mib",
        ]
        empty_text = _("No target clusters yet.")

    def render_usable(self, record):
        if record.sku not in settings.AVS_HOST_TYPES:
            return "—"
        c = usable_capacity(record)
        return f"{c.vcpus:,} · {c.memory_gb:,.0f} · {c.storage_tb:,.1f}"


class WaveItemTable(BaseTable):
    """The wave's VMs, with a checkbox to remove and a per-VM migration type."""

    # The ticks belong to the removal form under the table (forms cannot nest the per-row type forms).
    select = TickColumn(accessor="vm_id", orderable=False, attrs={"input": {"form": "remove-vms"}})
    vm = tables.Column(
        verbose_name=_("VM"),
        linkify=lambda record: record.vm.get_absolute_url(),
        order_by=_sorted("vm__name"),
    )
    vcenter = tables.Column(
        verbose_name=_("vCenter"), accessor="vm__vcenter__name", order_by=_sorted("vm__vcenter__name")
    )
    cluster = tables.Column(
        verbose_name=_("Source cluster"), accessor="vm__cluster__name", order_by=_sorted("vm__cluster__name")
    )
    group = tables.Column(
        verbose_name=_("Group"), accessor="pk", order_by=_sorted("vm__group_membership__group__name")
    )
    power = tables.Column(
        verbose_name=_("Power"), accessor="vm", order_by=_sorted("vm__power_state"), empty_values=()
    )
    num_cpu = NumberColumn(verbose_name=_("vCPUs"), accessor="vm__num_cpu", order_by=_sorted("vm__num_cpu"))
    memory_mib = MiBAsGiBColumn(
        verbose_name=_("Memory GiB"), accessor="vm__memory_mib", order_by=_sorted("vm__memory_mib")
    )
    used_mib = MiBAsGiBColumn(
        verbose_name=_("Used GiB"), accessor="vm__used_mib", order_by=_sorted("vm__used_mib")
    )
    migration_type = tables.Column(
        verbose_name=_("Migration type"), order_by=_sorted("migration_type"), empty_values=()
    )

    class Meta(BaseTable.Meta):
        model = WaveItem
        fields = [
            "select",
            "vm",
            "vcenter",
            "cluster",
            "group",
            "power",
            "num_cpu",
            "memory_mib",
            "used_mib",
            "migration_type",
        ]
        empty_text = _("No VMs in this wave yet: add groups or single VMs.")

    def __init__(self, *args, wave=None, type_form=None, **kwargs):
        """`type_form`: {"url", "csrf_token", "back"} to render a per-VM type selector; None shows the type."""
        super().__init__(*args, **kwargs)
        self.wave = wave
        self.type_form = type_form

    def render_power(self, record):
        vm = record.vm
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            PowerState.COLORS.get(vm.power_state, "secondary"),
            vm.get_power_state_display(),
        )

    def render_migration_type(self, record):
        # Built here rather than with a template per row: 50 rows of a template cost more than the queries.
        wave = self.wave or record.wave
        if not self.type_form:
            if record.migration_type:
                return record.get_migration_type_display()
            return format_html(
                '{} <span class="text-muted small">(default)</span>', wave.get_migration_type_display()
            )
        options = [
            (v, " selected" if record.migration_type == v else "", label)
            for v, label in MigrationType.choices
        ]
        return format_html(
            '<form method="post" action="{}" class="d-flex gap-1">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="vm" value="{}"><input type="hidden" name="return" value="{}">'
            '<select name="migration_type" class="form-select form-select-sm" aria-label="Migration type of {}">'
            '<option value=""{}>Wave default ({})</option>{}</select>'
            '<button class="btn btn-outline-secondary btn-sm" type="submit">Set</button></form>',
            self.type_form["url"],
            self.type_form["csrf_token"],
            record.vm_id,
            self.type_form["back"],
            record.vm.name,
            "" if record.migration_type else " selected",
            wave.get_migration_type_display(),
            format_html_join("", '<option value="{}"{}>{}</option>', options),
        )

    def render_group(self, record):
        membership = getattr(record.vm, "group_membership", None)
        group = membership.group if membership else record.group
        if group is None:
            return "—"
        return (
            format_html('<a href="{}">{}</a>', group.get_absolute_url(), group.name)
            if _has_url(group)
            else group.name
        )


def _has_url(group) -> bool:
    try:
        group.get_absolute_url()
    except Exception:  # noqa: BLE001 - the groups part may not have its pages yet
        return False
    return True


class VmPickerTable(BaseTable):
    """VMs that are in no wave, to tick and add."""

    select = TickColumn(accessor="pk", orderable=False)
    name = tables.Column(linkify=True, order_by=_sorted("name"))
    vcenter = tables.Column(
        verbose_name=_("vCenter"), accessor="vcenter__name", order_by=_sorted("vcenter__name")
    )
    cluster = tables.Column(accessor="cluster__name", order_by=_sorted("cluster__name"))
    group = tables.Column(
        verbose_name=_("Group"),
        accessor="group_membership__group__name",
        order_by=_sorted("group_membership__group__name"),
    )
    power_state = PowerColumn(verbose_name=_("Power"), order_by=_sorted("power_state"), empty_values=())
    num_cpu = NumberColumn(verbose_name=_("vCPUs"), order_by=_sorted("num_cpu"))
    memory_mib = MiBAsGiBColumn(verbose_name=_("Memory GiB"), order_by=_sorted("memory_mib"))
    used_mib = MiBAsGiBColumn(verbose_name=_("Used GiB"), order_by=_sorted("used_mib"))

    class Meta(BaseTable.Meta):
        fields = [
            "select",
            "name",
            "vcenter",
            "cluster",
            "group",
            "power_state",
            "num_cpu",
            "memory_mib",
            "used_mib",
        ]
        empty_text = _("No VM outside the waves matches.")


class GroupPickerTable(BaseTable):
    select = TickColumn(accessor="pk", orderable=False)
    name = tables.Column(order_by=_sorted("name"))
    priority = NumberColumn(order_by=_sorted("priority"))
    risk = tables.Column(order_by=_sorted("risk"))
    vm_count = NumberColumn(verbose_name=_("VMs"), order_by=_sorted("vm_count"))
    here = NumberColumn(verbose_name=_("In this wave"), order_by=_sorted("here"))
    elsewhere = NumberColumn(verbose_name=_("In other waves"), order_by=_sorted("elsewhere"))

    class Meta(BaseTable.Meta):
        model = DependencyGroup
        fields = ["select", "name", "priority", "risk", "vm_count", "here", "elsewhere"]
        empty_text = _("No group matches.")
        row_attrs = {"class": lambda record: "table-warning" if record.elsewhere else ""}

    def render_elsewhere(self, value):
        return format_html('<span class="text-danger fw-semibold">{}</span>', value) if value else "0"
