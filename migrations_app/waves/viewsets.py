"""REST endpoints of waves, their VMs and network mappings, target clusters and the wave plan file.

Reads need the view permission; writes the matching add/change/delete permission (core/access.py).
Every write goes through waves/actions.py, as the pages' do. A refused change answers 400 with the
reason (and the VMs or groups at fault in `items`); a change to a stale revision, or to a running or
completed wave, answers 409 Conflict.
"""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from inventory.api.views import InventoryPagination

from . import querysets
from .actions import (
    do_add_groups,
    do_add_vms,
    do_create_wave,
    do_delete_mapping,
    do_delete_target_cluster,
    do_delete_wave,
    do_remove_groups,
    do_remove_vms,
    do_save_mapping,
    do_save_target_cluster,
    do_set_migration_type,
    do_update_wave,
)
from .capacity import cap_warnings, fit_for_wave, usable_capacity, wave_totals
from .errors import StaleRevision, WaveError, WaveLocked
from .filtersets import NetworkMappingFilterSet, TargetClusterFilterSet, WaveFilterSet, WaveItemFilterSet
from .networks import wave_networks
from .planfile import PlanFileError, import_plan
from .serializers import (
    CapacitySerializer,
    ChangeResultSerializer,
    FitSerializer,
    GroupIdsSerializer,
    IdsSerializer,
    NetworkMappingSerializer,
    PlanImportResultSerializer,
    PlanUploadSerializer,
    TargetClusterSerializer,
    TotalsSerializer,
    VmIdsSerializer,
    WaveItemSerializer,
    WaveNetworkSerializer,
    WaveSerializer,
)
from .views.planfile import plan_download

REFUSED = OpenApiResponse(description="Refused: `detail` says why, `items` lists the VMs or groups at fault")
CONFLICT = OpenApiResponse(description="The wave moved to a newer revision, or is running or completed")


class WaveErrorsMixin:
    """WaveError and its kinds as answers: 409 for a stale revision or a locked wave, else 400."""

    def handle_exception(self, exc):
        if isinstance(exc, WaveError):
            code = (
                status.HTTP_409_CONFLICT
                if isinstance(exc, StaleRevision | WaveLocked)
                else status.HTTP_400_BAD_REQUEST
            )
            return Response({"detail": exc.message, "items": exc.items}, status=code)
        return super().handle_exception(exc)


def change_result(wave, change, count: int) -> dict:
    wave.refresh_from_db(fields=["revision", "status"])
    return {
        "count": count,
        "revision": wave.revision,
        "status": wave.status,
        "approval_withdrawn": bool(change and change.withdrawn),
        "message": change.message if change else "",
    }


class TargetClusterViewSet(WaveErrorsMixin, viewsets.ModelViewSet):
    """AVS clusters waves migrate into, with their usable capacity (`capacity`) and the assumptions behind it."""

    queryset = querysets.target_clusters().order_by("site__name", "name", "pk")
    serializer_class = TargetClusterSerializer
    filterset_class = TargetClusterFilterSet
    pagination_class = InventoryPagination
    ordering_fields = ["name", "hosts", "sku", "wave_count", "vm_count"]

    def perform_create(self, serializer):
        cluster = do_save_target_cluster(
            serializer.Meta.model(**serializer.validated_data), acting_user=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=cluster.pk)

    @extend_schema(
        description="A change to the name, site, datastores or folders is a change of every wave into the cluster: "
        "it moves their revision on and withdraws their approvals or submissions. Refused (409) while "
        "one of them runs.",
        responses={200: TargetClusterSerializer, 409: CONFLICT},
    )
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(
        description="As PUT, for the fields sent.", responses={200: TargetClusterSerializer, 409: CONFLICT}
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        cluster = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(cluster, name, value)
        do_save_target_cluster(cluster, acting_user=self.request.user)
        serializer.instance = self.get_queryset().get(pk=cluster.pk)

    @extend_schema(responses={204: None, 409: CONFLICT})
    def destroy(self, request, *args, **kwargs):
        try:
            do_delete_target_cluster(self.get_object(), acting_user=request.user)
        except WaveError as error:
            return Response({"detail": error.message, "items": error.items}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=CapacitySerializer)
    @action(detail=True)
    def capacity(self, request, pk=None):
        """The usable capacity alone."""
        cluster = self.get_object()
        capacity = usable_capacity(cluster)
        return Response({**CapacitySerializer(capacity).data, "workload_hosts": capacity.workload_hosts})


class WaveViewSet(WaveErrorsMixin, viewsets.ModelViewSet):
    """Waves. PUT/PATCH need the `revision` you read (409 when it is no longer current); a change to a submitted
    or approved wave sends it back to draft. Only draft and rejected waves can be deleted."""

    queryset = querysets.waves().order_by("sequence", "window_start", "name", "pk")
    serializer_class = WaveSerializer
    filterset_class = WaveFilterSet
    pagination_class = InventoryPagination
    ordering_fields = ["name", "sequence", "window_start", "status", "vm_count", "used_mib"]
    permission_action = None  # set per action below (DRF passes @action's keywords as view attributes)

    def perform_create(self, serializer):
        values = {k: v for k, v in serializer.validated_data.items() if k != "revision"}
        wave = do_create_wave(values, acting_user=self.request.user)
        serializer.instance = self.get_queryset().get(pk=wave.pk)

    @extend_schema(responses={200: WaveSerializer, 400: REFUSED, 409: CONFLICT})
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        wave = self.get_object()
        serializer = self.get_serializer(wave, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        expected = values.pop("revision", None)
        if expected is None:
            raise ValidationError(
                {
                    "revision": [
                        "Required: send the revision you read, so that a change saved since "
                        "is not overwritten."
                    ]
                }
            )
        do_update_wave(wave.pk, values, expected_revision=expected, acting_user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=wave.pk)).data)

    @extend_schema(responses={204: None, 400: REFUSED})
    def destroy(self, request, *args, **kwargs):
        do_delete_wave(self.get_object().pk, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=GroupIdsSerializer, responses={200: ChangeResultSerializer, 400: REFUSED, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], url_path="add-groups", permission_action="add_waveitem")
    def add_groups(self, request, pk=None):
        """Add every present VM of these groups (a group moves whole)."""
        wave = self.get_object()
        body = GroupIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change, count = do_add_groups(wave.pk, body.validated_data["groups"], acting_user=request.user)
        return Response(change_result(wave, change, count))

    @extend_schema(
        request=VmIdsSerializer, responses={200: ChangeResultSerializer, 400: REFUSED, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], url_path="add-vms", permission_action="add_waveitem")
    def add_vms(self, request, pk=None):
        """Add single VMs, optionally with a migration type of their own."""
        wave = self.get_object()
        body = VmIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change, count = do_add_vms(
            wave.pk,
            body.validated_data["vms"],
            acting_user=request.user,
            migration_type=body.validated_data["migration_type"],
        )
        return Response(change_result(wave, change, count))

    @extend_schema(request=IdsSerializer, responses={200: ChangeResultSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="remove", permission_action="delete_waveitem")
    def remove(self, request, pk=None):
        """Take VMs (`vms`) or whole groups (`groups`) out of the wave."""
        wave = self.get_object()
        body = IdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            change, count = None, 0
            if body.validated_data.get("groups"):
                change, count = do_remove_groups(
                    wave.pk, body.validated_data["groups"], acting_user=request.user
                )
            if body.validated_data.get("vms"):
                vm_change, vm_count = do_remove_vms(
                    wave.pk, body.validated_data["vms"], acting_user=request.user
                )
                change, count = vm_change or change, count + vm_count
        return Response(change_result(wave, change, count))

    @extend_schema(
        request=VmIdsSerializer, responses={200: ChangeResultSerializer, 400: REFUSED, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], url_path="migration-type", permission_action="change_waveitem")
    def migration_type(self, request, pk=None):
        """Set these VMs' migration type ("" follows the wave's default)."""
        wave = self.get_object()
        body = VmIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change, count = do_set_migration_type(
            wave.pk,
            body.validated_data["vms"],
            body.validated_data["migration_type"],
            acting_user=request.user,
        )
        return Response(change_result(wave, change, count))

    @extend_schema(responses=TotalsSerializer)
    @action(detail=True)
    def totals(self, request, pk=None):
        """What the wave's VMs add up to, and the caps they go over."""
        wave = self.get_object()
        totals = wave_totals(wave)
        return Response(
            {
                **{
                    f: getattr(totals, f)
                    for f in (
                        "vms",
                        "vcpus",
                        "memory_mib",
                        "provisioned_mib",
                        "used_mib",
                        "memory_gb",
                        "provisioned_tb",
                        "used_tb",
                    )
                },
                "over_caps": [str(w) for w in cap_warnings(wave, totals)],
            }
        )

    @extend_schema(responses=FitSerializer)
    @action(detail=True)
    def capacity(self, request, pk=None):
        """The wave's fit against its target cluster's usable capacity, counting every other wave into it."""
        wave = self.get_object()
        fit = fit_for_wave(wave)
        if fit is None:
            return Response(
                {
                    "target_cluster": None,
                    "fits": None,
                    "other_waves": 0,
                    "capacity": None,
                    "resources": [],
                    "problems": ["No target cluster: choose one to check the fit."],
                }
            )
        return Response(
            {
                "target_cluster": fit.cluster.pk,
                "fits": fit.fits,
                "other_waves": fit.other_waves,
                "capacity": {
                    **CapacitySerializer(fit.capacity).data,
                    "workload_hosts": fit.capacity.workload_hosts,
                },
                "resources": [
                    {
                        "label": r.label,
                        "unit": r.unit,
                        "wave": r.wave,
                        "others": r.others,
                        "planned": r.planned,
                        "usable": r.usable,
                        "fits": r.fits,
                    }
                    for r in fit.resources
                ],
                "problems": fit.problems,
            }
        )

    @extend_schema(responses=WaveNetworkSerializer(many=True))
    @action(detail=True)
    def networks(self, request, pk=None):
        """The networks the wave's VMs use and where each lands: the wave's mapping, else the site plan's
        extension (`mapped_by` "site_plan"), else nowhere."""
        wave = self.get_object()
        rows = []
        for n in wave_networks(wave):
            rows.append(
                {
                    "network": n.network_id,
                    "name": n.name,
                    "switch_type": n.switch_type,
                    "vlan_id": n.vlan_id,
                    "vms": n.vms,
                    "mapped": n.mapped,
                    "mapped_by": n.lands.by or None,
                    "target_kind": n.lands.target_kind or None,
                    "target_name": n.lands.target_name or None,
                    "in_plan": n.in_plan,
                    "notes": n.notes,
                }
            )
        return Response(rows)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "file", OpenApiTypes.STR, enum=["csv", "xlsx"], description="File format (default csv)"
            )
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
        },
    )
    @action(detail=False, url_path="plan-export")
    def plan_export(self, request):
        """The whole wave plan: one row per VM in a wave or a group (VM, VM ID, vCenter, Group, Wave, Migration type)."""
        return plan_download(request.query_params.get("file", "csv"))

    @extend_schema(
        request={"multipart/form-data": PlanUploadSerializer},
        responses={
            200: PlanImportResultSerializer,
            400: OpenApiResponse(description="`problems`: row, column, message"),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="plan-import",
        permission_action="change_wave",
        parser_classes=[MultiPartParser, FormParser],
    )
    def plan_import(self, request):
        """Apply an edited plan file, all or nothing; with `check_only` nothing changes."""
        body = PlanUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        uploaded = body.validated_data["file"]
        if not uploaded.name.lower().endswith((".csv", ".xlsx")):
            raise ValidationError(
                {"file": [f"{uploaded.name} is not a wave plan: send the .csv or .xlsx the export gives."]}
            )
        try:
            result = import_plan(
                uploaded.read(),
                uploaded.name,
                acting_user=request.user,
                check_only=body.validated_data["check_only"],
            )
        except PlanFileError as error:
            return Response(
                {"detail": str(error), "problems": [p.as_dict() for p in error.problems]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(result.as_dict())


class WaveItemViewSet(WaveErrorsMixin, viewsets.ModelViewSet):
    """The VMs of waves. POST adds a VM to a wave; PATCH sets its migration type; DELETE takes it out."""

    queryset = querysets.wave_items().order_by("wave__sequence", "wave__name", "vm__name", "pk")
    serializer_class = WaveItemSerializer
    filterset_class = WaveItemFilterSet
    pagination_class = InventoryPagination
    ordering_fields = ["vm__name", "wave__name", "migration_type"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        do_add_vms(
            data["wave"].pk,
            [data["vm"].pk],
            acting_user=self.request.user,
            migration_type=data.get("migration_type", ""),
        )
        serializer.instance = self.get_queryset().get(vm=data["vm"], wave=data["wave"])

    def perform_update(self, serializer):
        item = serializer.instance
        if "migration_type" in serializer.validated_data:
            do_set_migration_type(
                item.wave_id,
                [item.vm_id],
                serializer.validated_data["migration_type"],
                acting_user=self.request.user,
            )
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_destroy(self, instance):
        do_remove_vms(instance.wave_id, [instance.vm_id], acting_user=self.request.user)


class NetworkMappingViewSet(WaveErrorsMixin, viewsets.ModelViewSet):
    """Where each source port group of a wave lands: an extended network or an AVS segment. A second POST for
    the same wave and source replaces the first."""

    queryset = querysets.network_mappings().order_by("wave__name", "source__name", "pk")
    serializer_class = NetworkMappingSerializer
    filterset_class = NetworkMappingFilterSet
    pagination_class = InventoryPagination

    def perform_create(self, serializer):
        data = serializer.validated_data
        do_save_mapping(
            data["wave"].pk,
            data["source"],
            data["target_kind"],
            data["target_name"],
            acting_user=self.request.user,
        )
        serializer.instance = self.get_queryset().get(wave=data["wave"], source=data["source"])

    def perform_update(self, serializer):
        mapping = serializer.instance
        data = serializer.validated_data
        do_save_mapping(
            mapping.wave_id,
            mapping.source,
            data.get("target_kind", mapping.target_kind),
            data.get("target_name", mapping.target_name),
            acting_user=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=mapping.pk)

    def perform_destroy(self, instance):
        do_delete_mapping(instance.wave_id, instance.pk, acting_user=self.request.user)
