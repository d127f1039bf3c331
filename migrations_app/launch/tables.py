"""The migrations table of the progress pages (django-tables2; sorting and paging in the database).

Every live cell carries `data-field` and its row `data-migration-id` and `data-updated`, so that
static/js/launch-progress.js updates them in place from the stream.
"""

import django_tables2 as tables
from django.utils.html import format_html

from inventory.tables import NumberColumn
from migrations_app.models import VmMigration
from migrations_app.waves.display import zone_of

from .display import bytes_text, eta_text, throughput_text
from .progress import format_cursor


def state_badge(m: VmMigration) -> str:
    return format_html(
        '<span class="badge text-bg-{}" data-field="state" data-state="{}">{}</span>',
        m.state_color,
        m.state,
        m.get_state_display(),
    )


def percent_bar(m: VmMigration) -> str:
    return format_html(
        '<div class="progress" style="min-width: 6rem" role="progressbar" aria-label="Progress of {}" '
        'aria-valuenow="{}" aria-valuemin="0" aria-valuemax="100" data-field="percent-bar">'
        '<div class="progress-bar bg-{}" style="width: {}%"></div></div>'
        '<span class="small" data-field="percent">{}%</span>',
        m.vm.name,
        m.percent,
        m.state_color,
        m.percent,
        m.percent,
    )


class VmMigrationTable(tables.Table):
    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "td__input": {"name": "ids", "form": "migration-actions", "aria-label": "Select this migration"},
            "th__input": {"data-select-all": "ids", "aria-label": "Select all"},
        },
    )
    vm = tables.Column(
        verbose_name="VM",
        accessor="vm__name",
        order_by=("vm__name", "attempt", "pk"),
        linkify=("migrations_app:vmmigration", {"pk": tables.A("pk")}),
    )
    batch = tables.Column(
        verbose_name="Batch", accessor="batch__name", order_by=("batch__number", "vm__name", "pk")
    )
    migration_type = tables.Column(verbose_name="Type", order_by=("migration_type", "pk"))
    state = tables.Column(order_by=("state", "pk"))
    percent = tables.Column(verbose_name="Progress", order_by=("percent", "pk"))
    bytes_transferred = NumberColumn(verbose_name="Bytes", order_by=("bytes_transferred", "pk"))
    # empty_values=(): the cell is rendered (with its data-field) even while HCX reports nothing yet.
    throughput_mbps = NumberColumn(
        verbose_name="Throughput", order_by=("throughput_mbps", "pk"), empty_values=()
    )
    eta_seconds = NumberColumn(verbose_name="ETA", order_by=("eta_seconds", "pk"), empty_values=())
    message = tables.Column(verbose_name="HCX message", orderable=False, empty_values=())
    attempt = NumberColumn(order_by=("attempt", "pk"))

    class Meta:
        model = VmMigration
        fields = (
            "select",
            "vm",
            "batch",
            "migration_type",
            "state",
            "percent",
            "bytes_transferred",
            "throughput_mbps",
            "eta_seconds",
            "message",
            "attempt",
        )
        order_by = ("batch", "vm")
        attrs = {"class": "table table-sm align-middle", "data-testid": "migrations-table"}
        row_attrs = {
            "data-migration-id": lambda record: record.pk,
            "data-type": lambda record: record.migration_type,
            "data-direction": lambda record: record.direction,
            "data-updated": lambda record: format_cursor(record.updated) or "",
        }
        empty_text = "No migrations yet: make a batch and launch it."

    def render_migration_type(self, record):
        return record.get_migration_type_display()

    def render_state(self, record):
        return state_badge(record)

    def render_percent(self, record):
        return percent_bar(record)

    def render_bytes_transferred(self, record):
        return format_html(
            '<span data-field="bytes">{}</span>', bytes_text(record.bytes_transferred, record.bytes_total)
        )

    def render_throughput_mbps(self, record):
        return format_html('<span data-field="throughput">{}</span>', throughput_text(record.throughput_mbps))

    # The wave's time zone; the view sets it (a page of one wave), else each row's wave says it.
    zone = None

    def render_eta_seconds(self, record):
        zone = self.zone or zone_of(record.wave)
        return format_html(
            '<span data-field="eta">{}</span>', eta_text(record.eta_seconds, record.updated, zone)
        )

    def render_message(self, record):
        return format_html('<span class="small" data-field="message">{}</span>', record.message)

    def render_attempt(self, record):
        return format_html('<span data-field="attempt">{}</span>', record.attempt)
