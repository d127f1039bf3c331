"""CSV and XLSX of waves, of VMs (the inventory with group, wave and migration state) and of migration
results, all written by core/exports.py, so that no cell from vCenter, HCX or a user runs as a formula.

Cells are typed (core/exports.py): counts, sizes and bytes are numbers, times are dates in UTC, so
the XLSX sorts, sums and filters as a stakeholder expects.

Each is one query read in chunks (`iterator`), and bounded: at most `MAX_ROWS` rows (a 50,000-VM estate
fits; the file says nothing is cut unless it is). `?wave=<id>` narrows VMs and results to one wave.
"""

from django.db.models import OuterRef, Subquery

from inventory.models import VirtualMachine
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.launch.display import duration_text
from migrations_app.models import VmMigration, Wave
from migrations_app.waves.display import window_text
from migrations_app.waves.querysets import waves as wave_queryset

from .dashboard import MIB_PER_TB, latest_attempts

MAX_ROWS = 100_000
CHUNK = 2000


def waves_export():
    from django.db.models import Count, Q

    columns = [
        "Order",
        "Wave",
        "Status",
        "Pilot",
        "Change window",
        "Window start (UTC)",
        "Window end (UTC)",
        "Site",
        "Target cluster",
        "Default type",
        "VMs",
        "Used TiB",
        "Migrated",
        "Failed",
        "Revision",
    ]
    latest = latest_attempts()
    done = dict(
        latest.filter(state=MigrationState.COMPLETE, direction="forward")
        .order_by()
        .values("wave")
        .annotate(n=Count("pk"))
        .values_list("wave", "n")
    )
    failed = dict(
        latest.filter(Q(state=MigrationState.FAILED) | Q(state=MigrationState.REFUSED))
        .order_by()
        .values("wave")
        .annotate(n=Count("pk"))
        .values_list("wave", "n")
    )

    def rows():
        for w in (
            wave_queryset().order_by("sequence", "window_start", "name")[:MAX_ROWS].iterator(chunk_size=CHUNK)
        ):
            yield [
                w.sequence,
                w.name,
                WaveStatus(w.status).label,
                "yes" if w.pilot else "",
                window_text(w),
                w.window_start,
                w.window_end,
                w.site.name if w.site_id else "",
                w.target_cluster.name if w.target_cluster_id else "",
                w.get_migration_type_display(),
                w.vm_count,
                round(w.used_mib / MIB_PER_TB, 3),
                done.get(w.pk, 0),
                failed.get(w.pk, 0),
                w.revision,
            ]

    return columns, rows()


def vms_export(wave: Wave | None = None):
    columns = [
        "VM",
        "vCenter",
        "Cluster",
        "Power",
        "Used GiB",
        "Provisioned GiB",
        "Group",
        "Wave",
        "Wave status",
        "Planned type",
        "Migration state",
        "Direction",
        "Attempt",
        "Ended (UTC)",
    ]
    latest = VmMigration.objects.filter(vm=OuterRef("pk")).order_by("-pk")

    def last(field):
        return Subquery(latest.values(field)[:1])

    qs = (
        VirtualMachine.objects.filter(removed__isnull=True)
        .select_related("vcenter", "cluster", "group_membership__group", "wave_item__wave")
        .annotate(
            m_state=last("state"),
            m_direction=last("direction"),
            m_attempt=last("attempt"),
            m_ended=last("ended"),
        )
        .order_by("name", "pk")
    )
    if wave is not None:
        qs = qs.filter(wave_item__wave=wave)

    def rows():
        for vm in qs[:MAX_ROWS].iterator(chunk_size=CHUNK):
            membership = getattr(vm, "group_membership", None)
            item = getattr(vm, "wave_item", None)
            planned = item.migration_type or item.wave.migration_type if item else ""
            yield [
                vm.name,
                vm.vcenter.name,
                vm.cluster.name if vm.cluster_id else "",
                vm.power_state,
                round((vm.used_mib or 0) / 1024, 1),
                round((vm.provisioned_mib or 0) / 1024, 1),
                membership.group.name if membership else "",
                item.wave.name if item else "",
                WaveStatus(item.wave.status).label if item else "",
                planned,
                MigrationState(vm.m_state).label if vm.m_state else "",
                MigrationDirection(vm.m_direction).label if vm.m_direction else "",
                vm.m_attempt,
                vm.m_ended,
            ]

    return columns, rows()


def results_export(wave: Wave | None = None):
    """Every migration attempt (retries and rollbacks are rows of their own), newest wave order first."""
    columns = [
        "Wave",
        "Batch",
        "VM",
        "Direction",
        "Attempt",
        "Migration type",
        "State",
        "HCX state",
        "Sent (UTC)",
        "Started (UTC)",
        "Ended (UTC)",
        "Duration",
        "Bytes transferred",
        "Bytes in all",
        "Throughput (Mbit/s)",
        "Message",
    ]
    qs = VmMigration.objects.select_related("wave", "batch", "vm").order_by(
        "wave__sequence", "wave__name", "batch__number", "vm__name", "attempt", "pk"
    )
    if wave is not None:
        qs = qs.filter(wave=wave)

    def rows():
        for m in qs[:MAX_ROWS].iterator(chunk_size=CHUNK):
            took = (m.ended - m.started).total_seconds() if m.started and m.ended else None
            yield [
                m.wave.name,
                m.batch.name,
                m.vm.name,
                m.get_direction_display(),
                m.attempt,
                m.get_migration_type_display(),
                m.get_state_display(),
                m.hcx_state,
                m.submitted,
                m.started,
                m.ended,
                duration_text(took) if took is not None else "",
                m.bytes_transferred,
                m.bytes_total,
                None if m.throughput_mbps is None else round(m.throughput_mbps, 1),
                m.message,
            ]

    return columns, rows()


EXPORTS = {
    "waves": ("Waves", waves_export),
    "vms": ("VMs", vms_export),
    "results": ("Migration results", results_export),
}
