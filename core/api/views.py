from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.filters import IntegerFilter
from core.models import Job

from .serializers import JobEventSerializer, JobSerializer


class JobFilterSet(filters.FilterSet):
    object_id = IntegerFilter(label="Object id")

    class Meta:
        model = Job
        fields = ["status", "kind", "object_id"]


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Job.objects.select_related("user", "object_type")
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    ordering_fields = ["created", "status"]

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Only events with a larger sequence number")],
        responses=JobEventSerializer(many=True),
    )
    @action(detail=True)
    def events(self, request, pk=None):
        """The job's log, in order. Poll with `?after=<last seq seen>` to catch up."""
        job = self.get_object()
        try:
            after = int(request.query_params.get("after", 0))
        except ValueError:
            after = 0
        events = job.events.filter(seq__gt=after)[:1000]
        return Response(JobEventSerializer(events, many=True, context={"request": request}).data)
