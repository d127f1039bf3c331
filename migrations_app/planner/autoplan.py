"""The auto-planner: from groups (and VMs) not yet in a wave, a proposed wave plan.

The algorithm, in plain words
-----------------------------
1. **Units.** Every dependency group not yet in a wave is one unit: it is placed whole or not at all,
   so a group never spans two waves. With "include ungrouped VMs" (the default), each VM in no group
   and no wave is a unit of its own. A group some of whose VMs are already in a wave is left out
   (listed as not placed, with the waves it is in): its rest belongs with them, by hand.
2. **Dependencies between units.** A connection from a VM of unit A to a VM of unit B means A depends
   on B (A calls B). The rule: *move together where they fit, else the dependency first* — B goes in
   the same wave as A or an earlier one, never a later one, so that when A moves everything it needs
   is already there (or moves with it). Units that depend on each other in a circle (A needs B, B
   needs A, perhaps through others) form a **cycle**; a cycle is reported, and its units are kept in
   one wave when they fit in one together, else placed one by one (the proposal says so).
3. **Order.** Lower group priority moves earlier. A unit that a more urgent unit depends on inherits
   that urgency (else the urgent one would wait for it). Ungrouped VMs have the default priority.
   Among equals, bigger units go first (first-fit decreasing packs tighter), then by name.
4. **Pilot.** The first wave is a small pilot made of **low-risk groups**: those that depend on no
   other unit first, then the ones with the fewest connections, the smallest first, up to the pilot
   caps. Its point is to prove the path (network, HCX, runbook) before anything important moves;
   priorities do not apply to it, and neither does the dependency order (a pilot group whose
   dependencies move later reaches them back over the link, which the pilot then proves too; the
   proposal says so). With no low-risk group there is no pilot, and the proposal says why.
5. **Waves.** The change windows come from the calendar (first start, length, weekdays, blackout
   dates skipped), one wave per window. For each window, greedy first fit: take the next ready unit
   (all it depends on is placed) in the order above, preferring units connected to what is already in
   this wave (that is "move together"); add it if the wave still respects: the VM cap, the TB cap,
   HCX's concurrent replications for its Bulk/RAV VMs (the smaller of the per-mesh and per-manager
   limits), and the change window, by the estimates module (Bulk/RAV only need their switchover in
   the window, the initial sync runs before; vMotion and Cold transfer one VM at a time inside it, so
   their durations add up). A unit that does not fit waits for the next window. The wave closes when
   it is full or after `MISFIT_SCAN` units in a row did not fit (so 10,000 units plan in seconds).
6. **The target cluster.** With a target cluster, what it has left (`Room`: its usable vCPUs, memory
   and vSAN storage after N+1, FTT and slack, less what every wave already planned into it takes,
   both from waves/capacity.py) is shared by all proposed waves, one after another: a unit goes in
   only if it fits what the waves before it and the units already in its wave leave. The room only
   shrinks, so a unit that does not fit is left out for good ("no room left in Cluster-1: needs
   4.2 TiB of vSAN storage, 1.1 TiB left after Wave 03"), and the next unit is tried.
7. **Not placed.** A unit that does not fit even an empty wave (too many VMs, too many TB, more
   Bulk/RAV VMs than HCX replicates at once, or longer than a window) is listed with the reason.
   Units that depend on it are still placed, with a note. Units left when the windows run out are
   listed too. (Units HCX cannot reach from the site are left out before planning: proposals.py.)
8. **Why.** Each wave says in words why it holds what it holds and why it closed.

The functions here take plain data (no database), so the benchmark can time the algorithm alone;
`proposals.py` loads the units from the database and stores the result as a PlanProposal.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import networkx as nx

from hcx.choices import MigrationType

from ..choices import Risk
from .calendar import Window, WindowCalendar
from .estimates import (
    MIB_PER_TB,
    PARALLEL_TYPES,
    Assumptions,
    Load,
    estimate_loads,
    human_duration,
    merge_loads,
)

# Units looked at without success before a wave is closed (see step 5 of the docstring).
MISFIT_SCAN = 200
DEFAULT_PRIORITY = 100
# How many names a "why" sentence lists before "and N more".
NAMES_IN_WHY = 4


@dataclass
class Unit:
    """A group, or a VM in no group: what the planner places whole."""

    key: str  # "g<group id>" or "v<vm id>"
    name: str
    vm_ids: list[int]
    loads: dict[str, Load]
    group_id: int | None = None
    priority: int = DEFAULT_PRIORITY
    risk: str | None = None
    # VMs whose type differs from the plan's default (powered-off VMs move Cold): {vm id: type}.
    overrides: dict[int, str] = field(default_factory=dict)
    external: int = 0  # connections to endpoints outside the inventory
    connections: int = 0  # connections to other units or VMs already in waves
    # What it takes in the target cluster, counted as waves/capacity.py counts it: vCPUs, configured
    # memory and used storage (MiB).
    vcpus: int = 0
    memory_mib: int = 0
    storage_mib: int = 0
    # Totals, computed once: the packing loop reads them for every candidate.
    vms: int = field(init=False)
    mib: int = field(init=False)
    parallel: int = field(init=False)

    def __post_init__(self):
        self.vms = len(self.vm_ids)
        self.mib = sum(load.total_mib for load in self.loads.values())
        self.parallel = sum(load.vms for t, load in self.loads.items() if t in PARALLEL_TYPES)

    @property
    def need(self) -> tuple[int, int, int]:
        return (self.vcpus, self.memory_mib, self.storage_mib)


Need = tuple[float, float, float]  # vCPUs, MiB of memory, MiB of used storage
NOTHING: Need = (0, 0, 0)


def _plus(a: Need, b: Need) -> Need:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _tb(mib: float) -> str:
    tb = mib / MIB_PER_TB
    return f"{tb:,.1f} TiB" if tb >= 1 else f"{tb:.2f} TiB"


@dataclass
class Room:
    """The target cluster's room for a proposal: its usable capacity and what the waves already planned
    into it take (both from waves/capacity.py, so the proposal and the wave page agree)."""

    cluster: str
    usable: Need
    planned: Need
    planned_waves: int = 0
    # A proposed wave's name from its number, as the proposal will show it.
    label: Callable[[int], str] = field(default=lambda number: f"wave {number}")

    def fits(self, used: Need, need: Need) -> bool:
        """`need` fits beside `used` (what the proposal placed so far) and the planned waves."""
        return all(
            p + u + n <= cap for cap, p, u, n in zip(self.usable, self.planned, used, need, strict=True)
        )

    def refusal(self, used: Need, need: Need, after_wave: int) -> str:
        """Why `need` does not fit once proposed waves 1..`after_wave` took `used`, in a planner's words."""
        left = [max(cap - p - u, 0) for cap, p, u in zip(self.usable, self.planned, used, strict=True)]
        words = (
            lambda n, rest: f"needs {n:,.0f} vCPUs, {rest:,.0f} left",
            lambda n, rest: f"needs {n / 1024:,.0f} GiB of memory, {rest / 1024:,.0f} GiB left",
            lambda n, rest: f"needs {_tb(n)} of vSAN storage, {_tb(rest)} left",
        )
        short = [say(n, rest) for say, n, rest in zip(words, need, left, strict=True) if n > rest]
        if after_wave:
            after = f"after {self.label(after_wave)}"
        elif self.planned_waves:
            after = f"after the {self.planned_waves} wave{'s' if self.planned_waves != 1 else ''} already planned into it"
        else:
            after = "with nothing planned into it yet"
        return f"no room left in {self.cluster}: {'; '.join(short) or 'needs more than is left'} {after}"


@dataclass(frozen=True)
class PlanInputs:
    migration_type: str = MigrationType.BULK
    max_vms: int = 50
    max_tb: float = 25.0
    pilot_max_vms: int = 10
    pilot_max_tb: float = 2.0
    include_ungrouped: bool = True
    cold_for_powered_off: bool = True
    name_prefix: str = "Wave"


@dataclass
class ProposedWave:
    number: int
    window: Window
    pilot: bool = False
    units: list[Unit] = field(default_factory=list)
    loads: dict[str, Load] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    closed_because: str = ""
    name: str = ""
    # Running totals, kept by add_units().
    vms: int = 0
    mib: int = 0
    parallel: int = 0
    need: Need = NOTHING  # in the target cluster

    def add_units(self, units: list[Unit], loads: dict[str, Load]) -> None:
        self.units.extend(units)
        self.loads = loads
        for u in units:
            self.vms += u.vms
            self.mib += u.mib
            self.parallel += u.parallel
            self.need = _plus(self.need, u.need)


@dataclass
class PlanResult:
    waves: list[ProposedWave]
    unplaced: list[tuple[Unit, str]]
    cycles: list[dict]
    skipped: list[tuple[Window, object]]
    pilot_note: str


class _Caps:
    """What a wave may hold; `refuse()` says why a unit does not fit, or None."""

    def __init__(self, inputs: PlanInputs, a: Assumptions, window_seconds: float, *, pilot: bool = False):
        self.a = a
        self.window_seconds = window_seconds
        self.max_vms = min(inputs.max_vms, inputs.pilot_max_vms) if pilot else inputs.max_vms
        max_tb = min(inputs.max_tb, inputs.pilot_max_tb) if pilot else inputs.max_tb
        self.max_tb = max_tb
        self.max_mib = max_tb * MIB_PER_TB
        self.pilot = pilot

    def refuse(self, vms: int, mib: int, parallel: int, loads: dict[str, Load]) -> str | None:
        label = "the pilot's" if self.pilot else "the"
        if vms > self.max_vms:
            return f"{vms} VMs: more than {label} cap of {self.max_vms} VMs per wave"
        if mib > self.max_mib:
            return f"{mib / MIB_PER_TB:.1f} TiB: more than {label} cap of {self.max_tb:g} TiB per wave"
        if parallel > self.a.replication_slots:
            return (
                f"{parallel} Bulk/RAV VMs: more than the {self.a.replication_slots} replications HCX runs "
                "at once per service mesh and manager"
            )
        need = estimate_loads(loads, self.a).in_window
        if need is not None and need.high > self.window_seconds:
            return (
                f"needs {need.text} in the change window, longer than the "
                f"{human_duration(self.window_seconds)} window"
            )
        return None


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:NAMES_IN_WHY])
    more = len(items) - NAMES_IN_WHY
    return f"{shown} and {more} more" if more > 0 else shown


def plan_waves(
    units: list[Unit],
    edges,
    inputs: PlanInputs,
    assumptions: Assumptions,
    calendar: WindowCalendar,
    room: Room | None = None,
) -> PlanResult:
    """Place `units` into waves. `edges`: (i, j) index pairs into `units`, unit i depends on unit j.
    `room`: the target cluster's, shared by all waves (None: no target cluster, capacity unchecked).

    The steps are those of the module docstring, one function or method each."""
    skipped: list = []
    windows = calendar.windows(skipped)
    first = next(windows, None)
    if first is None:
        return PlanResult(
            [], [(u, "no change window: the calendar gives none") for u in units], [], skipped, ""
        )
    # Every window has the same length, so the first one's caps hold for all.
    caps = _Caps(inputs, assumptions, first.seconds)
    deps = _dependencies(len(units), edges)
    members, scc_of, cycles = _keep_cycles_together(units, deps, caps, room)
    bundles = _Bundles(units, members, scc_of, deps)
    placement = _Placement(bundles, caps, room)

    pilot_note = placement.place_pilot(_Caps(inputs, assumptions, first.seconds, pilot=True), first)
    # The pilot, when there is one, took the first window.
    window = next(windows, None) if placement.waves else first
    while window is not None and placement.ready:
        if not placement.fill_wave(window):
            break
        window = next(windows, None)

    placement.word_no_room()
    unplaced = placement.left_over(calendar.max_windows)
    placement.note_dependencies()
    return PlanResult(placement.waves, unplaced, cycles, skipped, pilot_note)


def _dependencies(n: int, edges) -> list[set[int]]:
    """For each unit, the units it depends on (a unit depending on itself is no dependency)."""
    deps: list[set[int]] = [set() for _ in range(n)]
    for i, j in edges:
        if i != j:
            deps[i].add(j)
    return deps


def _need_of(units: list[Unit]) -> Need:
    total = NOTHING
    for u in units:
        total = _plus(total, u.need)
    return total


def _refusal_alone(caps: _Caps, room: Room | None, units: list[Unit], loads: dict[str, Load]) -> str | None:
    """Why `units` do not fit even an empty wave (caps, or the target cluster's room), or None."""
    reason = caps.refuse(
        sum(u.vms for u in units), sum(u.mib for u in units), sum(u.parallel for u in units), loads
    )
    need = _need_of(units)
    if reason is None and room is not None and not room.fits(NOTHING, need):
        reason = room.refusal(NOTHING, need, 0)
    return reason


def _keep_cycles_together(units: list[Unit], deps: list[set[int]], caps: _Caps, room: Room | None):
    """Bundles of unit indexes placed whole (step 2): each unit alone, except the units of a cycle that
    fit one wave together. Returns the bundles, each unit's cycle (strongly connected component) index,
    and the cycles as the proposal reports them."""
    n = len(units)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from((i, j) for i in range(n) for j in deps[i])
    scc_of = [0] * n
    bundles: list[list[int]] = []
    cycles: list[dict] = []
    for scc_index, members in enumerate(nx.strongly_connected_components(graph)):
        members = sorted(members, key=lambda u: (units[u].priority, units[u].name))
        for u in members:
            scc_of[u] = scc_index
        if len(members) == 1:
            bundles.append(members)
            continue
        member_units = [units[u] for u in members]
        reason = _refusal_alone(caps, room, member_units, merge_loads(*(u.loads for u in member_units)))
        cycle = {
            "units": [u.key for u in member_units],
            "names": [u.name for u in member_units],
            "together": reason is None,
        }
        if reason is None:
            bundles.append(members)
            cycle["why"] = "They depend on each other in a circle, so they move in one wave."
        else:
            bundles.extend([u] for u in members)
            cycle["why"] = (
                f"They depend on each other in a circle but cannot move in one wave ({reason}); placed one by one."
            )
        cycles.append(cycle)
    return bundles, scc_of, cycles


class _Bundles:
    """The bundles (lists of unit indexes placed whole), the dependencies between them, and their
    totals, computed once: the packing loop reads them for every candidate."""

    def __init__(self, units: list[Unit], members: list[list[int]], scc_of: list[int], deps: list[set[int]]):
        self.units = units
        self.members = members
        self.count = nb = len(members)
        self._link(scc_of, deps)
        self.vms = [sum(units[u].vms for u in members[b]) for b in range(nb)]
        self.mib = [sum(units[u].mib for u in members[b]) for b in range(nb)]
        self.parallel = [sum(units[u].parallel for u in members[b]) for b in range(nb)]
        self.name = [units[members[b][0]].name for b in range(nb)]
        self.loads = [self._merged_loads(b) for b in range(nb)]
        self.need: list[Need] = [_need_of(self.units_of(b)) for b in range(nb)]
        self.priority = self._inherited_priority()

    def units_of(self, b: int) -> list[Unit]:
        return [self.units[u] for u in self.members[b]]

    def _merged_loads(self, b: int) -> dict[str, Load]:
        members = self.members[b]
        if len(members) == 1:
            return self.units[members[0]].loads
        return merge_loads(*(self.units[u].loads for u in members))

    def _link(self, scc_of: list[int], deps: list[set[int]]) -> None:
        """Unit dependencies become bundle dependencies (`deps`, and the reverse `dependants`)."""
        nb = self.count
        bundle_of = [0] * len(self.units)
        for b, members in enumerate(self.members):
            for u in members:
                bundle_of[u] = b
        self.deps: list[set[int]] = [set() for _ in range(nb)]
        self.dependants: list[set[int]] = [set() for _ in range(nb)]
        # Units of a cycle placed one by one still prefer each other's wave ("together"), without order.
        self.siblings: list[set[int]] = [set() for _ in range(nb)]
        for i, unit_deps in enumerate(deps):
            for j in unit_deps:
                bi, bj = bundle_of[i], bundle_of[j]
                if bi == bj:
                    continue
                if scc_of[i] == scc_of[j]:
                    self.siblings[bi].add(bj)
                    self.siblings[bj].add(bi)
                else:
                    self.deps[bi].add(bj)
                    self.dependants[bj].add(bi)

    def _inherited_priority(self) -> list[int]:
        """Each bundle's priority, lowered to that of the most urgent bundle depending on it (step 3):
        else the urgent one would wait for it."""
        nb = self.count
        eff = [min(u.priority for u in self.units_of(b)) for b in range(nb)]
        graph = nx.DiGraph()
        graph.add_nodes_from(range(nb))
        graph.add_edges_from((b, d) for b in range(nb) for d in self.deps[b])
        for b in nx.topological_sort(graph):  # dependants come before what they depend on
            for d in self.deps[b]:
                if eff[b] < eff[d]:
                    eff[d] = eff[b]
        return eff


PENDING, PLACED, UNPLACED = 0, 1, 2


def _pop_pending(heap: list[tuple], state: list[int]) -> tuple | None:
    """The first entry of `heap` whose bundle is still pending (the others are dropped), or None."""
    while heap:
        entry = heapq.heappop(heap)
        if state[entry[-1]] == PENDING:
            return entry
    return None


class _Placement:
    """Where each bundle goes: the pilot, then the waves, window after window (steps 4 to 7)."""

    def __init__(self, bundles: _Bundles, caps: _Caps, room: Room | None):
        self.b = bundles
        self.caps = caps
        self.room = room
        nb = bundles.count
        self.state = [PENDING] * nb
        self.wave_of: list[int | None] = [None] * nb
        self.unplaced_why: dict[int, str] = {}
        self._leave_out_too_big()
        # Bundles too big for any wave are left out of `waiting`: resolving them as well counted them
        # twice and made a bundle ready before the rest of what it depends on was placed.
        self.waiting = [sum(1 for d in bundles.deps[b] if self.state[d] == PENDING) for b in range(nb)]
        self.ready: list[tuple] = []
        for b in range(nb):
            if self.state[b] == PENDING and self.waiting[b] == 0:
                heapq.heappush(self.ready, self._key(b))
        self.waves: list[ProposedWave] = []
        # What the waves closed so far take in the target cluster, and the bundles it had no room for
        # (with the wave being filled then: their reason is worded at the end, after that wave's total).
        self.closed_need: Need = NOTHING
        self.no_room: list[tuple[int, ProposedWave]] = []

    def _leave_out_too_big(self) -> None:
        """Bundles that do not fit even an empty wave are not placed (step 7)."""
        b = self.b
        for i in range(b.count):
            # The totals computed once, rather than _refusal_alone(): this runs for every bundle.
            reason = self.caps.refuse(b.vms[i], b.mib[i], b.parallel[i], b.loads[i])
            if reason is None and self.room is not None and not self.room.fits(NOTHING, b.need[i]):
                reason = self.room.refusal(NOTHING, b.need[i], 0)
            if reason is not None:
                self.state[i] = UNPLACED
                self.unplaced_why[i] = reason

    def _key(self, b: int) -> tuple:
        """The order of step 3: most urgent, then biggest, then by name."""
        return (self.b.priority[b], -self.b.mib[b], self.b.name[b], b)

    def _resolve(self, b: int, together: list | None) -> None:
        """b is placed or given up: what waited only for it becomes ready."""
        for a in self.b.dependants[b]:
            if self.state[a] != PENDING:
                continue
            self.waiting[a] -= 1
            if self.waiting[a] == 0:
                heapq.heappush(self.ready, self._key(a))
                if together is not None:
                    heapq.heappush(together, self._key(a))
        if together is not None:
            for s in self.b.siblings[b]:
                if self.state[s] == PENDING and self.waiting[s] == 0:
                    heapq.heappush(together, self._key(s))

    def _add(self, wave: ProposedWave, b: int) -> None:
        self.state[b] = PLACED
        self.wave_of[b] = wave.number
        wave.add_units(self.b.units_of(b), merge_loads(wave.loads, self.b.loads[b]))

    def _refuse(self, caps: _Caps, wave: ProposedWave, b: int) -> str | None:
        """Why b does not fit `wave` under `caps`, or None."""
        bs = self.b
        return caps.refuse(
            wave.vms + bs.vms[b],
            wave.mib + bs.mib[b],
            wave.parallel + bs.parallel[b],
            merge_loads(wave.loads, bs.loads[b]),
        )

    def _out_of_room(self, wave: ProposedWave, b: int) -> bool:
        """b does not fit what the cluster has left: it never will (the room only shrinks), so it is
        left out now, and what waited for it may go on."""
        if self.room is None or self.room.fits(_plus(self.closed_need, wave.need), self.b.need[b]):
            return False
        self.state[b] = UNPLACED
        self.no_room.append((b, wave))
        self._resolve(b, None)
        return True

    def _close(self, wave: ProposedWave) -> None:
        self.waves.append(wave)
        self.closed_need = _plus(self.closed_need, wave.need)

    # --- the pilot (step 4) ------------------------------------------------------------------------

    def _pilot_candidates(self) -> list[int]:
        """Low-risk groups, those depending on nothing first, then the fewest connections, the smallest."""
        bs = self.b
        candidates = [
            b
            for b in range(bs.count)
            if self.state[b] == PENDING
            and all(u.group_id is not None and u.risk == Risk.LOW for u in bs.units_of(b))
        ]
        candidates.sort(
            key=lambda b: (
                bool(bs.deps[b] or bs.siblings[b]),
                sum(u.connections + u.external for u in bs.units_of(b)),
                bs.vms[b],
                bs.mib[b],
                bs.priority[b],
                bs.name[b],
            )
        )
        return candidates

    def place_pilot(self, pilot_caps: _Caps, window: Window) -> str:
        """Fill the pilot wave in `window` if there is a low-risk group for it; the note when there is no pilot."""
        candidates = self._pilot_candidates()
        if not candidates:
            return "No pilot: no low-risk group. Mark small, simple groups Low risk to get one."
        wave = ProposedWave(number=1, window=window, pilot=True)
        left_out, no_room = self._fill_pilot(wave, candidates, pilot_caps)
        if wave.units:
            if left_out:
                wave.closed_because = (
                    f"the pilot stays within {pilot_caps.max_vms} VMs and {pilot_caps.max_tb:g} TiB"
                )
            elif no_room:
                wave.closed_because = (
                    f"{self.room.cluster} has no room left for the other low-risk groups (see Not placed)"
                )
            else:
                wave.closed_because = "there is no other low-risk group"
            self._close(wave)
            return ""
        if no_room and not left_out:
            return f"No pilot: {self.room.cluster} has no room left for any low-risk group (see Not placed)."
        return (
            f"No pilot: the smallest low-risk group is bigger than the pilot caps "
            f"({pilot_caps.max_vms} VMs, {pilot_caps.max_tb:g} TiB)."
        )

    def _fill_pilot(self, wave: ProposedWave, candidates: list[int], pilot_caps: _Caps) -> tuple[bool, bool]:
        """Add the candidates that fit; whether one was left out by the caps, and one for want of room."""
        left_out = no_room = False
        for b in candidates:
            if self._out_of_room(wave, b):
                no_room = True
                continue
            if self._refuse(pilot_caps, wave, b) is not None:
                left_out = True
                continue
            self._add(wave, b)
            # The dependency order does not apply to the pilot: what waited for b may go on.
            self._resolve(b, None)
            if self.b.deps[b]:
                wave.notes.append(
                    f"{self.b.name[b]} depends on {_names([self.b.name[d] for d in self.b.deps[b]])}, "
                    "which move later: the pilot reaches them back over the link."
                )
        return left_out, no_room

    # --- the waves (step 5) ------------------------------------------------------------------------

    def fill_wave(self, window: Window) -> bool:
        """Fill the next wave in `window` by greedy first fit; False when nothing could go in it."""
        wave = ProposedWave(number=len(self.waves) + 1, window=window)
        # Ready bundles connected to what is already in this wave, tried first ("move together").
        together: list[tuple] = []
        misfits: list[tuple] = []
        first_refusal = ""
        no_room_here = 0
        moved_with: list[str] = []
        while len(misfits) < MISFIT_SCAN and wave.vms < self.caps.max_vms:
            entry = _pop_pending(together, self.state)
            from_together = entry is not None
            if entry is None:
                entry = _pop_pending(self.ready, self.state)
            if entry is None:
                break
            b = entry[-1]
            if self._out_of_room(wave, b):
                no_room_here += 1
                continue
            reason = self._refuse(self.caps, wave, b)
            if reason is None:
                if from_together:
                    moved_with.append(self.b.name[b])
                self._add(wave, b)
                self._resolve(b, together)
            else:
                first_refusal = first_refusal or reason
                if not from_together:
                    misfits.append(entry)
        for entry in misfits:
            heapq.heappush(self.ready, entry)
        if not wave.units:
            # Every pending bundle fits an empty wave (same-length windows), so the ready ones were all
            # out of room in the target cluster, and nothing is left to place.
            return False
        wave.closed_because = self._closed_because(wave, first_refusal, no_room_here)
        if moved_with:
            wave.notes.append(f"Moves with what it is connected to: {_names(moved_with)}.")
        self._close(wave)
        return True

    def _closed_because(self, wave: ProposedWave, first_refusal: str, no_room_here: int) -> str:
        if wave.vms >= self.caps.max_vms:
            return f"it reached the cap of {self.caps.max_vms} VMs"
        if first_refusal:
            return f"the next unit would not fit ({first_refusal})"
        if no_room_here:
            return f"{self.room.cluster} has no room left for the rest (see Not placed)"
        return "everything is placed"

    # --- what was not placed, and why (steps 6 to 8) -----------------------------------------------

    def word_no_room(self) -> None:
        """Why the target cluster had no room for a bundle, worded after the wave that could not take it."""
        after: list[Need] = [NOTHING]
        for wave in self.waves:
            after.append(_plus(after[-1], wave.need))
        for b, wave in self.no_room:
            # Its wave closed with more in it than when b was tried, so b is further still from fitting.
            number = wave.number if wave.units else wave.number - 1
            self.unplaced_why[b] = self.room.refusal(after[number], self.b.need[b], number)

    def left_over(self, max_windows: int) -> list[tuple[Unit, str]]:
        """The units not placed, each with its reason."""
        unplaced: list[tuple[Unit, str]] = []
        for b in range(self.b.count):
            if self.state[b] == UNPLACED:
                reason = self.unplaced_why[b]
            elif self.state[b] == PENDING:
                reason = f"no window left: all {max_windows} windows considered are used"
            else:
                continue
            unplaced.extend((u, reason) for u in self.b.units_of(b))
        return unplaced

    def note_dependencies(self) -> None:
        """Notes on the waves: dependencies on something not placed, and on earlier waves."""
        bs = self.b
        by_number = {wave.number: wave for wave in self.waves}
        wave_of = self.wave_of
        for b in range(bs.count):
            if self.state[b] != PLACED:
                continue
            missing = [bs.name[d] for d in bs.deps[b] if self.state[d] != PLACED]
            if missing:
                by_number[wave_of[b]].notes.append(
                    f"{bs.name[b]} depends on {_names(missing)}, which could not be placed."
                )
            earlier = sorted(
                {wave_of[d] for d in bs.deps[b] if self.state[d] == PLACED and wave_of[d] < wave_of[b]}
            )
            if earlier:
                by_number[wave_of[b]].notes.append(
                    f"{bs.name[b]} follows what it depends on in wave{'s' if len(earlier) > 1 else ''} "
                    f"{_names([str(w) for w in earlier])}."
                )


def describe(wave: ProposedWave, inputs: PlanInputs) -> str:
    """The plain-words "why" of a wave."""
    groups = [u for u in wave.units if u.group_id is not None]
    singles = [u for u in wave.units if u.group_id is None]
    parts = []
    tb = wave.mib / MIB_PER_TB
    if wave.pilot:
        parts.append(
            f"Pilot: {len(groups)} low-risk group{'s' if len(groups) != 1 else ''}, those depending on nothing "
            f"else and with the fewest connections first ({_names([u.name for u in groups])}); {wave.vms} VMs, {tb:.2f} TiB. "
            "It proves the migration path before anything important moves."
        )
    else:
        if groups:
            lo, hi = min(u.priority for u in groups), max(u.priority for u in groups)
            prio = f"priority {lo}" if lo == hi else f"priorities {lo}–{hi}"
            parts.append(
                f"{len(groups)} group{'s' if len(groups) != 1 else ''} ({prio}), most urgent first: "
                f"{_names([u.name for u in groups])}."
            )
        if singles:
            parts.append(
                f"{len(singles)} VM{'s' if len(singles) != 1 else ''} in no group: {_names([u.name for u in singles])}."
            )
        parts.append(f"{wave.vms} VMs, {tb:.2f} TiB.")
    parts.extend(wave.notes[:6])
    if len(wave.notes) > 6:
        parts.append(f"({len(wave.notes) - 6} more dependency notes.)")
    overrides = sum(len(u.overrides) for u in wave.units)
    if overrides:
        parts.append(f"{overrides} powered-off VM{'s' if overrides != 1 else ''} move Cold.")
    if wave.closed_because:
        parts.append(f"Closed because {wave.closed_because}.")
    return " ".join(parts)


def window_text(start: datetime, end: datetime, zone) -> str:
    s, e = start.astimezone(zone), end.astimezone(zone)
    same_day = s.date() == e.date()
    return (
        f"{s:%a %Y-%m-%d %H:%M}–{e:%H:%M}" if same_day else f"{s:%a %Y-%m-%d %H:%M} – {e:%a %Y-%m-%d %H:%M}"
    )
