"""The deployment-plan pages: list, plan with its checks, add/edit, delete, printable export."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse_lazy

from core.generic_views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from .choices import ProfileKind
from .filtersets import HcxPlanFilterSet
from .forms import HcxPlanForm, profile_formset
from .models import HcxPlan
from .planning.actions import do_delete_plan, do_save_plan
from .planning.checks import check_plan
from .planning.ports import required_ports
from .planning.sizing import addresses_needed
from .tables import HcxPlanTable


class HcxPlanListView(ObjectListView):
    model = HcxPlan
    queryset = (
        HcxPlan.objects.select_related("vcenter").annotate(networks_count=Count("networks")).order_by("name")
    )
    filterset_class = HcxPlanFilterSet
    table_class = HcxPlanTable
    paginate_by = 50
    template_name = "hcx/hcxplan_list.html"


class HcxPlanView(ObjectDetailView):
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
            rows.append(
                {
                    "profile": profile,
                    "needed": needed,
                    "why": why,
                    "have": sum(p.size for p in pools),
                    "pools": pools,
                }
            )
        return super().get_context_data(
            profiles=rows,
            networks=networks,
            report=report,
            ports=required_ports(
                plan,
                ", ".join(str(p) for p in report.facts.pools.get(ProfileKind.UPLINK, []))
                or "the uplink pool",
            ),
            **kwargs,
        )


class HcxPlanExportView(HcxPlanView):
    """A one-page document for a change board: print it from the browser, or save it as PDF."""

    template_name = "hcx/hcxplan_export.html"


class HcxPlanEditView(ObjectEditView):
    """Add or change a plan with its network profiles (one form and one formset, saved together)."""

    model = HcxPlan
    template_name = "hcx/hcxplan_edit.html"

    def get_form(self, data=None):
        self.formset = profile_formset(self.object, data)
        return HcxPlanForm(data, instance=self.object)

    def is_valid(self, form):
        return form.is_valid() and self.formset.is_valid()

    def get_context_data(self, **kwargs):
        return super().get_context_data(formset=self.formset, **kwargs)

    def save(self, form):
        plan = do_save_plan(form, self.formset, acting_user=self.request.user)
        messages.success(self.request, f"Plan {plan} saved (revision {plan.revision}).")
        return redirect(plan)


class HcxPlanDeleteView(ObjectDeleteView):
    model = HcxPlan
    what = "HCX plan"
    success_url = reverse_lazy("hcx:hcxplan_list")

    def consequence(self, plan):
        return "The plan, its network profiles and its checks go. Nothing deployed is touched."

    def delete(self, plan):
        name = str(plan)
        do_delete_plan(plan, acting_user=self.request.user)
        return f"Plan {name} deleted."
