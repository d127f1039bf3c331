"""HCX migrations and mobility groups, the calls `HcxService` gets from `MigrationsMixin`.

We use the "mobility" API of HCX 4.x and its compat-2.1 query (docs/hcx-wire.md §6): it is the
generation with mobility groups, RAV, per-VM validation errors and warnings, and switchover windows
that can be moved or cleared; the legacy nls-1.0 calls predate RAV and mobility groups.

- Validation never raises for a VM's problems: `validate_migrations()` returns one `VmResult` per VM
  with HCX's errors and warnings (HCX answers HTTP 400 when any VM has an error).
- A mobility group is created with its migrations and then started as a whole
  (`create_mobility_group()`, `start_mobility_group()`), the only way the public sources show; a
  create or start whose answer is lost is found (by name, by its migrations' states) before it is
  sent again. `start_migrations()` (full specs, no group) is kept for callers without a group.
- Reading is tolerant (hcx-wire.md §6, "reading answers"): `iter_migrations()` pages until a short or
  empty page whether or not HCX says how many there are; the phase comes from the terminal state
  names the sources list and otherwise from the `progress.state.is*` flags (0/1 or booleans), never
  from a running state name; percent, throughput and ETA come from the bytes HCX reports.
- Cancel (`forceCancel`) and schedule changes (per mobility group) are idempotent in HCX (cancelling
  twice, or setting the same window twice, changes nothing more), so they are retried like reads;
  they answer one `VmResult` per migration, with HCX's errors for those it refused.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .bodies import epoch_ms
from .errors import HcxConflict, HcxError, HcxNotFound, HcxUnavailable
from .transport import HcxErrors

API = "/hybridity/api"
QUERY_PAGE_SIZE = 500  # the most the simulator returns per page; HCX's largest is not documented
QUERY_OPTIONS = {"compat": 2.1, "resultLevel": "MOBILITYGROUP_ITEMS"}  # what the 2020+ scripts send
# The mobility API's migrationType values -> our four (hcx-wire.md §6).
TYPE_NAMES = {
    "vSphereReplication": "Bulk",
    "VR": "Bulk",
    "Bulk": "Bulk",
    "RAV": "RAV",
    "vMotion": "vMotion",
    "ColdMigration": "Cold",
    "Cold": "Cold",
    "OsAssistedMigration": "OSAM",
}
IN_PROGRESS_CODES = {"MIGRATION_IN_PROGRESS", "ALREADY_STARTED"}
BITS_PER_BYTE = 8


class Phase:
    """Where a migration is, in the portal's words, whatever string HCX put in `state`."""

    DRAFT = "draft"
    VALIDATING = "validating"
    QUEUED = "queued"
    INITIAL_SYNC = "initial_sync"
    DELTA_SYNC = "delta_sync"
    WAITING_FOR_SWITCHOVER = "waiting_for_switchover"
    SWITCHOVER = "switchover"
    CLEANUP = "cleanup"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    TERMINAL = frozenset({COMPLETE, FAILED, CANCELLED})
    COPYING = frozenset({INITIAL_SYNC, DELTA_SYNC})


# The only state strings the sources list are the terminal ones (hcx-wire.md §6: ASAF, SMIT, AYA,
# PowerCLI, LAM). Every other phase comes from the progress flags (`phase_of`).
STATE_PHASES = {
    "MIGRATION_COMPLETE": Phase.COMPLETE,
    "MIGRATED": Phase.COMPLETE,
    "MIGRATION_FAILED": Phase.FAILED,
    "MIGRATE_FAILED": Phase.FAILED,
    "TRANSFER_FAILED": Phase.FAILED,
    "MIGRATION_CANCELLED": Phase.CANCELLED,
    "MIGRATE_CANCELED": Phase.CANCELLED,
}


def truthy(value) -> bool:
    """HCX's flags are 0/1 integers, `isDone` a boolean; a string form is taken too."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def phase_of(state: str, progress: dict) -> str:
    """The phase from a terminal state name, else from `progress` and its `state` flags (BRC's
    progress object): a running state name is never relied on, as no source lists them."""
    if state in STATE_PHASES:
        return STATE_PHASES[state]
    flags = progress.get("state") if isinstance(progress.get("state"), dict) else {}

    def on(*names):
        return any(truthy(flags.get(n)) or truthy(progress.get(n)) for n in names)

    if on("isCanceled", "isCancelled"):
        return Phase.CANCELLED
    if on("isError", "didFail"):
        return Phase.FAILED
    if on("isDone"):
        return Phase.COMPLETE
    if on("draftState"):
        return Phase.DRAFT
    if on("isSwitchoverCompleted"):
        return Phase.CLEANUP  # switched over, not done yet: HCX cleans up
    if on("isSwitchoverProgress", "isSwitchover", "isSwitchoverStarted"):
        return Phase.SWITCHOVER
    if on("isWaitingForMaintWindow"):
        return Phase.WAITING_FOR_SWITCHOVER
    if on("isTransferProgress", "isTransfer", "isVMotionBaseSyncInProgress"):
        return Phase.DELTA_SYNC if on("isTransferCompleted") else Phase.INITIAL_SYNC
    if on("isTransferCompleted"):
        return Phase.WAITING_FOR_SWITCHOVER  # copied, not switching over: it waits (window or turn)
    if on("isParked", "isTransferParked"):
        return Phase.QUEUED
    return Phase.VALIDATING  # started, nothing under way yet


def moment(ms) -> datetime.datetime | None:
    """Epoch milliseconds (or 0/None for none) as an aware datetime."""
    try:
        value = float(ms or 0)
    except (TypeError, ValueError):
        return None
    return datetime.datetime.fromtimestamp(value / 1000, datetime.UTC) if value > 0 else None


def number(value, default=0) -> int:
    # BRC types some counters as strings in its examples (hcx-wire.md §6, unconfirmed).
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class Message:
    code: str | None
    message: str


@dataclass(frozen=True)
class VmResult:
    """HCX's answer about one VM to a validate, start, cancel or schedule call."""

    vm_id: str | None
    vm_name: str | None
    migration_id: str | None
    group_id: str | None
    errors: tuple[Message, ...] = ()
    warnings: tuple[Message, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @classmethod
    def from_api(cls, item: dict) -> "VmResult":
        return cls(
            vm_id=item.get("entityId"),
            vm_name=item.get("entityName") or item.get("name"),
            migration_id=item.get("migrationId") or item.get("id"),
            group_id=item.get("migrationGroupId"),
            errors=messages(item, "errors", "error"),
            warnings=messages(item, "warnings", "warning"),
        )


def messages(item: dict, *keys) -> tuple[Message, ...]:
    """HCX's messages under any of `keys`: a list or a single object, of `{code, message|text}` or
    plain strings (BRC has `warnings[{message}]`, PowerCLI `warning`; hcx-wire.md §6)."""
    found = []
    for key in keys:
        value = item.get(key)
        if isinstance(value, dict | str):
            value = [value]
        found += value if isinstance(value, list) else []
    out = []
    for m in found:
        if isinstance(m, str) and m:
            out.append(Message(None, m))
        elif isinstance(m, dict) and (m.get("message") or m.get("text") or m.get("code")):
            out.append(Message(m.get("code"), m.get("message") or m.get("text") or m.get("code")))
    return tuple(out)


@dataclass(frozen=True)
class StartedMigration:
    """A migration HCX accepted. `recovered`: the answer to the start was lost and the migration
    was found afterwards, so it was not sent again."""

    vm_id: str
    migration_id: str
    group_id: str | None
    warnings: tuple[Message, ...] = ()
    recovered: bool = False


@dataclass(frozen=True)
class MigrationEvent:
    """An entry of `progress.log`: a state change with HCX's message."""

    at: datetime.datetime | None
    state: str | None
    message: str | None
    error: str | None
    bytes_transferred: int


@dataclass(frozen=True)
class MigrationProgress:
    """One migration as HCX reports it (hcx-wire.md §6). `percent` is HCX's `percentComplete` when it
    sends one, else bytes transferred over the total (as ASAF computes it), and 100 only once
    complete. `throughput_mbps` and `eta_seconds` are HCX's when it sends them, else worked out from
    the bytes copied since the transfer started (`lastUpdated` - transfer `startTime`) while it
    copies, and None otherwise."""

    id: str
    group_id: str | None
    vm_id: str | None
    vm_name: str | None
    migration_type: str | None
    state: str
    phase: str
    percent: int
    bytes_transferred: int
    bytes_total: int
    throughput_mbps: float | None
    eta_seconds: int | None
    message: str | None
    events: tuple[MigrationEvent, ...]
    errors: tuple[str, ...]
    switchover_start: datetime.datetime | None
    switchover_end: datetime.datetime | None
    waiting_for_window: bool
    reschedule_allowed: bool
    created: datetime.datetime | None
    updated: datetime.datetime | None
    started: datetime.datetime | None
    ended: datetime.datetime | None

    @property
    def done(self) -> bool:
        return self.phase in Phase.TERMINAL

    @property
    def failed(self) -> bool:
        return self.phase == Phase.FAILED

    @property
    def cancelled(self) -> bool:
        return self.phase == Phase.CANCELLED

    @classmethod
    def from_api(cls, item: dict) -> "MigrationProgress":
        progress = item.get("progress") if isinstance(item.get("progress"), dict) else {}
        flags = progress.get("state") if isinstance(progress.get("state"), dict) else {}
        state = item.get("state") or flags.get("status") or ""
        phase = phase_of(state, progress)
        events = tuple(
            MigrationEvent(
                at=moment(e.get("lastUpdated")),
                state=e.get("status"),
                message=e.get("message"),
                error=e.get("errorMessage"),
                bytes_transferred=number(e.get("bytesTransferred")),
            )
            for e in progress.get("log") or []
            if isinstance(e, dict)
        )
        bytes_done, bytes_total = _bytes(item, progress)
        percent = progress.get("percentComplete")
        if percent is not None:
            percent = number(percent)
        else:
            percent = 100 * bytes_done // bytes_total if bytes_total else 0
            percent = percent if phase == Phase.COMPLETE else min(percent, 99)
        if phase == Phase.COMPLETE:
            percent = 100
        transfer = progress.get("transfer") if isinstance(progress.get("transfer"), dict) else {}
        throughput, eta = _rate(
            phase,
            bytes_done,
            bytes_total,
            transfer.get("startTime") or progress.get("startTime"),
            item.get("lastUpdated"),
            progress.get("throughputMbps"),
            progress.get("etaSeconds"),
        )
        error = progress.get("error") if isinstance(progress.get("error"), dict) else {}
        errors = [error.get("message"), flags.get("errorMessage"), *(e.error for e in events)]
        schedule = (item.get("switchoverParams") or {}).get("schedule") or {}
        entity = item.get("entity") or {}
        return cls(
            id=item.get("migrationId") or item.get("id"),
            group_id=item.get("migrationGroupId"),
            vm_id=entity.get("entityId") or item.get("entityId"),
            vm_name=entity.get("entityName"),
            migration_type=TYPE_NAMES.get(item.get("migrationType"), item.get("migrationType")),
            state=state,
            phase=phase,
            percent=max(0, min(100, percent)),
            bytes_transferred=bytes_done,
            bytes_total=bytes_total,
            throughput_mbps=throughput,
            eta_seconds=eta,
            message=progress.get("message") or flags.get("message"),
            events=events,
            errors=tuple(dict.fromkeys(e for e in errors if e and isinstance(e, str))),
            switchover_start=moment(schedule.get("startTime")),
            switchover_end=moment(schedule.get("expiryTime")),
            waiting_for_window=truthy(flags.get("isWaitingForMaintWindow")),
            reschedule_allowed=truthy(progress.get("isRescheduleAllowed", flags.get("isRescheduleAllowed"))),
            created=moment(item.get("creationDate")),
            updated=moment(item.get("lastUpdated")),
            started=moment(progress.get("startTime")),
            ended=moment(progress.get("endTime")),
        )


def _bytes(item: dict, progress: dict) -> tuple[int, int]:
    """(bytes transferred, bytes in all). `progress.total` is `{value, bytesTransferred}` for ASAF and
    a string in BRC's example: then the total is that string and the bytes come from the latest
    `progress.log` entry that has them (hcx-wire.md §6)."""
    total = progress.get("total")
    log = [e for e in progress.get("log") or [] if isinstance(e, dict)]
    from_log = next((e for e in reversed(log) if e.get("bytesTransferred") not in (None, "")), {})
    disk = number((item.get("summary") or {}).get("diskSize"))
    if isinstance(total, dict):
        done = number(total.get("bytesTransferred"))
        whole = number(total.get("value"))
    else:
        done = number(from_log.get("bytesTransferred"))
        whole = number(total)
    return done, whole or number(from_log.get("totalBytes")) or disk


def _rate(phase, done: int, whole: int, since_ms, last_ms, reported_mbps, reported_eta):
    """(Mbit/s, seconds left of the copy): HCX's figures when it sends them (no source shows any), else
    the average since the transfer started, from HCX's own times, while it copies."""
    mbps = None
    try:
        mbps = float(reported_mbps) if reported_mbps not in (None, "") else None
    except (TypeError, ValueError):
        pass
    eta = number(reported_eta, None) if reported_eta is not None else None
    if mbps is None and phase in Phase.COPYING:
        since, last = moment(since_ms), moment(last_ms)
        seconds = (last - since).total_seconds() if since and last else 0
        if seconds > 0 and done > 0:
            mbps = round(done * BITS_PER_BYTE / 1_000_000 / seconds, 3)
    if eta is None and mbps and phase == Phase.INITIAL_SYNC and whole > done:
        eta = int((whole - done) * BITS_PER_BYTE / 1_000_000 / mbps)
    return mbps, eta


@dataclass(frozen=True)
class MigrationPage:
    items: list[MigrationProgress]  # those that match the filters
    total: int | None  # None: HCX did not say
    offset: int
    answered: int = 0  # items in HCX's answer (what paging counts)


@dataclass(frozen=True)
class GroupCreated:
    """A mobility group HCX has. `recovered`: the answer to the create was lost and the group was
    found by name, so it was not sent again. `migration_ids` are its draft migrations (by VM id)."""

    id: str
    name: str
    recovered: bool = False
    migration_ids: dict | None = None


class MigrationRefused(HcxError):
    """HCX refused a batch (validate, start, cancel, group create, start or delete) because of
    some of its items; `results` has HCX's words per VM (or per group). Nothing in the batch changed."""

    def __init__(self, message: str, *, results: list[VmResult], **kwargs):
        super().__init__(message, **kwargs)
        self.results = results

    @property
    def refused(self) -> list[VmResult]:
        return [r for r in self.results if not r.ok]


class HcxErrorsWithBody(HcxErrors):
    """HcxErrors that keep the JSON of an error answer on the exception (`body`): the mobility API
    answers a refused batch with HTTP 400 and per-VM `items[].errors`, which callers must show."""

    def for_response(self, response, where: str, call: str) -> Exception:
        exc = super().for_response(response, where, call)
        try:
            exc.body = response.json()
        except ValueError:
            exc.body = None
        return exc


class MigrationsMixin:
    """Migration calls for HcxService (which provides `_call`, `_json`, `url`, `transport`)."""

    def _mobility(self, path: str, body: dict, what: str, *, safe: bool) -> dict:
        try:
            return self._json(self._call("POST", f"{API}{path}", safe=safe, json=body))
        except HcxError as exc:
            answer = getattr(exc, "body", None)
            if exc.status != 400 or not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
                raise
            results = [VmResult.from_api(i) for i in answer["items"] if isinstance(i, dict)]
            said = "; ".join(
                f"{r.vm_name or r.migration_id or r.vm_id}: {m.message}" for r in results for m in r.errors
            )
            kind = MigrationRefused
            if (
                results
                and all(m.code in IN_PROGRESS_CODES for r in results for m in r.errors if r.errors)
                and any(r.errors for r in results)
            ):
                kind = _RefusedInProgress  # already started: a lost answer's re-send, or a second batch
            raise kind(
                f"HCX at {self.url} refused {what}: {said or exc.hcx_message or 'no reason given'}",
                results=results,
                status=400,
                hcx_message=exc.hcx_message,
                url=self.url,
            ) from None

    # --- validate and start -------------------------------------------------------------------

    def validate_migrations(self, specs: list[dict]) -> list[VmResult]:
        """`POST /mobility/migrations/validate`: HCX's errors and warnings per VM, in `specs` order.
        Validating creates nothing, so it is retried like a read."""
        try:
            answer = self._mobility(
                "/mobility/migrations/validate", {"items": list(specs)}, "the validation", safe=True
            )
        except MigrationRefused as exc:
            return exc.results
        return [VmResult.from_api(i) for i in answer.get("items") or []]

    def start_migrations(self, specs: list[dict]) -> list[StartedMigration]:
        """`POST /mobility/migrations/start` for a batch (full specs from `bodies.migration()`, or
        `{"migrationId"}` of drafts). Returns one StartedMigration per spec, in order. Never starts a
        VM twice: if the answer is lost, the VMs HCX already has are looked up (by VM and mobility
        group) and only the others are sent again."""
        specs = list(specs)
        keys = [_key(s) for s in specs]
        found: dict = {}

        def send():
            sent = [k for k in keys if k not in found]
            pending = [s for s, k in zip(specs, keys, strict=True) if k not in found]
            answer = (
                self._mobility(
                    "/mobility/migrations/start",
                    {"items": pending},
                    f"starting {len(pending)} migration(s)",
                    safe=False,
                )
                if pending
                else {}
            )
            # HCX answers the items in the order they were sent.
            for k, item in zip(sent, answer.get("items") or [], strict=False):
                result = VmResult.from_api(item)
                found[k] = StartedMigration(
                    vm_id=result.vm_id,
                    migration_id=result.migration_id,
                    group_id=result.group_id,
                    warnings=result.warnings,
                )
            return [found[k] for k in keys]

        def find():
            found.update(self._started(specs, keys, exclude=found))
            return [found[k] for k in keys] if all(k in found for k in keys) else None

        return self.transport.create(send, find, f"{len(specs)} migration(s)")[0]

    def _started(self, specs, keys, exclude) -> dict:
        """The migrations HCX already runs for these specs: by VM (in the spec's group), or by draft id."""
        wanted = [k for k in keys if k not in exclude]
        found = {}
        by_vm = {k for k in wanted if k[0] == "vm"}
        if by_vm:
            for m in self.iter_migrations(vm_ids=sorted({k[2] for k in by_vm}), skip_drafts=True):
                if m.phase in Phase.TERMINAL:
                    # An earlier attempt: a retry of the VM is a new migration. A lost start cannot be
                    # complete yet (HCX validates first), while an old complete one is the VM's forward
                    # migration when this is its rollback, or the reverse one when it moves again.
                    continue
                for k in (("vm", m.group_id, m.vm_id), ("vm", None, m.vm_id)):
                    if k in by_vm and k not in found:
                        found[k] = StartedMigration(
                            vm_id=m.vm_id, migration_id=m.id, group_id=m.group_id, recovered=True
                        )
        by_id = [k for k in wanted if k[0] == "id"]
        if by_id:
            for m in self.iter_migrations(ids=[k[1] for k in by_id]):
                if m.phase != Phase.DRAFT:
                    found[("id", m.id)] = StartedMigration(
                        vm_id=m.vm_id, migration_id=m.id, group_id=m.group_id, recovered=True
                    )
        return found

    # --- read ---------------------------------------------------------------------------------

    def query_migrations(
        self,
        *,
        ids: Iterable[str] | None = None,
        group_ids: Iterable[str] | None = None,
        states: Iterable[str] | None = None,
        vm_ids: Iterable[str] | None = None,
        offset: int = 0,
        page_size: int = QUERY_PAGE_SIZE,
        skip_drafts: bool = False,
    ) -> MigrationPage:
        """`POST /migrations?action=query` (compat 2.1): one page of the migrations that match.
        `total` is None when HCX does not say (hcx-wire.md §6)."""
        flt = {
            k: list(v)
            for k, v in (
                ("migrationId", ids),
                ("migrationGroupId", group_ids),
                ("state", states),
                ("entityId", vm_ids),
            )
            if v is not None
        }
        if skip_drafts:
            flt["skipDrafts"] = True
        # BRC names offset and skipCount without saying how they differ: both carry the items to skip.
        paging = {"pageSize": page_size, "offset": offset, "skipCount": offset}
        body = {"filter": flt, "options": QUERY_OPTIONS, "paging": paging}
        answer = self._json(
            self._call("POST", f"{API}/migrations", safe=True, params={"action": "query"}, json=body)
        )
        data = answer.get("data") if isinstance(answer.get("data"), dict) else answer
        raw = [i for i in data.get("items") or data.get("rows") or [] if isinstance(i, dict)]
        items = [MigrationProgress.from_api(i) for i in raw]
        # An HCX that ignores a filter answers more than asked: only what matches is kept.
        for wanted, field in ((ids, "id"), (group_ids, "group_id"), (vm_ids, "vm_id"), (states, "state")):
            if wanted is not None:
                wanted = set(wanted)
                items = [m for m in items if getattr(m, field) in wanted]
        if skip_drafts:
            items = [m for m in items if m.phase != Phase.DRAFT]
        said = (data.get("paging") or {}).get("totalSize", data.get("totalSize"))
        return MigrationPage(
            items=items,
            total=number(said, None) if said is not None else None,
            offset=offset,
            answered=len(raw),
        )

    def iter_migrations(self, *, page_size: int = QUERY_PAGE_SIZE, **filters) -> Iterator[MigrationProgress]:
        """Every migration that matches (filters as `query_migrations`), one query per page, until a
        short or empty page (or the total HCX gave, when it gave one)."""
        offset, seen = 0, set()
        while True:
            page = self.query_migrations(offset=offset, page_size=page_size, **filters)
            fresh = [m for m in page.items if m.id not in seen]
            seen.update(m.id for m in fresh)
            yield from fresh
            offset += page.answered
            if (
                not page.answered
                or page.answered < page_size
                or (page.total is not None and offset >= page.total)
            ):
                return

    def get_migration(self, migration_id: str) -> MigrationProgress:
        for m in self.query_migrations(ids=[migration_id]).items:
            if m.id == migration_id:  # an HCX that ignores the filter answers others too
                return m
        raise HcxNotFound(f"HCX at {self.url} has no migration {migration_id}", status=404, url=self.url)

    def _with_groups(self, migrations: Iterable) -> tuple[list[dict], list[VmResult]]:
        """`{"migrationId", "migrationGroupId"}` for each migration (an id or a MigrationProgress);
        the groups of bare ids are read from HCX. Ids HCX does not have come back as refusals."""
        refs, wanted, groups = [], [], {}
        for m in migrations:
            if isinstance(m, MigrationProgress) and m.group_id:
                refs.append({"migrationId": m.id, "migrationGroupId": m.group_id})
            else:
                wanted.append(m.id if isinstance(m, MigrationProgress) else m)
        if wanted:
            groups = {p.id: p.group_id for p in self.iter_migrations(ids=wanted) if p.id in set(wanted)}
            for mid in wanted:
                refs.append({"migrationId": mid, "migrationGroupId": groups.get(mid)})
        unknown = [
            VmResult(
                None,
                None,
                r["migrationId"],
                None,
                errors=(Message("NOT_FOUND", f"HCX has no migration {r['migrationId']}"),),
            )
            for r in refs
            if r["migrationId"] in wanted and r["migrationId"] not in groups
        ]
        missing = {u.migration_id for u in unknown}
        return [r for r in refs if r["migrationId"] not in missing], unknown

    # --- cancel and switchover schedule -----------------------------------------------------------

    def cancel_migrations(self, migrations: Iterable, *, remove_seed_data: bool = False) -> list[VmResult]:
        """`POST /mobility/migrations/forceCancel` (BRC forceCancelRequest, hcx-wire.md §6): HCX
        force-cancels. `migrations`: ids or MigrationProgress. `remove_seed_data` drops the disks a
        Seed Checkpoint kept. One VmResult per migration; a refused batch raises MigrationRefused."""
        refs, results = self._with_groups(migrations)
        if refs:
            body = {"items": refs, "removeLongRecoveryData": remove_seed_data}
            answer = self._mobility("/mobility/migrations/forceCancel", body, "the cancellation", safe=True)
            results += [VmResult.from_api(i) for i in answer.get("items") or [] if isinstance(i, dict)]
            answered = {r.migration_id for r in results}
            results += [
                VmResult(None, None, r["migrationId"], r["migrationGroupId"])
                for r in refs
                if r["migrationId"] not in answered
            ]
        return results

    def set_switchover_window(
        self, migrations: Iterable, start: datetime.datetime | None, end: datetime.datetime | None = None
    ) -> list[VmResult]:
        """Move the switchover window of Bulk/RAV migrations (epoch ms, hcx-wire.md §6)."""
        return self._schedule(
            migrations,
            {"startTime": epoch_ms(start), "expiryTime": epoch_ms(end), "clearSchedule": False},
            "the new switchover window",
        )

    def switchover_now(self, migrations: Iterable) -> list[VmResult]:
        """Clear the window: each switches over as soon as its initial sync is done (now, if it waits).
        What HCX expects for "now" is not documented: a cleared schedule is sent (hcx-wire.md §6)."""
        return self._schedule(
            migrations, {"startTime": 0, "expiryTime": 0, "clearSchedule": True}, "switchover now"
        )

    def _schedule(self, migrations, switchover: dict, what: str) -> list[VmResult]:
        """`POST /mobility/groups/{id}/schedule`, one call per mobility group (BRC). HCX answers 200 with
        per-migration `errors.migrations[{id, errors}]` and changes the others, or 400 with no body."""
        migrations = list(migrations)
        refs, unknown = self._with_groups(migrations)
        by_group: dict[str, list[str]] = {}
        results = {u.migration_id: u for u in unknown}
        for r in refs:
            if r["migrationGroupId"]:
                by_group.setdefault(r["migrationGroupId"], []).append(r["migrationId"])
            else:
                results[r["migrationId"]] = VmResult(
                    None,
                    None,
                    r["migrationId"],
                    None,
                    errors=(
                        Message(
                            "NO_GROUP", "HCX names no mobility group for it, and a schedule is set per group"
                        ),
                    ),
                )
        for group, ids in by_group.items():
            body = {
                "migrations": [
                    {
                        "migrationId": i,
                        "schedule": {"switchover": {**switchover, "isInheritedFromGroupDefaults": False}},
                    }
                    for i in ids
                ]
            }
            try:
                answer = self._json(
                    self._call("POST", f"{API}/mobility/groups/{group}/schedule", safe=True, json=body)
                )
            except HcxError as exc:
                if exc.status != 400:
                    raise
                why = f"HCX refused {what}: {exc.hcx_message or 'HTTP 400 without a reason'}"
                results.update(
                    (i, VmResult(None, None, i, group, errors=(Message("REFUSED", why),))) for i in ids
                )
                continue
            answer = answer.get("data") if isinstance(answer.get("data"), dict) else answer
            errors = answer.get("errors") if isinstance(answer.get("errors"), dict) else {}
            refused = {
                e.get("id") or e.get("migrationId"): messages(e, "errors", "error")
                for e in errors.get("migrations") or []
                if isinstance(e, dict)
            }
            for i in ids:
                results[i] = VmResult(None, None, i, group, errors=refused.get(i) or ())
        order = [m.id if isinstance(m, MigrationProgress) else m for m in migrations]
        return [results[i] for i in dict.fromkeys(order) if i in results]

    # --- mobility groups -------------------------------------------------------------------------------

    def list_mobility_groups(self, *, name: str | None = None) -> list[dict]:
        """`POST /migration/queryMobilityGroups`. HCX's items name a group by `id`/`entityName` (SMIT)
        or `migrationGroupId`/`name` (BRC): every item comes back with both pairs set."""
        flt = {"skipDrafts": False, **({"name": name} if name else {})}
        answer = self._json(
            self._call(
                "POST",
                f"{API}/migration/queryMobilityGroups",
                safe=True,
                json={"filter": flt, "options": {"compat": 2.1}},
            )
        )
        data = answer.get("data") if isinstance(answer.get("data"), dict) else answer
        groups = [group_fields(g) for g in data.get("items") or [] if isinstance(g, dict)]
        return [g for g in groups if not name or g["name"] == name]

    def find_mobility_group(self, name: str) -> dict | None:
        return next(iter(self.list_mobility_groups(name=name)), None)

    def get_mobility_group(self, group_id: str) -> dict:
        """One group, read from `queryMobilityGroups` by its id: no source reads a group by id
        (hcx-wire.md §6). HcxNotFound when HCX does not list it."""
        found = next((g for g in self.list_mobility_groups() if g["migrationGroupId"] == group_id), None)
        if found is None:
            raise HcxNotFound(
                f"HCX at {self.url} lists no mobility group {group_id}", status=404, url=self.url
            )
        return found

    def create_mobility_group(self, body: dict, migrations: Iterable[dict] = ()) -> GroupCreated:
        """`POST /mobility/groups` with its migrations (SMIT: `operationType "ADD"`); `body` from
        `bodies.mobility_group()`, `migrations` from `bodies.migration()`. The group is a draft until
        `start_mobility_group()`. A group whose answer was lost is found by name, not created twice."""
        body = {**body, "migrations": [{**m, "operationType": "ADD"} for m in migrations]}

        def send():
            try:
                answer = self._mobility(
                    "/mobility/groups", {"items": [body]}, f"mobility group {body['name']!r}", safe=False
                )
            except MigrationRefused as exc:
                if any(
                    m.code == "DUPLICATE_NAME" or "same name" in m.message
                    for r in exc.results
                    for m in r.errors
                ):
                    raise HcxConflict(
                        str(exc), status=400, hcx_message=exc.hcx_message, url=self.url
                    ) from None
                raise
            item = group_fields((answer.get("items") or [{}])[0])
            drafts = {
                d.get("entityId"): d.get("migrationId")
                for d in item.get("migrations") or []
                if isinstance(d, dict)
            }
            if not item["migrationGroupId"]:  # HCX did not answer the id: it is found by name
                found = self.find_mobility_group(body["name"])
                item = found or item
            return GroupCreated(id=item["migrationGroupId"], name=body["name"], migration_ids=drafts or None)

        def find():
            group = self.find_mobility_group(body["name"])
            return (
                GroupCreated(id=group["migrationGroupId"], name=group["name"], recovered=True)
                if group
                else None
            )

        return self.transport.create(send, find, f"mobility group {body['name']!r}")[0]

    def start_mobility_group(self, group_id: str) -> bool:
        """`POST /mobility/groups/start` `{"items": [{"migrationGroupId"}]}` (BRC, 202): start every
        migration of the group. Sent once; when the answer is lost, the group's migrations say whether
        it started (none is a draft any more). Returns whether it was found started that way."""
        body = {"items": [{"migrationGroupId": group_id}]}

        def send():
            try:
                self._mobility("/mobility/groups/start", body, "starting the mobility group", safe=False)
            except HcxConflict:  # already started: an earlier send got through
                if find() is None:
                    raise
                return True
            return False

        def find():
            members = list(self.iter_migrations(group_ids=[group_id]))
            return True if members and not any(m.phase == Phase.DRAFT for m in members) else None

        return self.transport.create(send, find, f"the start of mobility group {group_id}")[0]

    def archive_mobility_groups(self, group_ids: Iterable[str]) -> bool:
        """`POST /mobility/groups/archive` (BRC). False when HCX refuses because a migration of the
        groups still runs (403): archive them later, once all are over."""
        body = {"items": [{"migrationGroupId": g} for g in group_ids]}
        try:
            self._mobility("/mobility/groups/archive", body, "archiving mobility groups", safe=True)
        except HcxError as exc:
            if exc.status == 403:
                return False
            raise
        return True

    def delete_mobility_group(self, group_id: str) -> None:
        """`POST /mobility/groups/delete` (SMIT). HCX refuses while migrations of the group run
        (MigrationRefused). Sent once; if the answer is lost, sent again only if the group is still there."""
        body = {"items": [{"migrationGroupId": group_id}]}
        try:
            self._mobility("/mobility/groups/delete", body, "deleting the mobility group", safe=False)
        except HcxUnavailable as exc:
            if not exc.outcome_unknown:
                raise
            try:
                self.get_mobility_group(group_id)
            except HcxNotFound:
                return
            self._mobility("/mobility/groups/delete", body, "deleting the mobility group", safe=False)


def group_fields(group: dict) -> dict:
    """A mobility group with both namings set: `migrationGroupId`/`name` (BRC) and `id`/`entityName`
    (SMIT's reading of `queryMobilityGroups`), whichever HCX sent (hcx-wire.md §6)."""
    if not isinstance(group, dict):
        return {"migrationGroupId": None, "name": None}
    gid = group.get("migrationGroupId") or group.get("id")
    name = group.get("name") or group.get("entityName")
    return {**group, "migrationGroupId": gid, "id": gid, "name": name, "entityName": name}


class _RefusedInProgress(MigrationRefused, HcxConflict):
    """Every refused VM already has its migration: a conflict, so a lost start's retry looks it up."""


def _key(spec: dict) -> tuple:
    entity = spec.get("entity") or {}
    if entity.get("entityId"):
        return ("vm", spec.get("migrationGroupId"), entity["entityId"])
    return ("id", spec.get("migrationId"))
