"""The one place a change to a wave is recorded: every edit of the wave, its VMs or its network
mappings ends here, inside the transaction that made it.

`changed()` bumps the wave's revision and, when the wave was waiting for approval or approved,
sends it back to DRAFT: an approval holds for one revision only (product.md §4), so whatever
changed after it must be approved again. Both facts get an audit row. The readiness and approval
part relies on this: it compares `readiness_revision` and each Approval's revision to `revision`.
A change also cancels the migrations waiting in the wave's batches (launch/binding.py): a batch
made from the approved revision never sends what the wave no longer is.

Changes to a target cluster several waves share come here too, once per wave using it
(actions.do_save_target_cluster): the cluster is part of what each wave's approval covered.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.choices import AuditAction
from core.models import AuditEntry
from migrations_app.choices import WaveStatus
from migrations_app.launch.binding import cancel_waiting
from migrations_app.models import Wave

from .errors import WaveLocked
from .states import EDITABLE, WITHDRAWN_BY_CHANGE, set_status

WITHDRAWN_MESSAGE = "approval withdrawn: the wave changed"


@dataclass(frozen=True)
class Change:
    wave: Wave
    revision: int
    withdrawn_from: str | None = None  # the status the change ended, if it ended a submission or approval

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_from is not None

    @property
    def message(self) -> str:
        """What to tell the user beyond "saved": empty unless an approval or submission ended."""
        if not self.withdrawn:
            return ""
        was = WaveStatus(self.withdrawn_from).label.lower()
        return (
            f"{self.wave.name}: {WITHDRAWN_MESSAGE[0].upper()}{WITHDRAWN_MESSAGE[1:]} (it was {was}; now revision "
            f"{self.revision}). It is a draft again: check its readiness and submit it for a new approval."
        )


def lock(pk) -> Wave:
    """The wave's row, read fresh and locked until the transaction ends. Every action takes this lock
    before it reads what it is about to change, so two changes to one wave run one after the other."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock() needs a transaction")
    # of=("self",): only the wave's row is locked (PostgreSQL cannot lock the outer-joined site or cluster).
    return Wave.objects.select_for_update(of=("self",)).select_related("site", "target_cluster").get(pk=pk)


def ensure_editable(wave: Wave) -> None:
    if wave.status not in EDITABLE:
        raise WaveLocked(
            f"{wave.name} is {wave.get_status_display().lower()}: a wave that has been launched cannot be changed."
        )


def changed(wave: Wave, user, what: str, **detail) -> Change:
    """Record that `wave` (or its VMs or mappings) changed; call inside the transaction that changed it.

    `what` says in a few words what changed ("fields: name, window_end", "added 3 VMs"); it goes to the
    audit row. Refuses (WaveLocked, rolling the caller's transaction back) if the wave is running or done.
    Returns the Change, whose `message` a page shows when an approval was withdrawn.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("changed() must run inside the transaction that made the change")
    current = Wave.objects.select_for_update().only("pk", "name", "status", "revision").get(pk=wave.pk)
    ensure_editable(current)
    withdrawn_from = current.status if current.status in WITHDRAWN_BY_CHANGE else None
    Wave.objects.filter(pk=wave.pk).update(revision=F("revision") + 1, last_updated=timezone.now())
    wave.refresh_from_db(fields=["revision", "status", "submitted_by", "submitted_at", "last_updated"])
    AuditEntry.record(user, AuditAction.WAVE_CHANGE, wave, what=what, revision=wave.revision, **detail)
    cancel_waiting(wave, user=user, what=what)
    if withdrawn_from:
        set_status(
            wave,
            WaveStatus.DRAFT,
            acting_user=user,
            audit=AuditAction.WAVE_WITHDRAW_APPROVAL,
            also={"submitted_by": None, "submitted_at": None},
            what=what,
            previous_status=withdrawn_from,
            revision=wave.revision,
            reason=WITHDRAWN_MESSAGE,
        )
    return Change(wave=wave, revision=wave.revision, withdrawn_from=withdrawn_from)
