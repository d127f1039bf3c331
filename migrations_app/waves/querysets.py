"""The querysets the wave pages and the API list from, with their counts and sums as correlated
subqueries: one query per page whatever the number of rows, and no JOIN that multiplies rows."""

from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.querysets import count_subquery
from migrations_app.models import NetworkMapping, TargetCluster, Wave, WaveItem


def sum_subquery(queryset, group_field: str, summed: str):
    summed_rows = queryset.order_by().values(group_field).annotate(total=Sum(summed)).values("total")
    return Coalesce(Subquery(summed_rows, output_field=IntegerField()), 0)


def waves():
    items = WaveItem.objects.filter(wave=OuterRef("pk"))
    return Wave.objects.select_related("site", "target_cluster").annotate(
        vm_count=count_subquery(items, "wave"),
        used_mib=sum_subquery(items, "wave", "vm__used_mib"),
        provisioned_mib=sum_subquery(items, "wave", "vm__provisioned_mib"),
    )


def target_clusters():
    items = WaveItem.objects.filter(wave__target_cluster=OuterRef("pk"))
    return TargetCluster.objects.select_related("site").annotate(
        wave_count=count_subquery(Wave.objects.filter(target_cluster=OuterRef("pk")), "target_cluster"),
        vm_count=count_subquery(items, "wave__target_cluster"),
        vcpus=sum_subquery(items, "wave__target_cluster", "vm__num_cpu"),
        memory_mib=sum_subquery(items, "wave__target_cluster", "vm__memory_mib"),
        used_mib=sum_subquery(items, "wave__target_cluster", "vm__used_mib"),
    )


def wave_items():
    """Wave items with their VM, its place in the estate and its group: one row each, no query per row."""
    return WaveItem.objects.select_related(
        "wave", "vm", "vm__vcenter", "vm__cluster", "group", "vm__group_membership__group"
    )


def network_mappings():
    return NetworkMapping.objects.select_related("wave", "source", "source__vcenter")
