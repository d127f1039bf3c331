"""Placeholder: the inventory pages (tables, filters, detail pages) come next."""

from django.views.generic import DetailView, ListView

from core.access import PermissionMixin

from ..models import Cluster, Datastore, Host, Network, VirtualMachine


def _pair(model):
    list_view = type(f"{model.__name__}ListView", (PermissionMixin, ListView), {"model": model, "paginate_by": 50,
                     "template_name": "inventory/object_list.html"})
    detail_view = type(f"{model.__name__}View", (PermissionMixin, DetailView), {"model": model,
                       "template_name": "inventory/object.html"})
    return list_view, detail_view


VirtualMachineListView, VirtualMachineView = _pair(VirtualMachine)
ClusterListView, ClusterView = _pair(Cluster)
HostListView, HostView = _pair(Host)
DatastoreListView, DatastoreView = _pair(Datastore)
NetworkListView, NetworkView = _pair(Network)
