from .views import (
    ClusterViewSet,
    DatastoreViewSet,
    HostViewSet,
    NetworkViewSet,
    VCenterViewSet,
    VirtualMachineViewSet,
)


def register(router):
    """Inventory endpoints under /api/, named `api:<basename>-list|detail`."""
    router.register("vcenters", VCenterViewSet, basename="vcenter")
    router.register("clusters", ClusterViewSet, basename="cluster")
    router.register("hosts", HostViewSet, basename="host")
    router.register("datastores", DatastoreViewSet, basename="datastore")
    router.register("networks", NetworkViewSet, basename="network")
    router.register("vms", VirtualMachineViewSet, basename="virtualmachine")
