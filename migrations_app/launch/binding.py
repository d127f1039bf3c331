"""What binds a launch to the wave as it was approved (docs/security.md, "Approval bound to its revision").

An approval holds for one revision of a wave (readiness/approval.py), and every change to what a
launch reads (the wave's fields, its VMs, its network mappings, the target cluster it points at) goes
through waves/revisions.changed(), which moves the revision on and withdraws the approval. What is
left is to make a launch use only that revision:

- a batch records the revision it was made from (`Batch.revision`); it is launched only while the
  wave is still at that revision (`check_batch_revision`);
- a change cancels the migrations that wait in the wave's batches (`cancel_waiting`, called by
  changed()): what a batch made from the old revision holds is not what is approved now;
- at send time, in the worker, a forward migration leaves only if its wave is approved or running,
  its batch's revision is the wave's, and its VM is still in the wave (`SENDABLE`); any other
  waiting row is cancelled with the reason (`cancel_unbound`), so a job queued before a change, or a
  change made by a path that skipped the actions, sends nothing the approval did not cover.

A rollback (REVERSE) goes back to where the VM came from, whatever the wave says now: not bound.
"""

from django.db.models import F, Q

from migrations_app.choices import Decision, MigrationDirection, MigrationState
from migrations_app.models import Approval, VmMigration, Wave, WaveItem
from migrations_app.waves.states import LAUNCHABLE

from .errors import LaunchError
from .transitions import IllegalTransition, move

# The forward rows that may be sent: their wave approved or running, their batch made from the wave's
# current revision (or before batches recorded it), their VM still in the wave.
SENDABLE = Q(direction=MigrationDirection.REVERSE) | (
    Q(wave__status__in=LAUNCHABLE)
    & Q(vm__wave_item__wave_id=F("wave_id"))
    & (Q(batch__revision__isnull=True) | Q(batch__revision=F("wave__revision")))
)


def approved_revision(wave: Wave) -> int | None:
    """The latest revision of `wave` an engineer approved, or None."""
    return (
        Approval.objects.filter(wave=wave, decision=Decision.APPROVED)
        .order_by("-revision")
        .values_list("revision", flat=True)
        .first()
    )


def changed_after_approval(wave: Wave, approved: int) -> str:
    return (
        f"{wave.name} changed after approval (revision {approved} approved, now {wave.revision}): "
        "approve it again"
    )


def not_approved(wave: Wave) -> str:
    """Why `wave` (not approved nor running) cannot be launched, naming the withdrawn approval if any."""
    approved = approved_revision(wave)
    if approved is not None and approved < wave.revision:
        return f"{changed_after_approval(wave, approved)}, then launch it."
    return (
        f"{wave.name} is {wave.get_status_display().lower()}: only an approved or running wave can be "
        "launched."
    )


def check_batch_revision(batch, wave: Wave) -> None:
    """LaunchError unless `batch` was made from the wave's current (approved) revision."""
    if batch.revision is not None and batch.revision != wave.revision:
        raise LaunchError(
            f"{batch.name} was made from revision {batch.revision} of {wave.name}, which changed after approval "
            f"(revision {batch.revision} approved, now {wave.revision}): its waiting VMs were cancelled. Make a new "
            "batch from the wave as approved now."
        )


def launch_blocked(wave: Wave, batch=None) -> str:
    """Why nothing of `wave` (or of `batch`) can be launched now, for the pages; empty when it can."""
    if wave.status not in LAUNCHABLE:
        return not_approved(wave)
    if batch is not None:
        try:
            check_batch_revision(batch, wave)
        except LaunchError as error:
            return str(error)
    return ""


def cancel_waiting(wave: Wave, *, user, what: str) -> int:
    """Cancel the migrations waiting in `wave`'s batches (called by revisions.changed(), inside the
    change's transaction). Returns how many."""
    rows = list(VmMigration.objects.filter(wave=wave, state=MigrationState.WAITING).select_related("vm"))
    why = (
        f"Cancelled before it was sent: {wave.name} changed ({what}; now revision {wave.revision}). Make a new "
        "batch once the wave is approved again."
    )
    for m in rows:
        _cancel(m, why, user=user)
    return len(rows)


def _cancel(m: VmMigration, why: str, *, user=None) -> None:
    """WAITING -> CANCELLED, the reason in the row's message as well as in its event."""
    why = why[:1000]
    move(m, MigrationState.CANCELLED, message=why, user=user)
    VmMigration.objects.filter(pk=m.pk).update(message=why)
    m.message = why


def waves_of(rows) -> dict[int, int]:
    """VM id -> the id of the wave it is in now, for the VMs of `rows` (one query)."""
    return dict(WaveItem.objects.filter(vm_id__in={m.vm_id for m in rows}).values_list("vm_id", "wave_id"))


def unbound(m: VmMigration, in_wave: dict[int, int]) -> str:
    """Why forward migration `m` (with its wave and batch) is not covered by its wave's approval now,
    or "" when it is (SENDABLE, in Python, for one row; `in_wave` from waves_of())."""
    if m.direction == MigrationDirection.REVERSE:
        return ""
    wave = m.wave
    if (
        wave.status in LAUNCHABLE
        and m.batch.revision in (None, wave.revision)
        and in_wave.get(m.vm_id) == m.wave_id
    ):
        return ""
    return _why(m, in_wave)


def _why(m: VmMigration, in_wave: dict[int, int]) -> str:
    wave = m.wave
    if wave.status not in LAUNCHABLE:
        approved = approved_revision(wave)
        if approved is not None and approved < wave.revision:
            return f"Not sent: {changed_after_approval(wave, approved)}."
        return f"Not sent: {wave.name} is {wave.get_status_display().lower()}, not approved."
    if m.batch.revision is not None and m.batch.revision != wave.revision:
        return (
            f"Not sent: {wave.name} changed after this batch was made (revision {m.batch.revision} approved, "
            f"now {wave.revision}): make a new batch."
        )
    if in_wave.get(m.vm_id) != m.wave_id:
        return (
            f"Not sent: {m.vm.name} is no longer in {wave.name} (it was taken out after this batch was made)."
        )
    return "Not sent: it is no longer part of the wave as approved."


def cancel_unbound(rows) -> list[VmMigration]:
    """Cancel the WAITING rows of `rows` (a VmMigration queryset) that SENDABLE leaves out, each with
    its reason. Returns the cancelled rows."""
    rows = list(
        rows.filter(state=MigrationState.WAITING).exclude(SENDABLE).select_related("wave", "batch", "vm")
    )
    if not rows:
        return []
    in_wave = waves_of(rows)
    cancelled = []
    for m in rows:
        try:
            _cancel(m, _why(m, in_wave))
        except IllegalTransition:  # taken by someone else meanwhile (a cancel, another dispatch)
            continue
        cancelled.append(m)
    return cancelled
