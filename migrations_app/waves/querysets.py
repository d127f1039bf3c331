"""The querysets the wave pages and the API list from, with their counts and sums as correlated
subqueries: one query per page whatever the number of rows, and no JOIN that multiplies rows (on
PostgreSQL a wave's own sizes are a JOIN and GROUP BY instead: see waves())."""

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.querysets import count_subquery
from migrations_app.models import NetworkMapping, TargetCluster, Wave, WaveItem


def sum_subquery(queryset, group_field: str, summed: str):
    summed_rows = queryset.order_by().values(group_field).annotate(total=Sum(summed)).values("total")
    return Coalesce(Subquery(summed_rows, output_field=IntegerField()), 0)


def waves():
    waves = Wave.objects.select_related("site", "target_cluster")
    if connection.vendor == "postgresql":
        # PostgreSQL (random_page_cost 4, its default) ran a SUM subquery per wave as a hash join over
        # the whole VM table: 9 ms a wave and a sum at 50,000 VMs, the wave list of 40 waves 675 ms.
        # One join of the items to their VMs (one VM per item: nothing multiplies) reads the VM table
        # once: 100 ms. SQLite goes the other way (it groups the 40,000 joined rows by every selected
        # column: 57 ms with subqueries, 226 ms with the join), so it keeps the subqueries.
        return waves.annotate(
            vm_count=Count("items"),
            used_mib=Coalesce(Sum("items__vm__used_mib"), 0),
            provisioned_mib=Coalesce(Sum("items__vm__provisioned_mib"), 0),
        )
    items = WaveItem.objects.filter(wave=OuterRef("pk"))
    return waves.annotate(
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
