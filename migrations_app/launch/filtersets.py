"""FilterSets shared by the progress pages and the API, so both filter alike: relations by id (`wave_id`,
`batch`, `vm_id`) and by name (`wave`, `vm`)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IntegerFilter
from hcx.choices import MigrationType
from migrations_app.choices import MigrationDirection, MigrationState
from migrations_app.models import Batch, VmMigration, Wave


class VmMigrationFilterSet(filters.FilterSet):
    wave_id = filters.ModelChoiceFilter(queryset=Wave.objects.all(), field_name="wave", label=_("Wave"))
    wave = filters.CharFilter(field_name="wave__name", label=_("Wave (name)"))
    batch = filters.ModelChoiceFilter(queryset=Batch.objects.all(), label=_("Batch"))
    state = filters.MultipleChoiceFilter(choices=MigrationState.choices, label=_("State"))
    migration_type = filters.ChoiceFilter(choices=MigrationType.choices, label=_("Type"))
    direction = filters.ChoiceFilter(choices=MigrationDirection.choices, label=_("Direction"))
    vm_id = IntegerFilter(field_name="vm", label=_("VM id"))
    vm = filters.CharFilter(field_name="vm__name", lookup_expr="icontains", label=_("VM (name contains)"))

    class Meta:
        model = VmMigration
        fields = ["wave_id", "wave", "batch", "state", "migration_type", "direction", "vm_id", "vm"]


class BatchFilterSet(filters.FilterSet):
    wave_id = filters.ModelChoiceFilter(queryset=Wave.objects.all(), field_name="wave", label=_("Wave"))
    wave = filters.CharFilter(field_name="wave__name", label=_("Wave (name)"))
    launched = filters.BooleanFilter(
        field_name="launched", lookup_expr="isnull", exclude=True, label=_("Launched")
    )

    class Meta:
        model = Batch
        fields = ["wave_id", "wave", "launched"]
