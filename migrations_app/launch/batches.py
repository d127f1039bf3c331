"""Batches: the unit an engineer launches (chosen VMs or whole groups of an approved wave).

`do_create_batch()` writes the batch and one WAITING migration per VM; `do_launch_batch()` marks it
launched, moves the wave to RUNNING and enqueues the short job that sends it to HCX
(`launch.submit_batch`, jobs.py). Nothing here talks to HCX: a batch is sent by `dispatch()`, which
also fills freed slots later, so a launch is quick and safe to repeat.

Each action runs in one transaction with the wave's row locked (waves/revisions.lock), takes the
acting user explicitly and writes an audit row.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.access import user_can
from core.choices import AuditAction, JobStatus, NotificationEvent
from core.models import AuditEntry, Job
from hcx.choices import MigrationType
from inventory.models import VirtualMachine
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.models import Batch, DependencyGroup, VmMigration, Wave
from migrations_app.notifications import wave_event
from migrations_app.waves.revisions import lock
from migrations_app.waves.states import LAUNCHABLE, set_status

from .binding import check_batch_revision, not_approved
from .errors import LaunchError

SUBMIT_KIND = "launch.submit_batch"
# Seed Checkpoint only means something for the replicated types (hcx-wire.md §9.3).
SEEDED_TYPES = (MigrationType.BULK, MigrationType.RAV)


def group_name(wave: Wave, number: int) -> str:
    """The HCX mobility group's name, known before it is created, so a create whose answer was lost
    is found by name rather than made twice."""
    return f"avsportal-w{wave.pk}-b{number}"


def unavailable_vms(vm_ids) -> dict[int, str]:
    """VM id -> why it cannot go into a new batch: a migration in flight, or already migrated (its
    last completed migration went to AVS; a completed rollback brings it back)."""
    rows = (
        VmMigration.objects.filter(vm_id__in=list(vm_ids))
        .filter(Q(state__in=MigrationState.ACTIVE) | Q(state=MigrationState.COMPLETE))
        .order_by("ended", "id")
        .values_list("vm_id", "state", "direction")
    )
    why, last_complete = {}, {}
    for vm_id, state, direction in rows:
        if state in MigrationState.ACTIVE:
            why[vm_id] = "a migration in flight"
        else:
            last_complete[vm_id] = direction
    for vm_id, direction in last_complete.items():
        if direction == MigrationDirection.FORWARD:
            why.setdefault(vm_id, "already migrated")
    return why


def _check_can_launch(user):
    if not user_can(user, Batch, "launch_wave"):
        raise PermissionDenied


def _check_wave(wave: Wave):
    if wave.status not in LAUNCHABLE:
        raise LaunchError(not_approved(wave))
    missing = [
        what
        for what, value in (("site", wave.site_id), ("target cluster", wave.target_cluster_id))
        if not value
    ]
    if missing:
        raise LaunchError(
            f"{wave.name} has no {' and no '.join(missing)}: HCX needs to know where the VMs go."
        )


def _pk(value) -> int:
    return value.pk if hasattr(value, "pk") else int(value)


def do_create_batch(wave: Wave, *, acting_user, vms=None, groups=None, name: str = "") -> Batch:
    """A batch of `wave` with one WAITING migration per VM. `vms` (VMs or ids) and `groups` (groups or
    ids, taken whole: every VM of the wave in the group) must belong to the wave; with neither, the
    batch takes every VM of the wave not migrated yet nor in flight. Raises LaunchError."""
    _check_can_launch(acting_user)
    with transaction.atomic():
        wave = lock(wave.pk)
        _check_wave(wave)
        items = {i.vm_id: i for i in wave.items.all()}
        if vms is None and groups is None:
            busy = unavailable_vms(items)
            chosen = [i for vm_id, i in items.items() if vm_id not in busy]
            if not chosen:
                raise LaunchError(
                    f"Every VM of {wave.name} is migrated or in flight: nothing is left to launch."
                )
        else:
            chosen = _chosen(wave, items, [_pk(v) for v in vms or ()], [_pk(g) for g in groups or ()])
            busy = unavailable_vms(i.vm_id for i in chosen)
            if busy:
                names = dict(VirtualMachine.objects.filter(pk__in=busy).values_list("pk", "name"))
                raise LaunchError(
                    "These VMs cannot be launched again:",
                    items=sorted(f"{names[pk]} ({why})" for pk, why in busy.items()),
                )
        number = (wave.batches.aggregate(n=Max("number"))["n"] or 0) + 1
        batch = Batch.objects.create(
            wave=wave,
            number=number,
            name=(name or "").strip()[:200] or f"Batch {number}",
            created_by=acting_user,
            hcx_group_name=group_name(wave, number),
            revision=wave.revision,
        )
        seed = bool(settings.LAUNCH["SEED_CHECKPOINT"])
        rows = []
        for item in chosen:
            kind = item.migration_type or wave.migration_type
            rows.append(
                VmMigration(
                    batch=batch,
                    wave=wave,
                    vm_id=item.vm_id,
                    migration_type=kind,
                    seed_checkpoint=seed and kind in SEEDED_TYPES,
                )
            )
        try:
            with transaction.atomic():
                VmMigration.objects.bulk_create(rows)
        except IntegrityError:
            # A migration for one of them was created by another action since the check above.
            raise LaunchError(
                "A VM of this batch got a migration in flight meanwhile: choose again."
            ) from None
        AuditEntry.record(acting_user, AuditAction.BATCH_CREATE, batch, wave=wave.pk, vms=len(rows))
    return batch


def _chosen(wave: Wave, items: dict, vm_ids: list[int], group_ids: list[int]) -> list:
    outside = [pk for pk in vm_ids if pk not in items]
    if outside:
        raise LaunchError(
            f"These VMs are not in {wave.name}:",
            items=sorted(VirtualMachine.objects.filter(pk__in=outside).values_list("name", flat=True))
            or [str(pk) for pk in outside],
        )
    chosen = {pk: items[pk] for pk in vm_ids}
    empty = []
    for group_id in group_ids:
        members = [i for i in items.values() if i.group_id == group_id]
        if not members:
            empty.append(group_id)
        chosen.update((i.vm_id, i) for i in members)
    if empty:
        names = DependencyGroup.objects.filter(pk__in=empty).values_list("name", flat=True)
        raise LaunchError(
            f"These groups have no VMs in {wave.name}:", items=sorted(names) or [str(g) for g in empty]
        )
    if not chosen:
        raise LaunchError("Choose at least one VM or group of the wave.")
    return list(chosen.values())


def do_launch_batch(batch: Batch, *, acting_user) -> Job:
    """Mark `batch` launched, move its wave to RUNNING (first launch) and enqueue the job that sends it
    to HCX. Launching again is harmless: while its job runs that job is returned; after, a new job
    finds everything sent and sends only what still waits."""
    _check_can_launch(acting_user)
    given = batch
    with transaction.atomic():
        wave = lock(batch.wave_id)
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        _check_wave(wave)
        check_batch_revision(batch, wave)
        if batch.job_id:
            running = Job.objects.filter(pk=batch.job_id, status__in=JobStatus.ACTIVE).first()
            if running is not None:
                return running
        first = batch.launched is None
        now = timezone.now()
        job = Job.enqueue(
            SUBMIT_KIND,
            name=f"Launch {wave.name} / {batch.name}"[:200],
            user=acting_user,
            obj=batch,
            params={"batch_id": batch.pk},
        )
        batch.launched = batch.launched or now
        batch.job = job
        batch.save(update_fields=["launched", "job"])
        if wave.status == WaveStatus.APPROVED:  # the first launch; the launch's own row below records it
            set_status(wave, WaveStatus.RUNNING, acting_user=acting_user, audit=None)
        AuditEntry.record(
            acting_user,
            AuditAction.BATCH_LAUNCH if first else AuditAction.BATCH_RELAUNCH,
            batch,
            wave=wave.pk,
            job=job.pk,
            vms=batch.migrations.count(),
        )
        if first:
            wave_event(NotificationEvent.WAVE_LAUNCHED, wave, user=acting_user, batch=batch.name)
    given.launched, given.job = batch.launched, job
    return job


def do_launch_wave(wave: Wave, *, acting_user) -> Batch:
    """One batch of every VM of the wave not migrated yet nor in flight, launched."""
    with transaction.atomic():
        batch = do_create_batch(wave, acting_user=acting_user)
        do_launch_batch(batch, acting_user=acting_user)
    return batch
