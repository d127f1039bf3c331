"""The set-up of a plan through the API: `GET /api/hcx-plans/<id>/setup/` reads the checklist (the
same one the page shows) and the active job; `POST` with `{"steps": [...]}` starts them as one job.
No secret of the connection is ever part of an answer: the step rows' `data` is left out too (it
holds HCX ids and the certificate a step asks about (vCenter's, the Cloud Manager's), shown as
`certificate_prompt`)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.access import user_can
from core.api.serializers import JobSerializer, RemoteTextField
from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxPlan, HcxSetupStep

from .checklist import build_checklist
from .runner import ORDER, STEPS, SetupBusy, load_steps, start_setup


class CertificatePromptSerializer(serializers.Serializer):
    subject = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 fingerprint, AB:CD:…")
    remote_url = serializers.CharField()
    issuer = serializers.CharField()
    not_after = serializers.CharField()
    certificate = serializers.CharField(help_text="PEM")


class SetupStepSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=SetupStepKey.choices)
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=StepState.choices)
    summary = serializers.CharField(help_text="What HCX showed when the step last ran")
    message = RemoteTextField(help_text="Why it failed, or what it needs")
    observed = serializers.DateTimeField(allow_null=True)
    job = serializers.IntegerField(allow_null=True, source="job.pk", default=None)
    job_url = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField()
    runnable = serializers.BooleanField(
        help_text="The portal runs this step (the Connector's deployment has its own page)"
    )
    can_run_now = serializers.BooleanField(
        help_text="Runnable, and what it needs is done: the page offers Run"
    )
    waits_for = serializers.ListField(
        child=serializers.CharField(),
        help_text="What it waits for before it can run: the titles of the steps it "
        "needs that are not done, and the HCX connection when there is none",
    )
    is_next = serializers.BooleanField()
    hint = serializers.CharField()
    certificate_prompt = CertificatePromptSerializer(source="prompt", allow_null=True)

    def get_job_url(self, row) -> str | None:
        if row.job is None:
            return None
        return reverse("api:job-detail", args=[row.job.pk], request=self.context.get("request"))

    def get_needs(self, row) -> list[str]:
        return [key for key, _, _ in row.needs]


class SetupStateSerializer(serializers.Serializer):
    plan = serializers.IntegerField(source="plan.pk")
    steps = SetupStepSerializer(many=True, source="rows")
    next = serializers.CharField(source="next.key", allow_null=True, default=None)
    remaining = serializers.ListField(
        child=serializers.CharField(),
        help_text="The steps not done yet that the portal runs, in order: POST them "
        "to run all remaining steps",
    )
    active_job = JobSerializer(allow_null=True)


class RunStepsSerializer(serializers.Serializer):
    steps = serializers.ListField(
        child=serializers.CharField(),
        allow_empty=False,
        help_text=f"Step keys, run in the path's order: {', '.join(ORDER)}",
    )

    def validate_steps(self, steps):
        load_steps()
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown set-up step(s): {', '.join(unknown)}. The portal runs: {', '.join(k for k in ORDER if k in STEPS)}."
            )
        return steps


class SetupPermission(permissions.BasePermission):
    """Reading needs the right to see set-up steps; starting them needs hcx.run_setup."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return user_can(request.user, HcxSetupStep, "view") and user_can(request.user, HcxPlan, "view")
        return user_can(request.user, HcxPlan, "run_setup")


BUSY = inline_serializer("SetupBusy", {"detail": serializers.CharField(), "job": serializers.IntegerField()})


class HcxPlanSetupViewSet(viewsets.GenericViewSet):
    queryset = HcxPlan.objects.all()
    permission_classes = [SetupPermission]
    filter_backends = []
    pagination_class = None
    serializer_class = SetupStateSerializer

    @extend_schema(methods=["GET"], responses=SetupStateSerializer)
    @extend_schema(
        methods=["POST"],
        request=RunStepsSerializer,
        responses={
            202: JobSerializer,
            400: OpenApiResponse(description="Unknown or no steps"),
            409: OpenApiResponse(BUSY, description="A set-up or deploy job already runs for the plan"),
        },
    )
    @action(detail=True, methods=["get", "post"], url_path="setup")
    def setup(self, request, pk=None):
        """The plan's set-up steps with their state; POST `{"steps": [...]}` runs them as one job."""
        plan = self.get_object()
        if request.method == "POST":
            run = RunStepsSerializer(data=request.data)
            run.is_valid(raise_exception=True)
            try:
                job = start_setup(request.user, plan, run.validated_data["steps"])
            except SetupBusy as exc:
                return Response({"detail": str(exc), "job": exc.job.pk}, status=status.HTTP_409_CONFLICT)
            return Response(
                JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
            )
        checklist = build_checklist(plan)
        return Response(SetupStateSerializer(checklist, context={"request": request}).data)
