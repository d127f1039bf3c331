"""One FilterSet for the audit page, its exports and the API, so all three filter alike."""

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IntegerFilter, TimeFilter
from core.models import AuditEntry


class AuditEntryFilterSet(filters.FilterSet):
    user = filters.CharFilter(field_name="user__username", label=_("User name"))
    action = filters.CharFilter(lookup_expr="istartswith", label=_("Action starts with"))
    object_type = filters.ModelChoiceFilter(
        queryset=ContentType.objects.filter(app_label__in=["core", "inventory", "hcx", "migrations_app"]).order_by(
            "app_label", "model"),
        label=_("Object type"),
    )
    object_id = IntegerFilter(label=_("Object id"))
    object = filters.CharFilter(field_name="object_repr", lookup_expr="icontains", label=_("Object contains"))
    after = TimeFilter(field_name="created", lookup_expr="gte", label=_("From (ISO time)"))
    before = TimeFilter(field_name="created", lookup_expr="lt", label=_("Until (ISO time)"))

    class Meta:
        model = AuditEntry
        fields = ["user", "action", "object_type", "object_id", "object", "after", "before"]
