"""One FilterSet per model of this part, shared by its pages and its API, so both filter alike."""

from django.db.models import Q
from django.forms import TextInput
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IntegerFilter, SearchFilter
from hcx.choices import MigrationType
from hcx.models import HcxPlan
from inventory.models import Network
from migrations_app.choices import AvsSku, MappingTarget, WaveStatus
from migrations_app.models import DependencyGroup, NetworkMapping, TargetCluster, Wave, WaveItem


class TargetClusterFilterSet(filters.FilterSet):
    q = SearchFilter("name", "site__name")
    site_id = filters.ModelChoiceFilter(queryset=HcxPlan.objects.all(), field_name="site", label=_("Site"))
    site = filters.CharFilter(field_name="site__name", label=_("Site (name)"))
    sku = filters.MultipleChoiceFilter(choices=AvsSku.choices, label=_("Host type"))

    class Meta:
        model = TargetCluster
        fields = ["q", "site_id", "site", "sku"]


class WaveFilterSet(filters.FilterSet):
    q = SearchFilter("name", "notes")
    status = filters.MultipleChoiceFilter(choices=WaveStatus.choices, label=_("Status"))
    site_id = filters.ModelChoiceFilter(queryset=HcxPlan.objects.all(), field_name="site", label=_("Site"))
    site = filters.CharFilter(field_name="site__name", label=_("Site (name)"))
    target_cluster_id = filters.ModelChoiceFilter(
        queryset=TargetCluster.objects.all(), field_name="target_cluster", label=_("Target cluster")
    )
    target_cluster = filters.CharFilter(field_name="target_cluster__name", label=_("Target cluster (name)"))
    migration_type = filters.MultipleChoiceFilter(
        choices=MigrationType.choices, label=_("Default migration type")
    )
    pilot = filters.BooleanFilter(label=_("Pilot"))

    class Meta:
        model = Wave
        fields = [
            "q",
            "status",
            "site_id",
            "site",
            "target_cluster_id",
            "target_cluster",
            "migration_type",
            "pilot",
        ]


class WaveItemFilterSet(filters.FilterSet):
    q = SearchFilter(
        "vm__name",
        "vm__dns_name",
        "group__name",
        "vm__group_membership__group__name",
        help_text=_("VM name, DNS name or group"),
        widget=TextInput(attrs={"placeholder": _("VM name, DNS name or group")}),
    )
    wave_id = filters.ModelChoiceFilter(queryset=Wave.objects.all(), field_name="wave", label=_("Wave"))
    wave = filters.CharFilter(field_name="wave__name", label=_("Wave (name)"))
    vm_id = IntegerFilter(field_name="vm_id", label=_("VM id"))
    group_id = filters.ModelChoiceFilter(
        queryset=DependencyGroup.objects.all(), field_name="vm__group_membership__group", label=_("Group")
    )
    migration_type = filters.ChoiceFilter(
        choices=MigrationType.choices,
        method="filter_type",
        label=_("Migration type (effective)"),
        empty_label=_("Any migration type"),
    )

    class Meta:
        model = WaveItem
        fields = ["q", "wave_id", "wave", "vm_id", "group_id", "migration_type"]

    def filter_type(self, queryset, name, value):
        return queryset.filter(Q(migration_type=value) | Q(migration_type="", wave__migration_type=value))


class NetworkMappingFilterSet(filters.FilterSet):
    wave_id = filters.ModelChoiceFilter(queryset=Wave.objects.all(), field_name="wave", label=_("Wave"))
    wave = filters.CharFilter(field_name="wave__name", label=_("Wave (name)"))
    source_id = filters.ModelChoiceFilter(
        queryset=Network.objects.all(), field_name="source", label=_("Source network")
    )
    source = filters.CharFilter(field_name="source__name", label=_("Source network (name)"))
    target_kind = filters.ChoiceFilter(choices=MappingTarget.choices)

    class Meta:
        model = NetworkMapping
        fields = ["wave_id", "wave", "source_id", "source", "target_kind"]
