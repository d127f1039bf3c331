"""`POST /api/hcx-plans/<id>/deploy/`: start the plan's Connector deployment, as the deploy page does.

The body names an OVA in the OVA folder and, optionally, where in the plan's vCenter the
appliance goes; the appliance's settings come from the plan, its passwords from the plan's HCX
connection (never from the request). Answers 202 with the job, 400 with what is wrong, 409 while
a set-up or deploy job of the plan runs.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import user_can
from core.api.serializers import JobSerializer
from core.jobs import JobError
from hcx.models import HcxPlan
from hcx.setup.runner import SetupBusy

from . import library
from .jobs import start_connector_deployment
from .placement import Placement, check_placement


class DeployRequestSerializer(serializers.Serializer):
    ova = serializers.CharField(
        max_length=255, help_text="File name of an .ova in the OVA folder (HCX_OVA_DIR)"
    )
    datacenter = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    cluster = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=300,
        help_text="Empty: the vCenter's only cluster",
    )
    datastore = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=300,
        help_text="Empty: the cluster's only datastore",
    )
    network = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=300,
        help_text="Port group; empty: the plan's management profile's",
    )
    folder = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    resource_pool = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    ssh_enabled = serializers.BooleanField(required=False, default=False)

    def validate_ova(self, value):
        try:
            return library.resolve_ova(value).name
        except library.OvaRefused as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, data):
        problems = check_placement(self.context["plan"], Placement.from_dict(data))
        if problems:
            raise serializers.ValidationError(problems)
        return data


class DeployPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        return user_can(request.user, HcxPlan, "deploy_connector")


BUSY = inline_serializer("DeployBusy", {"detail": serializers.CharField(), "job": serializers.IntegerField()})


class HcxPlanDeployViewSet(viewsets.GenericViewSet):
    queryset = HcxPlan.objects.select_related("vcenter")
    permission_classes = [DeployPermission]
    filter_backends = []
    pagination_class = None
    serializer_class = DeployRequestSerializer

    @extend_schema(
        request=DeployRequestSerializer,
        responses={
            202: JobSerializer,
            400: OpenApiResponse(
                description="An OVA outside the folder or not a Connector OVA, a placement not in "
                "the vCenter's inventory, or plan settings the appliance cannot use"
            ),
            409: OpenApiResponse(BUSY, description="A set-up or deploy job already runs for the plan"),
        },
    )
    @action(detail=True, methods=["post"], url_path="deploy")
    def deploy(self, request, pk=None):
        """Deploy the plan's HCX Connector from an OVA of the OVA folder (a background job)."""
        plan = self.get_object()
        body = DeployRequestSerializer(data=request.data, context={"plan": plan})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            job = start_connector_deployment(
                request.user, plan, data["ova"], Placement.from_dict(data), ssh_enabled=data["ssh_enabled"]
            )
        except SetupBusy as exc:
            return Response({"detail": str(exc), "job": exc.job.pk}, status=status.HTTP_409_CONFLICT)
        except JobError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )
