"""What an AVS cluster can hold, and whether waves fit in it.

Usable capacity of a target cluster, from its host type (settings.AVS_HOST_TYPES) and host count:

- **Hosts for workloads**: AVS sets vSphere HA admission control to N+1, so one host's worth of CPU
  and memory is held back for a host failure (settings.AVS_HA_SPARE_HOSTS). Storage still counts
  every host: vSAN spreads data over all of them, and a failed host's data is rebuilt into the
  slack space below.
- **Cores and vCPUs**: physical cores of the workload hosts (hyperthreads not counted), times the
  planned vCPU-per-core ratio (settings.AVS_VCPU_PER_CORE, default 4).
- **Memory**: host RAM of the workload hosts times settings.AVS_MEMORY_OVERCOMMIT (default 1.0: no
  overcommit).
- **vSAN**: the raw capacity tier of all hosts, divided by the copies the storage policy keeps (AVS's
  default policy is RAID-1 mirroring: FTT=1 keeps two copies, so it halves raw; FTT=n keeps n+1),
  less the slack space vSAN needs free (settings.AVS_VSAN_SLACK, 25%). Raw figures are SI TB as the
  host table gives them; the portal counts TB as vCenter does (1 TB = 1024 GiB = 2^40 bytes), so
  they are converted.
- **Not counted**: the management appliances (vCenter, NSX, HCX) that live in the first cluster of a
  private cloud, VM swap files and snapshots, and deduplication or compression. The figures are a
  planning bound, not a promise.

What a wave needs: the sum of its VMs' vCPUs, configured memory and *used* storage (AVS's vSAN
policy is thin provisioned, so a migrated VM occupies what it uses; provisioned storage is shown
beside it). The fit counts, besides the wave itself, every wave into the cluster that moves before
it or with it: those with a lower or the same order (`Wave.sequence`), and the running and completed
ones whatever their order (their VMs are there already, or on their way). A wave "fits" when all of
them together stay within the usable figures. A wave that moves later is not counted: it is the one
that does not fit if the cluster fills up, so planning more never blocks a wave planned earlier.
The auto-planner (planner/autoplan.py) reads the same figures: what every existing wave into the
cluster already takes, then its proposed waves one after another, each after all existing ones.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from migrations_app.choices import WaveStatus
from migrations_app.models import TargetCluster, Wave, WaveItem

MIB_PER_GB = 1024
MIB_PER_TB = 1024 * 1024
BYTES_PER_SI_TB = 10**12
BYTES_PER_TB = 2**40


def host_type(sku: str) -> dict:
    try:
        return settings.AVS_HOST_TYPES[sku]
    except KeyError:
        raise ValueError(f"no figures for the AVS host type {sku!r} in settings.AVS_HOST_TYPES") from None


@dataclass(frozen=True)
class Capacity:
    """A cluster's usable capacity, and how it was reached (for the page that explains it)."""

    sku: str
    hosts: int
    spare_hosts: int
    ftt: int
    cores: int
    vcpus: int
    memory_gb: float
    raw_tb: float  # SI TB, as Microsoft counts
    storage_tb: float  # usable, in portal TB (TiB)
    vcpu_per_core: float
    memory_overcommit: float
    slack: float

    @property
    def workload_hosts(self) -> int:
        return max(self.hosts - self.spare_hosts, 0)

    @property
    def memory_mib(self) -> float:
        return self.memory_gb * MIB_PER_GB

    @property
    def storage_mib(self) -> float:
        return self.storage_tb * MIB_PER_TB


def usable_capacity(cluster: TargetCluster) -> Capacity:
    figures = host_type(cluster.sku)
    spare = settings.AVS_HA_SPARE_HOSTS
    workload_hosts = max(cluster.hosts - spare, 0)
    cores = figures["cores"] * workload_hosts
    copies = (cluster.failures_to_tolerate or 0) + 1  # RAID-1 mirroring: FTT=n keeps n+1 copies
    raw_tb = figures["vsan_raw_tb"] * cluster.hosts
    storage_tb = raw_tb * BYTES_PER_SI_TB / BYTES_PER_TB / copies * (1 - settings.AVS_VSAN_SLACK)
    return Capacity(
        sku=cluster.sku,
        hosts=cluster.hosts,
        spare_hosts=spare,
        ftt=cluster.failures_to_tolerate,
        cores=cores,
        vcpus=int(cores * settings.AVS_VCPU_PER_CORE),
        memory_gb=figures["memory_gb"] * workload_hosts * settings.AVS_MEMORY_OVERCOMMIT,
        raw_tb=raw_tb,
        storage_tb=storage_tb,
        vcpu_per_core=settings.AVS_VCPU_PER_CORE,
        memory_overcommit=settings.AVS_MEMORY_OVERCOMMIT,
        slack=settings.AVS_VSAN_SLACK,
    )


@dataclass
class Totals:
    """What a set of wave items adds up to (MiB as the inventory stores them)."""

    vms: int = 0
    vcpus: int = 0
    memory_mib: int = 0
    provisioned_mib: int = 0
    used_mib: int = 0

    @property
    def memory_gb(self) -> float:
        return self.memory_mib / MIB_PER_GB

    @property
    def provisioned_tb(self) -> float:
        return self.provisioned_mib / MIB_PER_TB

    @property
    def used_tb(self) -> float:
        return self.used_mib / MIB_PER_TB

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(
            *(
                getattr(self, f) + getattr(other, f)
                for f in ("vms", "vcpus", "memory_mib", "provisioned_mib", "used_mib")
            )
        )


_SUMS = {
    "vms": Count("pk"),
    "vcpus": Coalesce(Sum("vm__num_cpu"), 0),
    "memory_mib": Coalesce(Sum("vm__memory_mib"), 0),
    "provisioned_mib": Coalesce(Sum("vm__provisioned_mib"), 0),
    "used_mib": Coalesce(Sum("vm__used_mib"), 0),
}


def totals(items) -> Totals:
    """One aggregate query over a WaveItem queryset."""
    return Totals(**items.aggregate(**_SUMS))


def wave_totals(wave: Wave) -> Totals:
    return totals(WaveItem.objects.filter(wave=wave))


@dataclass
class Resource:
    """One line of the fit: what this wave needs, what the other waves into the cluster need, and
    what the cluster offers (all in one unit)."""

    label: str
    unit: str
    wave: float
    others: float
    usable: float

    @property
    def planned(self) -> float:
        return self.wave + self.others

    @property
    def fits(self) -> bool:
        return self.planned <= self.usable

    @property
    def percent(self) -> float:
        return 100.0 * self.planned / self.usable if self.usable else float("inf")

    @property
    def short(self) -> float:
        return max(self.planned - self.usable, 0)


@dataclass
class Fit:
    cluster: TargetCluster
    capacity: Capacity
    resources: list[Resource] = field(default_factory=list)
    other_waves: int = 0

    @property
    def fits(self) -> bool:
        return all(r.fits for r in self.resources)

    @property
    def problems(self) -> list[str]:
        return [
            f"{r.label}: {r.planned:,.1f} {r.unit} planned into {self.cluster.name}, {r.usable:,.1f} usable "
            f"({r.short:,.1f} {r.unit} short)"
            for r in self.resources
            if not r.fits
        ]


# Waves whose VMs are in the cluster already, or on their way: they count against any wave.
LANDED = (WaveStatus.RUNNING, WaveStatus.COMPLETED)


def moves_before_or_with(sequence: int) -> Q:
    """The waves a wave of order `sequence` shares its cluster with when it moves (a WaveItem filter)."""
    return Q(wave__sequence__lte=sequence) | Q(wave__status__in=LANDED)


def other_waves_totals(
    cluster: TargetCluster, exclude_wave_pk=None, *, up_to_sequence: int | None = None
) -> tuple[Totals, int]:
    """Everything the other waves into `cluster` add up to, in one query, and how many waves that is;
    with `up_to_sequence`, only those that move before or with a wave of that order."""
    items = WaveItem.objects.filter(wave__target_cluster=cluster)
    if exclude_wave_pk is not None:
        items = items.exclude(wave_id=exclude_wave_pk)
    if up_to_sequence is not None:
        items = items.filter(moves_before_or_with(up_to_sequence))
    row = items.aggregate(**_SUMS, waves=Count("wave", distinct=True))
    count = row.pop("waves")
    return Totals(**row), count


def fit(
    wave_totals_: Totals, cluster: TargetCluster, exclude_wave_pk=None, *, sequence: int | None = None
) -> Fit:
    """Does the wave, with the other waves into its cluster (with `sequence`: those that move before
    or with it), fit the cluster's usable capacity?"""
    capacity = usable_capacity(cluster)
    others, count = other_waves_totals(cluster, exclude_wave_pk, up_to_sequence=sequence)
    return _fit(wave_totals_, others, count, cluster, capacity)


def _fit(own: Totals, others: Totals, count: int, cluster: TargetCluster, capacity: Capacity) -> Fit:
    resources = [
        Resource("vCPUs", "vCPU", own.vcpus, others.vcpus, capacity.vcpus),
        Resource("Memory", "GiB", own.memory_gb, others.memory_gb, capacity.memory_gb),
        Resource("vSAN storage (used)", "TiB", own.used_tb, others.used_tb, capacity.storage_tb),
    ]
    return Fit(cluster=cluster, capacity=capacity, resources=resources, other_waves=count)


def fits_in_order(cluster: TargetCluster, waves: list[Wave]) -> dict[int, Fit]:
    """{wave id: its fit, as fit_for_wave gives it} for several waves into `cluster`, in one query
    whatever their number (accepting a whole proposal checks each of its waves)."""
    capacity = usable_capacity(cluster)
    rows = (
        WaveItem.objects.filter(wave__target_cluster=cluster)
        .values("wave_id", "wave__sequence", "wave__status")
        .annotate(**_SUMS)
        .order_by()
    )
    per_wave = [(r.pop("wave_id"), r.pop("wave__sequence"), r.pop("wave__status"), Totals(**r)) for r in rows]
    fits = {}
    for wave in waves:
        own, others, count = Totals(), Totals(), 0
        for pk, sequence, status, sums in per_wave:
            if pk == wave.pk:
                own = sums
            elif sequence <= wave.sequence or status in LANDED:  # moves_before_or_with(), in Python
                others, count = others + sums, count + 1
        fits[wave.pk] = _fit(own, others, count, cluster, capacity)
    return fits


def fit_for_wave(wave: Wave, wave_totals_: Totals | None = None) -> Fit | None:
    """The wave's fit against its target cluster; None when it has none yet."""
    if wave.target_cluster_id is None:
        return None
    # Only the waves that move before it or with it: a wave planned later (an accepted auto-plan
    # proposal, say) cannot make this one stop fitting; if the cluster is full, the later one is told.
    return fit(
        wave_totals_ or wave_totals(wave),
        wave.target_cluster,
        exclude_wave_pk=wave.pk,
        sequence=wave.sequence,
    )


@dataclass
class CapWarning:
    label: str
    value: float
    cap: float
    unit: str

    def __str__(self):
        if self.unit == "VMs":
            return f"{int(self.value):,} VMs, over the cap of {int(self.cap):,}"
        return f"{self.value:,.2f} {self.unit} used, over the cap of {self.cap:,.2f} {self.unit}"


def cap_warnings(wave: Wave, wave_totals_: Totals) -> list[CapWarning]:
    """The wave's own caps (VMs, TB of used storage) that its VMs go over."""
    warnings = []
    if wave.max_vms is not None and wave_totals_.vms > wave.max_vms:
        warnings.append(CapWarning("VMs", wave_totals_.vms, wave.max_vms, "VMs"))
    if wave.max_tb is not None and Decimal(str(round(wave_totals_.used_tb, 6))) > Decimal(str(wave.max_tb)):
        warnings.append(CapWarning("Used storage", wave_totals_.used_tb, float(wave.max_tb), "TiB"))
    return warnings
