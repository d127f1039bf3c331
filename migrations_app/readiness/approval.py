"""The approval workflow, all its transitions in one module (product.md §4):

    DRAFT / REJECTED --submit (planner)--> SUBMITTED --approve (engineer)--> APPROVED
                                                     --reject (engineer)---> REJECTED

- **Submit**: readiness runs again first (findings are for the wave's current revision and today's
  inventory, and they are kept even when the submission is refused); a wave with blockers is
  refused with their count. A revision that was already decided cannot be submitted again: a
  rejected wave must change (a new revision) first.
- **Approve / reject**: only a SUBMITTED wave; never by the user who submitted it (four eyes, admins
  included). Approving needs a change-ticket reference (the change board's record the window was
  granted under); rejecting needs a comment saying why (the ticket is optional there).
- **Bound to the revision**: each decision is an Approval row for (wave, revision), unique. The
  wave's row lock serialises two engineers deciding at the same moment; the second then finds the
  first one's decision and is told who decided ("already approved by X"). The unique constraint is
  the backstop should the lock ever be bypassed.
- **Withdrawal**: any later change to the wave goes through waves/revisions.changed(), which moves
  the revision on and sends a SUBMITTED or APPROVED wave back to DRAFT with an audit row; the
  approval panel shows it as "approval for revision N withdrawn at revision M". A change to the
  target cluster a wave points at counts as a change of the wave (waves/actions.py,
  do_save_target_cluster), and a launch sends only the approved revision (launch/binding.py).

Every transition writes an audit row (who, when, and why: revision, comment, change ticket).
Callers may pass the `revision` the user was looking at; a mismatch is refused as stale.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.choices import AuditAction, NotificationEvent
from migrations_app.choices import Decision, FindingSeverity, WaveStatus
from migrations_app.models import Approval, ReadinessFinding, Wave
from migrations_app.notifications import wave_event
from migrations_app.waves.states import set_status

from .access import can_decide, can_submit
from .actions import Summary, do_run_readiness, lock
from .errors import AlreadyDecided, BadInput, NotReady, OwnSubmission, StaleRevision, WrongState

SUBMITTABLE = (WaveStatus.DRAFT, WaveStatus.REJECTED)
BLOCKERS_LISTED = 10  # reasons quoted in a refused submission; the panel lists them all
MAX_TICKET = Approval._meta.get_field("change_ticket").max_length

SUBMIT, APPROVE, REJECT = AuditAction.WAVE_SUBMIT, AuditAction.WAVE_APPROVE, AuditAction.WAVE_REJECT
WITHDRAWN = AuditAction.WAVE_WITHDRAW_APPROVAL  # written by waves/revisions.changed()
HISTORY_ACTIONS = (SUBMIT, APPROVE, REJECT, WITHDRAWN)


def _stale(wave: Wave, revision) -> None:
    if revision is not None and int(revision) != wave.revision:
        raise StaleRevision(
            f"{wave.name} changed since you loaded it: you saw revision {revision}, it is at revision "
            f"{wave.revision} now. Look at it again before you go on."
        )


def _decided(approval: Approval) -> str:
    who = approval.user.get_username() if approval.user_id else "someone"
    return (
        f"Revision {approval.revision} of {approval.wave.name} was already {approval.get_decision_display().lower()} "
        f"by {who} at {timezone.localtime(approval.created):%Y-%m-%d %H:%M}."
    )


def _check_submittable(wave: Wave, revision) -> None:
    _stale(wave, revision)
    if wave.status not in SUBMITTABLE:
        raise WrongState(
            f"{wave.name} is {wave.get_status_display().lower()}: only a draft or a rejected wave can be submitted."
        )
    decided = (
        Approval.objects.select_related("user", "wave").filter(wave=wave, revision=wave.revision).first()
    )
    if decided is not None:
        raise WrongState(f"{_decided(decided)} Change the wave, then submit the new revision.")


def do_submit(wave: Wave, *, acting_user, revision=None) -> Summary:
    """Check the wave's readiness and, without blockers, submit it for approval."""
    if not can_submit(acting_user):
        raise PermissionDenied
    _check_submittable(Wave.objects.get(pk=wave.pk), revision)  # refuse early, before running anything
    checked = do_run_readiness(wave, acting_user=acting_user)  # its own transaction: kept if refused below
    with transaction.atomic():
        wave = lock(wave.pk)
        _check_submittable(wave, revision)
        if wave.readiness_revision != wave.revision:  # changed between the check and now
            raise NotReady(
                f"{wave.name} changed while its readiness was checked (now revision {wave.revision}): submit again."
            )
        blockers = ReadinessFinding.objects.filter(wave=wave, severity=FindingSeverity.BLOCKER)
        count = blockers.count()
        if count:
            listed = blockers.select_related("vm").order_by("rule", "vm__name")[:BLOCKERS_LISTED]
            raise NotReady(
                f"{wave.name} has {count} readiness blocker{'s' if count != 1 else ''}: fix them before submitting.",
                items=[f"{f.vm.name if f.vm_id else 'wave'}: {f.message}" for f in listed],
                blockers=count,
            )
        set_status(
            wave,
            WaveStatus.SUBMITTED,
            acting_user=acting_user,
            audit=SUBMIT,
            also={"submitted_by": acting_user, "submitted_at": timezone.now()},
            revision=wave.revision,
            warnings=checked.warnings,
        )
        wave_event(NotificationEvent.WAVE_SUBMITTED, wave, user=acting_user)
    return checked


def do_approve(wave: Wave, *, acting_user, change_ticket: str, comment: str = "", revision=None) -> Approval:
    return _decide(wave, acting_user, Decision.APPROVED, comment, change_ticket, revision)


def do_reject(wave: Wave, *, acting_user, comment: str, change_ticket: str = "", revision=None) -> Approval:
    return _decide(wave, acting_user, Decision.REJECTED, comment, change_ticket, revision)


def _decide(wave: Wave, user, decision: str, comment, change_ticket, revision) -> Approval:
    if not can_decide(user):
        raise PermissionDenied
    comment, change_ticket = (comment or "").strip(), (change_ticket or "").strip()
    if decision == Decision.APPROVED and not change_ticket:
        raise BadInput("An approval needs the change ticket it was granted under (for example CHG0012345).")
    if decision == Decision.REJECTED and not comment:
        raise BadInput("A rejection needs a comment that tells the planner what to change.")
    if len(change_ticket) > MAX_TICKET:
        raise BadInput(f"The change ticket reference is longer than {MAX_TICKET} characters.")
    with transaction.atomic():
        wave = lock(wave.pk)
        earlier = (
            Approval.objects.select_related("user", "wave").filter(wave=wave, revision=wave.revision).first()
        )
        if earlier is not None:
            raise AlreadyDecided(_decided(earlier))
        if wave.status != WaveStatus.SUBMITTED:
            raise WrongState(
                f"{wave.name} is {wave.get_status_display().lower()}: only a submitted wave can be approved or rejected."
            )
        _stale(wave, revision)
        if wave.submitted_by_id is not None and wave.submitted_by_id == user.pk:
            raise OwnSubmission(
                f"You submitted {wave.name}: another engineer must approve or reject it (four eyes)."
            )
        try:
            with transaction.atomic():
                approval = Approval.objects.create(
                    wave=wave,
                    revision=wave.revision,
                    decision=decision,
                    user=user,
                    comment=comment,
                    change_ticket=change_ticket,
                )
        except IntegrityError:
            raise AlreadyDecided(
                _decided(
                    Approval.objects.select_related("user", "wave").get(wave=wave, revision=wave.revision)
                )
            ) from None
        approved = decision == Decision.APPROVED
        set_status(
            wave,
            WaveStatus.APPROVED if approved else WaveStatus.REJECTED,
            acting_user=user,
            audit=APPROVE if approved else REJECT,
            revision=wave.revision,
            comment=comment,
            change_ticket=change_ticket,
        )
        wave_event(
            NotificationEvent.WAVE_APPROVED if approved else NotificationEvent.WAVE_REJECTED,
            wave,
            user=user,
            change_ticket=change_ticket,
            comment=comment,
        )
    return approval
