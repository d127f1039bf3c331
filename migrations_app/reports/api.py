"""/api/ endpoints of reports, with the pages' permission (view on waves):

- `GET /api/dashboard/`: the programme dashboard's figures (dashboard.Figures.as_dict(), serializers.py).
- `GET /api/wave-reports/{id}/`: one wave's summary: progress and health, the estimate, readiness counts,
  approvals with their change tickets.
- `GET /api/wave-reports/{id}/vms/?vm=&result=&type=&page=`: plan versus actual per VM, paged, with the
  page's filters.
- `GET /api/wave-reports/{id}/events/?kind=&vm=&page=`: the wave's migration events, newest first.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.helpers import forced_singular_serializer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.access import user_can
from migrations_app.models import Wave

from . import wavereport
from .dashboard import figures
from .serializers import DashboardSerializer


class CanReadReports(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS and user_can(request.user, Wave, "view")


class ReportPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class DashboardViewSet(viewsets.ViewSet):
    """The programme dashboard's figures: burn-up, waves by status, running waves with health, next
    windows, risks, throughput. A fixed number of queries whatever the estate's size."""

    permission_classes = [CanReadReports]

    # One set of figures, not a list of them: a viewset's `list` is documented as an array unless told.
    @extend_schema(responses={200: forced_singular_serializer(DashboardSerializer)})
    def list(self, request):
        return Response(DashboardSerializer(figures().as_dict()).data)


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    vm = serializers.CharField(source="migration.vm.name")
    migration = serializers.IntegerField(source="migration_id")
    kind = serializers.CharField()
    state = serializers.CharField()
    message = serializers.CharField()
    user = serializers.CharField(source="user.username", default=None)


WAVE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The wave's id")


@extend_schema_view(
    retrieve=extend_schema(parameters=[WAVE_ID]),
    vms=extend_schema(parameters=[WAVE_ID]),
    events=extend_schema(parameters=[WAVE_ID]),
)
class WaveReportViewSet(viewsets.ViewSet):
    """One wave's report: the summary, plan versus actual per VM, and events."""

    permission_classes = [CanReadReports]
    lookup_value_regex = r"\d+"  # a wave id is a number; anything else is a 404, not a failed query

    def _wave(self, pk) -> Wave:
        return get_object_or_404(Wave.objects.select_related("site"), pk=pk)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, pk=None):
        wave = self._wave(pk)
        s = wavereport.summary(wave)
        return Response(
            {
                "wave": {
                    "id": wave.pk,
                    "name": wave.name,
                    "status": wave.status,
                    "revision": wave.revision,
                    "window_start": wave.window_start,
                    "window_end": wave.window_end,
                    "time_zone": wave.time_zone,
                },
                "progress": s["progress"],
                "estimate": s["estimate"].as_dict(),
                "findings": s["findings"],
                "batches": s["batches"],
                "approvals": [
                    {
                        "revision": a.revision,
                        "decision": a.decision,
                        "user": a.user.username,
                        "change_ticket": a.change_ticket,
                        "comment": a.comment,
                        "created": a.created,
                    }
                    for a in wavereport.approvals(wave)[:100]
                ],
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("vm", str),
            OpenApiParameter("result", str),
            OpenApiParameter("type", str),
            OpenApiParameter("page", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True)
    def vms(self, request, pk=None):
        wave = self._wave(pk)
        filterset = wavereport.VmRowFilterSet(request.query_params, queryset=wavereport.vm_rows(wave))
        if not filterset.is_valid():
            return Response(filterset.errors, status=400)
        paginator = ReportPagination()
        page = paginator.paginate_queryset(filterset.qs, request, view=self)
        estimator = wavereport.VmEstimator(wave)
        return paginator.get_paginated_response([wavereport.row_dict(item, estimator) for item in page])

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str),
            OpenApiParameter("vm", str),
            OpenApiParameter("page", int),
        ],
        responses={200: EventSerializer(many=True)},
    )
    @action(detail=True)
    def events(self, request, pk=None):
        wave = self._wave(pk)
        filterset = wavereport.EventFilterSet(request.query_params, queryset=wavereport.events(wave))
        if not filterset.is_valid():
            return Response(filterset.errors, status=400)
        paginator = ReportPagination()
        page = paginator.paginate_queryset(filterset.qs, request, view=self)
        return paginator.get_paginated_response(EventSerializer(page, many=True).data)


def register(router):
    router.register("dashboard", DashboardViewSet, basename="dashboard")
    router.register("wave-reports", WaveReportViewSet, basename="wave-report")
