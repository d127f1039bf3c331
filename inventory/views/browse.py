"""Inventory pages: filtered, sortable lists and one page per object.

Views only name their queryset, FilterSet and table (declarative, one class per page); the querysets are the
API's (inventory/querysets.py), so pages and API list the same rows with the same joins.
"""

from django.db.models import Sum
from django.http import QueryDict
from django_tables2 import RequestConfig

from core.generic_views import ObjectDetailView, ObjectListView

from .. import querysets
from ..filtersets import (
    ClusterFilterSet,
    DatastoreFilterSet,
    HostFilterSet,
    NetworkFilterSet,
    VirtualMachineFilterSet,
)
from ..models import Cluster, Datastore, Host, Network, VirtualMachine
from ..tables import PAGINATION, ClusterTable, DatastoreTable, HostTable, NetworkTable, VirtualMachineTable


class InventoryListView(ObjectListView):
    """An inventory list; empty, it says whether there is any inventory at all and how to get some."""

    template_name = "generic/object_list.html"
    table_pagination = PAGINATION

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Only an empty page raises the question whether there is any inventory at all.
        if context["total"] == 0 and not self.filterset.queryset.model.objects.exists():
            context["empty_template"] = "inventory/_empty.html"
        return context


class VirtualMachineListView(InventoryListView):
    queryset = querysets.virtual_machines()
    filterset_class = VirtualMachineFilterSet
    table_class = VirtualMachineTable
    main_filters = ["q", "cluster_id", "power_state", "tools_status", "removed"]
    link_filters = ["host_id", "network_id", "datastore_id"]


class ClusterListView(InventoryListView):
    queryset = querysets.clusters()
    filterset_class = ClusterFilterSet
    table_class = ClusterTable
    main_filters = ["q", "vcenter_id", "datacenter"]


class HostListView(InventoryListView):
    queryset = querysets.hosts()
    filterset_class = HostFilterSet
    table_class = HostTable
    main_filters = ["q", "vcenter_id", "cluster_id"]


class DatastoreListView(InventoryListView):
    queryset = querysets.datastores()
    filterset_class = DatastoreFilterSet
    table_class = DatastoreTable
    main_filters = ["q", "vcenter_id", "type"]


class NetworkListView(InventoryListView):
    queryset = querysets.networks()
    filterset_class = NetworkFilterSet
    table_class = NetworkTable
    main_filters = ["q", "vcenter_id", "switch_type", "vlan"]


class ObjectView(ObjectDetailView):
    def get_template_names(self):
        return [f"inventory/{self.model._meta.model_name}.html"]


class RelatedVmsMixin:
    """A detail page that shows the VMs related to its object, filtered by the VM FilterSet."""

    def vm_filters(self) -> dict:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = QueryDict(mutable=True)
        params.update(self.vm_filters())
        vms = VirtualMachineFilterSet(data=params, queryset=querysets.virtual_machines()).qs
        table = VirtualMachineTable(vms, prefix="vm-")
        RequestConfig(self.request, paginate=PAGINATION).configure(table)
        context.update(vm_table=table, vm_list_query=params.urlencode())
        return context


class ClusterView(RelatedVmsMixin, ObjectView):
    model = Cluster
    queryset = querysets.clusters()

    def vm_filters(self):
        return {"cluster_id": self.object.pk}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        hosts = HostTable(
            querysets.hosts().filter(cluster=self.object), prefix="host-", exclude=["cluster", "vcenter"]
        )
        RequestConfig(self.request, paginate=PAGINATION).configure(hosts)
        context["host_table"] = hosts
        context["totals"] = VirtualMachine.objects.filter(
            cluster=self.object, removed__isnull=True
        ).aggregate(
            vcpus=Sum("num_cpu"),
            memory_mib=Sum("memory_mib"),
            provisioned_mib=Sum("provisioned_mib"),
            used_mib=Sum("used_mib"),
        )
        return context


class HostView(RelatedVmsMixin, ObjectView):
    model = Host
    queryset = querysets.hosts()

    def vm_filters(self):
        return {"host_id": self.object.pk}


class DatastoreView(RelatedVmsMixin, ObjectView):
    model = Datastore
    queryset = querysets.datastores()

    def vm_filters(self):
        return {"datastore_id": self.object.pk}


class NetworkView(RelatedVmsMixin, ObjectView):
    model = Network
    queryset = querysets.networks()

    def vm_filters(self):
        return {"network_id": self.object.pk}
