import django_tables2 as tables
from django.utils.html import format_html_join

from core.models import AuditEntry

PER_PAGE = 50


def detail_value(value) -> str:
    """A detail value in words a reader uses: lists as `a, b`, mappings as `key: value`, never Python's
    `['a', 'b']` or `{'a': 1}`."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        return ", ".join(detail_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{detail_key(k)}: {detail_value(v)}" for k, v in value.items())
    return str(value)


def detail_key(key) -> str:
    return str(key).replace("_", " ")


def detail_items(detail: dict) -> list[tuple[str, str]]:
    return [(detail_key(k), detail_value(v)) for k, v in sorted((detail or {}).items())]


def detail_text(detail: dict) -> str:
    """For the exports: the keys as stored (a spreadsheet filters on them), the values in words."""
    return "; ".join(f"{k}: {detail_value(v)}" for k, v in sorted((detail or {}).items()))


class AuditEntryTable(tables.Table):
    created = tables.DateTimeColumn(verbose_name="When", format="Y-m-d H:i:s", order_by=("created", "id"))
    user = tables.Column(
        verbose_name="Who", accessor="user__username", default="(system)", order_by=("user__username", "id")
    )
    action = tables.Column(order_by=("action", "id"))
    object_repr = tables.Column(verbose_name="Object", orderable=False)
    detail = tables.Column(verbose_name="Detail", orderable=False)

    class Meta:
        model = AuditEntry
        fields = ("created", "user", "action", "object_repr", "detail")
        order_by = ("-created",)
        attrs = {"class": "table table-sm align-top", "data-testid": "audit-table"}
        empty_text = "Nothing audited yet: approvals, launches and other decisions show here."

    def render_action(self, record):
        return record.get_action_display()

    def render_detail(self, value):
        return format_html_join("; ", '<span class="text-nowrap">{}</span>: {}', detail_items(value))
