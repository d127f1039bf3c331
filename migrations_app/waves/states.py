"""Which wave states allow which changes, named once (code checks `status in X`, never string literals).

A wave that runs or has run is history: nothing of it changes here. Waiting for approval or
approved waves may change, but the change sends them back to DRAFT (waves/revisions.py).
"""

from django.db import transaction
from django.utils import timezone

from core.choices import AuditAction
from core.models import AuditEntry
from migrations_app.choices import WaveStatus
from migrations_app.models import Wave

from .errors import WrongStatus

# Planning data (fields, VMs, mappings) may change in these states.
EDITABLE = (WaveStatus.DRAFT, WaveStatus.REJECTED, WaveStatus.SUBMITTED, WaveStatus.APPROVED)
# A change in these states withdraws the submission or approval: the wave becomes a draft again.
WITHDRAWN_BY_CHANGE = (WaveStatus.SUBMITTED, WaveStatus.APPROVED)
# Only waves nobody has asked to approve, or that were turned down, can be deleted.
DELETABLE = (WaveStatus.DRAFT, WaveStatus.REJECTED)
# Launched or done: read-only.
LOCKED = (WaveStatus.RUNNING, WaveStatus.COMPLETED)
# Batches may be made and sent only in these (launch/batches.py, launch/binding.py).
LAUNCHABLE = (WaveStatus.APPROVED, WaveStatus.RUNNING)

# The moves of a wave's life, and the only ones `set_status` makes.
TRANSITIONS = {
    WaveStatus.DRAFT: {WaveStatus.SUBMITTED},
    WaveStatus.REJECTED: {WaveStatus.SUBMITTED},
    WaveStatus.SUBMITTED: {
        WaveStatus.APPROVED,
        WaveStatus.REJECTED,
        WaveStatus.DRAFT,
    },  # draft: a change withdrew it
    WaveStatus.APPROVED: {WaveStatus.RUNNING, WaveStatus.DRAFT},
    WaveStatus.RUNNING: {WaveStatus.COMPLETED},
    WaveStatus.COMPLETED: set(),
}


def set_status(
    wave: Wave, new: WaveStatus, *, acting_user, audit: AuditAction | None, also: dict | None = None, **detail
) -> bool:
    """Move `wave` from the status it was read with to `new`; the one writer of `Wave.status`.

    Refuses (WrongStatus) a move TRANSITIONS does not list. Writes compare-and-set on the status read,
    so of two actors at once one moves it and the other gets False (nothing written). `also` are
    columns that change with the status (who submitted it). Records the move as an audit row `audit`
    with `detail`; `audit=None` when the caller's own row records it (a batch launch). Runs inside
    the caller's transaction, which usually holds the wave's lock (revisions.lock)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("set_status() must run inside the transaction that decided the move")
    old = wave.status
    if new not in TRANSITIONS[old]:
        raise WrongStatus(
            f"{wave.name} is {wave.get_status_display().lower()}: it cannot become {WaveStatus(new).label.lower()}."
        )
    now = timezone.now()
    columns = {"status": new, "last_updated": now, **(also or {})}
    if Wave.objects.filter(pk=wave.pk, status=old).update(**columns) != 1:
        return False
    for name, value in columns.items():
        setattr(wave, name, value)
    if audit is not None:
        AuditEntry.record(acting_user, audit, wave, **detail)
    return True
