"""One FilterSet for the audit page, its exports and the API, so all three filter alike."""

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.choices import AuditAction
from core.filters import IntegerFilter, TimeFilter
from core.models import AuditEntry


def action_choices() -> list:
    """Per object a group: `Any <object> action`, then that object's actions by their labels."""
    groups = []
    for obj, label in AuditAction.object_choices():
        actions = [(a.value, a.label) for a in AuditAction if a.value.startswith(obj + ".")]
        groups.append(
            (label[0].upper() + label[1:], [(obj, _("Any %(object)s action") % {"object": label}), *actions])
        )
    return groups


class AuditEntryFilterSet(filters.FilterSet):
    user = filters.CharFilter(field_name="user__username", label=_("User name"))
    action = filters.ChoiceFilter(choices=action_choices, method="filter_action", label=_("Action"))
    object_type = filters.ModelChoiceFilter(
        queryset=ContentType.objects.filter(
            app_label__in=["core", "inventory", "hcx", "migrations_app"]
        ).order_by("app_label", "model"),
        label=_("Object type"),
    )
    object_id = IntegerFilter(label=_("Object id"))
    object = filters.CharFilter(field_name="object_repr", lookup_expr="icontains", label=_("Object contains"))
    after = TimeFilter(field_name="created", lookup_expr="gte", label=_("From (ISO time)"))
    before = TimeFilter(field_name="created", lookup_expr="lt", label=_("Until (ISO time)"))

    class Meta:
        model = AuditEntry
        fields = ["user", "action", "object_type", "object_id", "object", "after", "before"]

    def filter_action(self, queryset, name, value):
        """An action (`wave.approve`) matches itself; an object (`wave`) matches each of its actions."""
        if "." in value:
            return queryset.filter(action=value)
        return queryset.filter(action__startswith=value + ".")
