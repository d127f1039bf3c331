"""REST endpoints for groups, members, dependencies, imports, suggestions and the graph.

Permissions are core.access.ModelPermissions (the project default): reads need `view_<model>`,
writes the model's add/change/delete or the custom action named in `permission_action`.
"""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.helpers import forced_singular_serializer
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.filters import BIGINT_MAX, BIGINT_MIN
from inventory.api.views import InventoryPagination

from ..models import Dependency, DependencyGroup
from . import querysets
from .actions import (
    MembershipError,
    do_add_members,
    do_delete_group,
    do_remove_members,
    do_save_group,
    start_dependency_import,
)
from .filtersets import (
    DependencyFilterSet,
    DependencyGroupFilterSet,
    DependencyImportFilterSet,
    GroupMemberFilterSet,
)
from .forms import parse_ports
from .graph import GraphFilter, build
from .serializers import (
    AcceptSuggestionSerializer,
    DependencyGroupSerializer,
    DependencyImportSerializer,
    DependencySerializer,
    DependencyUploadSerializer,
    GroupMemberSerializer,
    JobStartedSerializer,
    MembersChangeSerializer,
    SuggestionSerializer,
)
from .suggestions import do_accept_suggestion, suggest


class DependencyGroupViewSet(viewsets.ModelViewSet):
    """Dependency groups with their VM count and used storage. `members` adds or removes VMs in bulk."""

    queryset = querysets.groups()
    serializer_class = DependencyGroupSerializer
    filterset_class = DependencyGroupFilterSet
    pagination_class = InventoryPagination
    ordering_fields = ["name", "priority", "risk", "vm_count", "used_mib", "created"]
    permission_action = None  # the member actions name theirs (add/delete_groupmember)

    def perform_create(self, serializer):
        group = DependencyGroup(**serializer.validated_data)
        group = do_save_group(group, acting_user=self.request.user, changed=list(serializer.validated_data))
        # Read back with the counts the answer documents (an empty group's are 0, not missing).
        serializer.instance = querysets.groups().get(pk=group.pk)

    def perform_update(self, serializer):
        group = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(group, field, value)
        do_save_group(group, acting_user=self.request.user, changed=list(serializer.validated_data))

    def perform_destroy(self, instance):
        do_delete_group(instance, acting_user=self.request.user)

    @extend_schema(request=MembersChangeSerializer, responses=GroupMemberSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="add-members", permission_action="add_groupmember")
    def add_members(self, request, pk=None):
        """Add VMs by id. A VM in another group is refused (400, naming the group) unless `move` is true."""
        group = self.get_object()
        data = MembersChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = do_add_members(
                group,
                data.validated_data["vms"],
                acting_user=request.user,
                move=data.validated_data["move"],
                reason=data.validated_data.get("reason", ""),
            )
        except MembershipError as exc:
            raise ValidationError({"vms": [str(exc)]}) from None
        members = querysets.members().filter(group=group, vm_id__in=data.validated_data["vms"])
        return Response(
            {"detail": result.message(group), "members": GroupMemberSerializer(members, many=True).data},
            status=status.HTTP_200_OK,
        )

    @extend_schema(request=MembersChangeSerializer, responses={200: None})
    @action(detail=True, methods=["post"], url_path="remove-members", permission_action="delete_groupmember")
    def remove_members(self, request, pk=None):
        group = self.get_object()
        data = MembersChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = do_remove_members(group, data.validated_data["vms"], acting_user=request.user)
        return Response({"detail": f"Removed {count} VMs from {group}.", "removed": count})


class GroupMemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Which VM is in which group, and why. Creating one refuses a VM in another group unless `move`."""

    queryset = querysets.members()
    serializer_class = GroupMemberSerializer
    filterset_class = GroupMemberFilterSet
    pagination_class = InventoryPagination
    ordering_fields = ["group__name", "vm__name"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            do_add_members(
                data["group"],
                [data["vm"].pk],
                acting_user=self.request.user,
                move=data.get("move", False),
                reason=data.get("reason", ""),
            )
        except MembershipError as exc:
            raise ValidationError({"vm": [str(exc)]}) from None
        serializer.instance = querysets.members().get(vm=data["vm"])

    def perform_update(self, serializer):
        data = serializer.validated_data
        member = serializer.instance
        if "vm" in data and data["vm"].pk != member.vm_id:
            raise ValidationError(
                {"vm": ["A membership's VM cannot change; delete it and add the other VM."]}
            )
        group, reason = data.get("group", member.group), data.get("reason", member.reason)
        # Changing the group is a move, made and audited the one way moves are.
        do_add_members(group, [member.vm_id], acting_user=self.request.user, move=True, reason=reason)
        serializer.instance = querysets.members().get(pk=member.pk)

    def perform_destroy(self, instance):
        do_remove_members(instance.group, [instance.vm_id], acting_user=self.request.user)


class DependencyViewSet(viewsets.ReadOnlyModelViewSet):
    """Connections: filter by VM or group on either side, `external=true` for those to or from
    something outside the inventory, port, protocol, `min_seen`."""

    queryset = querysets.dependencies()
    serializer_class = DependencySerializer
    filterset_class = DependencyFilterSet
    pagination_class = InventoryPagination
    ordering_fields = ["seen", "port", "protocol", "source__name", "destination__name"]


class DependencyImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of connection data with their summaries. POST a file to import one: 202 with the job."""

    queryset = querysets.imports()
    serializer_class = DependencyImportSerializer
    filterset_class = DependencyImportFilterSet
    pagination_class = InventoryPagination
    permission_action = "import_dependencies"
    parser_classes = [MultiPartParser, FormParser]
    ordering_fields = ["created", "rows", "edges"]

    @extend_schema(
        request={"multipart/form-data": DependencyUploadSerializer}, responses={202: JobStartedSerializer}
    )
    def create(self, request):
        upload = DependencyUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        job = start_dependency_import(
            upload.validated_data["file"],
            acting_user=request.user,
            format=upload.validated_data.get("format") or "",
        )
        return Response(
            {
                "job": job.pk,
                "url": request.build_absolute_uri(reverse("api:job-detail", args=[job.pk])),
                "status": job.status,
            },
            status=status.HTTP_202_ACCEPTED,
        )


SUGGESTION_PARAMS = [
    OpenApiParameter("min_seen", int, description="Ignore connections seen fewer times"),
    OpenApiParameter(
        "ignore_ports",
        str,
        description="Comma-separated ports to leave out (default: the infrastructure ports)",
    ),
]


def _suggestion_settings(params) -> tuple[int | None, tuple | None]:
    try:
        min_seen = int(params["min_seen"]) if params.get("min_seen") not in (None, "") else None
        if min_seen is not None and min_seen < 1:
            raise ValueError
    except ValueError:
        raise ValidationError({"min_seen": ["Give a whole number of 1 or more."]}) from None
    if "ignore_ports" not in params:
        return min_seen, None
    try:
        return min_seen, parse_ports(params["ignore_ports"])
    except Exception as exc:  # noqa: BLE001 - a form ValidationError: its message goes back as is
        raise ValidationError({"ignore_ports": list(getattr(exc, "messages", [str(exc)]))}) from None


class GroupSuggestionViewSet(viewsets.GenericViewSet):
    """Suggested move groups (connected components of the VM-to-VM graph) with each VM's reason."""

    queryset = DependencyGroup.objects.all()  # what the permission check is about
    permission_action = None  # accepting names add_dependencygroup
    serializer_class = SuggestionSerializer
    pagination_class = InventoryPagination
    filter_backends = []

    @extend_schema(parameters=SUGGESTION_PARAMS, responses=SuggestionSerializer(many=True))
    def list(self, request):
        min_seen, ports = _suggestion_settings(request.query_params)
        result = suggest(min_seen, ports)
        items = [
            {"key": s.key, "name": s.name, "connections": s.connections, "vms": s.vms} for s in result.items
        ]
        page = self.paginate_queryset(items)
        return self.get_paginated_response(SuggestionSerializer(page, many=True).data)

    @extend_schema(request=AcceptSuggestionSerializer, responses={201: DependencyGroupSerializer})
    @action(detail=False, methods=["post"], permission_action="add_dependencygroup")
    def accept(self, request):
        """Make a group of a suggestion, as listed (same settings); refused if it has changed since."""
        data = AcceptSuggestionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        default_min = settings.DEPENDENCIES["SUGGESTION_MIN_SEEN"]
        try:
            group = do_accept_suggestion(
                values["vms"],
                name=values.get("name", ""),
                min_seen=values.get("min_seen", default_min),
                ignore_ports=values.get("ignore_ports"),
                acting_user=request.user,
            )
        except MembershipError as exc:
            raise ValidationError({"vms": [str(exc)]}) from None
        return Response(
            DependencyGroupSerializer(querysets.groups().get(pk=group.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["vm", "external"])
    label = serializers.CharField()
    vm = serializers.IntegerField(allow_null=True)
    ip = serializers.CharField(allow_null=True)
    group = serializers.IntegerField(allow_null=True)
    group_name = serializers.CharField(allow_null=True)


class GraphEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    ports = serializers.ListField(child=serializers.CharField())
    seen = serializers.IntegerField()


class GraphGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GraphSerializer(serializers.Serializer):
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)
    groups = GraphGroupSerializer(many=True, help_text="The groups shown, for the legend")
    total_nodes = serializers.IntegerField()
    shown_nodes = serializers.IntegerField()
    truncated = serializers.BooleanField()


class DependencyGraphViewSet(viewsets.GenericViewSet):
    """The dependency graph as JSON (the same the graph pages draw), cut to the node limit."""

    queryset = Dependency.objects.all()  # what the permission check is about
    serializer_class = GraphSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("group", int, many=True, description="Connections of these groups only"),
            OpenApiParameter("externals", bool, description="Include external endpoints (default true)"),
            OpenApiParameter("min_seen", int),
            OpenApiParameter("ignore_ports", str, description="Comma-separated ports to leave out"),
        ],
        # One graph, not a list of them: a viewset's `list` is documented as an array unless told.
        responses=forced_singular_serializer(GraphSerializer),
    )
    def list(self, request):
        params = request.query_params
        try:
            groups = [int(g) for g in params.getlist("group") if g]
        except ValueError:
            raise ValidationError({"group": ["Give group ids."]}) from None
        if not all(BIGINT_MIN <= g <= BIGINT_MAX for g in groups):
            raise ValidationError({"group": ["No group has such an id."]})
        min_seen, ports = _suggestion_settings(params)
        flt = GraphFilter(
            groups=groups,
            externals=params.get("externals", "true").lower() not in ("false", "0", "no"),
            min_seen=min_seen or 1,
            ignore_ports=ports or (),
        )
        return Response(build(flt).as_dict())
