"""/api/ endpoints of launching and watching; same permissions as the pages.

- `GET /api/batches/?wave_id=&launched=`: batches (readers); `POST` {wave, vms|groups, name, launch}: make a
  batch and, with `launch: true`, launch it (engineers: `launch_wave`).
- `GET /api/migrations/?wave_id=&batch=&state=&vm=`: VM migrations, paged (readers).
- `POST /api/migrations/{id}/cancel|retry|rollback|switchover/` and `POST /api/migrations/actions/`
  {action, ids, start, end}: the job that does it (engineers: `control_migration`); 202.
- `GET /api/waves/{id}/progress/?since=<cursor>&batch=`: what changed since the cursor, and the rollup
  (the live page's polling fallback; the same message as its stream).
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.access import user_can
from core.api.serializers import JobSerializer
from inventory.api.views import InventoryPagination
from migrations_app.models import Batch, VmMigration, Wave

from . import progress
from .filtersets import BatchFilterSet, VmMigrationFilterSet
from .serializers import (
    BatchCreatedSerializer,
    BatchCreateSerializer,
    BatchSerializer,
    BulkActionSerializer,
    ProgressSerializer,
    VmMigrationSerializer,
)


class BatchViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Batches of waves: the VMs an engineer launches together (one HCX mobility group each)."""

    queryset = (
        Batch.objects.select_related("wave", "created_by")
        .annotate(vm_count=Count("migrations"))
        .order_by("wave", "number")
    )
    serializer_class = BatchSerializer
    filterset_class = BatchFilterSet
    pagination_class = InventoryPagination
    permission_action = "launch_wave"
    ordering_fields = ["number", "created", "launched"]

    @extend_schema(request=BatchCreateSerializer, responses={201: BatchCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """Make a batch of the wave's `vms` and/or `groups`; with `launch: true`, launch it too."""
        from .batches import do_create_batch, do_launch_batch
        from .errors import LaunchError

        body = BatchCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = None
        try:
            batch = do_create_batch(
                data["wave"],
                acting_user=request.user,
                vms=data.get("vms") or None,
                groups=data.get("groups") or None,
                name=data["name"],
            )
            if data["launch"]:
                job = do_launch_batch(batch, acting_user=request.user)
        except LaunchError as error:
            raise ValidationError({"detail": error.message, "items": error.items}) from error
        batch = self.get_queryset().get(pk=batch.pk)
        context = self.get_serializer_context()
        return Response(
            {
                "batch": BatchSerializer(batch, context=context).data,
                "job": JobSerializer(job, context=context).data if job else None,
            },
            status=status.HTTP_201_CREATED,
        )


class VmMigrationViewSet(viewsets.ReadOnlyModelViewSet):
    """VM migrations (one row per attempt), with HCX's state and progress as last read."""

    queryset = VmMigration.objects.select_related("vm", "batch").order_by(
        "batch", "vm__name", "attempt", "pk"
    )
    serializer_class = VmMigrationSerializer
    filterset_class = VmMigrationFilterSet
    pagination_class = InventoryPagination
    permission_action = "control_migration"
    ordering_fields = ["updated", "state", "percent", "vm__name"]

    def _enqueue(self, name: str, migrations, **params) -> Response:
        from .controls import do_enqueue_control

        try:
            job = do_enqueue_control(name, list(migrations), acting_user=self.request.user, **params)
        except ValueError as error:
            raise ValidationError({"detail": str(error)}) from error
        return Response(
            JobSerializer(job, context=self.get_serializer_context()).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel the migration (refused by HCX once its switchover has started)."""
        return self._enqueue("cancel", [self.get_object()])

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Retry a failed, refused or cancelled migration (from its seed checkpoint where HCX kept it)."""
        return self._enqueue("retry", [self.get_object()])

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        """Roll a finished migration back to the source site (a reverse migration)."""
        return self._enqueue("rollback", [self.get_object()])

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def switchover(self, request, pk=None):
        """Switch over now, outside the planned window."""
        return self._enqueue("switchover_now", [self.get_object()])

    @extend_schema(request=BulkActionSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="actions")
    def bulk(self, request):
        """One action on many migrations: `{action, ids, start, end}` (start and end for move_window)."""
        body = BulkActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        params = {"start": data["start"], "end": data["end"]} if data["action"] == "move_window" else {}
        return self._enqueue(data["action"], data["ids"], **params)


class ProgressPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS and user_can(request.user, VmMigration, "view")


class WaveProgressViewSet(viewsets.GenericViewSet):
    """A wave's live progress, as /api/waves/{id}/progress/."""

    queryset = Wave.objects.all()
    permission_classes = [ProgressPermission]
    serializer_class = ProgressSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="The last `cursor`; without it, every migration"
            ),
            OpenApiParameter("batch", int, description="Only this batch of the wave"),
        ],
        responses=ProgressSerializer,
    )
    @action(detail=True)
    def progress(self, request, pk=None):
        """The migrations updated since the cursor (rows may repeat: keep the newest `updated` per row),
        the rollup, and the new cursor."""
        wave = self.get_object()
        batch = None
        if request.query_params.get("batch"):
            try:
                batch = get_object_or_404(Batch, pk=int(request.query_params["batch"]), wave=wave)
            except ValueError as error:
                raise ValidationError({"batch": "Give a batch id."}) from error
        try:
            since = progress.parse_cursor(request.query_params.get("since"))
        except ValueError as error:
            raise ValidationError({"since": str(error)}) from error
        rows, cursor = progress.changes(wave, since, batch)
        return Response(progress.payload(wave, rows, cursor, batch, full=since is None, since=since))


def register(router):
    router.register("batches", BatchViewSet)
    router.register("migrations", VmMigrationViewSet)
    # Actions on /api/waves/{id}/ with no list of their own: put first so that the waves list keeps
    # its entry in the API root (as the readiness part does).
    router.register("waves", WaveProgressViewSet, basename="wave-progress")
    router.registry.insert(0, router.registry.pop())
