"""Every change of a VM migration's state happens here, and nowhere else.

Two kinds of change:
- `move()`: the portal decides (queued, sent, refused by validation, cancelled before it reached
  HCX, a failed send). Only the moves in `ALLOWED` are possible; anything else raises
  `IllegalTransition`, so a double click or a late worker cannot, say, send a cancelled migration.
- `observe()`: HCX says where a migration is (a `MigrationProgress` read by the reconciler). HCX is
  the truth about its own migrations, so any reading is taken, except that a migration the portal
  already holds as finished never comes back to life from a stale reading, and that a time of
  something that happened (start, end) is never later than the portal's own now: HCX's clock may be
  ahead of ours (a simulator running faster than real time, a skewed appliance), and a migration
  that "ended tomorrow" would be missing from every report of what has moved so far.

Both stamp `updated` (live pages read what changed since their last look) and write a
`MigrationEvent` for each state change, so the log says what happened and when.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from core.live import wakeup
from hcx.client.migrations import MigrationProgress, Phase
from migrations_app.choices import MigrationEventKind, MigrationState
from migrations_app.models import MigrationEvent, VmMigration

S = MigrationState

# HCX's phases are our states of the same name; a draft in HCX is still ours to send.
PHASE_STATES = {
    Phase.DRAFT: S.SUBMITTING,
    Phase.VALIDATING: S.VALIDATING,
    Phase.QUEUED: S.QUEUED,
    Phase.INITIAL_SYNC: S.INITIAL_SYNC,
    Phase.DELTA_SYNC: S.DELTA_SYNC,
    Phase.WAITING_FOR_SWITCHOVER: S.WAITING_FOR_SWITCHOVER,
    Phase.SWITCHOVER: S.SWITCHOVER,
    Phase.CLEANUP: S.CLEANUP,
    Phase.COMPLETE: S.COMPLETE,
    Phase.FAILED: S.FAILED,
    Phase.CANCELLED: S.CANCELLED,
}

# The portal's own moves. Reaching an HCX state by `move()` is for the send itself (HCX accepted it).
ALLOWED = {
    S.WAITING: {S.SUBMITTING, S.CANCELLED},
    # Back to WAITING: the send failed before HCX took it (or the limits filled up); REFUSED: HCX's
    # validation said no; an HCX state: HCX accepted it.
    S.SUBMITTING: {S.WAITING, S.REFUSED, S.CANCELLED, S.FAILED} | S.IN_HCX,
}
# Once in HCX, the portal itself only records a cancel HCX confirmed; the rest comes from observe().
for _state in S.IN_HCX:
    ALLOWED[_state] = {S.CANCELLED}

# The fields observe() may change: the reconciler's bulk_update writes exactly these.
OBSERVED_FIELDS = [
    "state",
    "hcx_state",
    "percent",
    "bytes_transferred",
    "bytes_total",
    "throughput_mbps",
    "eta_seconds",
    "message",
    "errors",
    "switchover_start",
    "switchover_end",
    "started",
    "ended",
    "hcx_clock_ahead_minutes",
    "updated",
]

# How far ahead of the portal's clock a time HCX reports may be before it is taken as now instead:
# clocks a little apart (NTP's usual drift, a reading taken during a cycle) are not worth a note.
CLOCK_TOLERANCE = datetime.timedelta(minutes=2)


class IllegalTransition(Exception):
    """A move the state machine does not allow; the message says which and why it matters."""


def _event(
    m: VmMigration, message: str, *, kind=MigrationEventKind.STATE, user=None, at=None
) -> MigrationEvent:
    return MigrationEvent(
        migration=m,
        wave_id=m.wave_id,
        at=at or timezone.now(),
        kind=kind,
        state=m.state,
        message=message[:1000],
        user=user,
    )


def move(m: VmMigration, to: str, *, message: str = "", user=None, **fields) -> MigrationEvent:
    """Move `m` to `to` (a portal decision), save it and log it. `fields` are other columns to set
    with it (hcx_id, validation, submitted, ...). Raises IllegalTransition."""
    if to not in ALLOWED.get(m.state, set()):
        raise IllegalTransition(f"{m.vm} cannot go from {S(m.state).label.lower()} to {S(to).label.lower()}")
    now = timezone.now()
    was = m.state
    values = {**fields, "state": to, "updated": now}
    if to in S.TERMINAL and not m.ended:
        values["ended"] = now
    with transaction.atomic():
        # Compare and set: the row changes only if it is still in the state this move started from,
        # so a cancel and a send racing on the same row cannot both win.
        if not VmMigration.objects.filter(pk=m.pk, state=was).update(**values):
            m.refresh_from_db(fields=["state"])
            raise IllegalTransition(
                f"{m.vm} changed meanwhile: it is {S(m.state).label.lower()} now, not {S(was).label.lower()}"
            )
        for name, value in values.items():
            setattr(m, name, value)
        event = _event(m, message or S(to).label, user=user, at=now)
        event.save()
        wakeup.announce([f"wave:{m.wave_id}"])
    return event


def note(m: VmMigration, message: str, *, user=None, kind=MigrationEventKind.ACTION) -> MigrationEvent:
    """Log something about `m` that is not a state change (an action asked of HCX, a warning)."""
    event = _event(m, message, kind=kind, user=user)
    event.save()
    return event


def observe(m: VmMigration, p: MigrationProgress, *, now=None) -> tuple[bool, list[MigrationEvent]]:
    """Take HCX's reading `p` into `m` in memory. Returns (changed, events): the caller saves changed
    rows with `bulk_update(rows, OBSERVED_FIELDS)` and the events with `bulk_create`, in one
    transaction. A migration already finished here keeps its end; an unknown HCX word keeps the state
    and is shown in `hcx_state`."""
    if m.state in S.TERMINAL:
        return False, []
    now = now or timezone.now()
    ahead = _clock_ahead(p, now)
    started, ended = _not_after(p.started, now), _not_after(p.ended, now)
    state = PHASE_STATES.get(p.phase, m.state)
    message = p.errors[0] if p.phase == Phase.FAILED and p.errors else (p.message or "")
    values = {
        "state": state,
        "hcx_state": (p.state or "")[:60],
        "percent": p.percent,
        "bytes_transferred": p.bytes_transferred,
        "bytes_total": p.bytes_total or m.bytes_total,
        "throughput_mbps": p.throughput_mbps,
        "eta_seconds": p.eta_seconds,
        "message": message[:1000],
        "errors": list(p.errors),
        "switchover_start": p.switchover_start,
        "switchover_end": p.switchover_end,
        "started": m.started or started,
        "ended": ended if state in S.TERMINAL else None,
    }
    if ahead is not None:
        values["hcx_clock_ahead_minutes"] = ahead
    if state in S.TERMINAL and not values["ended"]:
        values["ended"] = now
    if state == S.COMPLETE:
        values["percent"] = 100
    noted_before = m.hcx_clock_ahead_minutes
    changed = {k: v for k, v in values.items() if getattr(m, k) != v}
    if not changed:
        return False, []
    for name, value in changed.items():
        setattr(m, name, value)
    m.updated = now
    events = [_event(m, message or S(state).label, at=now)] if "state" in changed else []
    if ahead is not None and noted_before is None:
        events.append(
            _event(
                m,
                f"HCX's clock is at least {ahead} minutes ahead of the portal's: times clamped "
                "to the portal's now",
                kind=MigrationEventKind.HCX,
                at=now,
            )
        )
    return True, events


def _clock_ahead(p: MigrationProgress, now) -> int | None:
    """Whole minutes HCX's clock is ahead of ours, going by the latest time of this reading (at least
    that much: HCX stamps a finished migration with its end, not its now); None within the tolerance. The switchover window is a plan, not a reading of HCX's clock: not counted."""
    times = [t for t in (p.created, p.updated, p.started, p.ended) if t]
    if not times or max(times) - now <= CLOCK_TOLERANCE:
        return None
    return max(1, round((max(times) - now).total_seconds() / 60))


def _not_after(moment, now):
    """`moment` from HCX, or now if it lies beyond the tolerance in the portal's future."""
    return now if moment and moment - now > CLOCK_TOLERANCE else moment
