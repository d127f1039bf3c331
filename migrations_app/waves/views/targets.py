"""Target clusters: the AVS clusters waves migrate into, with their usable capacity."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.urls import reverse_lazy

from core.generic_views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from migrations_app.models import TargetCluster

from .. import querysets
from ..actions import do_delete_target_cluster, do_save_target_cluster
from ..capacity import Totals, usable_capacity
from ..errors import WaveError
from ..filtersets import TargetClusterFilterSet
from ..forms import TargetClusterForm
from ..tables import PAGINATION, TargetClusterTable, WaveTable


class TargetClusterListView(ObjectListView):
    model = TargetCluster
    queryset = querysets.target_clusters()
    filterset_class = TargetClusterFilterSet
    table_class = TargetClusterTable
    table_pagination = PAGINATION
    template_name = "migrations_app/targets_list.html"


class TargetClusterView(ObjectDetailView):
    model = TargetCluster
    queryset = querysets.target_clusters()
    template_name = "migrations_app/targets_cluster.html"

    def get_context_data(self, **kwargs):
        cluster = self.object
        waves = WaveTable(
            querysets.waves().filter(target_cluster=cluster),
            prefix="wave-",
            exclude=["target_cluster", "site"],
        )
        waves.paginate(page=self.request.GET.get("wave-page", 1), per_page=PAGINATION["per_page"])
        planned = Totals(
            vms=cluster.vm_count,
            vcpus=cluster.vcpus,
            memory_mib=cluster.memory_mib,
            used_mib=cluster.used_mib,
        )
        return super().get_context_data(
            capacity=usable_capacity(cluster) if cluster.sku in settings.AVS_HOST_TYPES else None,
            host_figures=settings.AVS_HOST_TYPES.get(cluster.sku),
            planned=planned,
            wave_table=waves,
            **kwargs,
        )


class TargetClusterEditView(ObjectEditView):
    model = TargetCluster
    form_class = TargetClusterForm
    template_name = "migrations_app/targets_edit.html"
    form_errors = {WaveError: 400}

    def get_initial(self):
        return {"site": self.request.GET.get("site")} if self.object is None else None

    def save(self, form):
        cluster = do_save_target_cluster(form.instance, acting_user=self.request.user)
        messages.success(self.request, f"Target cluster {cluster.name} saved.")
        for change in cluster.changes:
            if change.withdrawn:
                messages.warning(self.request, change.message)
        return redirect(cluster)


class TargetClusterDeleteView(ObjectDeleteView):
    model = TargetCluster
    queryset = querysets.target_clusters()
    what = "target cluster"
    success_url = reverse_lazy("migrations_app:targetcluster_list")
    refusals = (WaveError,)

    def protected_by(self, cluster):
        if cluster.wave_count:
            n = cluster.wave_count
            return (
                f"{n} wave{pluralize(n)} target{pluralize(n, 's,')} this cluster: "
                f"point {pluralize(n, 'it,them')} elsewhere first."
            )
        return None

    def consequence(self, cluster):
        return "Only the portal's record goes; nothing in AVS is touched."

    def delete(self, cluster):
        name = cluster.name
        do_delete_target_cluster(cluster, acting_user=self.request.user)
        return f"Target cluster {name} deleted."
