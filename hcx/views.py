"""The deployment-plan pages: list, plan with its checks, add/edit, delete, printable export."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.access import PermissionMixin

from .choices import ProfileKind
from .filtersets import HcxPlanFilterSet
from .forms import HcxPlanForm, profile_formset
from .models import HcxPlan
from .planning.actions import do_delete_plan, do_save_plan
from .planning.checks import check_plan
from .planning.ports import required_ports
from .planning.sizing import addresses_needed
from .tables import HcxPlanTable


class HcxPlanListView(PermissionMixin, SingleTableMixin, FilterView):
    model = HcxPlan
    queryset = HcxPlan.objects.select_related("vcenter").annotate(networks_count=Count("networks")).order_by("name")
    filterset_class = HcxPlanFilterSet
    table_class = HcxPlanTable
    paginate_by = 50
    template_name = "hcx/hcxplan_list.html"


class HcxPlanView(PermissionMixin, DetailView):
    model = HcxPlan
    queryset = HcxPlan.objects.select_related("vcenter")
    template_name = "hcx/hcxplan.html"

    def get_context_data(self, **kwargs):
        plan = self.object
        order = {kind: index for index, kind in enumerate(ProfileKind.values)}
        profiles = sorted(plan.profiles.select_related("network"), key=lambda p: order[p.kind])
        networks = list(plan.networks.select_related("vcenter"))
        report = check_plan(plan, profiles, networks)
        rows = []
        for profile in profiles:
            needed, why = addresses_needed(profile.kind, report.facts.mesh)
            pools = report.facts.pools.get(profile.kind, [])
            rows.append({"profile": profile, "needed": needed, "why": why, "have": sum(p.size for p in pools), "pools": pools})
        return super().get_context_data(
            profiles=rows,
            networks=networks,
            report=report,
            ports=required_ports(plan, ", ".join(str(p) for p in report.facts.pools.get(ProfileKind.UPLINK, [])) or "the uplink pool"),
            **kwargs,
        )


class HcxPlanExportView(HcxPlanView):
    """A one-page document for a change board: print it from the browser, or save it as PDF."""

    template_name = "hcx/hcxplan_export.html"


class HcxPlanAddView(PermissionMixin, View):
    model = HcxPlan
    permission_action = "add"
    template_name = "hcx/hcxplan_edit.html"

    def get_plan(self):
        return None

    def get(self, request, pk=None):
        plan = self.get_plan()
        return self.render(HcxPlanForm(instance=plan), profile_formset(plan), plan)

    def post(self, request, pk=None):
        plan = self.get_plan()
        form = HcxPlanForm(request.POST, instance=plan)
        formset = profile_formset(plan, request.POST)
        if form.is_valid() and formset.is_valid():
            plan = do_save_plan(form, formset, acting_user=request.user)
            messages.success(request, f"Plan {plan} saved (revision {plan.revision}).")
            return redirect(plan)
        return self.render(form, formset, plan, status=400)

    def render(self, form, formset, plan, status=200):
        context = {"form": form, "formset": formset, "object": plan}
        return render(self.request, self.template_name, context, status=status)


class HcxPlanEditView(HcxPlanAddView):
    permission_action = "change"

    def get_plan(self):
        return get_object_or_404(HcxPlan, pk=self.kwargs["pk"])


class HcxPlanDeleteView(PermissionMixin, View):
    model = HcxPlan
    permission_action = "delete"

    def get(self, request, pk):
        plan = get_object_or_404(HcxPlan, pk=pk)
        return render(request, "hcx/hcxplan_delete.html", {"object": plan})

    def post(self, request, pk):
        plan = get_object_or_404(HcxPlan, pk=pk)
        name = str(plan)
        do_delete_plan(plan, acting_user=request.user)
        messages.success(request, f"Plan {name} deleted.")
        return redirect(reverse("hcx:hcxplan_list"))
