"""HCX migrations and mobility groups, the calls `HcxService` gets from `MigrationsMixin`.

We use the "mobility" API of HCX 4.x (hcx-api.md 5.2 b) and its compat-2.1 query (5.2 c): it is the
generation with mobility groups, RAV, per-VM validation errors and warnings, and switchover windows
that can be moved or cleared; the legacy nls-1.0 calls predate RAV and mobility groups.

- Validation never raises for a VM's problems: `validate_migrations()` returns one `VmResult` per VM
  with HCX's errors and warnings (HCX answers HTTP 400 when any VM has an error, hcx-api.md 8.6).
- Starting is a create: it is sent once, and when its answer is lost the client looks the
  migrations up by VM (and mobility group) before sending again, and then sends only the VMs HCX
  does not have yet. A batch HCX refuses raises `MigrationRefused` with the per-VM messages.
- Reading: `iter_migrations()` pages through any number of migrations with one query per page
  (filters by ids, mobility group, state, VM); each item is a typed `MigrationProgress`.
- Cancel and schedule changes are idempotent in HCX (cancelling twice, or setting the same window
  twice, changes nothing more), so they are retried like reads.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .bodies import epoch_ms
from .errors import HcxConflict, HcxError, HcxNotFound, HcxUnavailable
from .transport import HcxErrors

API = "/hybridity/api"
QUERY_PAGE_SIZE = 500  # the most HCX (and the simulator) returns per page
QUERY_OPTIONS = {"compat": 2.1, "resultLevel": "MOBILITYGROUP_ITEMS"}  # what the 2020+ scripts send
# The mobility API's migrationType values -> our four (hcx-api.md 5.1).
TYPE_NAMES = {"vSphereReplication": "Bulk", "VR": "Bulk", "Bulk": "Bulk", "RAV": "RAV", "vMotion": "vMotion",
              "ColdMigration": "Cold", "Cold": "Cold", "OsAssistedMigration": "OSAM"}
IN_PROGRESS_CODES = {"MIGRATION_IN_PROGRESS", "ALREADY_STARTED"}


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


# HCX's state strings (hcx-api.md 5.4: terminal ones from ASAF, LAM and PowerCLI; the running ones are
# the simulator's, as no source lists HCX's) -> Phase. Unknown strings fall back on progress.state flags.
STATE_PHASES = {
    "DRAFT": Phase.DRAFT, "VALIDATING": Phase.VALIDATING, "QUEUED": Phase.QUEUED,
    "INITIAL_SYNC": Phase.INITIAL_SYNC, "DELTA_SYNC": Phase.DELTA_SYNC,
    "WAITING_FOR_SWITCHOVER": Phase.WAITING_FOR_SWITCHOVER, "SWITCHOVER": Phase.SWITCHOVER, "CLEANUP": Phase.CLEANUP,
    "MIGRATION_COMPLETE": Phase.COMPLETE, "MIGRATED": Phase.COMPLETE,
    "MIGRATION_FAILED": Phase.FAILED, "MIGRATE_FAILED": Phase.FAILED, "TRANSFER_FAILED": Phase.FAILED,
    "MIGRATION_CANCELLED": Phase.CANCELLED, "MIGRATE_CANCELED": Phase.CANCELLED,
}


def phase_of(state: str, flags: dict) -> str:
    if state in STATE_PHASES:
        return STATE_PHASES[state]
    if flags.get("isCanceled"):
        return Phase.CANCELLED
    if flags.get("isError"):
        return Phase.FAILED
    if flags.get("isDone"):
        return Phase.COMPLETE
    for flag, phase in (("isSwitchoverProgress", Phase.SWITCHOVER), ("isWaitingForMaintWindow", Phase.WAITING_FOR_SWITCHOVER),
                        ("isTransferProgress", Phase.INITIAL_SYNC), ("isParked", Phase.QUEUED)):
        if flags.get(flag):
            return phase
    return Phase.UNKNOWN


def moment(ms) -> datetime.datetime | None:
    """Epoch milliseconds (or 0/None for none) as an aware datetime."""
    try:
        value = float(ms or 0)
    except (TypeError, ValueError):
        return None
    return datetime.datetime.fromtimestamp(value / 1000, datetime.UTC) if value > 0 else None


def number(value, default=0) -> int:
    # BRC types some counters as strings in its examples (hcx-api.md 5.3 [U]).
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
        def messages(key):
            found = item.get(key) or ([item["warning"]] if key == "warnings" and item.get("warning") else [])
            return tuple(Message(m.get("code"), m.get("message") or m.get("text") or "")
                         for m in found if isinstance(m, dict))

        return cls(vm_id=item.get("entityId"), vm_name=item.get("entityName") or item.get("name"),
                   migration_id=item.get("migrationId"), group_id=item.get("migrationGroupId"),
                   errors=messages("errors"), warnings=messages("warnings"))


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
    """One migration as HCX reports it (hcx-api.md 5.3). `percent` is HCX's `percentComplete`, or
    bytes transferred over total when HCX sends no percent (as ASAF computes it). `throughput_mbps`
    and `eta_seconds` are None when HCX does not report them."""

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
        progress = item.get("progress") or {}
        flags = progress.get("state") or {}
        total = progress.get("total") or {}
        bytes_total = number(total.get("value")) or number((item.get("summary") or {}).get("diskSize"))
        bytes_done = number(total.get("bytesTransferred"))
        percent = progress.get("percentComplete")
        percent = number(percent) if percent is not None else (100 * bytes_done // bytes_total if bytes_total else 0)
        state = item.get("state") or flags.get("status") or ""
        schedule = (item.get("switchoverParams") or {}).get("schedule") or {}
        events = tuple(MigrationEvent(at=moment(e.get("lastUpdated")), state=e.get("status"), message=e.get("message"),
                                      error=e.get("errorMessage"), bytes_transferred=number(e.get("bytesTransferred")))
                       for e in progress.get("log") or [] if isinstance(e, dict))
        errors = [(progress.get("error") or {}).get("message"), flags.get("errorMessage"), *(e.error for e in events)]
        entity = item.get("entity") or {}
        throughput, eta = progress.get("throughputMbps"), progress.get("etaSeconds")
        return cls(
            id=item.get("migrationId") or item.get("id"), group_id=item.get("migrationGroupId"),
            vm_id=entity.get("entityId") or item.get("entityId"), vm_name=entity.get("entityName"),
            migration_type=TYPE_NAMES.get(item.get("migrationType"), item.get("migrationType")),
            state=state, phase=phase_of(state, flags), percent=max(0, min(100, percent)),
            bytes_transferred=bytes_done, bytes_total=bytes_total,
            throughput_mbps=float(throughput) if throughput is not None else None,
            eta_seconds=number(eta, None) if eta is not None else None,
            message=progress.get("message") or flags.get("message"), events=events,
            errors=tuple(dict.fromkeys(e for e in errors if e)),
            switchover_start=moment(schedule.get("startTime")), switchover_end=moment(schedule.get("expiryTime")),
            waiting_for_window=bool(flags.get("isWaitingForMaintWindow")),
            reschedule_allowed=bool(progress.get("isRescheduleAllowed", flags.get("isRescheduleAllowed"))),
            created=moment(item.get("creationDate")), updated=moment(item.get("lastUpdated")),
            started=moment(progress.get("startTime")), ended=moment(progress.get("endTime")))


@dataclass(frozen=True)
class MigrationPage:
    items: list[MigrationProgress]
    total: int
    offset: int


@dataclass(frozen=True)
class GroupCreated:
    """A mobility group HCX has. `recovered`: the answer to the create was lost and the group was
    found by name, so it was not sent again. `migration_ids` are its draft migrations (by VM id)."""

    id: str
    name: str
    recovered: bool = False
    migration_ids: dict | None = None


class MigrationRefused(HcxError):
    """HCX refused a batch (validate, start, cancel, schedule, group create or delete) because of
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


def ref(migration) -> dict:
    """`{"migrationId", "migrationGroupId"}` for a migration id or a MigrationProgress."""
    if isinstance(migration, MigrationProgress):
        return {"migrationId": migration.id, "migrationGroupId": migration.group_id}
    return {"migrationId": migration}


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
            said = "; ".join(f"{r.vm_name or r.migration_id or r.vm_id}: {m.message}"
                             for r in results for m in r.errors)
            kind = MigrationRefused
            if results and all(m.code in IN_PROGRESS_CODES for r in results for m in r.errors if r.errors) and \
                    any(r.errors for r in results):
                kind = _RefusedInProgress  # already started: a lost answer's re-send, or a second batch
            raise kind(f"HCX at {self.url} refused {what}: {said or exc.hcx_message or 'no reason given'}",
                       results=results, status=400, hcx_message=exc.hcx_message, url=self.url) from None

    # --- validate and start -------------------------------------------------------------------

    def validate_migrations(self, specs: list[dict]) -> list[VmResult]:
        """`POST /mobility/migrations/validate`: HCX's errors and warnings per VM, in `specs` order.
        Validating creates nothing, so it is retried like a read."""
        try:
            answer = self._mobility("/mobility/migrations/validate", {"items": list(specs)}, "the validation",
                                    safe=True)
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
            answer = self._mobility("/mobility/migrations/start", {"items": pending},
                                    f"starting {len(pending)} migration(s)", safe=False) if pending else {}
            # HCX answers the items in the order they were sent.
            for k, item in zip(sent, answer.get("items") or [], strict=False):
                result = VmResult.from_api(item)
                found[k] = StartedMigration(vm_id=result.vm_id, migration_id=result.migration_id,
                                            group_id=result.group_id, warnings=result.warnings)
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
                        found[k] = StartedMigration(vm_id=m.vm_id, migration_id=m.id, group_id=m.group_id,
                                                    recovered=True)
        by_id = [k for k in wanted if k[0] == "id"]
        if by_id:
            for m in self.iter_migrations(ids=[k[1] for k in by_id]):
                if m.phase != Phase.DRAFT:
                    found[("id", m.id)] = StartedMigration(vm_id=m.vm_id, migration_id=m.id, group_id=m.group_id,
                                                           recovered=True)
        return found

    # --- read ---------------------------------------------------------------------------------

    def query_migrations(self, *, ids: Iterable[str] | None = None, group_ids: Iterable[str] | None = None,
                         states: Iterable[str] | None = None, vm_ids: Iterable[str] | None = None,
                         offset: int = 0, page_size: int = QUERY_PAGE_SIZE, skip_drafts: bool = False) -> MigrationPage:
        """`POST /migrations?action=query` (compat 2.1): one page of the migrations that match."""
        flt = {k: list(v) for k, v in (("migrationId", ids), ("migrationGroupId", group_ids), ("state", states),
                                       ("entityId", vm_ids)) if v is not None}
        if skip_drafts:
            flt["skipDrafts"] = True
        body = {"filter": flt, "options": QUERY_OPTIONS, "paging": {"offset": offset, "pageSize": page_size}}
        answer = self._json(self._call("POST", f"{API}/migrations", safe=True, params={"action": "query"}, json=body))
        data = answer.get("data") if isinstance(answer.get("data"), dict) else answer
        items = [MigrationProgress.from_api(i) for i in data.get("items") or data.get("rows") or []]
        paging = data.get("paging") or {}
        return MigrationPage(items=items, total=number(paging.get("totalSize"), len(items) + offset), offset=offset)

    def iter_migrations(self, *, page_size: int = QUERY_PAGE_SIZE, **filters) -> Iterator[MigrationProgress]:
        """Every migration that matches (filters as `query_migrations`), one query per page."""
        offset = 0
        while True:
            page = self.query_migrations(offset=offset, page_size=page_size, **filters)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def get_migration(self, migration_id: str) -> MigrationProgress:
        page = self.query_migrations(ids=[migration_id], page_size=1)
        if not page.items:
            raise HcxNotFound(f"HCX at {self.url} has no migration {migration_id}", status=404, url=self.url)
        return page.items[0]

    # --- cancel and switchover schedule -----------------------------------------------------------

    def cancel_migrations(self, migrations: Iterable, *, remove_seed_data: bool = False) -> list[VmResult]:
        """`POST /mobility/migrations/cancel` (BRC forceCancelRequest). `migrations`: ids or
        MigrationProgress. `remove_seed_data` drops the disks a Seed Checkpoint kept."""
        body = {"items": [ref(m) for m in migrations], "removeLongRecoveryData": remove_seed_data}
        answer = self._mobility("/mobility/migrations/cancel", body, "the cancellation", safe=True)
        return [VmResult.from_api(i) for i in answer.get("items") or []]

    def set_switchover_window(self, migrations: Iterable, start: datetime.datetime | None,
                              end: datetime.datetime | None = None) -> list[VmResult]:
        """Move the switchover window of Bulk/RAV migrations (epoch ms, hcx-api.md 5.5)."""
        schedule = {"startTime": epoch_ms(start), "expiryTime": epoch_ms(end)}
        return self._schedule(migrations, schedule, "the new switchover window")

    def switchover_now(self, migrations: Iterable) -> list[VmResult]:
        """Clear the window: each switches over as soon as its initial sync is done (now, if it waits)."""
        return self._schedule(migrations, {"clearSchedule": True, "startTime": 0, "expiryTime": 0}, "switchover now")

    def _schedule(self, migrations, schedule: dict, what: str) -> list[VmResult]:
        body = {"items": [{**ref(m), "switchoverParams": {"schedule": schedule}} for m in migrations]}
        answer = self._mobility("/mobility/migrations/schedule", body, what, safe=True)
        return [VmResult.from_api(i) for i in answer.get("items") or []]

    # --- mobility groups -------------------------------------------------------------------------------

    def list_mobility_groups(self, *, name: str | None = None) -> list[dict]:
        """`POST /migration/queryMobilityGroups`: migrationGroupId, name, state, groupDefaults, summary."""
        flt = {"skipDrafts": False, **({"name": name} if name else {})}
        answer = self._json(self._call("POST", f"{API}/migration/queryMobilityGroups", safe=True,
                                       json={"filter": flt, "options": {"compat": 2.1}}))
        groups = (answer.get("data") or {}).get("items") or answer.get("items") or []
        return [g for g in groups if not name or g.get("name") == name]

    def find_mobility_group(self, name: str) -> dict | None:
        return next(iter(self.list_mobility_groups(name=name)), None)

    def get_mobility_group(self, group_id: str) -> dict:
        return self._json(self._call("GET", f"{API}/mobility/groups/{group_id}", safe=True))

    def create_mobility_group(self, body: dict, migrations: Iterable[dict] = ()) -> GroupCreated:
        """`POST /mobility/groups`; `body` from `bodies.mobility_group()`, `migrations` (optional)
        become its drafts. A group whose answer was lost is found by name, not created twice."""
        body = {**body, "migrations": [{**m, "operationType": "ADD"} for m in migrations]}

        def send():
            try:
                answer = self._mobility("/mobility/groups", {"items": [body]}, f"mobility group {body['name']!r}",
                                        safe=False)
            except MigrationRefused as exc:
                if any(m.code == "DUPLICATE_NAME" or "same name" in m.message for r in exc.results for m in r.errors):
                    raise HcxConflict(str(exc), status=400, hcx_message=exc.hcx_message, url=self.url) from None
                raise
            item = (answer.get("items") or [{}])[0]
            drafts = {d.get("entityId"): d.get("migrationId") for d in item.get("migrations") or []}
            return GroupCreated(id=item.get("migrationGroupId"), name=body["name"], migration_ids=drafts)

        def find():
            group = self.find_mobility_group(body["name"])
            return GroupCreated(id=group["migrationGroupId"], name=group["name"], recovered=True) if group else None

        return self.transport.create(send, find, f"mobility group {body['name']!r}")[0]

    def delete_mobility_group(self, group_id: str) -> None:
        """`POST /mobility/groups/delete`. HCX refuses while migrations of the group run
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


class _RefusedInProgress(MigrationRefused, HcxConflict):
    """Every refused VM already has its migration: a conflict, so a lost start's retry looks it up."""


def _key(spec: dict) -> tuple:
    entity = spec.get("entity") or {}
    if entity.get("entityId"):
        return ("vm", spec.get("migrationGroupId"), entity["entityId"])
    return ("id", spec.get("migrationId"))
