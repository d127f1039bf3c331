"""Inventory pages: filtered, sortable lists and one page per object.

Views only name their queryset, FilterSet and table (declarative, one class per page); the querysets are the
API's (inventory/querysets.py), so pages and API list the same rows with the same joins.
"""

from django.db.models import Sum
from django.http import QueryDict
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from core.access import PermissionMixin

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

TABLE_TARGET = "object-table"


def style_filter_form(form):
    for field in form.fields.values():
        widget = field.widget
        css = "form-select form-select-sm" if hasattr(widget, "choices") else "form-control form-control-sm"
        widget.attrs.setdefault("class", css)
    return form


class ObjectListView(PermissionMixin, SingleTableMixin, FilterView):
    """A filter form, a count and a table; an htmx request aimed at the table gets the table alone."""

    template_name = "inventory/list.html"
    partial_template_name = "inventory/_table.html"
    table_pagination = PAGINATION
    # The filters to show first; the others fold away under "More filters".
    main_filters: list[str] = ["q"]
    # Filters that links from other pages set (by id): kept as hidden inputs, never typed in.
    link_filters: list[str] = []

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        # Always bound, so that defaults such as "hide vanished VMs" apply without parameters.
        kwargs["data"] = self.request.GET
        return kwargs

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        style_filter_form(filterset.form)
        return filterset

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and self.request.htmx.target == TABLE_TARGET:
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        model = self.filterset.queryset.model
        table = context["table"]
        fields = list(self.filterset.form)
        more_fields = [f for f in fields if f.name not in self.main_filters + self.link_filters]
        context.update(
            opts=model._meta,
            table_target=TABLE_TARGET,
            main_fields=[f for f in fields if f.name in self.main_filters],
            more_fields=more_fields,
            link_fields=[f for f in fields if f.name in self.link_filters and self.request.GET.get(f.name)],
            more_open=any(self.request.GET.get(f.name) for f in more_fields),
            filtered=any(v for k, v in self.request.GET.items() if k in self.filterset.filters),
            total=table.paginator.count if hasattr(table, "paginator") else len(table.rows),
        )
        # Only an empty page raises the question whether there is any inventory at all.
        context["inventory_empty"] = context["total"] == 0 and not model.objects.exists()
        return context


class VirtualMachineListView(ObjectListView):
    queryset = querysets.virtual_machines()
    filterset_class = VirtualMachineFilterSet
    table_class = VirtualMachineTable
    main_filters = ["q", "cluster_id", "power_state", "tools_status", "removed"]
    link_filters = ["host_id", "network_id", "datastore_id"]


class ClusterListView(ObjectListView):
    queryset = querysets.clusters()
    filterset_class = ClusterFilterSet
    table_class = ClusterTable
    main_filters = ["q", "vcenter_id", "datacenter"]


class HostListView(ObjectListView):
    queryset = querysets.hosts()
    filterset_class = HostFilterSet
    table_class = HostTable
    main_filters = ["q", "vcenter_id", "cluster_id"]


class DatastoreListView(ObjectListView):
    queryset = querysets.datastores()
    filterset_class = DatastoreFilterSet
    table_class = DatastoreTable
    main_filters = ["q", "vcenter_id", "type"]


class NetworkListView(ObjectListView):
    queryset = querysets.networks()
    filterset_class = NetworkFilterSet
    table_class = NetworkTable
    main_filters = ["q", "vcenter_id", "switch_type", "vlan"]


class ObjectView(PermissionMixin, DetailView):
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
        hosts = HostTable(querysets.hosts().filter(cluster=self.object), prefix="host-", exclude=["cluster", "vcenter"])
        RequestConfig(self.request, paginate=PAGINATION).configure(hosts)
        context["host_table"] = hosts
        context["totals"] = VirtualMachine.objects.filter(cluster=self.object, removed__isnull=True).aggregate(
            vcpus=Sum("num_cpu"), memory_mib=Sum("memory_mib"), provisioned_mib=Sum("provisioned_mib"),
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
