from rest_framework import serializers, viewsets

from core.models import AuditEntry

from .filtersets import AuditEntryFilterSet
from .views import queryset


class AuditEntrySerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = ["id", "created", "user", "action", "object_type", "object_id", "object_repr", "detail"]

    def get_object_type(self, entry) -> str | None:
        return f"{entry.object_type.app_label}.{entry.object_type.model}" if entry.object_type_id else None


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, read-only, with the page's filters."""

    queryset = queryset()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    ordering_fields = ["created", "action"]
