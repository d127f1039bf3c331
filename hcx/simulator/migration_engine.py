"""The engine that runs simulated HCX migrations through their phases (hcx-wire.md §9 and §10).

Lazy and deterministic, like the Work engine in state.py: nothing runs in the background. Every
request first calls `tick(now)`, which replays, in time order, each event between the previous tick
and `now` (a phase timer running out, a copy finishing, a switchover window opening), so a test that
advances the clock by ten hours sees exactly what ten hours of HCX would have done.

Phases (state names are our picks where hcx-wire.md §6 has none; the terminal ones are HCX's):
    VALIDATING -> [QUEUED] -> INITIAL_SYNC -> (Bulk, RAV) [WAITING_FOR_SWITCHOVER, with a DELTA_SYNC
    every delta-sync interval] -> SWITCHOVER -> CLEANUP -> MIGRATION_COMPLETE
    or MIGRATION_FAILED / MIGRATION_CANCELLED at any point. DRAFT is a migration defined in a
    mobility group but not started.

Three kinds of resource, each kept so that an event costs O(log n), never a scan of all migrations:
- Bandwidth: the migrations copying through one service mesh share its link (`link_mbps`) equally,
  each at most `migration_mbps_max` (1 Gbps per migration, KB 321604). Because every member of a pool
  gets the same rate, the pool keeps one running total of "bytes each member has received since the
  pool began"; a member's bytes are its start bytes plus the growth of that total, and the next copy
  to finish is a heap pop.
- Replication slots: Bulk and RAV hold one from the start of the initial sync to the end of the
  switchover; at most `max_per_mesh` per service mesh and `max_per_manager` in all (200 and 300,
  hcx-wire.md §10). Beyond that a migration is QUEUED, first come first served.
- The vMotion lane of a site pair: HCX vMotion and Cold migrations (whole) and RAV switchovers run one
  at a time per site pair (hcx-wire.md §10), in either direction: a reverse migration takes the same lane.

Reverse migrations (a rollback: from the paired cloud site back to this Manager's site) run through
the same phases and share the same link, slots and lanes. The engine keeps which VMs are at the remote
site (`at_remote`): a forward migration that completes puts a VM there, a reverse one that completes
brings it back, and only a VM that is there can be migrated back.
"""

import datetime
import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field

DRAFT = "DRAFT"
VALIDATING = "VALIDATING"
QUEUED = "QUEUED"
INITIAL_SYNC = "INITIAL_SYNC"
DELTA_SYNC = "DELTA_SYNC"
WAITING = "WAITING_FOR_SWITCHOVER"
SWITCHOVER = "SWITCHOVER"
CLEANUP = "CLEANUP"
COMPLETE = "MIGRATION_COMPLETE"
FAILED = "MIGRATION_FAILED"
CANCELLED = "MIGRATION_CANCELLED"
TERMINAL = frozenset({COMPLETE, FAILED, CANCELLED})
STATES = (
    DRAFT,
    VALIDATING,
    QUEUED,
    INITIAL_SYNC,
    DELTA_SYNC,
    WAITING,
    SWITCHOVER,
    CLEANUP,
    COMPLETE,
    FAILED,
    CANCELLED,
)

REPLICATED = frozenset({"Bulk", "RAV"})  # hold a replication slot; can wait for a switchover window
WHOLE_IN_LANE = frozenset({"vMotion", "Cold"})  # run entirely in the site pair's vMotion lane
BYTES_PER_MBIT = 125_000


@dataclass
class Settings:
    """What shapes the simulated migrations; `POST /__sim__/migration-settings` changes them."""

    link_mbps: float = 1000.0
    migration_mbps_max: float = 1000.0
    max_per_mesh: int = 200
    max_per_manager: int = 300
    validation_seconds: float = 30.0
    switchover_seconds: dict = field(
        default_factory=lambda: {"Bulk": 300.0, "RAV": 180.0, "vMotion": 60.0, "Cold": 60.0}
    )
    cleanup_seconds: float = 60.0
    delta_sync_interval: float = 7200.0  # Bulk's 2-hour RPO while it waits (hcx-wire.md §9.2)
    delta_sync_seconds: float = 120.0
    default_vm_bytes: int = 40 * 1024**3

    # The JSON names of the control endpoint, and what each must be.
    FIELDS = {
        "linkMbps": ("link_mbps", float),
        "migrationMbpsMax": ("migration_mbps_max", float),
        "maxReplicationsPerMesh": ("max_per_mesh", int),
        "maxReplicationsPerManager": ("max_per_manager", int),
        "validationSeconds": ("validation_seconds", float),
        "cleanupSeconds": ("cleanup_seconds", float),
        "deltaSyncIntervalSeconds": ("delta_sync_interval", float),
        "deltaSyncSeconds": ("delta_sync_seconds", float),
        "defaultVmBytes": ("default_vm_bytes", int),
    }

    def public(self) -> dict:
        data = {name: getattr(self, attr) for name, (attr, _) in self.FIELDS.items()}
        data["switchoverSeconds"] = dict(self.switchover_seconds)
        return data

    def update(self, changes: dict) -> None:
        """Apply `changes` (JSON names) all or nothing; ValueError says which value is wrong."""
        if not isinstance(changes, dict):
            raise ValueError("settings are a JSON object")
        staged = {}
        for name, value in changes.items():
            if name == "switchoverSeconds":
                if (
                    not isinstance(value, dict)
                    or not set(value) <= set(self.switchover_seconds)
                    or not all(isinstance(v, int | float) and v > 0 for v in value.values())
                ):
                    raise ValueError(
                        f"switchoverSeconds maps {sorted(self.switchover_seconds)} to seconds > 0"
                    )
                staged["switchover_seconds"] = {**self.switchover_seconds, **value}
                continue
            if name not in self.FIELDS:
                raise ValueError(
                    f"unknown setting {name!r}; known: {sorted([*self.FIELDS, 'switchoverSeconds'])}"
                )
            attr, kind = self.FIELDS[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value <= 0
                or (kind is int and value != int(value))
            ):
                raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number > 0")
            staged[attr] = kind(value)
        for attr, value in staged.items():
            setattr(self, attr, value)


@dataclass(eq=False)
class Migration:
    """One HCX migration as the engine sees it; migrations.py renders it in HCX's JSON."""

    id: str
    seq: int
    kind: str  # Bulk, vMotion, RAV or Cold
    api_type: str  # the migrationType the caller sent, echoed back
    entity_id: str
    entity_name: str
    group_id: str | None
    spec: dict
    username: str
    created: float
    size: int
    mesh_id: str | None = None
    pair: tuple = ()
    state: str = DRAFT
    since: float = 0.0
    updated: float = 0.0
    version: int = 0  # bumped on every state change; a timer set in an older state is ignored
    bytes_done: float = 0.0
    seed_bytes: float = 0.0
    message: str = ""
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    window_start: float | None = None
    window_end: float | None = None
    wait_reason: str | None = None  # "window", "missed" or "lane" while WAITING_FOR_SWITCHOVER
    wait_since: float | None = None  # end of the initial sync: delta syncs count from here
    fail_phase: str | None = None  # a migration_fault asks it to fail in this phase
    fail_message: str | None = None
    failed_in: str | None = None  # the phase it was in when it failed
    keep_seed: bool = False
    remove_seed: bool = False
    holds_slot: bool = False
    holds_lane: bool = False
    reverse: bool = False  # from the paired site back to this Manager's site (a rollback)
    log: list = field(default_factory=list)

    @property
    def seed_key(self) -> tuple:
        # Seed data lies at the destination, so a forward run's seed is no use to a reverse one.
        return self.entity_id, self.reverse


class LinkPool:
    """The migrations copying through one service mesh, sharing its link equally (see the module
    docstring): `total` is what each member has received since the pool began, valid at `at`."""

    def __init__(self, settings: Settings, now: float):
        self.settings = settings
        self.total = 0.0
        self.at = now
        self.members = {}  # migration id -> (total when it joined, its bytes then)
        self.heap = []  # (total at which it is done, seq, migration id)

    @property
    def rate(self) -> float:
        """Bytes per second each member gets now."""
        if not self.members:
            return 0.0
        mbps = min(self.settings.migration_mbps_max, self.settings.link_mbps / len(self.members))
        return mbps * BYTES_PER_MBIT

    def advance(self, t: float):
        if t > self.at:
            self.total += self.rate * (t - self.at)
            self.at = t

    def join(self, m: Migration, target_bytes: float):
        self.members[m.id] = (self.total, m.bytes_done)
        heapq.heappush(self.heap, (self.total + max(0.0, target_bytes - m.bytes_done), m.seq, m.id))

    def leave(self, m: Migration) -> float:
        joined, start_bytes = self.members.pop(m.id)
        return start_bytes + self.total - joined

    def bytes(self, m: Migration, now: float) -> float:
        joined, start_bytes = self.members[m.id]
        return start_bytes + self.total + self.rate * max(0.0, now - self.at) - joined

    def next_finish(self) -> float | None:
        while self.heap and self.heap[0][2] not in self.members:
            heapq.heappop(self.heap)  # it left early (cancelled or failed)
        if not self.heap:
            return None
        return self.at + max(0.0, self.heap[0][0] - self.total) / self.rate

    def pop_finished(self) -> str:
        return heapq.heappop(self.heap)[2]


@dataclass
class Lane:
    holder: str | None = None
    queue: deque = field(default_factory=deque)


def lane_key(pair: tuple) -> tuple:
    """One lane per site pair whatever the direction [U]: hcx-wire.md §10 says vMotion is serial
    "between a source and destination site", and we read that as the pair of sites."""
    return tuple(sorted(p or "" for p in pair))


def iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


class MigrationEngine:
    def __init__(self, migrations: dict, settings: Settings, now: float):
        self.migrations = migrations  # State.migrations: id -> Migration, in creation order
        self.settings = settings
        self.now = now
        self.seq = itertools.count()
        self.timers = []  # (time, seq, migration id, version or None, action)
        self.pools: dict[str, LinkPool] = {}
        self.slots_by_mesh: dict[str, int] = {}
        self.slots = 0
        self.replication_queues: dict[str, deque] = {}
        self.lanes: dict[tuple, Lane] = {}
        self.active_by_entity: dict[str, str] = {}  # VM id -> its migration that is neither draft nor over
        self.by_group: dict[str, list] = {}
        self.seeds: dict[tuple, float] = {}  # Migration.seed_key -> bytes kept by a failed/cancelled run
        self.at_remote: dict[str, str] = {}  # VM id -> the completed forward migration that put it there
        self.rolled_back: dict[str, str] = {}  # VM id -> the completed reverse migration that brought it back
        self.queries = 0  # migration queries answered: tests count them to check the paging

    # --- the clock ---------------------------------------------------------------------------
    def tick(self, now: float):
        while True:
            when, pool = self._next_event()
            if when is None or when > now:
                break
            when = max(when, self.now)
            for p in self.pools.values():
                p.advance(when)
            self.now = when
            if pool is None:
                self._fire(heapq.heappop(self.timers))
            else:
                self._copied(self.migrations[pool.pop_finished()], pool)
        for p in self.pools.values():
            p.advance(now)
        self.now = max(self.now, now)

    def _next_event(self):
        while self.timers and not self._timer_valid(self.timers[0]):
            heapq.heappop(self.timers)
        best, source = (self.timers[0][0], None) if self.timers else (None, None)
        for pool in self.pools.values():
            finish = pool.next_finish()
            if finish is not None and (best is None or finish < best):
                best, source = finish, pool
        return best, source

    def _timer_valid(self, entry) -> bool:
        m = self.migrations.get(entry[2])
        return m is not None and (entry[3] is None or entry[3] == m.version)

    def _timer(self, m: Migration, delay: float, action: str, *, any_version: bool = False):
        heapq.heappush(
            self.timers,
            (self.now + max(0.0, delay), next(self.seq), m.id, None if any_version else m.version, action),
        )

    def _fire(self, entry):
        m, action = self.migrations[entry[2]], entry[4]
        if action == "validated":
            if m.fail_phase == VALIDATING:
                return self._fail(m)
            self._ask_for_capacity(m)
        elif action == "window":
            self._try_switchover(m)
        elif action == "delta_fail":
            if m.state == WAITING:
                self._fail(m)
        elif action == "switched":
            if m.fail_phase == SWITCHOVER:
                return self._fail(m)
            self._release(m)
            self._enter(m, CLEANUP, "Switchover done; cleaning up the source and the replication")
            self._timer(m, self.settings.cleanup_seconds, "cleaned")
        elif action == "cleaned":
            if m.fail_phase == CLEANUP:
                return self._fail(m)
            self._finish(
                m,
                COMPLETE,
                "Reverse migration complete: the VM is back at the source site"
                if m.reverse
                else "Migration complete",
            )

    # --- transitions -------------------------------------------------------------------------
    def _enter(self, m: Migration, state: str, message: str, *, error: str | None = None):
        m.state, m.since, m.updated, m.version, m.message = state, self.now, self.now, m.version + 1, message
        if error:
            m.error = error
        m.log.append(
            {
                "status": state,
                "message": message,
                "errorMessage": error,
                "time": self.now,
                "bytesTransferred": int(m.bytes_done),
                "totalBytes": m.size,
            }
        )

    def add(self, m: Migration, *, draft: bool = False):
        """Record a migration: a draft of a mobility group, or one `start()` is given next."""
        self.migrations[m.id] = m
        if m.group_id:
            self.by_group.setdefault(m.group_id, []).append(m.id)
        if draft:
            m.since = m.updated = self.now
            m.message = "Draft: defined in its mobility group, not started"
            m.log.append(
                {
                    "status": DRAFT,
                    "message": m.message,
                    "errorMessage": None,
                    "time": self.now,
                    "bytesTransferred": 0,
                    "totalBytes": m.size,
                }
            )

    def forget(self, m: Migration):
        """Drop a draft (its mobility group was deleted)."""
        self.migrations.pop(m.id, None)
        if m.group_id in self.by_group:
            self.by_group[m.group_id] = [i for i in self.by_group[m.group_id] if i != m.id]

    def start(self, m: Migration):
        m.started = self.now
        self.active_by_entity[m.entity_id] = m.id
        if m.keep_seed and m.kind in REPLICATED and self.seeds.get(m.seed_key):
            m.seed_bytes = m.bytes_done = min(self.seeds.pop(m.seed_key), m.size)
        self._enter(
            m, VALIDATING, "Validating the reverse migration" if m.reverse else "Validating the migration"
        )
        self._timer(m, self.settings.validation_seconds, "validated")

    def _ask_for_capacity(self, m: Migration):
        s = self.settings
        if m.kind in REPLICATED:
            queue = self.replication_queues.setdefault(m.mesh_id, deque())
            if not self._waiting_in(queue, self._queued_for_slot) and self._slot_free(m.mesh_id):
                self._take_slot(m)
                return self._begin_copy(m)
            queue.append(m.id)
            if self.slots_by_mesh.get(m.mesh_id, 0) >= s.max_per_mesh:
                why = (
                    f"{s.max_per_mesh} Bulk/RAV replications already run on this service mesh, its limit; "
                    "this one starts when one of them ends"
                )
            elif self.slots >= s.max_per_manager:
                why = (
                    f"{s.max_per_manager} Bulk/RAV replications already run on this HCX Manager, its limit; "
                    "this one starts when one of them ends"
                )
            else:
                why = "Waiting behind earlier queued migrations for a replication slot"
            return self._enter(m, QUEUED, f"Queued: {why}")
        lane = self.lanes.setdefault(lane_key(m.pair), Lane())
        if lane.holder is None and not self._waiting_in(lane.queue, self._queued_for_lane):
            lane.holder, m.holds_lane = m.id, True
            return self._begin_copy(m)
        lane.queue.append(m.id)
        holder = self.migrations.get(lane.holder) if lane.holder else None
        self._enter(
            m,
            QUEUED,
            "Queued: HCX vMotion and Cold migrations run one at a time between a site pair"
            + (f"; {holder.entity_name} is migrating now" if holder else ""),
        )

    def _slot_free(self, mesh_id: str) -> bool:
        s = self.settings
        return self.slots < s.max_per_manager and self.slots_by_mesh.get(mesh_id, 0) < s.max_per_mesh

    def _take_slot(self, m: Migration):
        self.slots += 1
        self.slots_by_mesh[m.mesh_id] = self.slots_by_mesh.get(m.mesh_id, 0) + 1
        m.holds_slot = True

    def _queued_for_slot(self, m) -> bool:
        return m.state == QUEUED and m.kind in REPLICATED

    def _queued_for_lane(self, m) -> bool:
        return (m.state == QUEUED and m.kind in WHOLE_IN_LANE) or (
            m.state == WAITING and m.wait_reason == "lane"
        )

    def _waiting_in(self, queue: deque, still_waiting) -> bool:
        """Whether anyone still waits in `queue`; drops those at its head that stopped waiting."""
        while queue and not (queue[0] in self.migrations and still_waiting(self.migrations[queue[0]])):
            queue.popleft()
        return bool(queue)

    def _begin_copy(self, m: Migration):
        pool = self.pools.get(m.mesh_id)
        if pool is None:
            pool = self.pools[m.mesh_id] = LinkPool(self.settings, self.now)
        target = m.size
        if m.fail_phase == INITIAL_SYNC:
            target = m.bytes_done + (m.size - m.bytes_done) / 2  # fail half-way through the copy
        pool.join(m, target)
        what = "base sync (vMotion)" if m.kind == "vMotion" else "initial sync"
        seeded = f", reusing {int(m.seed_bytes)} bytes of seed data" if m.seed_bytes else ""
        self._enter(m, INITIAL_SYNC, f"Transfer in progress: {what} of {m.size} bytes{seeded}")

    def _copied(self, m: Migration, pool: LinkPool):
        m.bytes_done = pool.leave(m)
        if m.fail_phase == INITIAL_SYNC:
            return self._fail(m)
        m.bytes_done = float(m.size)
        if m.kind in WHOLE_IN_LANE:
            return self._switchover(m)
        m.wait_since = self.now
        if m.fail_phase == DELTA_SYNC:
            self._timer(m, self.settings.delta_sync_interval, "delta_fail", any_version=True)
        self._try_switchover(m)

    def _try_switchover(self, m: Migration):
        """Bulk and RAV once their initial sync is done: switch over now, or wait (window, lane)."""
        start, end = m.window_start, m.window_end
        if start and self.now < start:
            self._wait(
                m,
                "window",
                f"Initial sync done; waiting for the switchover window at {iso(start)}, "
                "with delta syncs until then",
            )
            return self._timer(m, start - self.now, "window")
        if end and self.now >= end:
            return self._wait(
                m,
                "missed",
                f"The switchover window ended at {iso(end)} before the switchover "
                "could start: set a new schedule",
            )
        if m.kind == "RAV":
            lane = self.lanes.setdefault(lane_key(m.pair), Lane())
            if lane.holder is not None or self._waiting_in(lane.queue, self._queued_for_lane):
                lane.queue.append(m.id)
                holder = self.migrations.get(lane.holder) if lane.holder else None
                return self._wait(
                    m,
                    "lane",
                    "Waiting for its turn: RAV switchovers run one at a time between a "
                    "site pair" + (f"; {holder.entity_name} is switching over now" if holder else ""),
                )
            lane.holder, m.holds_lane = m.id, True
        self._switchover(m)

    def _wait(self, m: Migration, reason: str, message: str):
        m.wait_reason = reason
        self._enter(m, WAITING, message)

    def _switchover(self, m: Migration):
        how = {
            "Bulk": "final delta sync, powering off the source and on the target",
            "RAV": "delta vMotion cutover",
            "vMotion": "vMotion switchover",
            "Cold": "registering and powering on at the target",
        }[m.kind]
        self._enter(m, SWITCHOVER, f"Switchover in progress: {how}")
        self._timer(m, self.settings.switchover_seconds[m.kind], "switched")

    def _release(self, m: Migration):
        pool = self.pools.get(m.mesh_id)
        if pool and m.id in pool.members:
            m.bytes_done = pool.leave(m)
        if m.holds_slot:
            m.holds_slot = False
            self.slots -= 1
            self.slots_by_mesh[m.mesh_id] -= 1
            self.admit_queued()
        if m.holds_lane:
            m.holds_lane = False
            lane = self.lanes[lane_key(m.pair)]
            lane.holder = None
            self._admit_lane(lane)

    def admit_queued(self):
        """Start queued Bulk/RAV migrations while there is room: the earliest first, whatever its
        mesh, skipping meshes that are full (O(meshes) per admission)."""
        while self.slots < self.settings.max_per_manager:
            best = None
            for mesh_id, queue in self.replication_queues.items():
                if (
                    self._waiting_in(queue, self._queued_for_slot)
                    and self.slots_by_mesh.get(mesh_id, 0) < self.settings.max_per_mesh
                ):
                    head = self.migrations[queue[0]]
                    if best is None or head.seq < best.seq:
                        best = head
            if best is None:
                return
            self.replication_queues[best.mesh_id].popleft()
            self._take_slot(best)
            self._begin_copy(best)

    def _admit_lane(self, lane: Lane):
        while lane.holder is None and self._waiting_in(lane.queue, self._queued_for_lane):
            m = self.migrations[lane.queue.popleft()]
            if m.state == WAITING and m.window_end and self.now >= m.window_end:
                self._wait(
                    m,
                    "missed",
                    f"The switchover window ended at {iso(m.window_end)} before its turn "
                    "came: set a new schedule",
                )
                continue
            lane.holder, m.holds_lane = m.id, True
            if m.state == QUEUED:
                self._begin_copy(m)
            else:
                self._switchover(m)

    def _finish(self, m: Migration, state: str, message: str, *, error: str | None = None):
        m.ended = self.now
        if self.active_by_entity.get(m.entity_id) == m.id:
            del self.active_by_entity[m.entity_id]
        if state == COMPLETE:
            if m.reverse:
                self.at_remote.pop(m.entity_id, None)
                self.rolled_back[m.entity_id] = m.id
            else:
                self.at_remote[m.entity_id] = m.id
                self.rolled_back.pop(m.entity_id, None)
        self._enter(m, state, message, error=error)

    def _fail(self, m: Migration):
        phase = m.failed_in = self.visible_state(m)
        self._release(m)
        self._keep_seed(m)
        message = m.fail_message or f"Simulated failure during {phase}"
        self._finish(m, FAILED, f"Migration failed during {phase}: {message}", error=message)

    def _keep_seed(self, m: Migration):
        # Seed Checkpoint (hcx-wire.md §9.3): a Bulk/RAV run keeps its copied disks for the next try.
        if m.keep_seed and m.kind in REPLICATED and m.bytes_done > 0 and not m.remove_seed:
            self.seeds[m.seed_key] = m.bytes_done

    # --- what callers may do ------------------------------------------------------------------
    def cancel(self, m: Migration, remove_seed: bool):
        m.remove_seed = remove_seed
        phase = m.state
        self._release(m)
        self._keep_seed(m)
        if remove_seed:
            self.seeds.pop(m.seed_key, None)
        self._finish(m, CANCELLED, f"Migration cancelled by the user during {phase}")

    def reschedule(self, m: Migration, start: float | None, end: float | None):
        m.window_start, m.window_end = start, end
        m.updated = self.now
        if m.state == WAITING:
            self._try_switchover(m)

    def settings_changed(self):
        self.admit_queued()

    # --- what a query shows --------------------------------------------------------------------
    def visible_state(self, m: Migration) -> str:
        """WAITING_FOR_SWITCHOVER shows as DELTA_SYNC while a periodic delta sync runs."""
        if m.state == WAITING and m.wait_since is not None:
            elapsed = self.now - m.wait_since
            done = int(elapsed // self.settings.delta_sync_interval)
            if (
                done >= 1
                and elapsed - done * self.settings.delta_sync_interval < self.settings.delta_sync_seconds
            ):
                return DELTA_SYNC
        return m.state

    def delta_syncs(self, m: Migration) -> int:
        if m.wait_since is None:
            return 0
        end = m.ended if m.ended is not None else self.now
        return int((end - m.wait_since) // self.settings.delta_sync_interval)

    def bytes(self, m: Migration) -> float:
        pool = self.pools.get(m.mesh_id)
        if pool is not None and m.id in pool.members:
            return min(float(m.size), pool.bytes(m, self.now))
        return m.bytes_done

    def rate(self, m: Migration) -> float:
        """Bytes per second it copies at right now (0 outside the initial sync)."""
        pool = self.pools.get(m.mesh_id)
        return pool.rate if pool is not None and m.id in pool.members else 0.0

    def eta(self, m: Migration) -> int | None:
        """Seconds until it should be done, when that can be told (not while it is queued)."""
        s, now = self.settings, self.now
        after = s.switchover_seconds[m.kind] + s.cleanup_seconds
        if m.state in TERMINAL:
            return 0
        if m.state == INITIAL_SYNC:
            rate = self.rate(m)
            copy = (m.size - self.bytes(m)) / rate if rate else 0.0
            if m.kind in REPLICATED and m.window_start and m.window_start > now + copy:
                copy = m.window_start - now
            return int(copy + after)
        if m.state == WAITING and m.wait_reason == "window":
            return int(m.window_start - now + after)
        if m.state == SWITCHOVER:
            return int(m.since + s.switchover_seconds[m.kind] - now + s.cleanup_seconds)
        if m.state == CLEANUP:
            return int(m.since + s.cleanup_seconds - now)
        return None

    def percent(self, m: Migration) -> int:
        """0-90 for the copy, 90 while it waits, 90-98 for the switchover, 98-100 for the cleanup."""
        s = self.settings
        copied = int(90 * self.bytes(m) / m.size) if m.size else 90
        if m.state == COMPLETE:
            return 100
        if m.state == SWITCHOVER:
            return 90 + int(8 * min(1.0, (self.now - m.since) / s.switchover_seconds[m.kind]))
        if m.state == CLEANUP:
            return 98 + int(2 * min(1.0, (self.now - m.since) / s.cleanup_seconds))
        return copied
