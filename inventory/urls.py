from django.urls import path

from .views import browse, connections, imports

app_name = "inventory"

urlpatterns = [
    path("vms/", browse.VirtualMachineListView.as_view(), name="virtualmachine_list"),
    path("clusters/", browse.ClusterListView.as_view(), name="cluster_list"),
    path("clusters/<int:pk>/", browse.ClusterView.as_view(), name="cluster"),
    path("hosts/", browse.HostListView.as_view(), name="host_list"),
    path("hosts/<int:pk>/", browse.HostView.as_view(), name="host"),
    path("datastores/", browse.DatastoreListView.as_view(), name="datastore_list"),
    path("datastores/<int:pk>/", browse.DatastoreView.as_view(), name="datastore"),
    path("networks/", browse.NetworkListView.as_view(), name="network_list"),
    path("networks/<int:pk>/", browse.NetworkView.as_view(), name="network"),
    path("vcenters/", connections.VCenterListView.as_view(), name="vcenter_list"),
    path("vcenters/add/", connections.VCenterEditView.as_view(), name="vcenter_add"),
    path("vcenters/<int:pk>/", connections.VCenterView.as_view(), name="vcenter"),
    path("vcenters/<int:pk>/edit/", connections.VCenterEditView.as_view(), name="vcenter_edit"),
    path("vcenters/<int:pk>/discover/", connections.VCenterDiscoverView.as_view(), name="vcenter_discover"),
    path("import/", imports.RVToolsImportView.as_view(), name="rvtools_import"),
]
