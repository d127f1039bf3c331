"""Read-only inventory endpoints: the pages' querysets and FilterSets, with `?ordering=`."""

from rest_framework import viewsets
from rest_framework.pagination import PageNumberPagination

from .. import querysets
from ..filtersets import (
    ClusterFilterSet,
    DatastoreFilterSet,
    HostFilterSet,
    NetworkFilterSet,
    VCenterFilterSet,
    VirtualMachineFilterSet,
)
from ..tables import MAX_PER_PAGE
from .serializers import (
    ClusterSerializer,
    DatastoreSerializer,
    HostSerializer,
    NetworkSerializer,
    VCenterSerializer,
    VirtualMachineDetailSerializer,
    VirtualMachineSerializer,
)


class InventoryPagination(PageNumberPagination):
    """The default page of 50; `?page_size=` up to 500, the same cap as the pages' `?per_page=`."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PER_PAGE


class InventoryViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = InventoryPagination


class VCenterViewSet(InventoryViewSet):
    """vCenters known to the portal. Passwords are never returned; `has_password` says whether one is stored."""

    queryset = querysets.vcenters()
    serializer_class = VCenterSerializer
    filterset_class = VCenterFilterSet
    ordering_fields = ["name", "last_synced", "created"]


class ClusterViewSet(InventoryViewSet):
    queryset = querysets.clusters()
    serializer_class = ClusterSerializer
    filterset_class = ClusterFilterSet
    ordering_fields = ["name", "datacenter", "num_hosts", "num_cpu_cores", "total_memory_mib", "vm_count"]


class HostViewSet(InventoryViewSet):
    queryset = querysets.hosts()
    serializer_class = HostSerializer
    filterset_class = HostFilterSet
    ordering_fields = ["name", "cpu_vendor", "num_cpu_cores", "memory_mib", "esx_version", "vm_count"]


class DatastoreViewSet(InventoryViewSet):
    queryset = querysets.datastores()
    serializer_class = DatastoreSerializer
    filterset_class = DatastoreFilterSet
    ordering_fields = ["name", "type", "capacity_mib", "free_mib", "provisioned_mib", "vm_count"]


class NetworkViewSet(InventoryViewSet):
    queryset = querysets.networks()
    serializer_class = NetworkSerializer
    filterset_class = NetworkFilterSet
    ordering_fields = ["name", "switch_name", "switch_type", "vlan_id", "vm_count"]


class VirtualMachineViewSet(InventoryViewSet):
    """Virtual machines. Vanished VMs are left out unless `removed=true` or `removed=all`.

    The list gives summary fields; the detail adds disks, NICs, CD-ROMs, snapshots, tags and attributes.
    """

    queryset = querysets.virtual_machines()
    serializer_class = VirtualMachineSerializer
    filterset_class = VirtualMachineFilterSet
    ordering_fields = [
        "name",
        "power_state",
        "num_cpu",
        "memory_mib",
        "provisioned_mib",
        "used_mib",
        "guest_os",
        "hw_version",
        "tools_status",
        "primary_ip",
        "cluster__name",
        "host__name",
        "last_updated",
    ]

    def get_queryset(self):
        if self.action == "retrieve":
            return querysets.virtual_machine_details()
        return super().get_queryset()

    def filter_queryset(self, queryset):
        # A vanished VM keeps its page: list filters (which hide vanished VMs) do not apply to one VM.
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return VirtualMachineDetailSerializer
        return super().get_serializer_class()
