"""A wave's network mappings: where the VMs of each source port group land."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from core.access import PermissionMixin
from migrations_app.models import NetworkMapping, Wave

from ..actions import do_delete_mapping, do_save_mapping
from ..errors import WaveError
from ..forms import MappingForm
from ..network_targets import BLOCKER, Source, avs_targets, target_issues
from ..networks import BY_MAPPING, Landing
from . import report


def _networks_section(pk) -> str:
    return reverse("migrations_app:wave", args=[pk]) + "#networks"


class WaveMappingSaveView(PermissionMixin, View):
    model = NetworkMapping
    permission_action = "add"
    http_method_names = ["post"]

    def post(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        form = MappingForm(request.POST)
        if not form.is_valid():
            errors = "; ".join(
                f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".strip(": ")
                for f, e in form.errors.items()
            )
            messages.error(request, f"The mapping was not saved: {errors}")
            return redirect(_networks_section(pk))
        data = form.cleaned_data
        try:
            change = do_save_mapping(
                pk, data["source"], data["target_kind"], data["target_name"], acting_user=request.user
            )
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(_networks_section(pk))
        if change is None:
            report(request, f"{data['source'].name} already maps to {data['target_name']}.")
        else:
            report(request, f"{wave.name}: {data['source'].name} now lands on {data['target_name']}.", change)
        # Saved, but say at once what readiness will hold against it (the same words as its finding).
        source = data["source"]
        for issue in target_issues(
            Source(source.pk, source.name, source.vlan_id),
            Landing(BY_MAPPING, data["target_kind"], data["target_name"]),
            avs_targets(wave),
        ):
            said = messages.error if issue.severity == BLOCKER else messages.warning
            said(
                request,
                f"Readiness {'blocks' if issue.severity == BLOCKER else 'warns'}: {issue.message} {issue.fix}",
            )
        return redirect(_networks_section(pk))


class WaveMappingDeleteView(PermissionMixin, View):
    model = NetworkMapping
    permission_action = "delete"
    http_method_names = ["post"]

    def post(self, request, pk, mapping_pk):
        wave = get_object_or_404(Wave, pk=pk)
        try:
            change = do_delete_mapping(pk, mapping_pk, acting_user=request.user)
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(_networks_section(pk))
        report(request, f"{wave.name}: mapping removed.", change)
        return redirect(_networks_section(pk))
