import django_tables2 as tables
from django.utils.html import format_html_join

from core.models import AuditEntry

PER_PAGE = 50


def detail_text(detail: dict) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted((detail or {}).items()))


class AuditEntryTable(tables.Table):
    created = tables.DateTimeColumn(verbose_name="When", format="Y-m-d H:i:s", order_by=("created", "id"))
    user = tables.Column(verbose_name="Who", accessor="user__username", default="(system)", order_by=("user__username", "id"))
    action = tables.Column(order_by=("action", "id"))
    object_repr = tables.Column(verbose_name="Object", orderable=False)
    detail = tables.Column(verbose_name="Detail", orderable=False)

    class Meta:
        model = AuditEntry
        fields = ("created", "user", "action", "object_repr", "detail")
        order_by = ("-created",)
        attrs = {"class": "table table-sm align-top", "data-testid": "audit-table"}
        empty_text = "Nothing audited yet: approvals, launches and other decisions show here."

    def render_detail(self, value):
        return format_html_join("; ", "<span class=\"text-nowrap\">{}</span>: {}", sorted((value or {}).items()))
