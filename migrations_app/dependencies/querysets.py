"""The querysets pages and API both list from: counts as correlated subqueries, relations joined once,
so that no list issues a query per row."""

from django.db.models import IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.querysets import count_subquery

from ..models import Dependency, DependencyGroup, DependencyImport, GroupMember


def _members_of_group():
    # Vanished VMs stay members (the planner sees them flagged) but are not counted: they will not move.
    return GroupMember.objects.filter(group=OuterRef("pk"), vm__removed__isnull=True)


def groups():
    """Groups with `vm_count`, `used_mib` and `provisioned_mib` of their present VMs."""

    def total(field):
        summed = (
            _members_of_group().order_by().values("group").annotate(total=Sum(f"vm__{field}")).values("total")
        )
        return Coalesce(Subquery(summed, output_field=IntegerField()), 0)

    return DependencyGroup.objects.annotate(
        vm_count=count_subquery(_members_of_group(), "group"),
        used_mib=total("used_mib"),
        provisioned_mib=total("provisioned_mib"),
    )


def members():
    return GroupMember.objects.select_related("group", "vm", "vm__cluster")


def dependencies():
    return Dependency.objects.select_related(
        "source__vm__group_membership__group", "destination__vm__group_membership__group", "last_import"
    )


def imports():
    return DependencyImport.objects.select_related("user", "job")


def in_group(group, side: str) -> Q:
    """Edges whose `side` ("source" or "destination") is a VM of `group`."""
    return Q(**{f"{side}__vm__group_membership__group": group})


def crossing(group):
    """(outgoing, incoming): the group's edges to and from anything outside it (other VMs, external endpoints)."""
    base = dependencies()
    outgoing = base.filter(in_group(group, "source")).exclude(in_group(group, "destination"))
    incoming = base.filter(in_group(group, "destination")).exclude(in_group(group, "source"))
    return outgoing, incoming
