"""One FilterSet per model, shared by the pages and the API. Relations by id and by name."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IntegerFilter, SearchFilter

from ..choices import DependencyFormat, GroupSource, Risk
from ..models import Dependency, DependencyGroup, DependencyImport, GroupMember


class DependencyGroupFilterSet(filters.FilterSet):
    q = SearchFilter("name", "description", "owner", "rule")
    source = filters.MultipleChoiceFilter(choices=GroupSource.choices, label=_("Built from"))
    risk = filters.MultipleChoiceFilter(choices=Risk.choices, label=_("Risk"))
    vm_id = IntegerFilter(field_name="members__vm_id", label=_("Has VM (id)"))
    vm = filters.CharFilter(field_name="members__vm__name", lookup_expr="iexact", label=_("Has VM (name)"))

    class Meta:
        model = DependencyGroup
        fields = ["q", "source", "risk", "vm_id", "vm"]


class GroupMemberFilterSet(filters.FilterSet):
    group_id = IntegerFilter(field_name="group_id", label=_("Group (id)"))
    group = filters.CharFilter(field_name="group__name", label=_("Group (name)"))
    vm_id = IntegerFilter(field_name="vm_id", label=_("VM (id)"))
    vm = filters.CharFilter(field_name="vm__name", lookup_expr="iexact", label=_("VM (name)"))

    class Meta:
        model = GroupMember
        fields = ["group_id", "group", "vm_id", "vm"]


class DependencyFilterSet(filters.FilterSet):
    """Edges by VM or group on either side, by external endpoints, port, protocol and how often seen."""

    q = SearchFilter(
        "source__name",
        "source__vm__name",
        "source__ip__startswith",
        "destination__name",
        "destination__vm__name",
        "destination__ip__startswith",
        help_text=_("Name or IP on either side"),
    )
    vm_id = IntegerFilter(method="either_vm_id", label=_("VM (id), either side"))
    vm = filters.CharFilter(method="either_vm", label=_("VM (name), either side"))
    group_id = IntegerFilter(method="either_group_id", label=_("Group (id), either side"))
    group = filters.CharFilter(method="either_group", label=_("Group (name), either side"))
    external = filters.BooleanFilter(method="filter_external", label=_("Involves an external endpoint"))
    source_vm_id = IntegerFilter(field_name="source__vm_id", label=_("Source VM (id)"))
    destination_vm_id = IntegerFilter(field_name="destination__vm_id", label=_("Destination VM (id)"))
    port = IntegerFilter(label=_("Port"))
    protocol = filters.CharFilter(lookup_expr="iexact", label=_("Protocol"))
    min_seen = IntegerFilter(field_name="seen", lookup_expr="gte", label=_("Seen at least"))
    import_id = IntegerFilter(field_name="last_import_id", label=_("Last import (id)"))

    class Meta:
        model = Dependency
        fields = [
            "q",
            "vm_id",
            "vm",
            "group_id",
            "group",
            "external",
            "source_vm_id",
            "destination_vm_id",
            "port",
            "protocol",
            "min_seen",
            "import_id",
        ]

    def either_vm_id(self, queryset, name, value):
        return queryset.filter(Q(source__vm_id=value) | Q(destination__vm_id=value))

    def either_vm(self, queryset, name, value):
        return queryset.filter(Q(source__vm__name__iexact=value) | Q(destination__vm__name__iexact=value))

    def either_group_id(self, queryset, name, value):
        return queryset.filter(
            Q(source__vm__group_membership__group_id=value)
            | Q(destination__vm__group_membership__group_id=value)
        )

    def either_group(self, queryset, name, value):
        return queryset.filter(
            Q(source__vm__group_membership__group__name=value)
            | Q(destination__vm__group_membership__group__name=value)
        )

    def filter_external(self, queryset, name, value):
        external = Q(source__vm__isnull=True) | Q(destination__vm__isnull=True)
        return queryset.filter(external) if value else queryset.exclude(external)


class DependencyImportFilterSet(filters.FilterSet):
    format = filters.ChoiceFilter(choices=DependencyFormat.choices)

    class Meta:
        model = DependencyImport
        fields = ["format"]
