"""Running a wave's readiness, and switching a VM to another migration type: each in one transaction,
with the acting user named and an audit row.

A run holds the wave's row lock (waves/revisions.lock, which every edit takes) while it reads and
writes, so that an edit made meanwhile waits and then moves the revision on: findings are never
stamped with a revision they were not computed for. It replaces the wave's findings as a whole (one
DELETE, batched INSERTs) and sets `readiness_revision` to the revision it checked.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q

from core.choices import AuditAction
from core.models import AuditEntry
from hcx.choices import MigrationType
from migrations_app.choices import FindingSeverity
from migrations_app.models import ReadinessFinding, Wave, WaveItem

from .access import can_run_readiness, can_switch_type
from .errors import BadInput, StaleRevision, WaveLocked
from .evaluate import check_wave


@dataclass(frozen=True)
class Summary:
    wave_id: int
    revision: int
    checked_revision: int | None
    blockers: int
    warnings: int
    blocked_vms: int

    @property
    def checked(self) -> bool:
        return self.checked_revision is not None

    @property
    def current(self) -> bool:
        return self.checked_revision == self.revision

    @property
    def ready(self) -> bool:
        return self.current and not self.blockers

    def as_dict(self) -> dict:
        return {
            "wave": self.wave_id,
            "revision": self.revision,
            "checked_revision": self.checked_revision,
            "current": self.current,
            "ready": self.ready,
            "blockers": self.blockers,
            "warnings": self.warnings,
            "blocked_vms": self.blocked_vms,
        }


def summary(wave: Wave) -> Summary:
    """The stored findings' counts, in one query."""
    counts = ReadinessFinding.objects.filter(wave=wave).aggregate(
        blockers=Count("pk", filter=Q(severity=FindingSeverity.BLOCKER)),
        warnings=Count("pk", filter=Q(severity=FindingSeverity.WARNING)),
        blocked_vms=Count("vm", filter=Q(severity=FindingSeverity.BLOCKER), distinct=True),
    )
    return Summary(wave.pk, wave.revision, wave.readiness_revision, **counts)


def lock(pk) -> Wave:
    """The wave's row, locked until the transaction ends: the waves part's lock, which every change of
    the wave takes too (imported here, lazily, so that this part loads without the waves part's modules)."""
    from migrations_app.waves.revisions import lock as lock_wave

    return lock_wave(pk)


def do_run_readiness(wave: Wave, *, acting_user) -> Summary:
    if not can_run_readiness(acting_user):
        raise PermissionDenied
    from migrations_app.waves.states import LOCKED

    given = wave
    with transaction.atomic():
        wave = lock(wave.pk)
        if wave.status in LOCKED:
            raise WaveLocked(f"{wave.name} is {wave.get_status_display().lower()}: its readiness is history.")
        outcome = check_wave(wave)
        ReadinessFinding.objects.filter(wave=wave).delete()
        ReadinessFinding.objects.bulk_create(outcome.findings)
        Wave.objects.filter(pk=wave.pk).update(readiness_revision=wave.revision)
        wave.readiness_revision = given.readiness_revision = wave.revision
        blockers = outcome.count(FindingSeverity.BLOCKER)
        result = Summary(
            wave.pk,
            wave.revision,
            wave.revision,
            blockers,
            outcome.count(FindingSeverity.WARNING),
            len({f.vm_id for f in outcome.findings if f.severity == FindingSeverity.BLOCKER and f.vm_id}),
        )
        AuditEntry.record(
            acting_user,
            AuditAction.WAVE_CHECK_READINESS,
            wave,
            revision=wave.revision,
            vms=outcome.vms,
            blockers=result.blockers,
            warnings=result.warnings,
        )
    return result


def do_switch_migration_type(wave: Wave, vm_id, migration_type: str, *, acting_user, revision=None):
    """Move one VM of the wave to another migration type and check the wave again.

    Storing the wave's default type clears the override, so the VM follows the wave from then on.
    Returns (waves.revisions.Change, Summary); the Change says whether an approval was withdrawn.
    """
    if not can_switch_type(acting_user):
        raise PermissionDenied
    if migration_type not in MigrationType.values:
        raise BadInput(
            f"{migration_type!r} is not a migration type; choose one of {', '.join(MigrationType.values)}."
        )
    from migrations_app.waves.revisions import changed

    with transaction.atomic():
        wave = lock(wave.pk)
        if revision is not None and int(revision) != wave.revision:
            raise StaleRevision(
                f"{wave.name} changed since you loaded it (it is at revision {wave.revision} now): look again, then switch."
            )
        item = WaveItem.objects.select_related("vm").filter(wave=wave, vm_id=vm_id).first()
        if item is None:
            raise BadInput(f"That VM is not in {wave.name}.")
        old = item.migration_type or wave.migration_type
        if old == migration_type:
            raise BadInput(f"{item.vm.name} already migrates with {MigrationType(old).label}.")
        # Storing "" for the wave's own type lets the VM follow the wave's default from then on.
        item.migration_type = "" if migration_type == wave.migration_type else migration_type
        item.save(update_fields=["migration_type"])
        # changed() bumps the revision, withdraws a submission or approval, refuses a launched wave
        # (rolling this back) and writes the audit row.
        change = changed(
            wave,
            acting_user,
            f"{item.vm.name}: migration type {MigrationType(old).label} -> {MigrationType(migration_type).label}",
            vm=item.vm_id,
            migration_type=migration_type,
        )
        result = do_run_readiness(wave, acting_user=acting_user)
    return change, result
