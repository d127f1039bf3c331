"""Target clusters: the AVS clusters waves migrate into, with their usable capacity."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.access import PermissionMixin
from migrations_app.models import TargetCluster

from .. import querysets
from ..actions import do_delete_target_cluster, do_save_target_cluster
from ..capacity import Totals, usable_capacity
from ..errors import WaveError
from ..filtersets import TargetClusterFilterSet
from ..forms import TargetClusterForm
from ..tables import PAGINATION, TargetClusterTable, WaveTable


class TargetClusterListView(PermissionMixin, SingleTableMixin, FilterView):
    model = TargetCluster
    queryset = querysets.target_clusters()
    filterset_class = TargetClusterFilterSet
    table_class = TargetClusterTable
    table_pagination = PAGINATION
    template_name = "migrations_app/targets_list.html"


class TargetClusterView(PermissionMixin, DetailView):
    model = TargetCluster
    queryset = querysets.target_clusters()
    template_name = "migrations_app/targets_cluster.html"

    def get_context_data(self, **kwargs):
        cluster = self.object
        waves = WaveTable(querysets.waves().filter(target_cluster=cluster), prefix="wave-", exclude=["target_cluster", "site"])
        waves.paginate(page=self.request.GET.get("wave-page", 1), per_page=PAGINATION["per_page"])
        planned = Totals(vms=cluster.vm_count, vcpus=cluster.vcpus, memory_mib=cluster.memory_mib, used_mib=cluster.used_mib)
        return super().get_context_data(
            capacity=usable_capacity(cluster) if cluster.sku in settings.AVS_HOST_TYPES else None,
            host_figures=settings.AVS_HOST_TYPES.get(cluster.sku),
            planned=planned,
            wave_table=waves,
            **kwargs,
        )


class TargetClusterEditView(PermissionMixin, View):
    model = TargetCluster
    permission_action = "add"
    template_name = "migrations_app/targets_edit.html"

    def get_cluster(self):
        return None

    def get(self, request, pk=None):
        cluster = self.get_cluster()
        initial = {"site": request.GET.get("site")} if cluster is None else None
        return self.render(TargetClusterForm(instance=cluster, initial=initial), cluster)

    def post(self, request, pk=None):
        cluster = self.get_cluster()
        form = TargetClusterForm(request.POST, instance=cluster)
        if form.is_valid():
            try:
                cluster = do_save_target_cluster(form.instance, acting_user=request.user)
            except WaveError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Target cluster {cluster.name} saved.")
                for change in cluster.changes:
                    if change.withdrawn:
                        messages.warning(request, change.message)
                return redirect(cluster)
        return self.render(form, cluster, status=400)

    def render(self, form, cluster, status=200):
        return render(self.request, self.template_name, {"form": form, "object": cluster}, status=status)


class TargetClusterChangeView(TargetClusterEditView):
    permission_action = "change"

    def get_cluster(self):
        return get_object_or_404(TargetCluster, pk=self.kwargs["pk"])


class TargetClusterDeleteView(PermissionMixin, View):
    model = TargetCluster
    permission_action = "delete"

    def get(self, request, pk):
        cluster = get_object_or_404(querysets.target_clusters(), pk=pk)
        return render(request, "migrations_app/targets_delete.html", {"object": cluster})

    def post(self, request, pk):
        cluster = get_object_or_404(TargetCluster, pk=pk)
        name = cluster.name
        try:
            do_delete_target_cluster(cluster, acting_user=request.user)
        except WaveError as error:
            messages.error(request, str(error))
            return redirect(cluster)
        messages.success(request, f"Target cluster {name} deleted.")
        return redirect(reverse("migrations_app:targetcluster_list"))
