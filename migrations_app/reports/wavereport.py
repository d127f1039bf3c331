"""One wave's report: plan versus actual per VM, with approvals, readiness and events.

`vm_rows(wave)` is the one queryset of the per-VM table, the API, the CSV/XLSX and the PDF: each of the
wave's VMs with its planned type and size, and its latest migration attempt (state, direction, type,
start, end, bytes, message) and attempt count as correlated subqueries. It is one query for any page
of it, and filters and sorts on the latest attempt run in the database.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from hcx.choices import MigrationType
from migrations_app.choices import FindingSeverity, MigrationEventKind, MigrationState
from migrations_app.launch.display import duration_text
from migrations_app.models import Approval, MigrationEvent, ReadinessFinding, VmMigration, Wave, WaveItem
from migrations_app.planner.estimates import PARALLEL_TYPES, assumptions_for, estimate_vm, estimate_wave

from .dashboard import vm_mib

NOT_LAUNCHED = "none"
RESULT_CHOICES = [(NOT_LAUNCHED, _("Not launched"))] + list(MigrationState.choices)


def vm_rows(wave: Wave):
    latest = VmMigration.objects.filter(wave=wave, vm=OuterRef("vm")).order_by("-pk")

    def last(field):
        return Subquery(latest.values(field)[:1])

    return (
        WaveItem.objects.filter(wave=wave)
        .select_related("vm", "group")
        .annotate(
            planned_type=Coalesce(NullIf("migration_type", Value("")), Value(wave.migration_type)),
            mib=vm_mib("vm__"),
            last_id=last("pk"),
            last_state=last("state"),
            last_direction=last("direction"),
            last_type=last("migration_type"),
            last_started=last("started"),
            last_ended=last("ended"),
            last_bytes=last("bytes_transferred"),
            last_bytes_total=last("bytes_total"),
            last_message=last("message"),
            attempts=Coalesce(
                Subquery(
                    VmMigration.objects.filter(wave=wave, vm=OuterRef("vm"))
                    .order_by()
                    .values("vm")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
        )
        .order_by("vm__name", "pk")
    )


class VmRowFilterSet(filters.FilterSet):
    """Filters of the per-VM table, by the names the URL carries (`?vm=web&result=failed&type=bulk`)."""

    vm = filters.CharFilter(field_name="vm__name", lookup_expr="icontains", label=_("VM (name contains)"))
    result = filters.ChoiceFilter(choices=RESULT_CHOICES, method="filter_result", label=_("Latest attempt"))
    type = filters.ChoiceFilter(
        choices=MigrationType.choices, field_name="planned_type", label=_("Planned type")
    )

    class Meta:
        model = WaveItem
        fields = ["vm", "result", "type"]

    def filter_result(self, queryset, name, value):
        if value == NOT_LAUNCHED:
            return queryset.filter(last_state__isnull=True)
        return queryset.filter(last_state=value)


class EventFilterSet(filters.FilterSet):
    """Filters of the events table; on the page they carry the `e-` prefix (`?e-kind=hcx`)."""

    kind = filters.ChoiceFilter(choices=MigrationEventKind.choices, label=_("Kind"))
    vm = filters.CharFilter(
        field_name="migration__vm__name", lookup_expr="icontains", label=_("VM (name contains)")
    )

    class Meta:
        model = MigrationEvent
        fields = ["kind", "vm"]


def events(wave: Wave):
    return (
        MigrationEvent.objects.filter(wave=wave)
        .select_related("migration__vm", "user")
        .order_by("-at", "-id")
    )


def approvals(wave: Wave):
    return Approval.objects.filter(wave=wave).select_related("user").order_by("-created", "-pk")


def findings(wave: Wave):
    return ReadinessFinding.objects.filter(wave=wave).select_related("vm")


def finding_counts(wave: Wave) -> dict:
    rows = ReadinessFinding.objects.filter(wave=wave).order_by().values("severity").annotate(n=Count("pk"))
    counts = {s: 0 for s in FindingSeverity.values}
    counts.update({r["severity"]: r["n"] for r in rows})
    return counts


class VmEstimator:
    """Each VM's planned transfer and switchover (estimates.py), from assumptions read once per page."""

    def __init__(self, wave: Wave, estimate=None):
        self.assumptions = assumptions_for(wave.site if wave.site_id else None)
        estimate = estimate or estimate_wave(wave, longest=0)
        self.parallel = sum(t.vms for t in estimate.types if t.migration_type in PARALLEL_TYPES)

    def text(self, mib, migration_type) -> str:
        transfer, switchover = estimate_vm(
            int(mib or 0), migration_type, self.assumptions, sharing_with=self.parallel
        )
        if transfer is None:
            return f"switchover {switchover.text}"
        return f"{transfer.text}; switchover {switchover.text}"


def duration_of(item) -> str:
    if item.last_started and item.last_ended:
        return duration_text((item.last_ended - item.last_started).total_seconds())
    return ""


def result_label(item) -> str:
    if not item.last_state:
        return str(_("Not launched"))
    label = str(MigrationState(item.last_state).label)
    if item.last_direction and item.last_direction != "forward":
        label = f"{label} (rollback)"
    return label


EXPORT_COLUMNS = [
    "VM",
    "Group",
    "Planned type",
    "Used GiB",
    "Estimate",
    "Latest attempt",
    "Attempts",
    "Migration type",
    "Started (UTC)",
    "Ended (UTC)",
    "Duration",
    "Bytes transferred",
    "Bytes in all",
    "Message",
]


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def export_row(item, estimator: VmEstimator) -> list:
    return [
        item.vm.name,
        item.group.name if item.group_id else "",
        MigrationType(item.planned_type).label,
        f"{(item.mib or 0) / 1024:.1f}",
        estimator.text(item.mib, item.planned_type),
        result_label(item),
        item.attempts,
        MigrationType(item.last_type).label if item.last_type else "",
        _when(item.last_started),
        _when(item.last_ended),
        duration_of(item),
        item.last_bytes if item.last_id else "",
        item.last_bytes_total if item.last_id else "",
        item.last_message or "",
    ]


def row_dict(item, estimator: VmEstimator) -> dict:
    """A per-VM row for the API."""
    return {
        "vm": item.vm_id,
        "vm_name": item.vm.name,
        "group": item.group.name if item.group_id else None,
        "planned_type": item.planned_type,
        "used_mib": int(item.mib or 0),
        "estimate": estimator.text(item.mib, item.planned_type),
        "latest": None
        if not item.last_id
        else {
            "id": item.last_id,
            "state": item.last_state,
            "state_label": str(MigrationState(item.last_state).label),
            "direction": item.last_direction,
            "migration_type": item.last_type,
            "started": item.last_started,
            "ended": item.last_ended,
            "duration": duration_of(item),
            "bytes_transferred": item.last_bytes,
            "bytes_total": item.last_bytes_total,
            "message": item.last_message,
        },
        "attempts": item.attempts,
    }


def summary(wave: Wave) -> dict:
    """The wave's figures above the tables (and in the API and the PDF): a fixed number of queries."""
    from migrations_app.launch.rollup import wave_progress

    estimate = estimate_wave(wave, longest=0)
    return {
        "progress": wave_progress(wave).as_dict(),
        "estimate": estimate,
        "findings": finding_counts(wave),
        "batches": wave.batches.count(),
    }
