"""The auto-planner pages: the form, the proposals, a proposal with its waves, and accepting them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models.fields.json import KT
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch
from django.views import View
from django.views.generic import ListView

from core.access import PermissionMixin, user_can
from core.generic_views import ObjectDetailView

from ..models import DependencyGroup, PlanProposal, Wave
from .estimates import estimate_wave, vm_estimates, vm_rows
from .forms import AcceptForm, AutoPlanForm
from .proposals import AcceptRefused, CannotPlan, do_accept, do_propose

PROPOSALS_PER_PAGE = 25
VMS_PER_PAGE = 100
# Names of a proposal's ungrouped VMs shown per wave before "and N more".
VM_NAMES_SHOWN = 30
UNPLACED_SHOWN = 200


class AutoPlanView(PermissionMixin, View):
    model = PlanProposal
    permission_action = "add"
    template_name = "migrations_app/planner_autoplan.html"

    def get(self, request):
        return self.render(AutoPlanForm())

    def post(self, request):
        form = AutoPlanForm(request.POST)
        if form.is_valid():
            try:
                proposal = do_propose(form.proposal_request(), acting_user=request.user)
            except CannotPlan as exc:
                form.add_error(None, str(exc))
            else:
                summary = proposal.data["summary"]
                messages.success(
                    request,
                    f"Proposal #{proposal.pk}: {summary['waves']} waves, {summary['vms']} VMs; "
                    f"{summary['unplaced']} not placed. Nothing is planned until you accept it.",
                )
                return redirect("migrations_app:planproposal", pk=proposal.pk)
        return self.render(form, status=400)

    def render(self, form, status=200):
        context = {"form": form, "groups": DependencyGroup.objects.count()}
        return render(self.request, self.template_name, context, status=status)


class ProposalListView(PermissionMixin, ListView):
    model = PlanProposal
    # The list reads only the summary out of each proposal's document, never the whole of it.
    queryset = (
        PlanProposal.objects.select_related("user")
        .defer("data")
        .annotate(
            wave_count=KT("data__summary__waves"),
            vm_count=KT("data__summary__vms"),
            unplaced_count=KT("data__summary__unplaced"),
            site_name=KT("data__settings__site_name"),
        )
        .order_by("-created", "-id")
    )
    paginate_by = PROPOSALS_PER_PAGE
    template_name = "migrations_app/planner_proposal_list.html"


def _wave_url(wave_id: int) -> str | None:
    try:
        return Wave(pk=wave_id).get_absolute_url()
    except NoReverseMatch:  # the wave pages are another part of the app
        return None


class ProposalView(ObjectDetailView):
    model = PlanProposal
    queryset = PlanProposal.objects.select_related("user")
    template_name = "migrations_app/planner_proposal.html"

    def get_context_data(self, **kwargs):
        data = self.object.data
        created = {c["number"]: {**c, "url": _wave_url(c["wave"])} for c in data.get("created_waves", [])}
        accepted = set(data.get("accepted_waves", []))
        waves = []
        for w in data.get("waves", []):
            groups = [u for u in w["units"] if u.get("group") is not None]
            singles = [u for u in w["units"] if u.get("group") is None]
            waves.append(
                {
                    **w,
                    "group_units": groups,
                    "single_names": [u["name"] for u in singles[:VM_NAMES_SHOWN]],
                    "singles": len(singles),
                    "singles_more": max(0, len(singles) - VM_NAMES_SHOWN),
                    "accepted": w["number"] in accepted,
                    "created": created.get(w["number"]),
                }
            )
        user = self.request.user
        can_accept = user_can(user, PlanProposal, "change") and user_can(user, Wave, "add")
        unplaced = data.get("unplaced", [])
        return super().get_context_data(
            waves=waves,
            data=data,
            can_accept=can_accept,
            unplaced_shown=unplaced[:UNPLACED_SHOWN],
            unplaced_more=max(0, len(unplaced) - UNPLACED_SHOWN),
            open_waves=[w for w in waves if not w["accepted"]],
            **kwargs,
        )


class ProposalAcceptView(PermissionMixin, View):
    """Accept all or the ticked waves of a proposal: they become DRAFT waves, or nothing does."""

    model = PlanProposal
    permission_action = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        if not user_can(request.user, Wave, "add"):
            raise PermissionDenied
        proposal = get_object_or_404(PlanProposal, pk=pk)
        form = AcceptForm(request.POST, proposal=proposal)
        if not form.is_valid():
            messages.error(request, "Choose waves of this proposal to accept.")
            return redirect("migrations_app:planproposal", pk=pk)
        try:
            waves = do_accept(proposal, form.numbers(), acting_user=request.user)
        except AcceptRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"Created {len(waves)} draft wave{'s' if len(waves) != 1 else ''}: {', '.join(w.name for w in waves)}.",
            )
        return redirect("migrations_app:planproposal", pk=pk)


class WaveEstimateView(ObjectDetailView):
    """A wave's estimate with every VM's own ranges, a page of VMs at a time."""

    model = Wave
    queryset = Wave.objects.select_related("site")
    template_name = "migrations_app/planner_wave_estimate.html"

    def get_context_data(self, **kwargs):
        estimate = estimate_wave(self.object, longest=0)
        page = Paginator(vm_rows(self.object), VMS_PER_PAGE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            estimate=estimate,
            page_obj=page,
            is_paginated=page.has_other_pages(),
            vms=vm_estimates(page.object_list, estimate.assumptions, estimate),
            wave_url=_wave_url(self.object.pk),
            **kwargs,
        )
