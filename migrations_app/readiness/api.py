"""REST endpoints of readiness and approval; migrations_app/api.py calls register(router).

- `GET /api/readiness-findings/?wave_id=&severity=&rule=`: the findings (read-only).
- `GET /api/approvals/?wave_id=&decision=`: the decisions, one per wave revision.
- `GET|POST /api/waves/{id}/readiness/`: the stored counts; POST runs the checks.
- `POST /api/waves/{id}/submit/`, `/approve/`, `/reject/`, `/switch-type/`: the workflow steps.

Role checks as on the pages (access.py): 403 for the wrong role (and for deciding on one's own
submission), 409 for the wrong state or a stale revision, 400 with the reasons for blockers or bad input.
Every refusal of a step has one shape, `{detail, reasons}` (`blockers` too when readiness refused it;
a body that does not validate adds each field's messages under its name).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import user_can
from core.api.fields import IdField
from hcx.choices import MigrationType
from migrations_app.models import Approval, ReadinessFinding, Wave

from .access import can_decide, can_run_readiness, can_submit, can_switch_type
from .actions import do_run_readiness, do_switch_migration_type, summary
from .approval import do_approve, do_reject, do_submit
from .errors import NotReady, WaveError, http_status
from .filtersets import ApprovalFilterSet, ReadinessFindingFilterSet
from .rules import title

# --- serializers ---


class ReadinessFindingSerializer(serializers.ModelSerializer):
    wave_name = serializers.CharField(source="wave.name", read_only=True)
    vm_name = serializers.CharField(source="vm.name", read_only=True, default=None)
    rule_title = serializers.SerializerMethodField()

    class Meta:
        model = ReadinessFinding
        fields = [
            "id",
            "wave",
            "wave_name",
            "vm",
            "vm_name",
            "migration_type",
            "rule",
            "rule_title",
            "severity",
            "message",
            "fix",
        ]

    def get_rule_title(self, obj) -> str:
        return title(obj.rule)


class ApprovalSerializer(serializers.ModelSerializer):
    wave_name = serializers.CharField(source="wave.name", read_only=True)
    user = serializers.CharField(source="user.username", read_only=True)
    current = serializers.SerializerMethodField(
        help_text="Whether the decision is for the wave's current revision"
    )

    class Meta:
        model = Approval
        fields = [
            "id",
            "wave",
            "wave_name",
            "revision",
            "current",
            "decision",
            "user",
            "comment",
            "change_ticket",
            "created",
        ]

    def get_current(self, obj) -> bool:
        return obj.revision == obj.wave.revision


class ReadinessSummarySerializer(serializers.Serializer):
    wave = serializers.IntegerField()
    revision = serializers.IntegerField()
    checked_revision = serializers.IntegerField(allow_null=True)
    current = serializers.BooleanField()
    ready = serializers.BooleanField()
    blockers = serializers.IntegerField()
    warnings = serializers.IntegerField()
    blocked_vms = serializers.IntegerField()


class RevisionSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The revision you looked at; refused (409) if the wave moved on",
    )


class DecisionSerializer(RevisionSerializer):
    change_ticket = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Required to approve"
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required to reject"
    )


class SwitchTypeSerializer(RevisionSerializer):
    vm = IdField()
    migration_type = serializers.ChoiceField(choices=MigrationType.choices)


class WaveStateSerializer(serializers.Serializer):
    wave = serializers.IntegerField()
    status = serializers.CharField()
    revision = serializers.IntegerField()
    detail = serializers.CharField()


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="What to fix, one line each")
    blockers = serializers.IntegerField(required=False)


# --- views ---


class ReadinessFindingViewSet(viewsets.ReadOnlyModelViewSet):
    """Readiness findings: rule, severity, the VM and migration type, what is wrong and how to fix it.
    A finding without a VM concerns the whole wave (capacity, caps)."""

    queryset = ReadinessFinding.objects.select_related("wave", "vm").order_by(
        "wave", "severity", "rule", "vm__name", "pk"
    )
    serializer_class = ReadinessFindingSerializer
    filterset_class = ReadinessFindingFilterSet
    ordering_fields = ["severity", "rule", "migration_type", "vm__name"]


class ApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    """Approval decisions, newest first: one per wave revision, with the comment and the change ticket."""

    queryset = Approval.objects.select_related("wave", "user").order_by("-created", "-pk")
    serializer_class = ApprovalSerializer
    filterset_class = ApprovalFilterSet
    ordering_fields = ["created", "revision"]


_RULES = {
    "readiness": (
        can_run_readiness,
        "Running the readiness checks needs the submit_wave or approve_wave permission.",
    ),
    "submit": (can_submit, "Submitting a wave needs the submit_wave permission (planners)."),
    "approve": (can_decide, "Approving a wave needs the approve_wave permission (engineers)."),
    "reject": (can_decide, "Rejecting a wave needs the approve_wave permission (engineers)."),
    "switch_type": (
        can_switch_type,
        "Switching a VM's migration type needs the change_waveitem permission (planners).",
    ),
}
NO_PERMISSION = "You do not have permission to perform this action."


class WorkflowPermission(permissions.BasePermission):
    """Reading needs view_wave; each step its own rule from access.py. A refusal names the permission
    missing, in the refusals' shape ({detail, reasons}), as the four-eyes refusal does."""

    def has_permission(self, request, view):
        user = request.user
        if not user_can(user, Wave, "view"):
            self.message = {
                "detail": NO_PERMISSION,
                "reasons": ["Reading waves needs the view_wave permission."],
            }
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        rule, needs = _RULES.get(view.action, (None, ""))
        if rule and rule(user):
            return True
        self.message = {"detail": NO_PERMISSION, "reasons": [needs] if needs else []}
        return False


def _refused(error: WaveError) -> Response:
    body = {"detail": error.message, "reasons": error.items}
    if isinstance(error, NotReady):
        body["blockers"] = error.blockers
    return Response(body, status=http_status(error))


def _as_refusal(data) -> dict:
    """DRF's own refusals (a body that does not validate, a role check, a malformed body) in the steps'
    shape; a field's messages stay under its name, where clients of DRF look for them."""
    if isinstance(data, dict) and set(data) == {"detail"}:
        return {"detail": data["detail"], "reasons": []}
    if not isinstance(data, dict):
        return {"detail": "The request is not valid.", "reasons": [str(m) for m in data]}
    reasons = [
        f"{field}: {message}"
        for field, messages in data.items()
        for message in (messages if isinstance(messages, list) else [messages])
    ]
    return {"detail": "Some values sent are not valid.", "reasons": reasons, **data}


def _state(wave: Wave, detail: str) -> Response:
    wave.refresh_from_db(fields=["status", "revision"])
    return Response({"wave": wave.pk, "status": wave.status, "revision": wave.revision, "detail": detail})


_REFUSALS = {
    400: OpenApiResponse(
        RefusalSerializer,
        description="Readiness blockers or bad input; each field that does not "
        "validate also appears under its own name with its messages",
    ),
    403: OpenApiResponse(
        RefusalSerializer,
        description="The step's permission is missing (`reasons` names it), or "
        "the decision is on one's own submission",
    ),
    409: OpenApiResponse(
        RefusalSerializer, description="The wave is in another state, or at a newer revision"
    ),
}


class WaveWorkflowViewSet(viewsets.GenericViewSet):
    """The readiness and approval steps of a wave, as actions on /api/waves/{id}/."""

    queryset = Wave.objects.all()
    permission_classes = [WorkflowPermission]
    serializer_class = RevisionSerializer
    filter_backends = []
    pagination_class = None

    def handle_exception(self, exc):
        # DRF's refusals in the steps' shape, so that a client reads `reasons` whatever refused it.
        response = super().handle_exception(exc)
        if response.status_code in _REFUSALS and "reasons" not in (response.data or ()):
            response.data = _as_refusal(response.data)
        return response

    def _body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(methods=["GET"], request=None, responses=ReadinessSummarySerializer)
    @extend_schema(methods=["POST"], request=None, responses={200: ReadinessSummarySerializer, **_REFUSALS})
    @action(detail=True, methods=["get", "post"])
    def readiness(self, request, pk=None):
        """GET: the stored findings' counts and whether they are for the current revision. POST: run the checks."""
        wave = self.get_object()
        if request.method == "GET":
            return Response(summary(wave).as_dict())
        try:
            return Response(do_run_readiness(wave, acting_user=request.user).as_dict())
        except WaveError as error:
            return _refused(error)

    @extend_schema(request=RevisionSerializer, responses={200: WaveStateSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Check readiness again and submit the wave for approval; refused with the blockers if it has any."""
        wave = self.get_object()
        data = self._body(RevisionSerializer)
        try:
            result = do_submit(wave, acting_user=request.user, revision=data.get("revision"))
        except WaveError as error:
            return _refused(error)
        return _state(wave, f"Submitted with {result.warnings} warning(s).")

    @extend_schema(request=DecisionSerializer, responses={200: WaveStateSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the submitted revision (change_ticket required); never one's own submission."""
        wave = self.get_object()
        data = self._body(DecisionSerializer)
        try:
            approval = do_approve(
                wave,
                acting_user=request.user,
                change_ticket=data["change_ticket"],
                comment=data["comment"],
                revision=data.get("revision"),
            )
        except WaveError as error:
            return _refused(error)
        return _state(wave, f"Revision {approval.revision} approved.")

    @extend_schema(request=DecisionSerializer, responses={200: WaveStateSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the submitted revision (comment required); never one's own submission."""
        wave = self.get_object()
        data = self._body(DecisionSerializer)
        try:
            approval = do_reject(
                wave,
                acting_user=request.user,
                comment=data["comment"],
                change_ticket=data["change_ticket"],
                revision=data.get("revision"),
            )
        except WaveError as error:
            return _refused(error)
        return _state(wave, f"Revision {approval.revision} rejected.")

    @extend_schema(request=SwitchTypeSerializer, responses={200: ReadinessSummarySerializer, **_REFUSALS})
    @action(detail=True, methods=["post"], url_path="switch-type")
    def switch_type(self, request, pk=None):
        """Switch one VM of the wave to another migration type and run readiness again."""
        wave = self.get_object()
        data = self._body(SwitchTypeSerializer)
        try:
            _, result = do_switch_migration_type(
                wave,
                data["vm"],
                data["migration_type"],
                acting_user=request.user,
                revision=data.get("revision"),
            )
        except WaveError as error:
            return _refused(error)
        return Response(result.as_dict(), status=status.HTTP_200_OK)


def register(router):
    router.register("readiness-findings", ReadinessFindingViewSet)
    router.register("approvals", ApprovalViewSet)
    # Same prefix as the waves part's WaveViewSet: these are actions on a wave (/api/waves/{id}/submit/).
    # The API root lists one entry per prefix, the last registered winning; this viewset has no list,
    # so it goes first and the waves list keeps its place in the root.
    router.register("waves", WaveWorkflowViewSet, basename="wave-workflow")
    router.registry.insert(0, router.registry.pop())
