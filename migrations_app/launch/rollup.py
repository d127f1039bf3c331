"""A wave's (or a batch's) progress rolled up from its VMs' migrations, and waves that are done.

Each VM counts once, by its latest attempt (the highest id: a retry or a rollback is a newer row).
Everything is aggregated in the database, so a page or a stream asking every second costs the same
few queries for 10 VMs or 1,000:

- one grouped query over the latest attempts (counts per state, direction and type; bytes),
- one over the wave's items (how many VMs, and the size of those not sent yet),
- the planner's estimate of the wave (one aggregate, and its assumptions: the measured throughput),
- when something runs: one for the running migrations' start times and sizes.

Phases: each VM counts in one of the steps a person follows (PHASE_OF): not started, copying (validating,
queued, initial sync), waiting for the window (Bulk and RAV after their copy: waiting, with the periodic
delta syncs, hcx-wire.md §9.2), switching over (switchover, cleanup), done, rolled back, or stopped
(failed, refused, cancelled). `ready` counts the Bulk/RAV migrations to AVS whose copy is done and
that wait for their switchover: what "switch over now" applies to.

The percent is of the bytes, but it reads 100 only when every VM is done: copies that all finished
while the VMs wait for their window are 99 %, not a finished wave (the bar never says 100 % with a
VM still to switch over).

Health: "failed" when a VM's latest attempt failed or was refused; "lagging" when a running migration
has run longer than `LAUNCH["LAG_FACTOR"]` times the slow end of its estimate (estimates.py): for
Bulk and RAV the initial sync only (then they wait for the window on purpose), for vMotion and Cold
the whole migration; else "healthy".
"""

import math
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, Max, Min, Q, Sum, When
from django.utils import timezone

from core.choices import AuditAction, NotificationEvent
from core.live import wakeup
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.models import VmMigration, Wave, WaveItem
from migrations_app.notifications import wave_event
from migrations_app.planner.estimates import (
    PARALLEL_TYPES,
    assumptions_for,
    estimate_loads,
    estimate_vm,
    loads_for_waves,
)
from migrations_app.waves.states import set_status

S = MigrationState
MiB = 1024 * 1024
HEALTHY, LAGGING, FAILED = "healthy", "lagging", "failed"
# States in which a Bulk/RAV migration is copying (or about to): its time is the transfer's.
COPYING = frozenset({S.VALIDATING, S.QUEUED, S.INITIAL_SYNC})
COMPLETE_AUDIT = AuditAction.WAVE_COMPLETE

# The steps of a migration as the progress page shows them, in order (key, label, colour).
PHASES = (
    ("not_started", "Not started", "secondary"),
    ("copying", "Copying", "info"),
    ("waiting_window", "Waiting for the window", "warning"),
    ("switching_over", "Switching over", "primary"),
    ("done", "Done", "success"),
    ("rolled_back", "Rolled back", "dark"),
    ("stopped", "Stopped", "danger"),
)
PHASE_OF = {
    S.WAITING: "not_started",
    S.SUBMITTING: "not_started",
    S.VALIDATING: "copying",
    S.QUEUED: "copying",
    S.INITIAL_SYNC: "copying",
    S.DELTA_SYNC: "waiting_window",
    S.WAITING_FOR_SWITCHOVER: "waiting_window",
    S.SWITCHOVER: "switching_over",
    S.CLEANUP: "switching_over",
    S.COMPLETE: "done",
    S.FAILED: "stopped",
    S.REFUSED: "stopped",
    S.CANCELLED: "stopped",
}
# Copy done, switchover not started: what "switch over now" applies to.
READY_STATES = frozenset({S.DELTA_SYNC, S.WAITING_FOR_SWITCHOVER})


def phase_of(state: str, direction: str = MigrationDirection.FORWARD) -> str:
    """The phase a migration in `state` counts in (a complete rollback is "rolled_back")."""
    if state == S.COMPLETE and direction != MigrationDirection.FORWARD:
        return "rolled_back"
    return PHASE_OF[state]


@dataclass
class WaveProgress:
    """Plain numbers for pages, the API and the live stream."""

    vms: int = 0
    states: dict = field(default_factory=dict)  # latest attempt's state -> VMs
    done: int = 0  # moved to AVS (latest attempt: forward, complete)
    failed: int = 0  # latest attempt failed or refused
    in_flight: int = 0  # in HCX now
    waiting: int = 0  # not sent yet (no migration, or waiting/being sent)
    cancelled: int = 0
    rolled_back: int = 0  # latest attempt: a rollback that completed
    lagging: int = 0
    phases: dict = field(default_factory=lambda: {key: 0 for key, _label, _color in PHASES})
    ready: int = 0  # Bulk/RAV to AVS, copied, waiting for the switchover
    bytes_done: int = 0
    bytes_total: int = 0
    health: str = HEALTHY
    # Times are the portal's own (`submitted`), never HCX's clock, which may differ from ours.
    # From the first start to now (or to the last end, once nothing runs or waits); None before any start.
    elapsed_seconds: int | None = None
    # The slow end of the planner's estimate for the whole wave (transfer and switchovers); None for a
    # batch, or while the site's link is unknown.
    estimate_seconds: int | None = None

    @property
    def percent(self) -> int:
        if not self.vms:
            return 0
        if self.done >= self.vms:
            return 100
        if self.bytes_total:
            return min(99, math.floor(100 * self.bytes_done / self.bytes_total))
        return math.floor(100 * self.done / self.vms)

    def as_dict(self) -> dict:
        return {**asdict(self), "percent": self.percent}


def ready_migrations(wave, batch=None):
    """The migrations counted in `ready`: to AVS, Bulk or RAV, copied and waiting for the switchover
    (each is its VM's latest attempt: a VM has one active migration at a time)."""
    qs = VmMigration.objects.filter(
        wave=wave,
        state__in=sorted(READY_STATES),
        direction=MigrationDirection.FORWARD,
        migration_type__in=PARALLEL_TYPES,
    )
    return qs.filter(batch=batch) if batch is not None else qs


def _latest(scope):
    """The latest attempt of each VM among `scope` (a VmMigration queryset)."""
    last = scope.order_by().values("vm").annotate(last=Max("pk")).values("last")
    return VmMigration.objects.filter(pk__in=last)


def _size():
    """A migration's bytes: HCX's figure once it gave one, the inventory's size before."""
    return Case(
        When(bytes_total__gt=0, then=F("bytes_total")),
        When(vm__used_mib__gt=0, then=F("vm__used_mib") * MiB),
        default=F("vm__provisioned_mib") * MiB,
    )


def _progress(
    scope, *, site, now=None, items: tuple[int, int] | None = None, assumptions=None
) -> WaveProgress:
    p = WaveProgress()
    latest = _latest(scope)
    rows = (
        latest.order_by()
        .values("state", "direction", "migration_type")
        .annotate(
            n=Count("pk"),
            moved=Sum("bytes_transferred"),
            size=Sum(_size()),
            first=Min("submitted"),
            last=Max("ended"),
        )
    )
    parallel = 0
    first = last = None
    for row in rows:
        if row["first"] and (first is None or row["first"] < first):
            first = row["first"]
        if row["last"] and (last is None or row["last"] > last):
            last = row["last"]
        state, n, size = row["state"], row["n"], int(row["size"] or 0)
        forward = row["direction"] == MigrationDirection.FORWARD
        p.states[state] = p.states.get(state, 0) + n
        p.phases[phase_of(state, row["direction"])] += n
        if forward and state in READY_STATES and row["migration_type"] in PARALLEL_TYPES:
            p.ready += n
        p.bytes_total += size
        if state == S.COMPLETE:
            if forward:
                p.done += n
                p.bytes_done += size
            else:
                p.rolled_back += n
        elif state in (S.FAILED, S.REFUSED):
            p.failed += n
        elif state == S.CANCELLED:
            p.cancelled += n
        elif state in S.NOT_SENT:
            p.waiting += n
        else:
            p.in_flight += n
            p.bytes_done += int(row["moved"] or 0)
            if row["migration_type"] in PARALLEL_TYPES:
                parallel += n
    sent = sum(p.states.values())
    p.vms = sent
    if items is not None:
        vms, unsent_bytes = items
        p.vms = max(vms, sent)
        p.waiting += p.vms - sent
        p.phases["not_started"] += p.vms - sent
        p.bytes_total += unsent_bytes
    now = now or timezone.now()
    if first is not None:
        end = last if last and not (p.in_flight or p.waiting) else now
        p.elapsed_seconds = max(0, int((end - first).total_seconds()))
    if p.in_flight:
        p.lagging = _count_lagging(latest, site, parallel, now, assumptions)
    p.health = FAILED if p.failed else LAGGING if p.lagging else HEALTHY
    return p


def _count_lagging(latest, site, parallel: int, now, a=None) -> int:
    factor = settings.LAUNCH["LAG_FACTOR"]
    a = a or assumptions_for(site)
    running = (
        latest.filter(state__in=sorted(S.IN_HCX), submitted__isnull=False)
        .annotate(size=_size())
        .values_list("migration_type", "state", "submitted", "size")
    )
    lagging = 0
    for mtype, state, started, size in running:
        transfer, switchover = estimate_vm(int(size or 0) // MiB, mtype, a, sharing_with=parallel)
        if transfer is None:
            continue  # no link bandwidth: nothing to be late against
        if mtype in PARALLEL_TYPES:
            if state not in COPYING:
                continue
            budget = transfer.high
        else:
            budget = transfer.high + switchover.high
        if (now - started).total_seconds() > factor * budget:
            lagging += 1
    return lagging


def wave_progress(wave: Wave, *, now=None) -> WaveProgress:
    """The wave's progress over all its VMs (those not in a batch yet count as waiting)."""
    # NOT IN over the wave's sent VMs: one pass each way. A correlated EXISTS per item made SQLite
    # scan the wave's migrations once per VM (bench/RESULTS.md: 170-260 ms at 1,000 VMs).
    sent = VmMigration.objects.filter(wave=wave).values("vm")
    size = Case(When(vm__used_mib__gt=0, then=F("vm__used_mib")), default=F("vm__provisioned_mib"))
    items = WaveItem.objects.filter(wave=wave).aggregate(
        n=Count("pk"), unsent=Sum(size, filter=~Q(vm__in=sent))
    )
    site = wave.site if wave.site_id else None
    a = assumptions_for(site)
    p = _progress(
        VmMigration.objects.filter(wave=wave),
        site=site,
        now=now,
        items=(items["n"], int(items["unsent"] or 0) * MiB),
        assumptions=a,
    )
    estimate = estimate_loads(loads_for_waves([wave])[wave.pk], a)
    if estimate.transfer is not None and estimate.types:
        p.estimate_seconds = round(estimate.transfer.high + estimate.switchover.high)
    return p


def batch_progress(batch, *, now=None) -> WaveProgress:
    """The batch's progress over the VMs it holds."""
    wave = batch.wave
    return _progress(
        VmMigration.objects.filter(batch=batch), site=wave.site if wave.site_id else None, now=now
    )


def finish_waves(waves) -> int:
    """Mark COMPLETED each RUNNING wave of `waves` whose every VM's latest attempt is a complete
    migration to AVS, with nothing still active; audit each. Returns how many finished."""
    ids = list(waves.filter(status=WaveStatus.RUNNING).values_list("pk", flat=True))
    if not ids:
        return 0
    items = dict(
        WaveItem.objects.filter(wave_id__in=ids)
        .order_by()
        .values("wave")
        .annotate(n=Count("pk"))
        .values_list("wave", "n")
    )
    scope = VmMigration.objects.filter(wave_id__in=ids)
    last = scope.order_by().values("wave", "vm").annotate(last=Max("pk")).values("last")
    moved = dict(
        VmMigration.objects.filter(
            pk__in=last,
            state=S.COMPLETE,
            direction=MigrationDirection.FORWARD,
            vm__wave_item__wave_id=F("wave_id"),
        )
        .order_by()
        .values("wave")
        .annotate(n=Count("vm", distinct=True))
        .values_list("wave", "n")
    )
    busy = set(
        scope.filter(state__in=sorted(S.ACTIVE)).order_by().values_list("wave_id", flat=True).distinct()
    )
    finished = 0
    for wave_id in ids:
        n = items.get(wave_id, 0)
        if not n or moved.get(wave_id, 0) < n or wave_id in busy:
            continue
        with transaction.atomic():
            # Compare-and-set: two cycles (or a person) acting at once finish it once.
            wave = Wave.objects.get(pk=wave_id)
            if wave.status != WaveStatus.RUNNING or not set_status(
                wave, WaveStatus.COMPLETED, acting_user=None, audit=COMPLETE_AUDIT, vms=n, by="reconciler"
            ):
                continue
            wakeup.announce(
                [f"wave:{wave_id}"]
            )  # its pages' headers say "Completed" (stream.py sends the status)
            wave_event(NotificationEvent.WAVE_COMPLETED, wave, vms=n)
        finished += 1
    return finished
