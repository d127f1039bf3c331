"""The wave page's "Validate in HCX" (a dry run, dry_run.py): the engineer's button, and the panel that
shows HCX's latest answer per VM, refreshed while the check runs."""

import zoneinfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View

from core.access import PermissionMixin
from migrations_app.models import Wave
from migrations_app.waves.display import zone_of

from .dry_run import can_validate, latest, request_validation, validation_problem
from .errors import LaunchError

PANEL = "launch/_hcx_validation.html"


def panel_context(wave: Wave, user) -> dict:
    """What the panel shows: the latest dry run and its answers, its time in the wave's zone."""
    job = latest(wave)
    data = job.data if job is not None and isinstance(job.data, dict) else {}
    taken = job.completed if job is not None else None
    return {
        "wave": wave,
        "validation": job,
        "answers": data.get("vms") or [],
        "skipped": data.get("skipped") or [],
        "taken": timezone.localtime(taken, zone_of(wave)) if taken else None,
        # The answer was for the wave as it was: say so when the wave has changed since.
        "revision": data.get("revision"),
        "outdated": data.get("revision") not in (None, wave.revision),
        "zone_name": wave.time_zone if isinstance(zone_of(wave), zoneinfo.ZoneInfo) else "UTC",
        "can_validate": can_validate(user) and not validation_problem(wave),
        "problem": validation_problem(wave) if can_validate(user) else "",
    }


class WaveValidationView(PermissionMixin, View):
    """GET: the panel (anyone who reads waves). POST: start a dry run (engineers), or find the one running."""

    model = Wave

    def get(self, request, pk):
        wave = get_object_or_404(Wave.objects.select_related("site"), pk=pk)
        return render(request, PANEL, {"v": panel_context(wave, request.user)})

    def post(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        if not can_validate(request.user):
            raise PermissionDenied
        try:
            job, started = request_validation(wave, user=request.user)
        except LaunchError as error:
            messages.error(request, str(error))
        else:
            messages.info(
                request,
                f"Checking {wave.name}'s VMs in HCX; nothing is started."
                if started
                else f"{wave.name} is being checked in HCX already (job #{job.pk}).",
            )
        return redirect(f"{wave.get_absolute_url()}#hcx-validation")
