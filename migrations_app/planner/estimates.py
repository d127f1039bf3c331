"""How long a wave (and each of its VMs) takes to move: transfer and switchover, as ranges.

The one place durations are computed; the wave page, the API and the auto-planner all ask here.

The model, in plain words
-------------------------
* **What moves**: each VM's used storage (`used_mib`; the provisioned size when used is unknown, 0).
* **The pipe**: the site's link (`HcxPlan.bandwidth_mbps`), HCX's cap per migration
  (`HCX_LIMITS["MIGRATION_MBPS_MAX"]`, 1 Gbps) and per IX appliance (`IX_APPLIANCE_MBPS_MAX`,
  1.6 Gbps, times `MIGRATION_ESTIMATES["IX_APPLIANCES"]`). Parallel migrations share it: N of them
  get at most min(link, IX, N x per-migration cap) together.
* **Efficiency**: only part of that nominal throughput is achieved (protocol overhead, other traffic,
  storage): a range, `EFFICIENCY_LOW_PCT`-`EFFICIENCY_HIGH_PCT` (50-80 %). The low end of a duration
  comes from the high efficiency and the high end from the low one. Once enough migrations have
  completed, `measured_throughput()` measures the range, and `assumptions_for()` blends it with the
  assumed one, each measured copy counting as much as one of `CALIBRATION_PRIOR_SAMPLES` imagined
  ones: a handful of pilots moves the range part of the way, not all of it. Copies smaller than
  `CALIBRATION_MIN_SAMPLE_MIB` are not measured (their time is mostly the reconciler's cycle and
  HCX's start-up, so tiny pilots would read as 0 % or 100 %). Every estimate says how sure it is
  (`Assumptions.confidence`).
* **Bulk and RAV** replicate in parallel, up to HCX's concurrent replications (the smaller of the
  per-mesh and per-manager limits). Their transfer takes the longer of: all bytes through the shared
  pipe, or the biggest VM through its own per-migration cap. The initial sync runs *before* the change
  window (pre-seed), so only the switchover must fit in it.
* **vMotion and Cold** run one at a time per site pair: each VM alone through the pipe, the durations
  add up, and the whole transfer happens inside the window (for Cold the transfer *is* the outage).
* **Switchover** per VM and type comes from `MIGRATION_ESTIMATES["<TYPE>_SWITCHOVER_MINUTES"]`:
  Bulk's run in parallel (in rounds of the replication limit); vMotion, RAV and Cold ones one at a
  time, so they add up.
* **A wave** with several types: their transfers share one link, so they add up; so do their
  switchovers (vMotion, RAV and Cold serialise per site pair anyway). What must fit in the window:
  Bulk and RAV switchovers, plus vMotion and Cold transfers and switchovers. A wave fits when the
  high end of that fits the window; else it says it does not (or may not, if the low end fits).

Durations are seconds (floats). TB here is TiB (1024^4 bytes), as vSphere and RVTools count MiB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, F, Max, Sum, Value, When
from django.db.models.functions import Coalesce, NullIf

from hcx.choices import MigrationType

MIB_PER_TB = 1024 * 1024
BITS_PER_MIB = 8 * 1024 * 1024

# Types whose initial sync runs before the window (pre-seed) and whose VMs replicate in parallel.
PARALLEL_TYPES = (MigrationType.BULK, MigrationType.RAV)
# Types whose transfer runs inside the window, one VM at a time per site pair.
SERIAL_TYPES = (MigrationType.VMOTION, MigrationType.COLD)
# Types whose switchovers run one at a time per site pair.
SERIAL_SWITCHOVER_TYPES = (MigrationType.VMOTION, MigrationType.RAV, MigrationType.COLD)
TYPE_ORDER = {t: i for i, t in enumerate(MigrationType.values)}


# --- Ranges and their words --------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """`45 min`, `3 h 05 min`, `2 d 4 h`: a duration as a planner reads it."""
    if seconds < 60:
        return "under 1 min" if seconds > 0 else "0 min"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@dataclass(frozen=True, slots=True)
class Span:
    """A duration range in seconds: low (everything goes well) to high (the slow end)."""

    low: float = 0.0
    high: float = 0.0

    def __add__(self, other: Span) -> Span:
        return Span(self.low + other.low, self.high + other.high)

    @property
    def text(self) -> str:
        low, high = human_duration(self.low), human_duration(self.high)
        return low if low == high else f"{low} – {high}"

    def as_dict(self) -> dict:
        return {"low_seconds": round(self.low), "high_seconds": round(self.high), "text": self.text}


# --- Calibration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredThroughput:
    """What completed migrations achieved, as a share of the nominal pipe they had."""

    efficiency_low: float
    efficiency_high: float
    samples: int
    median_mbps: float | None = None  # what one migration achieved, the median of the samples


# The completed migrations a measurement looks at: the latest ones, as the link and the load change.
CALIBRATION_WINDOW = 50


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile (0-1) of sorted `values`, interpolated between neighbours."""
    position = (len(values) - 1) * q
    below, above = math.floor(position), math.ceil(position)
    return values[below] + (values[above] - values[below]) * (position - below)


def measured_throughput(site=None) -> MeasuredThroughput | None:
    """The efficiency range measured from the latest completed migrations of `site`, or None.

    None without a saved site (throughput is a property of a site's link), and while fewer than
    `MIGRATION_ESTIMATES["CALIBRATION_MIN_SAMPLES"]` migrations completed there (a few outliers must
    not steer the plan).

    The measure, kept simple: for each of the site's last `CALIBRATION_WINDOW` Bulk and RAV migrations
    to AVS that completed, its copy time is from the moment the reconciler saw it enter its initial
    sync to the moment it saw it leave it (its first state after the copy: delta sync, waiting for
    the window, switchover, cleanup or complete). Both moments are the portal's own event rows, so
    one clock, and a wait for the switchover window or the switchover itself never counts as copy
    time; a migration seen in neither moment (a copy shorter than a reconciler cycle) is left out, and
    so is a copy smaller than `CALIBRATION_MIN_SAMPLE_MIB`.
    Achieved Mbps = bytes x 8 / copy seconds / 10^6; its share of one migration's nominal pipe
    (min(link, IX appliance, HCX's per-migration cap)) is its efficiency. The migrations that
    shared the link count as they went: slower when many ran at once, which is what the next wave
    will meet too. The 25th and 75th percentiles of those shares are the range, with the median Mbps
    for people. One aggregate query.
    """
    if getattr(site, "pk", None) is None:
        return None
    from django.db.models import Min, Q

    from migrations_app.choices import MigrationDirection, MigrationState
    from migrations_app.models import VmMigration

    S = MigrationState
    after_copy = [S.DELTA_SYNC, S.WAITING_FOR_SWITCHOVER, S.SWITCHOVER, S.CLEANUP, S.COMPLETE]
    min_bytes = max(1, settings.MIGRATION_ESTIMATES["CALIBRATION_MIN_SAMPLE_MIB"]) * 1024 * 1024
    rows = (
        VmMigration.objects.filter(
            wave__site=site,
            state=S.COMPLETE,
            direction=MigrationDirection.FORWARD,
            migration_type__in=PARALLEL_TYPES,
            bytes_total__gte=min_bytes,
        )
        .annotate(
            copy_start=Min("events__at", filter=Q(events__state=S.INITIAL_SYNC)),
            copy_end=Min("events__at", filter=Q(events__state__in=after_copy)),
        )
        .order_by("-ended", "-pk")
        .values_list("bytes_total", "copy_start", "copy_end")[:CALIBRATION_WINDOW]
    )
    limits = settings.HCX_LIMITS
    caps = [limits["IX_APPLIANCE_MBPS_MAX"], limits["MIGRATION_MBPS_MAX"]]
    if getattr(site, "bandwidth_mbps", None):
        caps.append(site.bandwidth_mbps)
    nominal = min(caps)
    achieved = sorted(
        size * 8 / (end - start).total_seconds() / 1e6
        for size, start, end in rows
        if start and end and end > start
    )
    if not achieved or len(achieved) < settings.MIGRATION_ESTIMATES["CALIBRATION_MIN_SAMPLES"]:
        return None
    shares = [min(1.0, max(0.01, mbps / nominal)) for mbps in achieved]
    return MeasuredThroughput(
        efficiency_low=round(_percentile(shares, 0.25), 4),
        efficiency_high=round(_percentile(shares, 0.75), 4),
        samples=len(shares),
        median_mbps=round(_percentile(achieved, 0.5), 1),
    )


# --- Assumptions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumptions:
    """Everything an estimate rests on, shown to the planner in one line."""

    bandwidth_mbps: float | None
    efficiency_low: float
    efficiency_high: float
    per_migration_mbps: float
    ix_mbps: float
    ix_appliances: int
    replication_slots: int
    switchover_minutes: dict = field(default_factory=dict)
    measured: MeasuredThroughput | None = None
    # How much the measured range weighs in efficiency_low/high (0: assumed only), assumptions_for().
    measured_weight: float = 0.0

    @property
    def confidence(self) -> str:
        """How sure an estimate built on these assumptions is, in words: how many completed copies
        of this link it rests on."""
        if self.measured is None:
            return "assumed, not measured on this link yet: low confidence"
        n = self.measured.samples
        thresholds = settings.MIGRATION_ESTIMATES["CONFIDENCE_SAMPLES"]
        level = "high" if n >= thresholds[1] else "medium" if n >= thresholds[0] else "low"
        return f"based on {n} migration{'s' if n != 1 else ''}, {level} confidence"

    @property
    def ix_total_mbps(self) -> float:
        return self.ix_mbps * self.ix_appliances

    def pipe_mbps(self, parallel: int) -> float:
        """Nominal Mbps that `parallel` migrations get together (before efficiency)."""
        caps = [self.ix_total_mbps, max(parallel, 1) * self.per_migration_mbps]
        if self.bandwidth_mbps:
            caps.append(self.bandwidth_mbps)
        return min(caps)

    def single_mbps(self) -> float:
        """Nominal Mbps of one migration alone (one IX appliance carries it)."""
        caps = [self.ix_mbps, self.per_migration_mbps]
        if self.bandwidth_mbps:
            caps.append(self.bandwidth_mbps)
        return min(caps)

    @property
    def line(self) -> str:
        link = (
            f"{self.bandwidth_mbps:,.0f} Mbps link"
            if self.bandwidth_mbps
            else "link bandwidth unknown (no site)"
        )
        source = (
            f"measured from {self.measured.samples} completed migrations, blended with the assumed range"
            if self.measured
            else "assumed"
        )
        return (
            f"{link}, {self.efficiency_low:.0%}–{self.efficiency_high:.0%} of it usable ({source}); "
            f"at most {self.per_migration_mbps:,.0f} Mbps per migration and {self.ix_total_mbps:,.0f} Mbps "
            f"through {self.ix_appliances} IX appliance{'s' if self.ix_appliances != 1 else ''}; "
            f"Bulk/RAV up to {self.replication_slots} in parallel, vMotion/Cold one at a time; "
            f"estimate {self.confidence}"
        )

    def as_dict(self) -> dict:
        return {
            "bandwidth_mbps": self.bandwidth_mbps,
            "efficiency_low": self.efficiency_low,
            "efficiency_high": self.efficiency_high,
            "efficiency_source": "measured" if self.measured else "assumed",
            "measured_samples": self.measured.samples if self.measured else 0,
            "measured_weight": round(self.measured_weight, 3),
            "confidence": self.confidence,
            "per_migration_mbps": self.per_migration_mbps,
            "ix_mbps": self.ix_mbps,
            "ix_appliances": self.ix_appliances,
            "replication_slots": self.replication_slots,
            "switchover_minutes": {k: list(v) for k, v in self.switchover_minutes.items()},
            "text": self.line,
        }


def replication_slots() -> int:
    limits = settings.HCX_LIMITS
    return min(limits["MAX_REPLICATIONS_PER_MESH"], limits["MAX_REPLICATIONS_PER_MANAGER"])


def assumptions_for(site=None, *, bandwidth_mbps: float | None = None) -> Assumptions:
    """The assumptions for a wave of `site` (an hcx.HcxPlan, or None when the wave has none yet)."""
    conf, limits = settings.MIGRATION_ESTIMATES, settings.HCX_LIMITS
    if bandwidth_mbps is None and site is not None:
        bandwidth_mbps = site.bandwidth_mbps
    measured = measured_throughput(site)
    low, high = conf["EFFICIENCY_LOW_PCT"] / 100, conf["EFFICIENCY_HIGH_PCT"] / 100
    weight = 0.0
    if measured is not None:
        # The assumed range as CALIBRATION_PRIOR_SAMPLES copies, the measured one as its samples.
        weight = measured.samples / (measured.samples + max(0, conf["CALIBRATION_PRIOR_SAMPLES"]))
        low = round(weight * measured.efficiency_low + (1 - weight) * low, 4)
        high = round(weight * measured.efficiency_high + (1 - weight) * high, 4)
    return Assumptions(
        bandwidth_mbps=bandwidth_mbps or None,
        efficiency_low=min(low, high),
        efficiency_high=max(low, high),
        per_migration_mbps=limits["MIGRATION_MBPS_MAX"],
        ix_mbps=limits["IX_APPLIANCE_MBPS_MAX"],
        ix_appliances=max(1, conf["IX_APPLIANCES"]),
        replication_slots=replication_slots(),
        switchover_minutes={t: tuple(conf[f"{t.upper()}_SWITCHOVER_MINUTES"]) for t in MigrationType.values},
        measured=measured,
        measured_weight=weight,
    )


# --- Loads and estimates -----------------------------------------------------------------------


@dataclass(slots=True)
class Load:
    """The VMs of one migration type in a wave: how many, their MiB together, the biggest one."""

    migration_type: str
    vms: int = 0
    total_mib: int = 0
    largest_mib: int = 0

    def add(self, vms: int, total_mib: int, largest_mib: int) -> None:
        self.vms += vms
        self.total_mib += total_mib
        self.largest_mib = max(self.largest_mib, largest_mib)


def merge_loads(*groups) -> dict[str, Load]:
    """Sum several {type: Load} mappings (a wave and a group it may take, say)."""
    merged: dict[str, Load] = {}
    for loads in groups:
        for t, load in loads.items():
            merged.setdefault(t, Load(t)).add(load.vms, load.total_mib, load.largest_mib)
    return merged


@dataclass
class TypeEstimate:
    migration_type: str
    vms: int
    total_mib: int
    transfer: Span | None  # None: the link bandwidth is unknown
    switchover: Span
    in_window: Span | None
    pre_seed: bool

    @property
    def label(self) -> str:
        return MigrationType(self.migration_type).label

    @property
    def tb(self) -> float:
        return self.total_mib / MIB_PER_TB

    def as_dict(self) -> dict:
        return {
            "migration_type": self.migration_type,
            "vms": self.vms,
            "tb": round(self.tb, 3),
            "transfer": self.transfer.as_dict() if self.transfer is not None else None,
            "switchover": self.switchover.as_dict(),
            "in_window": self.in_window.as_dict() if self.in_window is not None else None,
            "pre_seed": self.pre_seed,
        }


def _transfer(load: Load, a: Assumptions) -> Span | None:
    if a.bandwidth_mbps is None:
        return None
    if load.vms == 0 or load.total_mib == 0:
        return Span()
    total_bits = load.total_mib * BITS_PER_MIB
    if load.migration_type in PARALLEL_TYPES:
        parallel = min(load.vms, a.replication_slots)
        pipe = a.pipe_mbps(parallel) * 1e6
        # One VM never goes faster than its own cap, however empty the link.
        own = min(a.per_migration_mbps, a.pipe_mbps(parallel)) * 1e6
        largest_bits = load.largest_mib * BITS_PER_MIB
        return Span(
            max(total_bits / (pipe * a.efficiency_high), largest_bits / (own * a.efficiency_high)),
            max(total_bits / (pipe * a.efficiency_low), largest_bits / (own * a.efficiency_low)),
        )
    single = a.single_mbps() * 1e6
    return Span(total_bits / (single * a.efficiency_high), total_bits / (single * a.efficiency_low))


def _switchover(load: Load, a: Assumptions) -> Span:
    low, high = a.switchover_minutes.get(load.migration_type, (0, 0))
    if load.migration_type in SERIAL_SWITCHOVER_TYPES:
        rounds = load.vms
    else:
        rounds = math.ceil(load.vms / a.replication_slots) if load.vms else 0
    return Span(rounds * low * 60, rounds * high * 60)


def estimate_type(load: Load, a: Assumptions) -> TypeEstimate:
    transfer = _transfer(load, a)
    switchover = _switchover(load, a)
    pre_seed = load.migration_type in PARALLEL_TYPES
    if pre_seed:
        in_window = switchover
    else:
        in_window = transfer + switchover if transfer is not None else None
    return TypeEstimate(
        load.migration_type, load.vms, load.total_mib, transfer, switchover, in_window, pre_seed
    )


@dataclass
class WaveEstimate:
    types: list[TypeEstimate]
    assumptions: Assumptions
    window_seconds: float | None
    transfer: Span | None
    switchover: Span
    in_window: Span | None
    pre_seed: Span | None  # Bulk/RAV initial sync that must be done before the window starts
    longest_vms: list = field(default_factory=list)

    @property
    def vms(self) -> int:
        return sum(t.vms for t in self.types)

    @property
    def tb(self) -> float:
        return sum(t.total_mib for t in self.types) / MIB_PER_TB

    @property
    def fits(self) -> bool | None:
        """True when the slow end fits the window; None when there is no window or no bandwidth, or
        no VMs (an empty wave moves nothing: "fits its window" would tell a planner it is ready)."""
        if not self.types or self.window_seconds is None or self.in_window is None:
            return None
        return self.in_window.high <= self.window_seconds

    @property
    def verdict(self) -> str:
        if not self.types:
            return "No VMs yet."
        if self.in_window is None:
            return "Set the wave's site (its link bandwidth) to estimate the transfer."
        if self.window_seconds is None:
            return f"Needs {self.in_window.text} of change window; no window set yet."
        window = human_duration(self.window_seconds)
        if self.fits:
            return f"Fits the {window} window: needs {self.in_window.text}."
        if self.in_window.low <= self.window_seconds:
            return f"May not fit the {window} window: needs {self.in_window.text}; only the fast end fits."
        return f"Does not fit the {window} window: needs {self.in_window.text}."

    def as_dict(self) -> dict:
        return {
            "vms": self.vms,
            "tb": round(self.tb, 3),
            "transfer": self.transfer.as_dict() if self.transfer is not None else None,
            "switchover": self.switchover.as_dict(),
            "in_window": self.in_window.as_dict() if self.in_window is not None else None,
            "pre_seed": self.pre_seed.as_dict() if self.pre_seed is not None else None,
            "window_seconds": round(self.window_seconds) if self.window_seconds is not None else None,
            "fits": self.fits,
            "verdict": self.verdict,
            "types": [t.as_dict() for t in self.types],
            "assumptions": self.assumptions.as_dict(),
            "longest_vms": self.longest_vms,
        }


def estimate_loads(
    loads: dict[str, Load], a: Assumptions, window_seconds: float | None = None
) -> WaveEstimate:
    """The estimate of a wave, real or proposed, from its per-type loads."""
    types = [
        estimate_type(load, a)
        for t, load in sorted(loads.items(), key=lambda kv: TYPE_ORDER.get(kv[0], 99))
        if load.vms
    ]
    transfer: Span | None = Span() if a.bandwidth_mbps is not None else None
    switchover, in_window, pre_seed = Span(), Span(), Span()
    for t in types:
        switchover += t.switchover
        if transfer is not None:
            transfer += t.transfer
            in_window += t.in_window
            if t.pre_seed:
                pre_seed += t.transfer
    if transfer is None:
        in_window = pre_seed = None
        # Without bandwidth, a wave of only Bulk/RAV still has a known in-window need: its switchover.
        if types and all(t.pre_seed for t in types):
            in_window = switchover
    return WaveEstimate(types, a, window_seconds, transfer, switchover, in_window, pre_seed)


# --- Per VM ------------------------------------------------------------------------------------


def vm_mib(used_mib: int | None, provisioned_mib: int | None) -> int:
    """What a VM moves: its used storage, or the provisioned size when used is unknown."""
    return used_mib or provisioned_mib or 0


def estimate_vm(
    mib: int, migration_type: str, a: Assumptions, *, sharing_with: int = 1
) -> tuple[Span | None, Span]:
    """One VM's (transfer, switchover). For Bulk/RAV the low end is the VM alone on the link and the
    high end its share when `sharing_with` VMs replicate at once; vMotion/Cold always run alone."""
    low_sw, high_sw = a.switchover_minutes.get(migration_type, (0, 0))
    switchover = Span(low_sw * 60, high_sw * 60)
    if a.bandwidth_mbps is None:
        return None, switchover
    bits = mib * BITS_PER_MIB
    alone = a.single_mbps() * 1e6
    if migration_type in PARALLEL_TYPES:
        parallel = max(1, min(sharing_with, a.replication_slots))
        shared = min(a.per_migration_mbps * 1e6, a.pipe_mbps(parallel) * 1e6 / parallel)
        return Span(bits / (alone * a.efficiency_high), bits / (shared * a.efficiency_low)), switchover
    return Span(bits / (alone * a.efficiency_high), bits / (alone * a.efficiency_low)), switchover


# --- From the database -------------------------------------------------------------------------


def _item_rows(wave_ids, default_type=None):
    """WaveItems annotated with their effective type and MiB, for aggregation in the database."""
    from migrations_app.models import WaveItem

    # The wave's default type: a literal when one wave is asked (no join), else the wave's column.
    fallback = Value(default_type) if default_type else F("wave__migration_type")
    return WaveItem.objects.filter(wave_id__in=wave_ids).annotate(
        mtype=Coalesce(NullIf("migration_type", Value("")), fallback),
        mib=Case(When(vm__used_mib__gt=0, then=F("vm__used_mib")), default=F("vm__provisioned_mib")),
    )


def loads_for_waves(waves) -> dict[int, dict[str, Load]]:
    """{wave id: {type: Load}} for several waves in one aggregate query."""
    waves = list(waves)
    if not waves:
        return {}
    default = waves[0].migration_type if len(waves) == 1 else None
    rows = (
        _item_rows([w.pk for w in waves], default)
        .values("wave_id", "mtype")
        .annotate(n=Count("id"), total=Sum("mib"), largest=Max("mib"))
        .order_by()
        .values_list("wave_id", "mtype", "n", "total", "largest")
    )
    result: dict[int, dict[str, Load]] = {w.pk: {} for w in waves}
    for wave_id, mtype, n, total, largest in rows:
        result[wave_id][mtype] = Load(mtype, n, int(total or 0), int(largest or 0))
    return result


def window_seconds_of(wave) -> float | None:
    if wave.window_start and wave.window_end and wave.window_end > wave.window_start:
        return (wave.window_end - wave.window_start).total_seconds()
    return None


def estimate_wave(wave, *, loads: dict[str, Load] | None = None, longest: int = 5) -> WaveEstimate:
    """The estimate of a saved wave: one aggregate query (plus one for its `longest` biggest VMs, and
    the site if not loaded yet), whatever the wave's size."""
    if loads is None:
        loads = loads_for_waves([wave])[wave.pk]
    a = assumptions_for(wave.site if wave.site_id else None)
    estimate = estimate_loads(loads, a, window_seconds_of(wave))
    if longest and loads:
        estimate.longest_vms = longest_vms(wave, a, estimate, limit=longest)
    return estimate


def vm_rows(wave):
    """The wave's VMs as (vm id, name, effective type, MiB) rows, by name: paginate it in the database."""
    return (
        _item_rows([wave.pk], wave.migration_type)
        .order_by("vm__name", "vm_id")
        .values_list("vm_id", "vm__name", "mtype", "mib")
    )


def vm_estimates(rows, a: Assumptions, estimate: WaveEstimate) -> list[dict]:
    """Each VM's own ranges, for rows of `vm_rows()` (a page of them). A Bulk/RAV VM sharing the link
    never takes longer than its whole type's transfer in the wave: as the others finish, it gets more."""
    parallel = sum(t.vms for t in estimate.types if t.pre_seed)
    ceiling = {
        t.migration_type: t.transfer.high for t in estimate.types if t.pre_seed and t.transfer is not None
    }
    result = []
    for vm_id, name, mtype, mib in rows:
        transfer, switchover = estimate_vm(int(mib or 0), mtype, a, sharing_with=parallel)
        if transfer is not None and mtype in ceiling:
            transfer = Span(transfer.low, max(transfer.low, min(transfer.high, ceiling[mtype])))
        result.append(
            {
                "vm": vm_id,
                "name": name,
                "migration_type": mtype,
                "type_label": str(MigrationType(mtype).label),
                "tb": round((mib or 0) / MIB_PER_TB, 3),
                "transfer": transfer.as_dict() if transfer is not None else None,
                "switchover": switchover.as_dict(),
            }
        )
    return result


def longest_vms(wave, a: Assumptions, estimate: WaveEstimate, *, limit: int = 5) -> list[dict]:
    """The wave's biggest VMs with their own ranges: the ones that set the pace."""
    rows = (
        _item_rows([wave.pk], wave.migration_type)
        .order_by("-mib", "vm__name")
        .values_list("vm_id", "vm__name", "mtype", "mib")[:limit]
    )
    return vm_estimates(rows, a, estimate)
