"""The wave list, the wave page, and adding, editing and deleting a wave."""

from django.contrib import messages
from django.db.models import Count, Q
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django_tables2 import RequestConfig

from core.access import user_can
from core.generic_views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    style_filter_form,
)
from hcx.avs_inventory import can_read as can_read_avs_inventory
from migrations_app.choices import MappingTarget, WaveStatus
from migrations_app.launch.validate_views import panel_context as hcx_validation_panel
from migrations_app.models import GroupMember, NetworkMapping, Wave, WaveItem

from .. import querysets
from ..actions import do_create_wave, do_delete_wave, do_update_wave
from ..capacity import cap_warnings, fit_for_wave, wave_totals
from ..display import status_badge, window_text
from ..errors import StaleRevision, WaveError
from ..filtersets import WaveFilterSet, WaveItemFilterSet
from ..forms import WaveForm
from ..network_targets import avs_targets
from ..networks import wave_networks
from ..states import DELETABLE, EDITABLE
from ..tables import PAGINATION, WaveItemTable, WaveTable
from . import report


class WaveListView(ObjectListView):
    model = Wave
    queryset = querysets.waves()
    filterset_class = WaveFilterSet
    table_class = WaveTable
    table_pagination = PAGINATION
    template_name = "migrations_app/waves_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = [
            (value, label, WaveStatus.COLORS[value]) for value, label in WaveStatus.choices
        ]
        context["chosen_statuses"] = self.request.GET.getlist("status")
        return context


def incomplete_groups(wave: Wave) -> list[dict]:
    """Groups of this wave's VMs whose other VMs are not all here (one query): a group should move whole."""
    in_wave = GroupMember.objects.filter(vm__wave_item__wave=wave).values("group_id")
    rows = (
        GroupMember.objects.filter(group_id__in=in_wave, vm__removed__isnull=True)
        .values("group_id", "group__name")
        .annotate(
            total=Count("pk"),
            here=Count("pk", filter=Q(vm__wave_item__wave=wave)),
            elsewhere=Count("pk", filter=Q(vm__wave_item__isnull=False) & ~Q(vm__wave_item__wave=wave)),
        )
        .order_by("group__name")
    )
    return [row for row in rows if row["here"] < row["total"]]


class WaveView(ObjectDetailView):
    """Everything about one wave, in a fixed number of queries whatever its size."""

    model = Wave
    queryset = Wave.objects.select_related("site", "target_cluster", "target_cluster__site")
    template_name = "migrations_app/waves_wave.html"

    def get_context_data(self, **kwargs):
        wave = self.object
        user = self.request.user
        totals = wave_totals(wave)
        items = WaveItemFilterSet(
            self.request.GET, queryset=querysets.wave_items().filter(wave=wave).order_by("vm__name", "pk")
        )
        style_filter_form(items.form)
        can_change_items = wave.status in EDITABLE and user_can(user, WaveItem, "change")
        exclude = [] if wave.status in EDITABLE and user_can(user, WaveItem, "delete") else ["select"]
        type_form = None
        if can_change_items:
            query = self.request.GET.urlencode()
            type_form = {
                "url": reverse("migrations_app:wave_item_type", args=[wave.pk]),
                "csrf_token": get_token(self.request),
                "back": f"?{query}" if query else "",
            }
        table = WaveItemTable(items.qs, prefix="vm-", exclude=exclude, wave=wave, type_form=type_form)
        RequestConfig(self.request, paginate=PAGINATION).configure(table)
        targets = avs_targets(wave)
        networks = wave_networks(wave, targets)
        editable = wave.status in EDITABLE
        return super().get_context_data(
            status_badge=status_badge(wave),
            window=window_text(wave),
            totals=totals,
            caps=cap_warnings(wave, totals),
            fit=fit_for_wave(wave, totals),
            networks=networks,
            mappable=[n for n in networks if n.network_id is not None],
            mapping_kinds=MappingTarget.choices,
            targets=targets,
            target_choices=targets.choices(),
            offered_values={value for _, options in targets.choices() for value, _ in options},
            can_read_avs=bool(wave.site_id) and can_read_avs_inventory(user),
            incomplete_groups=incomplete_groups(wave),
            item_filter=items,
            vm_table=table,
            editable=editable,
            can_edit=editable and user_can(user, Wave, "change"),
            can_delete=wave.status in DELETABLE and user_can(user, Wave, "delete"),
            can_add_items=editable and user_can(user, WaveItem, "add"),
            can_remove_items=editable and user_can(user, WaveItem, "delete"),
            can_map=editable and user_can(user, NetworkMapping, "add"),
            can_unmap=editable and user_can(user, NetworkMapping, "delete"),
            hcx_validation=hcx_validation_panel(wave, user),
            **kwargs,
        )


class WaveEditView(ObjectEditView):
    """Add a wave, or edit one: the form carries the revision it was opened on; saving over a newer
    revision is refused, and an edit of a submitted or approved wave withdraws that (revisions.py)."""

    model = Wave
    form_class = WaveForm
    template_name = "migrations_app/waves_edit.html"
    form_errors = {StaleRevision: 409, WaveError: 400}

    def refuse(self, wave):
        if wave is not None and wave.status not in EDITABLE:
            messages.error(
                self.request, f"{wave.name} is {wave.get_status_display().lower()}: it cannot be changed."
            )
            return redirect(wave)
        return None

    def get_initial(self):
        if self.object is None and self.request.GET.get("site"):
            return {"site": self.request.GET["site"]}
        return None

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_read_avs=can_read_avs_inventory(self.request.user), **kwargs)

    def save(self, form):
        wave, user = self.object, self.request.user
        if wave is None:
            wave = do_create_wave(form.values(), acting_user=user)
            report(self.request, f"Wave {wave.name} created.")
            return redirect(wave)
        change = do_update_wave(
            wave.pk, form.values(), expected_revision=form.cleaned_data["revision"], acting_user=user
        )
        if change is None:
            report(self.request, f"Nothing changed in {wave.name}.")
        else:
            report(self.request, f"Wave {wave.name} saved (revision {change.revision}).", change)
        return redirect(reverse("migrations_app:wave", args=[wave.pk]))


class WaveDeleteView(ObjectDeleteView):
    model = Wave
    queryset = querysets.waves()
    what = "wave"
    success_url = reverse_lazy("migrations_app:wave_list")
    refusals = (WaveError,)

    def protected_by(self, wave):
        if wave.status in DELETABLE:
            return None
        return f"{wave.name} is {wave.get_status_display().lower()}: only draft or rejected waves can be deleted."

    def consequence(self, wave):
        return (
            f"The wave goes, with its network mappings, readiness findings and decisions; its {wave.vm_count} VMs "
            "go back to being unplanned. The audit log keeps the record."
        )

    def delete(self, wave):
        return f"Wave {do_delete_wave(wave.pk, acting_user=self.request.user)} deleted."
