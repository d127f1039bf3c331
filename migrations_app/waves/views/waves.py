"""The wave list, the wave page, and adding, editing and deleting a wave."""

from django.contrib import messages
from django.db.models import Count, Q
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from core.access import PermissionMixin, user_can
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


def style_filter_form(form):
    for field in form.fields.values():
        css = "form-select form-select-sm" if hasattr(field.widget, "choices") else "form-control form-control-sm"
        field.widget.attrs.setdefault("class", css)
    return form


class WaveListView(PermissionMixin, SingleTableMixin, FilterView):
    model = Wave
    queryset = querysets.waves()
    filterset_class = WaveFilterSet
    table_class = WaveTable
    table_pagination = PAGINATION
    template_name = "migrations_app/waves_list.html"

    def get_filterset(self, filterset_class):
        return style_filter_form_set(super().get_filterset(filterset_class))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = [(value, label, WaveStatus.COLORS[value]) for value, label in WaveStatus.choices]
        context["chosen_statuses"] = self.request.GET.getlist("status")
        return context


def style_filter_form_set(filterset):
    style_filter_form(filterset.form)
    return filterset


def incomplete_groups(wave: Wave) -> list[dict]:
    """Groups of this wave's VMs whose other VMs are not all here (one query): a group should move whole."""
    in_wave = GroupMember.objects.filter(vm__wave_item__wave=wave).values("group_id")
    rows = (
        GroupMember.objects.filter(group_id__in=in_wave, vm__removed__isnull=True)
        .values("group_id", "group__name")
        .annotate(total=Count("pk"), here=Count("pk", filter=Q(vm__wave_item__wave=wave)),
                  elsewhere=Count("pk", filter=Q(vm__wave_item__isnull=False) & ~Q(vm__wave_item__wave=wave)))
        .order_by("group__name")
    )
    return [row for row in rows if row["here"] < row["total"]]


class WaveView(PermissionMixin, DetailView):
    """Everything about one wave, in a fixed number of queries whatever its size."""

    model = Wave
    queryset = Wave.objects.select_related("site", "target_cluster", "target_cluster__site")
    template_name = "migrations_app/waves_wave.html"

    def get_context_data(self, **kwargs):
        wave = self.object
        user = self.request.user
        totals = wave_totals(wave)
        items = WaveItemFilterSet(self.request.GET, queryset=querysets.wave_items().filter(wave=wave).order_by("vm__name", "pk"))
        style_filter_form(items.form)
        can_change_items = wave.status in EDITABLE and user_can(user, WaveItem, "change")
        exclude = [] if wave.status in EDITABLE and user_can(user, WaveItem, "delete") else ["select"]
        type_form = None
        if can_change_items:
            query = self.request.GET.urlencode()
            type_form = {"url": reverse("migrations_app:wave_item_type", args=[wave.pk]),
                         "csrf_token": get_token(self.request), "back": f"?{query}" if query else ""}
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


class WaveEditView(PermissionMixin, View):
    """Add a wave, or edit one: the form carries the revision it was opened on; saving over a newer
    revision is refused, and an edit of a submitted or approved wave withdraws that (revisions.py)."""

    model = Wave
    permission_action = "add"
    template_name = "migrations_app/waves_edit.html"

    def get_wave(self):
        return None

    def get(self, request, pk=None):
        wave = self.get_wave()
        if wave is not None and wave.status not in EDITABLE:
            messages.error(request, f"{wave.name} is {wave.get_status_display().lower()}: it cannot be changed.")
            return redirect(wave)
        initial = None
        if wave is None and request.GET.get("site"):
            initial = {"site": request.GET["site"]}
        return self.render(WaveForm(instance=wave, initial=initial), wave)

    def post(self, request, pk=None):
        wave = self.get_wave()
        form = WaveForm(request.POST, instance=wave)
        if not form.is_valid():
            return self.render(form, wave, status=400)
        try:
            if wave is None:
                wave = do_create_wave(form.values(), acting_user=request.user)
                report(request, f"Wave {wave.name} created.")
                return redirect(wave)
            change = do_update_wave(wave.pk, form.values(), expected_revision=form.cleaned_data["revision"],
                                    acting_user=request.user)
        except StaleRevision as error:
            form.add_error(None, str(error))
            return self.render(form, wave, status=409)
        except WaveError as error:
            form.add_error(None, str(error))
            return self.render(form, wave, status=400)
        if change is None:
            report(request, f"Nothing changed in {wave.name}.")
        else:
            report(request, f"Wave {wave.name} saved (revision {change.revision}).", change)
        return redirect(reverse("migrations_app:wave", args=[wave.pk]))

    def render(self, form, wave, status=200):
        context = {"form": form, "object": wave,
                   "can_read_avs": can_read_avs_inventory(self.request.user)}
        return render(self.request, self.template_name, context, status=status)


class WaveChangeView(WaveEditView):
    permission_action = "change"

    def get_wave(self):
        return get_object_or_404(Wave, pk=self.kwargs["pk"])


class WaveDeleteView(PermissionMixin, View):
    model = Wave
    permission_action = "delete"

    def get(self, request, pk):
        wave = get_object_or_404(querysets.waves(), pk=pk)
        return render(request, "migrations_app/waves_delete.html", {"object": wave, "deletable": wave.status in DELETABLE})

    def post(self, request, pk):
        get_object_or_404(Wave, pk=pk)
        try:
            name = do_delete_wave(pk, acting_user=request.user)
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(reverse("migrations_app:wave", args=[pk]))
        messages.success(request, f"Wave {name} deleted.")
        return redirect(reverse("migrations_app:wave_list"))
