"""The findings table of the readiness report (django-tables2; sorting and paging in the database)."""

import django_tables2 as tables
from django.utils.html import format_html

from migrations_app.choices import FindingSeverity
from migrations_app.models import ReadinessFinding

from .rules import title

PER_PAGE = 50


class FindingTable(tables.Table):
    vm = tables.Column(
        verbose_name="VM",
        accessor="vm__name",
        order_by=("vm__name", "pk"),
        default="(the wave)",
        linkify=lambda record: record.vm.get_absolute_url() if record.vm_id else None,
    )
    migration_type = tables.Column(verbose_name="Type", order_by=("migration_type", "pk"))
    severity = tables.Column(order_by=("severity", "pk"))
    rule = tables.Column(order_by=("rule", "pk"))
    message = tables.Column(verbose_name="What is wrong", orderable=False)
    fix = tables.Column(verbose_name="How to fix it", orderable=False)

    class Meta:
        model = ReadinessFinding
        fields = ("vm", "migration_type", "severity", "rule", "message", "fix")
        order_by = ("severity", "rule", "vm")
        attrs = {"class": "table table-sm align-top", "data-testid": "findings-table"}
        empty_text = "No findings."

    def render_migration_type(self, record):
        return record.get_migration_type_display() or "—"

    def render_severity(self, record):
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            FindingSeverity.COLORS[record.severity],
            record.get_severity_display(),
        )

    def render_rule(self, value):
        return title(value)
