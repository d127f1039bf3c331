"""Validate a wave in HCX before its window: a dry run that starts nothing.

An engineer asks (`request_validation`); a background job (`launch.validate_wave`) builds, for every
VM of the wave the launch would send, the very migration body the launch sends (specs.spec_for, on an
unsaved forward VmMigration) and sends HCX's validation call for them (`POST
/mobility/migrations/validate`, hcx-wire.md §6; validating creates nothing there). HCX's answer per VM,
its errors and warnings in HCX's own words, is the job's result (`Job.data`), so it survives a reload;
`completed` is when it was taken. The wave page shows the latest one (`latest`).

Asking again while a dry run of the wave is pending or running returns that one (one at a time per
wave, decided under the wave's row lock); asking after it ended starts a new one.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.access import user_can
from core.choices import AuditAction, EventLevel, JobStatus
from core.jobs import JobError, job_handler
from core.models import AuditEntry, Job
from hcx.client import HcxError
from migrations_app.choices import MigrationDirection, WaveStatus
from migrations_app.models import Batch, VmMigration, Wave, WaveItem
from migrations_app.waves.revisions import lock

from .batches import unavailable_vms
from .dispatch import _validation as hcx_validation
from .errors import LaunchError
from .site import SiteContext, service_for
from .specs import spec_for

VALIDATE_KIND = "launch.validate_wave"
# VMs per validation call: a wave of hundreds is sent in a few calls rather than one very large body.
VALIDATE_CHUNK = 100
PORTAL_CODE = "PORTAL"  # a problem the portal found before asking HCX (no target cluster...)


def can_validate(user) -> bool:
    """Engineers, who launch waves, check them in HCX first."""
    return user_can(user, Batch, "launch_wave")


def validation_problem(wave: Wave) -> str:
    """Why this wave cannot be checked in HCX now ("" when it can)."""
    if wave.status == WaveStatus.COMPLETED:
        return f"{wave.name} is completed: there is nothing left to check."
    if wave.site_id is None:
        return f"{wave.name} has no site: HCX does not know where to send it."
    return ""


def latest(wave: Wave) -> Job | None:
    """The wave's newest dry run (one query)."""
    return (
        Job.objects.filter(
            kind=VALIDATE_KIND, object_type=ContentType.objects.get_for_model(Wave), object_id=wave.pk
        )
        .order_by("-created", "-id")
        .first()
    )


def request_validation(wave: Wave, *, user) -> tuple[Job, bool]:
    """(the dry run, True when this call started it). PermissionDenied for a user who may not launch,
    LaunchError when the wave cannot be checked."""
    if not can_validate(user):
        raise PermissionDenied
    with transaction.atomic():
        wave = lock(wave.pk)
        problem = validation_problem(wave)
        if problem:
            raise LaunchError(problem)
        running = latest(wave)
        if running is not None and running.status in JobStatus.ACTIVE:
            return running, False
        job = Job.enqueue(
            VALIDATE_KIND,
            name=f"Validate {wave.name} in HCX"[:200],
            user=user,
            obj=wave,
            params={"wave_id": wave.pk},
        )
        AuditEntry.record(user, AuditAction.WAVE_VALIDATE_IN_HCX, wave, job=job.pk)
    return job, True


def _rows(wave: Wave) -> tuple[list[VmMigration], dict[str, str]]:
    """Unsaved forward migrations of the VMs a launch would send, and the names of those it would not, with why."""
    items = list(
        WaveItem.objects.filter(wave=wave, vm__removed__isnull=True)
        .select_related("vm", "vm__cluster")
        .order_by("vm__name", "pk")
    )
    busy = unavailable_vms([i.vm_id for i in items])
    rows, skipped = [], {}
    for item in items:
        if item.vm_id in busy:
            skipped[item.vm.name] = busy[item.vm_id]
            continue
        item.wave = wave
        rows.append(
            VmMigration(
                wave=wave,
                vm=item.vm,
                direction=MigrationDirection.FORWARD,
                migration_type=item.effective_migration_type,
            )
        )
    return rows, skipped


def _answer(m: VmMigration, errors: list[dict], warnings: list[dict]) -> dict:
    # `vm`, `state` and `reason` are what the job page reads a result's list by ("app-2: ...").
    return {
        "vm": m.vm.name,
        "vm_id": m.vm.pk,
        "migration_type": m.get_migration_type_display(),
        "passed": not errors,
        "state": "passed" if not errors else "errors",
        "reason": "; ".join(e["message"] for e in errors),
        "errors": errors,
        "warnings": warnings,
    }


@job_handler(VALIDATE_KIND)
def validate_wave(job, wave_id: int):
    wave = Wave.objects.select_related("site", "target_cluster").filter(pk=wave_id).first()
    if wave is None:
        raise JobError(f"Wave #{wave_id} no longer exists")
    problem = validation_problem(wave)
    if problem:
        raise JobError(problem)
    rows, skipped = _rows(wave)
    if not rows:
        raise JobError(
            f"{wave.name} has no VM to check: add VMs to it first."
            if not skipped
            else f"Every VM of {wave.name} is migrated or migrating already."
        )
    job.set_progress(5, f"Asking HCX at {wave.site} about {len(rows)} VM(s)")
    try:
        service = service_for(wave.site)
    except LaunchError as exc:
        raise JobError(str(exc)) from None
    answers: list[dict] = []
    try:
        ctx = SiteContext.load(wave.site, service)
        ctx.prepare(rows)
        sendable, specs = [], []
        for m in rows:
            try:
                specs.append(spec_for(m, ctx))
                sendable.append(m)
            except LaunchError as exc:  # the wave lacks something HCX needs: said per VM, HCX not asked
                answers.append(_answer(m, [{"code": PORTAL_CODE, "message": str(exc)}], []))
        for start in range(0, len(specs), VALIDATE_CHUNK):
            chunk = sendable[start : start + VALIDATE_CHUNK]
            said = service.validate_migrations(specs[start : start + VALIDATE_CHUNK])
            for m, answer in zip(chunk, said, strict=False):
                said_of_vm = hcx_validation(answer)  # the shape a launch keeps on the migration
                answers.append(_answer(m, said_of_vm["errors"], said_of_vm["warnings"]))
            # HCX answers every item it was sent; one it left out is said to be unanswered, not passed.
            for m in chunk[len(said) :]:
                answers.append(
                    _answer(m, [{"code": None, "message": "HCX did not answer about this VM"}], [])
                )
            job.set_progress(5 + 90 * min(len(specs), start + VALIDATE_CHUNK) / len(specs))
    except (LaunchError, HcxError) as exc:
        raise JobError(str(exc)) from None
    finally:
        service.close()
    answers.sort(key=lambda a: a["vm"])
    failed = sum(1 for a in answers if not a["passed"])
    summary = f"{len(answers) - failed} of {len(answers)} VM(s) passed HCX's validation" + (
        f"; {failed} with errors" if failed else ""
    )
    job.log(summary)
    for a in answers:
        for e in a["errors"]:
            job.log(f"{a['vm']}: {e['message']}", EventLevel.ERROR)
    return {
        "taken": timezone.now().isoformat(),
        "revision": wave.revision,
        "vms": answers,
        "passed": len(answers) - failed,
        "failed": failed,
        "skipped": [{"vm": name, "reason": why} for name, why in sorted(skipped.items())],
    }
