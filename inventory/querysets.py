"""The querysets the inventory pages and the API both list from: joins and prefetches decided once,
so that neither issues a query per row."""

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce

from .models import (
    CdRom,
    Cluster,
    Datastore,
    Host,
    Network,
    Snapshot,
    VCenter,
    VirtualDisk,
    VirtualMachine,
    VirtualNic,
)


def count_subquery(queryset, group_field: str, count_field: str = "pk", distinct: bool = False):
    """COUNT over `queryset` correlated on `group_field`, as a column; 0 when nothing matches.

    A subquery rather than a JOIN + GROUP BY, so that several counts on one row do not multiply.
    """
    counted = (
        queryset.order_by().values(group_field).annotate(n=Count(count_field, distinct=distinct)).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


_present_vms = VirtualMachine.objects.filter(removed__isnull=True)


def vcenters():
    # The password is never loaded: callers only learn whether one is stored.
    return VCenter.objects.defer("password").annotate(
        has_password=ExpressionWrapper(~Q(password=""), output_field=BooleanField())
    )


def clusters():
    return Cluster.objects.select_related("vcenter").annotate(
        vm_count=count_subquery(_present_vms.filter(cluster=OuterRef("pk")), "cluster")
    )


def hosts():
    return Host.objects.select_related("vcenter", "cluster").annotate(
        vm_count=count_subquery(_present_vms.filter(host=OuterRef("pk")), "host")
    )


def datastores():
    disks = VirtualDisk.objects.filter(datastore=OuterRef("pk"), vm__removed__isnull=True)
    return Datastore.objects.select_related("vcenter").annotate(
        vm_count=count_subquery(disks, "datastore", "vm", distinct=True)
    )


def networks():
    nics = VirtualNic.objects.filter(network=OuterRef("pk"), vm__removed__isnull=True)
    return Network.objects.select_related("vcenter").annotate(
        vm_count=count_subquery(nics, "network", "vm", distinct=True)
    )


def _nic_networks():
    return Prefetch(
        "nics",
        queryset=VirtualNic.objects.select_related("network").only(
            "id", "vm_id", "label", "network_name", "network_id", "network__id", "network__name"
        ),
    )


def virtual_machines():
    """The VM list: one row per VM, with its cluster, host and the networks of its NICs."""
    return VirtualMachine.objects.select_related("vcenter", "cluster", "host").prefetch_related(
        _nic_networks()
    )


def virtual_machine_details():
    """One VM and everything its page and API detail show, in a fixed number of queries."""
    return VirtualMachine.objects.select_related("vcenter", "cluster", "host").prefetch_related(
        Prefetch("disks", queryset=VirtualDisk.objects.select_related("datastore")),
        Prefetch("nics", queryset=VirtualNic.objects.select_related("network")),
        Prefetch("cdroms", queryset=CdRom.objects.all()),
        Prefetch("snapshots", queryset=Snapshot.objects.all()),
        "tags",
    )


def network_names(vm) -> list[str]:
    """The distinct network names of a VM's NICs, in NIC order (needs the `nics` prefetch)."""
    names = []
    for nic in vm.nics.all():
        name = nic.network.name if nic.network_id else nic.network_name
        if name and name not in names:
            names.append(name)
    return names
