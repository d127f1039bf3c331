"""The programme's figures: what the dashboard, its JSON and the programme PDF all show.

Everything is aggregated in the database, so the cost is a fixed number of queries whatever the size
of the estate (a 50,000-VM estate costs what a 10-VM one does):

- the burn-up: planned VMs/TB by the day their wave's window ends, and VMs/TB moved by the day their
  migration ended (a completed rollback takes its VM off again), one grouped query each;
- waves by status (one query), the next change windows (one), risks (blocked VMs by readiness rule,
  failed migrations, waves lagging their estimate) and the throughput measured so far;
- the health of each running wave from the launch rollup (`launch/rollup.wave_progress`, the one
  place a wave's health is computed). Only running waves have a health, and at most `LIVE_WAVES`
  are read: beyond that the page says how many more there are.

Sizes are a VM's used storage (its provisioned size when used is unknown), in plan and in actual
alike, so that the two lines of the burn-up meet when everything has moved. TB is TiB, as in the
estimates.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

from django.db.models import Case, Count, DurationField, F, Max, Q, Sum, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from migrations_app.choices import FindingSeverity, MigrationDirection, MigrationState, WaveStatus
from migrations_app.models import ReadinessFinding, VmMigration, Wave, WaveItem

S = MigrationState
MIB_PER_TB = 1024 * 1024
LIVE_WAVES = 10  # running waves whose live rollup the dashboard reads
NEXT_WINDOWS = 5
FAILED_SHOWN = 10
RULES_SHOWN = 8
HEALTH_COLORS = {"healthy": "success", "lagging": "warning", "failed": "danger"}


def vm_mib(prefix: str = ""):
    """A VM's size in MiB as the planner counts it: used storage, else provisioned."""
    return Case(
        When(**{f"{prefix}used_mib__gt": 0}, then=F(f"{prefix}used_mib")),
        default=F(f"{prefix}provisioned_mib"),
    )


def latest_attempts(scope=None):
    """The latest migration of each VM (the highest id: a retry or a rollback is a newer row)."""
    scope = VmMigration.objects.all() if scope is None else scope
    last = scope.order_by().values("vm").annotate(last=Max("pk")).values("last")
    return VmMigration.objects.filter(pk__in=last)


@dataclass
class Point:
    day: datetime.date
    planned_vms: int = 0
    planned_tb: float = 0.0
    actual_vms: int = 0
    actual_tb: float = 0.0


@dataclass
class Burnup:
    """Cumulative figures per day where something changed, oldest first."""

    points: list[Point] = field(default_factory=list)
    unscheduled_vms: int = 0  # in waves without a change window: planned, but on no date

    @property
    def empty(self) -> bool:
        return not self.points

    def as_dict(self) -> dict:
        return {
            "unscheduled_vms": self.unscheduled_vms,
            "points": [{**asdict(p), "day": p.day.isoformat()} for p in self.points],
        }


def burnup() -> Burnup:
    planned: dict = {}
    unscheduled = 0
    # Grouped by wave (an indexed column), then put on days here: grouping the items by a date
    # computed from a join cost the database a sort of every planned VM (bench/RESULTS.md).
    rows = (
        WaveItem.objects.order_by()
        .values("wave", "wave__window_end")
        .annotate(n=Count("pk"), mib=Sum(vm_mib("vm__")))
    )
    for row in rows:
        end = row["wave__window_end"]
        if end is None:
            unscheduled += row["n"]
            continue
        day = timezone.localdate(end)  # the day TruncDate gives, in the portal's time zone
        n, mib = planned.get(day, (0, 0))
        planned[day] = (n + row["n"], mib + int(row["mib"] or 0))
    actual: dict = {}
    rows = (
        VmMigration.objects.filter(state=S.COMPLETE, ended__isnull=False)
        .annotate(day=TruncDate("ended"))
        .order_by()
        .values("day", "direction")
        .annotate(n=Count("pk"), mib=Sum(vm_mib("vm__")))
    )
    for row in rows:
        sign = 1 if row["direction"] == MigrationDirection.FORWARD else -1
        n, mib = actual.get(row["day"], (0, 0))
        actual[row["day"]] = (n + sign * row["n"], mib + sign * int(row["mib"] or 0))
    result = Burnup(unscheduled_vms=unscheduled)
    plan_vms = plan_mib = done_vms = done_mib = 0
    for day in sorted(set(planned) | set(actual)):
        n, mib = planned.get(day, (0, 0))
        plan_vms, plan_mib = plan_vms + n, plan_mib + mib
        n, mib = actual.get(day, (0, 0))
        done_vms, done_mib = done_vms + n, done_mib + mib
        result.points.append(
            Point(day, plan_vms, round(plan_mib / MIB_PER_TB, 3), done_vms, round(done_mib / MIB_PER_TB, 3))
        )
    return result


@dataclass
class LiveWave:
    id: int
    name: str
    window_start: datetime.datetime | None
    window_end: datetime.datetime | None
    progress: dict

    @property
    def health(self) -> str:
        return self.progress.get("health", "healthy")

    @property
    def health_color(self) -> str:
        return HEALTH_COLORS.get(self.health, "secondary")


@dataclass
class Throughput:
    completed: int = 0  # forward migrations completed with a start and an end
    bytes: int = 0
    seconds: float = 0.0
    running: int = 0  # migrations reporting a throughput now
    current_mbps: float = 0.0  # their rates added up: what the links carry now
    efficiency_low: float | None = None  # measured share of the nominal pipe (estimates.py)
    efficiency_high: float | None = None
    samples: int = 0
    median_mbps: float | None = None  # of the copies the estimates calibrate on

    @property
    def average_mbps(self) -> float | None:
        """Per migration, bytes over the time they took (start to end)."""
        return round(self.bytes * 8 / self.seconds / 1e6, 1) if self.seconds else None

    @property
    def efficiency_text(self) -> str:
        if self.efficiency_low is None:
            return ""
        return f"{self.efficiency_low:.0%}–{self.efficiency_high:.0%}"

    def as_dict(self) -> dict:
        return {**asdict(self), "average_mbps": self.average_mbps}


def throughput() -> Throughput:
    forward_done = Q(
        state=S.COMPLETE, direction=MigrationDirection.FORWARD, started__isnull=False, ended__isnull=False
    )
    now = Q(state__in=sorted(S.IN_HCX), throughput_mbps__isnull=False)
    row = VmMigration.objects.aggregate(
        completed=Count("pk", filter=forward_done),
        bytes=Sum("bytes_transferred", filter=forward_done),
        took=Sum(F("ended") - F("started"), filter=forward_done, output_field=DurationField()),
        running=Count("pk", filter=now),
        current=Sum("throughput_mbps", filter=now),
    )
    t = Throughput(
        completed=row["completed"],
        bytes=int(row["bytes"] or 0),
        seconds=row["took"].total_seconds() if row["took"] else 0.0,
        running=row["running"],
        current_mbps=round(row["current"] or 0.0, 1),
    )
    measured = _measured()
    if measured is not None:
        t.efficiency_low, t.efficiency_high, t.samples = (
            measured.efficiency_low,
            measured.efficiency_high,
            measured.samples,
        )
        t.median_mbps = getattr(measured, "median_mbps", None)
    return t


def _measured():
    from migrations_app.planner.estimates import measured_throughput

    return measured_throughput()


def _wave_progress(wave) -> dict:
    from migrations_app.launch.rollup import wave_progress

    return wave_progress(wave).as_dict()


@dataclass
class Figures:
    at: datetime.datetime
    estate_vms: int
    planned_vms: int
    planned_tb: float
    migrated_vms: int
    migrated_tb: float
    burnup: Burnup
    status_counts: list[dict]  # [{status, label, color, waves}] in the life order
    live: list[LiveWave]
    more_running: int
    next_windows: list
    blocked_vms: int
    blocked_by_rule: list[dict]  # [{rule, title, vms}]
    failed: int
    failed_rows: list[dict]
    lagging: list[LiveWave]
    throughput: Throughput

    @property
    def waves(self) -> int:
        return sum(s["waves"] for s in self.status_counts)

    @property
    def running(self) -> bool:
        return bool(self.live)

    @property
    def percent_vms(self) -> int:
        return min(100, int(100 * self.migrated_vms / self.planned_vms)) if self.planned_vms else 0

    @property
    def percent_tb(self) -> int:
        return min(100, int(100 * self.migrated_tb / self.planned_tb)) if self.planned_tb else 0

    @property
    def health_counts(self) -> dict:
        counts = {"healthy": 0, "lagging": 0, "failed": 0}
        for w in self.live:
            counts[w.health] = counts.get(w.health, 0) + 1
        return counts

    def as_dict(self) -> dict:
        def live(w: LiveWave) -> dict:
            return {
                "id": w.id,
                "name": w.name,
                "window_start": w.window_start,
                "window_end": w.window_end,
                "health": w.health,
                "progress": w.progress,
            }

        return {
            "at": self.at,
            "estate_vms": self.estate_vms,
            "planned": {"vms": self.planned_vms, "tb": self.planned_tb},
            "migrated": {
                "vms": self.migrated_vms,
                "tb": self.migrated_tb,
                "percent_vms": self.percent_vms,
                "percent_tb": self.percent_tb,
            },
            "burnup": self.burnup.as_dict(),
            "waves_by_status": self.status_counts,
            "running_waves": [live(w) for w in self.live],
            "more_running_waves": self.more_running,
            "health": self.health_counts,
            "next_windows": [
                {
                    "id": w.pk,
                    "name": w.name,
                    "status": w.status,
                    "window_start": w.window_start,
                    "window_end": w.window_end,
                    "time_zone": w.time_zone,
                    "vms": w.vm_count,
                }
                for w in self.next_windows
            ],
            "risks": {
                "blocked_vms": self.blocked_vms,
                "blocked_by_rule": self.blocked_by_rule,
                "failed_migrations": self.failed,
                "failed": self.failed_rows,
                "lagging_waves": [live(w) for w in self.lagging],
            },
            "throughput": self.throughput.as_dict(),
        }


def figures(now=None) -> Figures:
    from inventory.models import VirtualMachine
    from migrations_app.readiness.rules import title
    from migrations_app.waves import querysets
    from migrations_app.waves.display import window_text

    now = now or timezone.now()
    plan = WaveItem.objects.aggregate(n=Count("pk"), mib=Sum(vm_mib("vm__")))
    curve = burnup()
    last = curve.points[-1] if curve.points else Point(now.date())

    by_status = dict(
        Wave.objects.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    status_counts = [
        {"status": s, "label": str(label), "color": WaveStatus.COLORS[s], "waves": by_status.get(s, 0)}
        for s, label in WaveStatus.choices
    ]

    running = list(
        Wave.objects.filter(status=WaveStatus.RUNNING)
        .select_related("site")
        .order_by("window_start", "sequence", "pk")[: LIVE_WAVES + 1]
    )
    live = [
        LiveWave(w.pk, w.name, w.window_start, w.window_end, _wave_progress(w)) for w in running[:LIVE_WAVES]
    ]
    more_running = (by_status.get(WaveStatus.RUNNING, 0) - LIVE_WAVES) if len(running) > LIVE_WAVES else 0

    # The waves first, then their sizes: sized in one grouped query (PostgreSQL), all the waves still
    # to come would be summed to show NEXT_WINDOWS of them.
    upcoming = (
        Wave.objects.filter(window_end__gte=now)
        .exclude(status=WaveStatus.COMPLETED)
        .order_by("window_start", "pk")
    )
    next_windows = list(
        querysets.waves()
        .filter(pk__in=list(upcoming.values_list("pk", flat=True)[:NEXT_WINDOWS]))
        .order_by("window_start", "pk")
    )
    for w in next_windows:
        w.window_text, w.status_color = window_text(w), WaveStatus.COLORS.get(w.status, "secondary")

    # Blockers of waves still to move; a completed wave's old findings are no risk any more.
    blockers = ReadinessFinding.objects.filter(severity=FindingSeverity.BLOCKER, vm__isnull=False).exclude(
        wave__status=WaveStatus.COMPLETED
    )
    blocked_total = blockers.aggregate(n=Count("vm", distinct=True))["n"]
    by_rule = (
        blockers.order_by()
        .values("rule")
        .annotate(vms=Count("vm", distinct=True))
        .order_by("-vms", "rule")[:RULES_SHOWN]
    )

    failed_qs = latest_attempts().filter(state__in=[S.FAILED, S.REFUSED])
    failed_rows = [
        {
            "id": m.pk,
            "vm": m.vm.name,
            "vm_id": m.vm_id,
            "wave": m.wave.name,
            "wave_id": m.wave_id,
            "state": m.state,
            "state_label": str(S(m.state).label),
            "message": m.message,
            "ended": m.ended,
            "attempt": m.attempt,
        }
        for m in failed_qs.select_related("vm", "wave").order_by("-ended", "-pk")[:FAILED_SHOWN]
    ]
    failed = failed_qs.count() if len(failed_rows) == FAILED_SHOWN else len(failed_rows)

    return Figures(
        at=now,
        estate_vms=VirtualMachine.objects.filter(removed__isnull=True).count(),
        planned_vms=plan["n"],
        planned_tb=round((plan["mib"] or 0) / MIB_PER_TB, 3),
        migrated_vms=last.actual_vms,
        migrated_tb=last.actual_tb,
        burnup=curve,
        status_counts=status_counts,
        live=live,
        more_running=more_running,
        next_windows=next_windows,
        blocked_vms=blocked_total,
        blocked_by_rule=[{"rule": r["rule"], "title": title(r["rule"]), "vms": r["vms"]} for r in by_rule],
        failed=failed,
        failed_rows=failed_rows,
        lagging=[w for w in live if w.progress.get("lagging")],
        throughput=throughput(),
    )
