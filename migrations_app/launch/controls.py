"""What an engineer does to migrations once a batch is launched: cancel, retry, roll back, switch
over now, move the switchover window.

Each action takes the acting user explicitly, changes states only through transitions.py, writes a
MigrationEvent per migration it touched and one audit row per wave (who, what, and what came of it),
and answers a `ControlResult` that says per VM what happened. Permissions are the views' business.

HCX calls are grouped per site (the client then makes one call for all of a site's migrations to
cancel, and one per mobility group to change a schedule, docs/hcx-wire.md §6) and made outside any
database transaction, so no row lock is held while HCX answers. HCX refuses a cancel as a whole
(nothing in it changes) and says why per VM: those VMs are reported with HCX's words and the others
are sent once more on their own. A schedule change HCX takes for some and refuses for others (its
answer names them): those are reported, the others are done.

Choices:
- Cancel: a WAITING migration (never sent) is cancelled at once. One being sent at this moment
  (SUBMITTING, no HCX id yet) is refused: cancelling it here could leave a migration running in HCX
  that the portal no longer follows; it can be cancelled a moment later. One in HCX is cancelled
  there and recorded as CANCELLED as soon as HCX accepts (HCX refuses once a switchover started, so
  its acceptance is final; the reconciler never brings a cancelled row back).
- Retry makes a new attempt (attempt + 1, `retry_of`) in WAITING, and rollback a new REVERSE one;
  neither talks to HCX: dispatch sends them (spec_for's reverse direction for a rollback), and a
  Bulk/RAV retry keeps the Seed Checkpoint so HCX reuses what it copied.
- Switchover windows are stored on the rows when HCX accepts them; the reconciler then reads the
  same values back from HCX.

Pages run the HCX calls in the background with `do_enqueue_control()` (a `launch.control` Job);
cancelling never-sent migrations needs no HCX and is done at once in the request.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.choices import AuditAction, EventLevel
from core.jobs import JobError, job_handler
from core.models import AuditEntry, Job
from hcx.choices import MigrationType
from hcx.client import HcxError
from hcx.client.migrations import MigrationRefused
from migrations_app.choices import MigrationDirection, MigrationEventKind, MigrationState
from migrations_app.models import MigrationEvent, VmMigration

from . import binding, transitions
from .errors import LaunchError
from .site import service_for

S = MigrationState
JOB_KIND = "launch.control"
SCHEDULABLE_TYPES = frozenset({MigrationType.BULK, MigrationType.RAV})
VERBS = {
    "cancel": "Cancel",
    "retry": "Retry",
    "rollback": "Roll back",
    "switchover_now": "Switch over now",
    "move_window": "Move the switchover window of",
}


@dataclass
class ControlResult:
    """What one action did: `done` (for retry and rollback: the new attempts), `refused` with the
    reason per migration, and `messages` about the whole (an HCX that could not be reached).
    Iterating it goes over `done`."""

    action: str
    done: list[VmMigration] = field(default_factory=list)
    refused: dict[VmMigration, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.done)

    def __len__(self):
        return len(self.done)

    def as_data(self) -> dict:
        """JSON for a Job's result and the API."""
        return {
            "action": self.action,
            "done": [{"id": m.pk, "vm": str(m.vm), "state": m.state} for m in self.done],
            "refused": [{"id": m.pk, "vm": str(m.vm), "reason": why} for m, why in self.refused.items()],
            "messages": list(self.messages),
        }


# --- reading and grouping ----------------------------------------------------------------------------


def _ids(migrations) -> list[int]:
    return list(dict.fromkeys(m if isinstance(m, int) else m.pk for m in migrations))


def _rows(migrations, *, lock: bool) -> list[VmMigration]:
    """The migrations read fresh (locked until the transaction ends when `lock`), with what the
    actions and their messages read, in one query."""
    qs = VmMigration.objects.filter(pk__in=_ids(migrations)).select_related(
        "vm", "wave", "wave__site", "batch"
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    return list(qs.order_by("pk"))


def _by_site(rows) -> dict:
    sites = defaultdict(list)
    for m in rows:
        sites[m.wave.site].append(m)
    return sites


def _state(m: VmMigration) -> str:
    return S(m.state).label.lower()


def _event(m: VmMigration, message: str, user, *, now) -> MigrationEvent:
    # transitions._event's shape, for the bulk writes of actions that change no state.
    return MigrationEvent(
        migration=m,
        wave_id=m.wave_id,
        at=now,
        kind=MigrationEventKind.ACTION,
        state=m.state,
        message=message[:1000],
        user=user if getattr(user, "is_authenticated", False) else None,
    )


def _who(user) -> str:
    return getattr(user, "username", None) or "the portal"


def _audit(result: ControlResult, user, **detail):
    """One audit row per wave the action touched, with what came of it per VM."""
    waves = {}
    for m in [*result.done, *result.refused]:
        waves.setdefault(m.wave_id, m.wave)
    for wave_id, wave in waves.items():
        AuditEntry.record(
            user,
            AuditAction(f"migration.{result.action}"),
            wave,
            done=[str(m.vm) for m in result.done if m.wave_id == wave_id],
            refused={str(m.vm): why for m, why in result.refused.items() if m.wave_id == wave_id},
            migrations=sorted(m.pk for m in [*result.done, *result.refused] if m.wave_id == wave_id),
            **detail,
        )


# --- asking HCX ---------------------------------------------------------------------------------------


def _ask_hcx(site, rows: list[VmMigration], call, result: ControlResult) -> list[VmMigration]:
    """`call(hcx, hcx_ids)` for the site's rows; returns the rows HCX accepted. A batch HCX refuses
    changes nothing in HCX: its refused VMs get HCX's words, the others are sent once more alone."""
    if site is None:
        for m in rows:
            result.refused[m] = "Its wave has no HCX site."
        return []
    try:
        hcx = service_for(site)
    except LaunchError as exc:
        for m in rows:
            result.refused[m] = str(exc)
        result.messages.append(str(exc))
        return []
    pending = list(rows)
    try:
        # Each refusal takes at least one VM out (or ends it), so this asks HCX at most len(rows) times.
        while pending:
            try:
                answers = call(hcx, [m.hcx_id for m in pending])
                # HCX may change some and name the others with why (a schedule's errors.migrations[]).
                by_id = {m.hcx_id: m for m in pending}
                for r in answers or []:
                    m = by_id.get(r.migration_id)
                    if m is not None and r.errors:
                        result.refused[m] = "; ".join(msg.message for msg in r.errors)
                return [m for m in pending if m not in result.refused]
            except MigrationRefused as exc:
                by_id = {m.hcx_id: m for m in pending}
                for r in exc.refused:
                    m = by_id.get(r.migration_id)
                    if m is not None:
                        result.refused[m] = "; ".join(msg.message for msg in r.errors) or "Refused by HCX"
                left = [m for m in pending if m not in result.refused]
                if len(left) == len(pending):  # HCX named none of ours: nothing to send again
                    for m in pending:
                        result.refused[m] = str(exc)
                    return []
                pending = left
        return []
    except HcxError as exc:
        message = f"HCX of {site} could not do it: {exc}"
        result.messages.append(message)
        for m in pending:
            result.refused[m] = message
        return []
    finally:
        hcx.close()


# --- cancel --------------------------------------------------------------------------------------------


def _cancel_here(migrations, user) -> tuple[ControlResult, list[VmMigration]]:
    """Cancel the never-sent migrations and refuse what cannot be cancelled; returns the result so
    far and the migrations HCX must cancel."""
    result, in_hcx = ControlResult("cancel"), []
    with transaction.atomic():
        for m in _rows(migrations, lock=True):
            if m.state == S.WAITING:
                transitions.move(
                    m, S.CANCELLED, user=user, message=f"Cancelled by {_who(user)} before it was sent to HCX"
                )
                result.done.append(m)
            elif m.state == S.SUBMITTING and not m.hcx_id:
                result.refused[m] = "It is being sent to HCX right now: cancel it again in a moment."
            elif m.state in S.CANCELLABLE:
                in_hcx.append(m)
            elif m.state == S.CANCELLED:
                result.refused[m] = "It is already cancelled."
            elif m.state in (S.SWITCHOVER, S.CLEANUP):
                result.refused[m] = "Its switchover has started: HCX cannot cancel it any more."
            elif m.state == S.COMPLETE:
                result.refused[m] = "It is complete: roll it back instead."
            else:
                result.refused[m] = f"It is already over ({_state(m)})."
    return result, in_hcx


def _cancel_in_hcx(in_hcx: list[VmMigration], result: ControlResult, user, remove_seed_data: bool):
    for site, rows in _by_site(in_hcx).items():
        accepted = _ask_hcx(
            site, rows, lambda hcx, ids: hcx.cancel_migrations(ids, remove_seed_data=remove_seed_data), result
        )
        with transaction.atomic():
            for m in _rows(accepted, lock=True):
                if m.state not in S.TERMINAL:
                    seed = " and its seed data removed" if remove_seed_data else ""
                    transitions.move(
                        m,
                        S.CANCELLED,
                        user=user,
                        message=f"Cancelled in HCX{seed} at the request of {_who(user)}",
                    )
                result.done.append(m)
    for m, why in result.refused.items():
        if m in in_hcx:
            transitions.note(m, f"Cancel asked by {_who(user)} was refused: {why}", user=user)


def do_cancel_migrations(migrations, *, acting_user, remove_seed_data: bool = False) -> ControlResult:
    """Cancel migrations: never-sent ones at once, those in HCX through HCX (one call per site).
    `remove_seed_data` also drops the disks a Seed Checkpoint kept (a retry then copies everything)."""
    result, in_hcx = _cancel_here(migrations, acting_user)
    _cancel_in_hcx(in_hcx, result, acting_user, remove_seed_data)
    _audit(result, acting_user, remove_seed_data=remove_seed_data)
    return result


# --- retry and rollback --------------------------------------------------------------------------------


def _history(rows) -> dict[int, list[VmMigration]]:
    """Every migration of these rows' VMs, oldest first, in one query."""
    history = defaultdict(list)
    for m in VmMigration.objects.filter(vm_id__in={m.vm_id for m in rows}).order_by("pk"):
        history[m.vm_id].append(m)
    return history


def _attempt_label(m: VmMigration) -> str:
    rollback = "rollback " if m.direction == MigrationDirection.REVERSE else ""
    return f"{rollback}attempt {m.attempt}, {_state(m)}"


def _create(result: ControlResult, new: list[tuple[VmMigration, VmMigration]], user, explain) -> None:
    """Write the new attempts (and an event on each and on what it follows). The database refuses a
    second active migration of a VM; should a concurrent action win that race, nothing is written."""
    now = timezone.now()
    try:
        with transaction.atomic():
            rows = VmMigration.objects.bulk_create([n for _, n in new])
            events = []
            for (old, _), row in zip(new, rows, strict=True):
                created, followed = explain(old, row)
                events += [_event(row, created, user, now=now), _event(old, followed, user, now=now)]
            MigrationEvent.objects.bulk_create(events)
    except IntegrityError:
        for old, _ in new:
            result.refused[old] = "Its VM already has a migration in progress."
        return
    result.done.extend(rows)


def _newer(m: VmMigration, history) -> list[VmMigration]:
    return [h for h in history[m.vm_id] if h.pk > m.pk]


def do_retry_migrations(migrations, *, acting_user) -> ControlResult:
    """A new attempt (WAITING) for each refused, failed or cancelled migration that is its VM's
    latest; `done` holds the new rows, which dispatch sends. Seed Checkpoint is kept, so HCX reuses
    the bytes a failed or cancelled Bulk/RAV run copied."""
    result = ControlResult("retry")
    new = []
    with transaction.atomic():
        rows = _rows(migrations, lock=True)
        history = _history(rows)
        in_wave = binding.waves_of(rows)
        for m in rows:
            newer = _newer(m, history)
            if m.state not in S.RETRYABLE:
                result.refused[m] = (
                    f"It is {_state(m)}: only a refused, failed or cancelled migration can be retried."
                )
            elif why := binding.unbound(m, in_wave):
                # A retry sends the wave as approved now, not what an older batch held.
                result.refused[m] = why.replace("Not sent: ", "Not retried: ", 1)
            elif any(h.is_active for h in newer):
                active = next(h for h in newer if h.is_active)
                result.refused[m] = f"Its VM already has a migration in progress ({_attempt_label(active)})."
            elif newer:
                result.refused[m] = (
                    f"It is not its VM's latest migration ({_attempt_label(newer[-1])}): retry that one."
                )
            else:
                new.append((m, _follow_up(m, direction=m.direction, attempt=m.attempt + 1, retry_of=m)))
        if new:
            _create(
                result,
                new,
                acting_user,
                lambda old, n: (
                    f"Attempt {n.attempt}, a retry of attempt {old.attempt} by {_who(acting_user)}",
                    f"Retried as attempt {n.attempt} by {_who(acting_user)}",
                ),
            )
    _audit(result, acting_user)
    return result


def _follow_up(m: VmMigration, *, direction: str, attempt: int, retry_of: VmMigration | None) -> VmMigration:
    return VmMigration(
        batch=m.batch,
        wave=m.wave,
        vm=m.vm,
        direction=direction,
        attempt=attempt,
        retry_of=retry_of,
        migration_type=m.migration_type,
        seed_checkpoint=m.seed_checkpoint,
        state=S.WAITING,
    )


def do_roll_back_migrations(migrations, *, acting_user) -> ControlResult:
    """A reverse migration (WAITING) back to the source site for each complete migration to AVS
    that is its VM's latest and has no rollback yet; `done` holds the new rows. A rollback that
    failed or was cancelled is retried as its next attempt."""
    result = ControlResult("rollback")
    new = []
    with transaction.atomic():
        rows = _rows(migrations, lock=True)
        history = _history(rows)
        for m in rows:
            newer = _newer(m, history)
            reverses = [h for h in newer if h.direction == MigrationDirection.REVERSE]
            if m.direction != MigrationDirection.FORWARD:
                result.refused[m] = "It is itself a rollback: only a migration to AVS can be rolled back."
            elif m.state != S.COMPLETE:
                result.refused[m] = f"It is {_state(m)}: only a complete migration can be rolled back."
            elif any(h.direction == MigrationDirection.FORWARD for h in newer):
                result.refused[m] = "Its VM was migrated again later: roll back its latest migration."
            elif reverses and reverses[-1].is_active:
                result.refused[m] = f"Its rollback is already under way ({_attempt_label(reverses[-1])})."
            elif reverses and reverses[-1].state == S.COMPLETE:
                result.refused[m] = "It was already rolled back."
            elif reverses:  # the last rollback failed, was refused or cancelled: its next attempt
                last = reverses[-1]
                new.append(
                    (
                        m,
                        _follow_up(
                            m, direction=MigrationDirection.REVERSE, attempt=last.attempt + 1, retry_of=last
                        ),
                    )
                )
            else:
                new.append((m, _follow_up(m, direction=MigrationDirection.REVERSE, attempt=1, retry_of=None)))
        if new:
            _create(
                result,
                new,
                acting_user,
                lambda old, n: (
                    f"Rollback to the source site (attempt {n.attempt}) asked by {_who(acting_user)}",
                    f"Rollback asked by {_who(acting_user)}",
                ),
            )
    _audit(result, acting_user)
    return result


# --- switchover ----------------------------------------------------------------------------------------


def _schedulable(m: VmMigration) -> str | None:
    """Why HCX cannot change `m`'s switchover, or None."""
    if m.migration_type not in SCHEDULABLE_TYPES:
        return (
            f"{m.get_migration_type_display()} migrations switch over right after their copy: "
            "their switchover cannot be scheduled."
        )
    if m.state in S.NOT_SENT:
        return "It is not in HCX yet: its switchover follows the wave's window."
    if m.state not in S.RESCHEDULABLE or not m.hcx_id:
        return f"It is {_state(m)}: its switchover can no longer be changed."
    return None


def _reschedule(action: str, migrations, user, start, end, call, said: str) -> ControlResult:
    result = ControlResult(action)
    eligible = []
    for m in _rows(migrations, lock=False):
        why = _schedulable(m)
        if why:
            result.refused[m] = why
        else:
            eligible.append(m)
    now = timezone.now()
    accepted = []
    for site, rows in _by_site(eligible).items():
        accepted += _ask_hcx(site, rows, call, result)
    with transaction.atomic():
        # Not a state change: HCX reports the same window next time, so the reconciler agrees.
        VmMigration.objects.filter(pk__in=[m.pk for m in accepted]).update(
            switchover_start=start, switchover_end=end, updated=now
        )
        events = [_event(m, f"{said} by {_who(user)}", user, now=now) for m in accepted]
        events += [
            _event(m, f"{VERBS[action]} asked by {_who(user)} was refused: {why}", user, now=now)
            for m, why in result.refused.items()
            if m in eligible
        ]
        MigrationEvent.objects.bulk_create(events)
    for m in accepted:
        m.switchover_start, m.switchover_end, m.updated = start, end, now
    result.done.extend(accepted)
    return result


def do_switch_over_now(migrations, *, acting_user) -> ControlResult:
    """Clear the switchover window of Bulk/RAV migrations in HCX: each switches over as soon as its
    initial sync is done (at once, if it waits for its window)."""
    result = _reschedule(
        "switchover_now",
        migrations,
        acting_user,
        None,
        None,
        lambda hcx, ids: hcx.switchover_now(ids),
        "Switchover now",
    )
    _audit(result, acting_user)
    return result


def do_move_switchover_window(
    migrations, start: datetime.datetime, end: datetime.datetime | None, *, acting_user
) -> ControlResult:
    """Move the switchover window of Bulk/RAV migrations in HCX to [start, end]."""
    move_window_check(start, end)
    window = f"{start:%Y-%m-%d %H:%M %Z}" + (f" to {end:%Y-%m-%d %H:%M %Z}" if end else "")
    result = _reschedule(
        "move_window",
        migrations,
        acting_user,
        start,
        end,
        lambda hcx, ids: hcx.set_switchover_window(ids, start, end),
        f"Switchover window moved to {window}",
    )
    _audit(result, acting_user, start=start.isoformat(), end=end.isoformat() if end else None)
    return result


# --- in the background ---------------------------------------------------------------------------------

ACTIONS = {
    "cancel": do_cancel_migrations,
    "retry": do_retry_migrations,
    "rollback": do_roll_back_migrations,
    "switchover_now": do_switch_over_now,
    "move_window": do_move_switchover_window,
}


def run_control(action: str, migration_ids, *, user_id: int | None, **params) -> ControlResult:
    """Run `action` on the migrations by id as the user by id: what the `launch.control` job does.
    `move_window` takes `start` and `end` as ISO 8601 strings (or datetimes)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; known: {sorted(ACTIONS)}")
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if action == "move_window":
        for key in ("start", "end"):
            if isinstance(params.get(key), str):
                params[key] = datetime.datetime.fromisoformat(params[key])
    return ACTIONS[action](list(migration_ids), acting_user=user, **params)


@job_handler(JOB_KIND)
def control_job(job, action: str, migration_ids: list, earlier: dict | None = None, **params) -> dict:
    """Runs one action; safe to run again (a second run refuses what the first already did).
    `earlier`: what `do_enqueue_control` did at once in the request, kept in the job's result."""
    try:
        result = run_control(action, migration_ids, user_id=job.user_id, **params)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    data = result.as_data()
    if earlier:
        data["done"] = earlier.get("done", []) + data["done"]
        data["refused"] = earlier.get("refused", []) + data["refused"]
    for item in data["done"]:
        job.log(f"{item['vm']}: done ({S(item['state']).label.lower()})")
    for item in data["refused"]:
        job.log(f"{item['vm']}: {item['reason']}", EventLevel.WARNING)
    for message in data["messages"]:
        job.log(message, EventLevel.ERROR)
    return data


def do_enqueue_control(action: str, migrations, *, acting_user, **params) -> Job:
    """Run `action` in a `launch.control` Job (pages follow the Job). Cancelling never-sent
    migrations needs no HCX: that part is done now, in the request, and the Job does the rest."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; known: {sorted(ACTIONS)}")
    rows = _rows(migrations, lock=False)
    ids, earlier = [m.pk for m in rows], None
    if action == "cancel":
        done_now, in_hcx = _cancel_here(rows, acting_user)
        if done_now.done or done_now.refused:
            _audit(done_now, acting_user, remove_seed_data=params.get("remove_seed_data", False))
        ids, earlier = [m.pk for m in in_hcx], done_now.as_data()
    if action == "move_window":
        move_window_check(params.get("start"), params.get("end"))
        params = {
            **params,
            "start": params["start"].isoformat(),
            "end": params["end"].isoformat() if params.get("end") else None,
        }
    waves = {m.wave_id: m.wave for m in rows}
    wave = next(iter(waves.values())) if len(waves) == 1 else None
    name = f"{VERBS[action]} {len(rows)} migration(s)" + (f" of {wave}" if wave else "")
    return Job.enqueue(
        JOB_KIND,
        name=name[:200],
        user=acting_user,
        obj=wave,
        params={"action": action, "migration_ids": ids, "earlier": earlier, **params},
    )


def move_window_check(start, end):
    """The checks do_move_switchover_window makes, for do_enqueue_control to refuse in the request."""
    if not isinstance(start, datetime.datetime) or timezone.is_naive(start):
        raise ValueError("A switchover window needs a start with a time zone.")
    if end is not None and (not isinstance(end, datetime.datetime) or timezone.is_naive(end) or end <= start):
        raise ValueError("The switchover window must end after it starts, with a time zone.")
