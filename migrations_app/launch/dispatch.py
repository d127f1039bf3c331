"""Sending waiting migrations to HCX: the one place that does it.

`dispatch(site)` sends the WAITING migrations of a site's launched batches, oldest first, as far as
the limits allow, and is safe to run at any time and any number of times: the submit job runs it once
per launch, and the reconciler runs it every cycle to fill the slots finished migrations free.

For each run:
1. Nothing waiting or being sent: return without a call to HCX.
2. Recover: a migration found SUBMITTING was being sent by a worker that died. It is looked up in
   HCX (by VM, in the batch's mobility groups) and its id recorded; one still a draft in its group
   (the group was made but not started) is started with its group; only if HCX does not have it
   does it go back to WAITING. It is never started a second time.
3. Throttle (settings.HCX_LIMITS, counted in the database): Bulk and RAV replications in flight at
   most MAX_REPLICATIONS_PER_MESH on the site's mesh and MAX_REPLICATIONS_PER_MANAGER in all (the
   AVS HCX Cloud Manager every site pairs with); HCX vMotion and Cold one at a time per site. The
   others stay WAITING with a message saying why.
4. Bound to the approval (binding.py): a waiting forward migration whose wave changed since its batch
   was made, whose VM left the wave, or whose wave is no longer approved is cancelled with the reason,
   never sent; the claim below takes only rows still bound, so a job queued before a change sends
   nothing the approval did not cover.
5. Per batch: claim the chosen rows (WAITING -> SUBMITTING, committed before HCX hears of them),
   validate them (`/mobility/migrations/validate`; VMs with errors end REFUSED with HCX's errors and
   warnings), create a mobility group with the VMs that passed as its migrations, start the group,
   and record each HCX id with its first state. HCX creates a group with its migrations and starts
   it as a whole (docs/hcx-wire.md §6), so each send is a group of its own, named after the batch
   (`avsportal-w<wave>-b<batch>-<token>`): a create whose answer was lost is found by that name, a
   start whose answer was lost by its migrations' states, and recovery finds a batch's groups by
   the name's prefix. A retry or a rollback is sent the same way, in a new small group.
HCX unavailable: the rows stay WAITING (or SUBMITTING when HCX may have taken them, for step 2 next
time) with a message; nothing is raised that the caller cannot report.

Concurrency: one dispatch per site at a time. On PostgreSQL a session advisory lock per site is held
for the whole run (a killed worker's connection drops and frees it), so recovery never mistakes a
send in progress for an interrupted one; the claim also locks the WAITING rows with
`SELECT ... FOR UPDATE SKIP LOCKED` and re-checks their state, so two claims never take the same row.
SQLite has one writer at a time and no such locks: run a single worker there (the development set-up).
"""

import logging
import secrets
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from hcx.choices import MigrationType
from hcx.client import HcxAuthError, HcxError, HcxService, HcxUnavailable, bodies
from hcx.client.migrations import MigrationRefused, Phase
from hcx.models import HcxPlan
from migrations_app.choices import MigrationDirection, MigrationState
from migrations_app.models import Batch, VmMigration
from migrations_app.notifications import migrations_failed

from .batches import SEEDED_TYPES, group_name
from .binding import SENDABLE, cancel_unbound
from .errors import LaunchError
from .site import SiteContext, service_for
from .specs import spec_for
from .transitions import ALLOWED, PHASE_STATES, move

logger = logging.getLogger(__name__)
S = MigrationState
LANE_TYPES = (MigrationType.VMOTION, MigrationType.COLD)
IN_FLIGHT = S.IN_HCX | {S.SUBMITTING}
ADVISORY_LOCK_CLASS = 0x4C41  # "LA"unch: the first key of pg_try_advisory_lock(class, site id)
START_ROUNDS = 3  # a start HCX refuses for some VMs is sent again without them, at most this often


@dataclass
class DispatchResult:
    """What one dispatch did. `error`: a problem of the whole site (HCX unavailable, no service mesh),
    so nothing was sent; `busy`: another dispatch of the site was running, so this one did nothing."""

    sent: int = 0
    refused: int = 0
    waiting: int = 0
    recovered: int = 0
    unbound: int = 0  # cancelled: no longer covered by the wave's approval (binding.py)
    messages: list[str] = field(default_factory=list)
    error: str = ""
    busy: bool = False
    refused_rows: list = field(default_factory=list, repr=False)

    def say(self, message: str):
        self.messages.append(message)


@contextmanager
def site_lock(site: HcxPlan):
    """True when this process may dispatch for `site` (see the module docstring)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (ADVISORY_LOCK_CLASS, site.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except DatabaseError:  # the connection is broken: closing it frees the lock anyway
                logger.warning("could not free the dispatch lock of site %s", site.pk, exc_info=True)


def dispatch(site: HcxPlan, *, service: HcxService | None = None) -> DispatchResult:
    """Send what waits at `site` to HCX, as far as the limits allow. See the module docstring."""
    result = DispatchResult()
    with site_lock(site) as got:
        if not got:
            result.busy = True
            result.say(f"Another dispatch for {site} is sending right now; it sends these too.")
            return result
        pending = _site_rows(site).filter(state__in=S.NOT_SENT)
        if not pending.exists():
            return result
        own = service is None
        try:
            service = service or service_for(site)
            _recover(site, service, result)
            _send_waiting(site, service, result)
        except (LaunchError, HcxError) as exc:
            result.error = str(exc)
            result.say(f"Nothing more sent to HCX: {exc}")
            _set_message(_site_rows(site).filter(state=S.WAITING), f"Not sent yet: {exc}")
        finally:
            if own and service is not None:
                service.close()
        result.waiting = _site_rows(site).filter(state=S.WAITING).count()
    # HCX refusing to start a VM is a failed migration to whoever follows the wave: one message per wave.
    migrations_failed(result.refused_rows)
    return result


def _site_rows(site: HcxPlan):
    return VmMigration.objects.filter(wave__site=site, batch__launched__isnull=False)


def _set_message(rows, text: str):
    """Say why rows wait; only rows whose message changes are touched (live pages follow `updated`)."""
    text = text[:1000]
    rows.exclude(message=text).update(message=text, updated=timezone.now())


# --- 2. recovery -------------------------------------------------------------------------------------


def _recover(site: HcxPlan, service: HcxService, result: DispatchResult):
    stuck = list(_site_rows(site).filter(state=S.SUBMITTING).select_related("vm", "batch"))
    if stuck:
        _recover_rows(service, stuck, result)


def _batch_groups(service: HcxService, batches) -> dict[int, set]:
    """Batch id -> the ids of its mobility groups in HCX (found by the name's prefix; the group a batch
    held before groups were made per send counts too)."""
    prefixes = {b.pk: group_name(b.wave, b.number) + "-" for b in batches}
    found = {b.pk: {b.hcx_group_id} - {""} for b in batches}
    for g in service.list_mobility_groups():
        for batch_id, prefix in prefixes.items():
            if g.get("migrationGroupId") and (g.get("name") or "").startswith(prefix):
                found[batch_id].add(g["migrationGroupId"])
    return found


def _recover_rows(service: HcxService, rows: list[VmMigration], result: DispatchResult):
    """Find in HCX the migrations of `rows` (SUBMITTING) and record them; a group made but not started
    is started; the rest go back to WAITING."""
    ids = _vm_ids(service, rows)
    # HCX ids the portal already holds (an earlier attempt, the forward migration of a rollback) are
    # not this send's.
    known = set(
        VmMigration.objects.filter(vm_id__in={m.vm_id for m in rows}, hcx_id__isnull=False).values_list(
            "hcx_id", flat=True
        )
    )
    groups = _batch_groups(service, {m.batch for m in rows})
    ours = set().union(*groups.values())
    in_hcx = defaultdict(list)
    for p in service.iter_migrations(vm_ids=sorted({i for found in ids.values() for i in found})):
        if p.id not in known and p.group_id in ours:
            in_hcx[p.vm_id].append(p)
    for found in in_hcx.values():
        # A started migration before a draft, the newest first: a draft left by a group whose deletion
        # failed is older than the send being recovered.
        found.sort(key=lambda p: (p.phase == Phase.DRAFT, -(p.created.timestamp() if p.created else 0)))
    drafts = defaultdict(list)
    for m in rows:
        found = next((p for i in ids[m.pk] for p in in_hcx[i] if p.group_id in groups[m.batch_id]), None)
        if found is None:
            move(m, S.WAITING, message="Not in HCX after an interrupted send: it will be sent again")
            continue
        in_hcx[found.vm_id].remove(found)
        if found.phase == Phase.DRAFT:
            drafts[found.group_id].append(m)
            continue
        _record_found(m, found, result)
    for group_id, waiting in drafts.items():
        # Its group was made but not started when the send was cut short: start it now.
        _start_group(service, group_id, waiting, result, recovering=True)
    if result.recovered:
        result.say(
            f"Recovered {result.recovered} migration(s) an interrupted send had already started in HCX."
        )


def _vm_ids(service: HcxService, rows: list[VmMigration], *, tolerant: bool = False) -> dict[int, list[str]]:
    """The ids HCX may name each row's VM by: its on-premises moref, and for a rollback first its id in
    AVS, which the rollback was sent by (specs.py); which of the two HCX reports no source shows
    (hcx-wire.md §6, "Reverse migrations"), so either is taken. `tolerant`: when AVS's inventory cannot
    be read, the morefs alone (a row then not matched stays SUBMITTING, for recovery to find)."""
    ids = {m.pk: [m.vm.moid] for m in rows}
    if any(m.direction == MigrationDirection.REVERSE for m in rows):
        in_avs = defaultdict(list)
        try:
            listed = service.remote_inventory("virtualmachines")
        except HcxError:
            if not tolerant:
                raise
            listed = []
        for vm in listed:
            in_avs[vm.name].append(vm.id)
        for m in rows:
            if m.direction == MigrationDirection.REVERSE and len(in_avs[m.vm.name]) == 1:
                ids[m.pk].insert(0, in_avs[m.vm.name][0])
    return ids


def _record_found(m: VmMigration, found, result: DispatchResult):
    state = PHASE_STATES.get(found.phase)
    if state == S.COMPLETE:
        state = S.CLEANUP  # the reconciler's next reading completes it
    if state not in ALLOWED[S.SUBMITTING] or state in (S.SUBMITTING, S.WAITING):
        state = S.VALIDATING
    move(
        m,
        state,
        message=f"Found in HCX after an interrupted send ({found.id}); not sent again",
        hcx_id=found.id,
        submitted=m.submitted or timezone.now(),
    )
    result.recovered += 1


# --- 3. throttling -----------------------------------------------------------------------------------

LANE_REASON = "Waiting for its turn: HCX vMotion and Cold migrations run one at a time per site"


def _choose(site: HcxPlan, waiting: list[VmMigration]) -> tuple[list[VmMigration], dict[str, list[int]]]:
    """The rows to send now, oldest first, and the others by the reason they wait."""
    limits = settings.HCX_LIMITS
    per_mesh, per_manager = limits["MAX_REPLICATIONS_PER_MESH"], limits["MAX_REPLICATIONS_PER_MANAGER"]
    counts = VmMigration.objects.filter(state__in=IN_FLIGHT).aggregate(
        manager=Count("pk", filter=Q(migration_type__in=SEEDED_TYPES)),
        mesh=Count("pk", filter=Q(migration_type__in=SEEDED_TYPES, wave__site=site)),
        lane=Count("pk", filter=Q(migration_type__in=LANE_TYPES, wave__site=site)),
    )
    free = max(0, min(per_mesh - counts["mesh"], per_manager - counts["manager"]))
    lane_free = counts["lane"] == 0
    chosen, held_replications, held_lane = [], [], []
    for m in waiting:
        if m.migration_type in LANE_TYPES:
            (chosen if lane_free else held_lane).append(m)
            lane_free = False
        elif free > 0:
            chosen.append(m)
            free -= 1
        else:
            held_replications.append(m.pk)
    held = {}
    if held_replications:
        sent = sum(1 for m in chosen if m.migration_type in SEEDED_TYPES)
        held[
            f"Waiting for a replication slot: {counts['mesh'] + sent} of {per_mesh} Bulk/RAV migrations in flight "
            f"on this site's service mesh, {counts['manager'] + sent} of {per_manager} on the HCX Manager"
        ] = held_replications
    if held_lane:
        held[LANE_REASON] = [m.pk for m in held_lane]
    return chosen, held


# --- 4. sending --------------------------------------------------------------------------------------


def _send_waiting(site: HcxPlan, service: HcxService, result: DispatchResult):
    ctx = None
    for m in cancel_unbound(_site_rows(site)):
        result.unbound += 1
        result.say(f"{m.vm.name}: {m.message}")
    # VMs HCX refuses free the slots they were chosen for: choose again for those, a few times at most.
    for _ in range(START_ROUNDS):
        waiting = list(
            _site_rows(site)
            .filter(state=S.WAITING)
            .select_related("vm", "vm__cluster", "wave", "wave__target_cluster", "batch")
            .order_by("created", "id")
        )
        if not waiting:
            return
        chosen, held = _choose(site, waiting)
        for reason, ids in held.items():
            _set_message(VmMigration.objects.filter(pk__in=ids, state=S.WAITING), reason)
        if not chosen:
            break  # a full queue costs no call to HCX, however often the reconciler looks
        ctx = ctx or SiteContext.load(site, service)
        ctx.prepare(chosen)
        by_batch = defaultdict(list)
        for m in chosen:
            by_batch[m.batch_id].append(m)
        refused = result.refused
        for rows in by_batch.values():
            _send_batch(ctx, rows[0].batch, rows, result)
        if result.refused == refused or not held or result.error:
            break
    for reason, ids in held.items():
        result.say(f"{len(ids)} waiting: {reason}.")


def send_group_name(batch: Batch) -> str:
    """The name of a new mobility group for a send of `batch`: the batch's prefix (recovery finds its
    groups by it) and a token of its own, as each send is a group of its own."""
    return f"{group_name(batch.wave, batch.number)}-{secrets.token_hex(3)}"


def _send_batch(ctx: SiteContext, batch: Batch, rows: list[VmMigration], result: DispatchResult):
    rows = _claim(rows)
    specs, sendable = [], []
    for m in rows:
        try:
            specs.append(spec_for(m, ctx))
            sendable.append(m)
        except LaunchError as exc:
            _refuse(m, {"errors": [{"code": "PORTAL", "message": str(exc)}], "warnings": []}, result)
    if not sendable:
        return
    try:
        answers = ctx.service.validate_migrations(specs)
    except HcxError as exc:
        _back_to_waiting(sendable, f"HCX did not validate: {exc}", result)
        return
    ok_rows, ok_specs = [], []
    for m, spec, answer in zip(sendable, specs, answers, strict=False):
        validation = _validation(answer)
        if answer.errors:
            _refuse(m, validation, result)
        else:
            m.validation = validation
            ok_rows.append(m)
            ok_specs.append(spec)
    _start(ctx, batch, ok_rows, ok_specs, result)


def _claim(rows: list[VmMigration]) -> list[VmMigration]:
    """WAITING -> SUBMITTING, committed before HCX hears of them; rows another dispatch took (or an
    engineer cancelled) since they were read are left out."""
    with transaction.atomic():
        # SENDABLE again, inside the claim: a change committed since the rows were read leaves them out.
        query = VmMigration.objects.filter(SENDABLE, pk__in=[m.pk for m in rows], state=S.WAITING)
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True, of=("self",))
        free = set(query.values_list("pk", flat=True))
        claimed = [m for m in rows if m.pk in free]
        for m in claimed:
            move(m, S.SUBMITTING, message=f"Sending to HCX in a mobility group of {m.batch.name}")
    return claimed


def _validation(answer) -> dict:
    return {
        "errors": [{"code": e.code, "message": e.message} for e in answer.errors],
        "warnings": [{"code": w.code, "message": w.message} for w in answer.warnings],
    }


def _refuse(m: VmMigration, validation: dict, result: DispatchResult):
    first = (validation["errors"] or [{}])[0].get("message") or "refused"
    move(m, S.REFUSED, message=f"Refused by HCX validation: {first}", validation=validation)
    VmMigration.objects.filter(pk=m.pk).update(message=first[:1000])
    result.refused += 1
    result.refused_rows.append(m)
    result.say(f"{m.vm.name}: refused: {'; '.join(e['message'] for e in validation['errors'])}")


def _back_to_waiting(rows: list[VmMigration], why: str, result: DispatchResult):
    for m in rows:
        move(m, S.WAITING, message=why)
    _set_message(VmMigration.objects.filter(pk__in=[m.pk for m in rows]), why)
    if not result.error:
        result.error = why
    result.say(f"{len(rows)} back to waiting: {why}")


def _start(
    ctx: SiteContext, batch: Batch, rows: list[VmMigration], specs: list[dict], result: DispatchResult
):
    """Create a mobility group with `rows` as its migrations and start it. HCX starts a group all or
    nothing: VMs it refuses are refused here, the group is deleted, and the others are sent again in
    a new group without them."""
    for _ in range(START_ROUNDS):
        if not rows:
            return
        reverse = rows[0].direction == MigrationDirection.REVERSE
        source, destination = (ctx.remote, ctx.local) if reverse else (ctx.local, ctx.remote)
        name = send_group_name(batch)
        body = bodies.mobility_group(
            name=name,
            source=source.body(),
            destination=destination.body(),
            service_mesh_id=ctx.mesh_id,
            tags=["avsportal", f"wave-{batch.wave_id}"],
        )
        try:
            group = ctx.service.create_mobility_group(body, specs)
        except HcxUnavailable as exc:
            if exc.outcome_unknown:
                # HCX may have made it: the next dispatch looks for it instead of sending again.
                _set_message(
                    VmMigration.objects.filter(pk__in=[m.pk for m in rows]),
                    f"HCX did not answer the mobility group's creation; the next look finds out: {exc}",
                )
                result.error = str(exc)
                result.say(f"{len(rows)} sent without an answer from HCX: {exc}")
            else:
                _back_to_waiting(rows, f"HCX was not reachable: {exc}", result)
            return
        except HcxAuthError as exc:
            _back_to_waiting(rows, f"HCX refused the portal's credentials: {exc}", result)
            return
        except HcxError as exc:
            _fail(rows, f"HCX refused to create the mobility group: {exc}", result)
            return
        Batch.objects.filter(pk=batch.pk).update(hcx_group_id=group.id, hcx_group_name=name)
        batch.hcx_group_id, batch.hcx_group_name = group.id, name
        refused = _start_group(ctx.service, group.id, rows, result)
        if not refused:
            return
        keep = [(m, s) for m, s in zip(rows, specs, strict=True) if m.pk not in refused]
        rows, specs = [m for m, _ in keep], [s for _, s in keep]
    if rows:
        _back_to_waiting(rows, "HCX refused other VMs of each group it was sent in: it is sent again", result)


def _start_group(
    service: HcxService,
    group_id: str,
    rows: list[VmMigration],
    result: DispatchResult,
    *,
    recovering: bool = False,
) -> set[int]:
    """Start the mobility group whose migrations are `rows` (SUBMITTING) and record each HCX id.
    Returns the pks of rows HCX refused at the start (the group is then deleted and nothing started);
    an empty set otherwise. Without an answer the rows stay SUBMITTING for recovery."""
    ids = _vm_ids(service, rows, tolerant=True)
    try:
        found_started = service.start_mobility_group(group_id)
    except MigrationRefused as exc:
        bad = {r.vm_id: r for r in exc.refused if r.vm_id}
        _drop_group(service, group_id)
        if not bad:
            _fail(rows, f"HCX refused to start the mobility group: {exc}", result)
            return set()
        refused = set()
        for m in rows:
            said = next((bad[i] for i in ids[m.pk] if i in bad), None)
            if said is not None:
                _refuse(m, _validation(said), result)
                refused.add(m.pk)
        if not refused:
            _fail(rows, f"HCX refused to start the mobility group: {exc}", result)
        elif recovering:
            _back_to_waiting(
                [m for m in rows if m.pk not in refused], "Sent again without the VMs HCX refused", result
            )
            return set()
        return refused
    except HcxUnavailable as exc:
        _set_message(
            VmMigration.objects.filter(pk__in=[m.pk for m in rows]),
            f"HCX did not answer the start of the mobility group; the next look finds out: {exc}",
        )
        result.error = str(exc)
        result.say(f"{len(rows)} sent without an answer from HCX: {exc}")
        return set()
    except HcxError as exc:
        # HCX may not have started it: recovery looks at the group's migrations next time.
        _set_message(
            VmMigration.objects.filter(pk__in=[m.pk for m in rows]), f"HCX did not start the group: {exc}"
        )
        result.error = str(exc)
        result.say(f"{len(rows)} not started: {exc}")
        return set()
    try:
        in_group = {p.vm_id: p for p in service.iter_migrations(group_ids=[group_id])}
    except HcxError as exc:
        _set_message(
            VmMigration.objects.filter(pk__in=[m.pk for m in rows]),
            f"Started in HCX; its ids are read at the next look: {exc}",
        )
        result.error = str(exc)
        return set()
    now = timezone.now()
    sent = 0
    for m in rows:
        p = next((in_group[i] for i in ids[m.pk] if i in in_group), None)
        if p is None:  # not in this answer: recovery reads it again by VM
            continue
        if recovering:
            _record_found(m, p, result)
            continue
        move(
            m,
            S.VALIDATING,
            message=f"Sent to HCX as {p.id}" + (" (found after a lost answer)" if found_started else ""),
            hcx_id=p.id,
            submitted=now,
            validation=m.validation or {},
        )
        sent += 1
    _set_message(VmMigration.objects.filter(pk__in=[m.pk for m in rows], hcx_id__isnull=False), "")
    if sent:
        result.sent += sent
        result.say(
            f"{rows[0].batch}: sent {sent} migration(s) to HCX in mobility group "
            f"{rows[0].batch.hcx_group_name}."
        )
    return set()


def _drop_group(service: HcxService, group_id: str):
    """Delete a group HCX did not start, so its drafts never hold a VM another send names."""
    try:
        service.delete_mobility_group(group_id)
    except HcxError:
        logger.warning(
            "could not delete mobility group %s that HCX refused to start", group_id, exc_info=True
        )


def _fail(rows: list[VmMigration], why: str, result: DispatchResult):
    for m in rows:
        move(m, S.FAILED, message=why)
    result.error = why
    result.say(f"{len(rows)} failed: {why}")
