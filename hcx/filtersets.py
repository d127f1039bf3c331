"""One FilterSet per model, shared by the plan list page and the API."""

import django_filters

from core.filters import ModelMultipleChoiceFilter, SearchFilter
from inventory.models import VCenter

from .choices import LinkType, ProfileKind
from .models import HcxNetworkProfilePlan, HcxPlan


class HcxPlanFilterSet(django_filters.FilterSet):
    q = SearchFilter("name", "connector_hostname", "notes")
    link_type = django_filters.MultipleChoiceFilter(choices=LinkType.choices)
    vcenter_id = ModelMultipleChoiceFilter(
        queryset=VCenter.objects.all(), field_name="vcenter", label="vCenter (id)"
    )
    vcenter = django_filters.CharFilter(field_name="vcenter__name", label="vCenter (name)")

    class Meta:
        model = HcxPlan
        fields = ["q", "link_type", "vcenter_id", "vcenter", "wan_opt"]


class HcxNetworkProfilePlanFilterSet(django_filters.FilterSet):
    plan_id = ModelMultipleChoiceFilter(queryset=HcxPlan.objects.all(), field_name="plan", label="Plan (id)")
    plan = django_filters.CharFilter(field_name="plan__name", label="Plan (site name)")
    kind = django_filters.MultipleChoiceFilter(choices=ProfileKind.choices)

    class Meta:
        model = HcxNetworkProfilePlan
        fields = ["plan_id", "plan", "kind"]
