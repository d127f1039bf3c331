"""Putting VMs into a wave and taking them out: whole groups or single VMs (each picked from a
searchable, paged list), removal, and the per-VM migration type."""

import re

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django_tables2 import RequestConfig

from core.access import PermissionMixin
from core.generic_views import style_filter_form
from hcx.choices import MigrationType
from inventory.filtersets import VirtualMachineFilterSet
from inventory.models import VirtualMachine
from migrations_app.models import DependencyGroup, Wave, WaveItem

from ..actions import do_add_groups, do_add_vms, do_remove_groups, do_remove_vms, do_set_migration_type
from ..errors import WaveError
from ..forms import ids_from
from ..states import EDITABLE
from ..tables import PAGINATION, GroupPickerTable, VmPickerTable
from . import report

# Where the type form sends the user back to: the same page of the VM table (a query string only).
_QUERY = re.compile(r"\?[\w=&%.+~-]*")


def _wave_page(wave_pk) -> str:
    return reverse("migrations_app:wave", args=[wave_pk])


class _WaveItemsView(PermissionMixin, View):
    model = WaveItem

    def get_wave(self) -> Wave:
        wave = get_object_or_404(Wave, pk=self.kwargs["pk"])
        return wave

    def refuse_locked(self, wave):
        if wave.status not in EDITABLE:
            messages.error(
                self.request, f"{wave.name} is {wave.get_status_display().lower()}: its VMs cannot change."
            )
            return redirect(_wave_page(wave.pk))
        return None


class WaveAddGroupsView(_WaveItemsView):
    """Pick groups to add whole; groups with VMs in other waves are marked, and refused if picked."""

    permission_action = "add"

    def get(self, request, pk):
        wave = self.get_wave()
        if refused := self.refuse_locked(wave):
            return refused
        groups = DependencyGroup.objects.annotate(
            vm_count=Count("members", filter=Q(members__vm__removed__isnull=True)),
            here=Count("members", filter=Q(members__vm__wave_item__wave=wave)),
            elsewhere=Count(
                "members",
                filter=Q(members__vm__wave_item__isnull=False) & ~Q(members__vm__wave_item__wave=wave),
            ),
        ).order_by("priority", "name", "pk")
        query = request.GET.get("q", "").strip()
        if query:
            groups = groups.filter(Q(name__icontains=query) | Q(owner__icontains=query))
        if request.GET.get("unplanned"):
            groups = groups.filter(here=0, elsewhere=0)
        table = GroupPickerTable(groups)
        RequestConfig(request, paginate=PAGINATION).configure(table)
        return render(
            request,
            "migrations_app/waves_add_groups.html",
            {"wave": wave, "table": table, "q": query, "unplanned": bool(request.GET.get("unplanned"))},
        )

    def post(self, request, pk):
        wave = self.get_wave()
        group_ids = ids_from(request.POST, "select")
        if not group_ids:
            messages.error(request, "Tick the groups to add.")
            return redirect(reverse("migrations_app:wave_add_groups", args=[pk]))
        try:
            change, added = do_add_groups(pk, group_ids, acting_user=request.user)
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(reverse("migrations_app:wave_add_groups", args=[pk]))
        report(
            request,
            f"{added} VMs added to {wave.name}."
            if added
            else "Those groups' VMs are all in this wave already.",
            change,
        )
        return redirect(_wave_page(pk))


class WaveAddVmsView(_WaveItemsView):
    """Pick single VMs among those in no wave, with the VM list's search and filters."""

    permission_action = "add"

    def get(self, request, pk):
        wave = self.get_wave()
        if refused := self.refuse_locked(wave):
            return refused
        # A VM whose Bulk copy HCX left on-premises is in AVS already (inventory/migrated_copies.py).
        base = VirtualMachine.objects.filter(wave_item__isnull=True, migrated_copy_name="").select_related(
            "vcenter", "cluster", "group_membership__group"
        )
        vms = VirtualMachineFilterSet(request.GET, queryset=base)
        style_filter_form(vms.form)
        table = VmPickerTable(vms.qs)
        RequestConfig(request, paginate=PAGINATION).configure(table)
        fields = [vms.form[name] for name in ("q", "cluster_id", "power_state", "tag")]
        return render(
            request,
            "migrations_app/waves_add_vms.html",
            {"wave": wave, "table": table, "fields": fields, "filter": vms},
        )

    def post(self, request, pk):
        wave = self.get_wave()
        vm_ids = ids_from(request.POST, "select")
        if not vm_ids:
            messages.error(request, "Tick the VMs to add.")
            return redirect(reverse("migrations_app:wave_add_vms", args=[pk]))
        try:
            change, added = do_add_vms(pk, vm_ids, acting_user=request.user)
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(reverse("migrations_app:wave_add_vms", args=[pk]))
        report(
            request,
            f"{added} VMs added to {wave.name}." if added else "Those VMs are in this wave already.",
            change,
        )
        return redirect(_wave_page(pk))


class WaveRemoveView(_WaveItemsView):
    """Take the ticked VMs (or whole groups) out of the wave."""

    permission_action = "delete"
    http_method_names = ["post"]

    def post(self, request, pk):
        wave = self.get_wave()
        vm_ids, group_ids = ids_from(request.POST, "select"), ids_from(request.POST, "group")
        if not vm_ids and not group_ids:
            messages.error(request, "Tick the VMs to take out of the wave.")
            return redirect(_wave_page(pk))
        try:
            if group_ids:
                change, removed = do_remove_groups(pk, group_ids, acting_user=request.user)
            else:
                change, removed = do_remove_vms(pk, vm_ids, acting_user=request.user)
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(_wave_page(pk))
        report(
            request,
            f"{removed} VMs taken out of {wave.name}." if removed else "None of those VMs was in this wave.",
            change,
        )
        return redirect(_wave_page(pk))


class WaveItemTypeView(_WaveItemsView):
    """Set one VM's (or the ticked VMs') migration type; empty follows the wave's default."""

    permission_action = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        wave = self.get_wave()
        vm_ids = ids_from(request.POST, "vm") or ids_from(request.POST, "select")
        migration_type = request.POST.get("migration_type", "")
        if migration_type and migration_type not in MigrationType.values:
            messages.error(request, f"{migration_type!r} is not a migration type.")
            return redirect(_wave_page(pk))
        if not vm_ids:
            messages.error(request, "Choose the VMs whose migration type to set.")
            return redirect(_wave_page(pk))
        try:
            change, updated = do_set_migration_type(pk, vm_ids, migration_type, acting_user=request.user)
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(_wave_page(pk))
        label = (
            MigrationType(migration_type).label
            if migration_type
            else f"the wave default ({wave.get_migration_type_display()})"
        )
        report(request, f"{updated} VMs now migrate with {label}." if updated else "Nothing changed.", change)
        back = request.POST.get("return", "")
        return redirect(_wave_page(pk) + (back if _QUERY.fullmatch(back) else ""))
