"""FilterSets shared by the readiness report page and the API, so both filter alike: relations by id
(`wave_id`, `vm_id`) and by name (`wave`, `vm`)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IntegerFilter
from hcx.choices import MigrationType
from migrations_app.choices import Decision, FindingSeverity
from migrations_app.models import Approval, ReadinessFinding, Wave

from .rules import RULES_BY_NAME


class ReadinessFindingFilterSet(filters.FilterSet):
    wave_id = filters.ModelChoiceFilter(queryset=Wave.objects.all(), field_name="wave", label=_("Wave"))
    wave = filters.CharFilter(field_name="wave__name", label=_("Wave (name)"))
    severity = filters.ChoiceFilter(choices=FindingSeverity.choices)
    rule = filters.ChoiceFilter(choices=[(name, rule.title) for name, rule in RULES_BY_NAME.items()])
    migration_type = filters.ChoiceFilter(choices=MigrationType.choices, label=_("Migration type"))
    vm_id = IntegerFilter(field_name="vm", label=_("VM id"))
    vm = filters.CharFilter(field_name="vm__name", lookup_expr="icontains", label=_("VM (name contains)"))

    class Meta:
        model = ReadinessFinding
        fields = ["wave_id", "wave", "severity", "rule", "migration_type", "vm_id", "vm"]


class ApprovalFilterSet(filters.FilterSet):
    wave_id = filters.ModelChoiceFilter(queryset=Wave.objects.all(), field_name="wave", label=_("Wave"))
    wave = filters.CharFilter(field_name="wave__name", label=_("Wave (name)"))
    decision = filters.ChoiceFilter(choices=Decision.choices)
    user = filters.CharFilter(field_name="user__username", label=_("Decided by (user name)"))

    class Meta:
        model = Approval
        fields = ["wave_id", "wave", "decision", "user"]
