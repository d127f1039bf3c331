"""REST endpoints of this part of the app; migrations_app/api.py calls register(router).

/api/wave-estimates/          estimates of the waves, a page at a time (one aggregate query a page)
/api/wave-estimates/<id>/     one wave's estimate, with its biggest VMs
/api/wave-estimates/<id>/vms/ each VM's own ranges, a page at a time
/api/plan-proposals/          GET: proposals (summaries); POST: run the auto-planner, returns the proposal
/api/plan-proposals/<id>/     the whole proposal
/api/plan-proposals/<id>/accept/   POST {"waves": [numbers]}: create the draft waves, or refuse (409)
"""

from django.db.models.fields.json import KeyTransform
from django.http import QueryDict
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.access import user_can

from ..models import PlanProposal, Wave
from .estimates import (
    assumptions_for,
    estimate_loads,
    estimate_wave,
    loads_for_waves,
    vm_estimates,
    vm_rows,
    window_seconds_of,
)
from .forms import AutoPlanForm
from .proposals import AcceptRefused, CannotPlan, do_accept, do_propose
from .serializers import (
    AcceptRequestSerializer,
    AcceptResultSerializer,
    AutoPlanRequestSerializer,
    PlanProposalSerializer,
    PlanProposalSummarySerializer,
    VmEstimateSerializer,
    WaveEstimateSerializer,
)


def _estimate_data(wave, estimate) -> dict:
    return {"wave": wave.pk, "name": wave.name, **estimate.as_dict()}


class WaveEstimateViewSet(viewsets.ReadOnlyModelViewSet):
    """Duration estimates of waves: transfer and switchover as ranges, what must fit in the change
    window, whether it fits, per migration type, and the assumptions behind them."""

    queryset = Wave.objects.select_related("site").order_by("sequence", "window_start", "name")
    serializer_class = WaveEstimateSerializer
    ordering_fields = ["sequence", "window_start", "name"]

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        loads = loads_for_waves(page)
        # Assumptions per site: read once each (measured_throughput may cost a query).
        assumptions: dict = {}
        rows = []
        for wave in page:
            if wave.site_id not in assumptions:
                assumptions[wave.site_id] = assumptions_for(wave.site if wave.site_id else None)
            estimate = estimate_loads(loads[wave.pk], assumptions[wave.site_id], window_seconds_of(wave))
            rows.append(_estimate_data(wave, estimate))
        return self.get_paginated_response(WaveEstimateSerializer(rows, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        wave = self.get_object()
        return Response(WaveEstimateSerializer(_estimate_data(wave, estimate_wave(wave))).data)

    @extend_schema(responses=VmEstimateSerializer(many=True))
    @action(detail=True)
    def vms(self, request, pk=None):
        """Each VM's own transfer and switchover range, a page at a time (by VM name)."""
        wave = self.get_object()
        estimate = estimate_wave(wave, longest=0)
        page = self.paginate_queryset(vm_rows(wave))
        return self.get_paginated_response(vm_estimates(page, estimate.assumptions, estimate))


class PlanProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Auto-plan proposals. POST runs the planner (planners: add_planproposal); accepting creates
    draft waves (change_planproposal and add_wave)."""

    queryset = PlanProposal.objects.select_related("user").order_by("-created", "-id")
    serializer_class = PlanProposalSerializer
    ordering_fields = ["created", "id"]

    @property
    def permission_action(self):
        return "change" if getattr(self, "action", None) == "accept" else None

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            # Summaries only: a proposal's document lists every VM.
            return queryset.defer("data").annotate(summary=KeyTransform("summary", "data"))
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return PlanProposalSummarySerializer
        return super().get_serializer_class()

    @extend_schema(request=AutoPlanRequestSerializer, responses={201: PlanProposalSerializer})
    def create(self, request, *args, **kwargs):
        """Run the auto-planner; the proposal is stored, nothing is planned until it is accepted."""
        if not isinstance(request.data, dict):
            return Response(
                {"non_field_errors": ["Send an object of fields."]}, status=status.HTTP_400_BAD_REQUEST
            )
        form = AutoPlanForm(_form_data(request.data))
        if not form.is_valid():
            errors = {
                ("non_field_errors" if k == "__all__" else k): [e["message"] for e in v]
                for k, v in form.errors.get_json_data().items()
            }
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            proposal = do_propose(form.proposal_request(), acting_user=request.user)
        except CannotPlan as exc:
            return Response({"non_field_errors": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(PlanProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AcceptRequestSerializer,
        responses={
            200: AcceptResultSerializer,
            409: OpenApiResponse(description="Refused; nothing was created"),
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept the proposal's waves (all not yet accepted, or `waves`): draft waves with their VMs."""
        if not user_can(request.user, Wave, "add"):
            raise PermissionDenied("Accepting creates waves: you may not add waves.")
        proposal = self.get_object()
        body = AcceptRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        numbers = body.validated_data.get("waves")
        try:
            waves = do_accept(proposal, numbers, acting_user=request.user)
        except AcceptRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"created": [{"id": w.pk, "name": w.name} for w in waves]})


def _form_data(payload) -> dict:
    """The API body as the form's data, the form's defaults filling what is missing."""
    data = AutoPlanForm.defaults()
    items = payload.lists() if isinstance(payload, QueryDict) else payload.items()
    for key, value in items:
        if isinstance(payload, QueryDict) and key != "weekdays":
            value = value[-1] if value else ""
        if key == "blackout_dates" and isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value is None:
            value = ""
        data[key] = value
    return data


def register(router):
    router.register("wave-estimates", WaveEstimateViewSet, basename="wave-estimate")
    router.register("plan-proposals", PlanProposalViewSet, basename="planproposal")
