"""The wave report's tables (django-tables2; sorting and paging in the database). Each has its own URL
prefix so that the tables of one page page and sort independently, and every choice stays in the URL."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hcx.choices import MigrationType
from migrations_app.choices import Decision, MigrationState
from migrations_app.launch.display import bytes_text
from migrations_app.models import Approval, MigrationEvent, WaveItem

from .wavereport import duration_of, result_label

PER_PAGE = 50
ATTRS = {"class": "table table-sm table-hover align-middle"}


def _when(value):
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


class VmReportTable(tables.Table):
    vm = tables.Column(
        verbose_name=_("VM"),
        accessor="vm__name",
        order_by=("vm__name", "pk"),
        linkify=lambda record: record.vm.get_absolute_url(),
    )
    planned_type = tables.Column(verbose_name=_("Planned type"), order_by=("planned_type", "vm__name"))
    mib = tables.Column(
        verbose_name=_("Used GiB"), order_by=("mib", "vm__name"), attrs={"td": {"class": "text-end"}}
    )
    estimate = tables.Column(verbose_name=_("Estimate"), empty_values=(), orderable=False)
    result = tables.Column(
        verbose_name=_("Latest attempt"),
        accessor="last_state",
        empty_values=(),
        order_by=("last_state", "vm__name"),
    )
    attempts = tables.Column(
        verbose_name=_("Attempts"), order_by=("attempts", "vm__name"), attrs={"td": {"class": "text-end"}}
    )
    last_type = tables.Column(verbose_name=_("Type"), empty_values=(), order_by=("last_type", "vm__name"))
    last_started = tables.Column(
        verbose_name=_("Started"), empty_values=(), order_by=("last_started", "vm__name")
    )
    last_ended = tables.Column(verbose_name=_("Ended"), empty_values=(), order_by=("last_ended", "vm__name"))
    duration = tables.Column(verbose_name=_("Duration"), empty_values=(), orderable=False)
    bytes = tables.Column(
        verbose_name=_("Bytes"), accessor="last_bytes", empty_values=(), order_by=("last_bytes", "vm__name")
    )
    last_message = tables.Column(verbose_name=_("Message"), orderable=False)

    class Meta:
        model = WaveItem
        fields = ()
        sequence = (
            "vm",
            "planned_type",
            "mib",
            "estimate",
            "result",
            "attempts",
            "last_type",
            "last_started",
            "last_ended",
            "duration",
            "bytes",
            "last_message",
        )
        attrs = {**ATTRS, "data-testid": "vm-report-table"}
        empty_text = _("No VM matches these filters.")

    def __init__(self, *args, estimator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.estimator = estimator

    def render_planned_type(self, value):
        return MigrationType(value).label

    def render_mib(self, value):
        return f"{(value or 0) / 1024:,.1f}"

    def render_estimate(self, record):
        return self.estimator.text(record.mib, record.planned_type) if self.estimator else "—"

    def render_result(self, record):
        if not record.last_state:
            return format_html('<span class="text-muted">{}</span>', result_label(record))
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            MigrationState.COLORS.get(record.last_state, "secondary"),
            result_label(record),
        )

    def render_last_type(self, value):
        return MigrationType(value).label if value else "—"

    def render_last_started(self, value):
        return _when(value)

    def render_last_ended(self, value):
        return _when(value)

    def render_duration(self, record):
        return duration_of(record) or "—"

    def render_bytes(self, record):
        return bytes_text(record.last_bytes, record.last_bytes_total) if record.last_id else "—"


class ApprovalReportTable(tables.Table):
    created = tables.Column(verbose_name=_("Decided"))
    revision = tables.Column(verbose_name=_("Revision"))
    decision = tables.Column()
    user = tables.Column(verbose_name=_("By"), accessor="user__username")
    change_ticket = tables.Column(verbose_name=_("Change ticket"))
    comment = tables.Column(orderable=False)

    class Meta:
        model = Approval
        fields = ("created", "revision", "decision", "user", "change_ticket", "comment")
        attrs = {**ATTRS, "data-testid": "approvals-table"}
        empty_text = _(
            "No decision yet: a planner submits the wave, an engineer approves it with a change ticket."
        )

    def render_created(self, value):
        return _when(value)

    def render_decision(self, record):
        color = "success" if record.decision == Decision.APPROVED else "danger"
        return format_html('<span class="badge text-bg-{}">{}</span>', color, record.get_decision_display())


class EventReportTable(tables.Table):
    at = tables.Column(verbose_name=_("When"), order_by=("at", "id"))
    vm = tables.Column(
        verbose_name=_("VM"), accessor="migration__vm__name", order_by=("migration__vm__name", "id")
    )
    kind = tables.Column(order_by=("kind", "id"))
    state = tables.Column(order_by=("state", "id"))
    message = tables.Column(orderable=False)
    user = tables.Column(verbose_name=_("By"), accessor="user__username", default="", orderable=False)

    class Meta:
        model = MigrationEvent
        fields = ("at", "vm", "kind", "state", "message", "user")
        attrs = {**ATTRS, "data-testid": "events-table"}
        empty_text = _("No events yet: they appear once an engineer launches a batch of this wave.")

    def render_at(self, value):
        return value.strftime("%Y-%m-%d %H:%M:%S")

    def render_kind(self, record):
        return record.get_kind_display()

    def render_state(self, record):
        if not record.state:
            return "—"
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            MigrationState.COLORS.get(record.state, "secondary"),
            record.get_state_display(),
        )
