"""Serializers of the groups and dependency API. Related objects appear as {id, name}."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import IdField
from inventory.api.serializers import BriefSerializer

from ..choices import DependencyFormat
from ..models import Dependency, DependencyGroup, DependencyImport, Endpoint, GroupMember


class DependencyGroupSerializer(serializers.ModelSerializer):
    vm_count = serializers.IntegerField(read_only=True, help_text="VMs present (not vanished)")
    used_mib = serializers.IntegerField(read_only=True, help_text="Used storage of its present VMs, MiB")
    provisioned_mib = serializers.IntegerField(read_only=True)

    class Meta:
        model = DependencyGroup
        fields = [
            "id",
            "name",
            "description",
            "source",
            "rule",
            "priority",
            "risk",
            "owner",
            "notes",
            "vm_count",
            "used_mib",
            "provisioned_mib",
            "created",
            "last_updated",
        ]
        read_only_fields = ["source", "rule"]


class GroupMemberSerializer(serializers.ModelSerializer):
    group_name = serializers.CharField(source="group.name", read_only=True)
    vm_name = serializers.CharField(source="vm.name", read_only=True)
    move = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Move the VM here when it is in another group (otherwise that is refused)",
    )

    class Meta:
        model = GroupMember
        fields = ["id", "group", "group_name", "vm", "vm_name", "reason", "move"]
        # The one-group rule is checked by the action with a message naming the other group, not
        # by DRF's generic "must be unique".
        extra_kwargs = {"vm": {"validators": []}}


class MembersChangeSerializer(serializers.Serializer):
    vms = serializers.ListField(child=IdField(), min_length=1, max_length=5000, help_text="VM ids")
    move = serializers.BooleanField(default=False, help_text="Move VMs that are in another group")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class EndpointSerializer(serializers.ModelSerializer):
    vm = BriefSerializer(read_only=True, allow_null=True)
    group = serializers.SerializerMethodField()
    external = serializers.BooleanField(source="is_external", read_only=True)

    class Meta:
        model = Endpoint
        fields = ["id", "name", "ip", "external", "vm", "group"]

    @extend_schema_field(BriefSerializer(allow_null=True))
    def get_group(self, endpoint):
        membership = getattr(endpoint.vm, "group_membership", None) if endpoint.vm_id else None
        return {"id": membership.group_id, "name": membership.group.name} if membership else None


class DependencySerializer(serializers.ModelSerializer):
    source = EndpointSerializer(read_only=True)
    destination = EndpointSerializer(read_only=True)

    class Meta:
        model = Dependency
        fields = [
            "id",
            "source",
            "destination",
            "port",
            "protocol",
            "seen",
            "source_application",
            "source_process",
            "destination_application",
            "destination_process",
            "last_import",
        ]


class DependencyImportSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()

    class Meta:
        model = DependencyImport
        fields = [
            "id",
            "format",
            "file_name",
            "user",
            "job",
            "rows",
            "edges",
            "matched",
            "external",
            "created",
        ]


class DependencyUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="Azure Migrate's dependency export (.csv/.xlsx) or a CSV of source, destination, port, protocol"
    )
    format = serializers.ChoiceField(choices=DependencyFormat.choices, required=False, allow_blank=True)

    def validate_file(self, uploaded):
        from inventory.rvtools.uploads import extension

        from .forms import UPLOAD_EXTENSIONS

        limit_mb = settings.DEPENDENCIES["MAX_UPLOAD_MB"]
        if uploaded.size > limit_mb * 1024 * 1024:
            raise serializers.ValidationError(f"{uploaded.name} is larger than {limit_mb} MB.")
        if extension(uploaded.name) not in UPLOAD_EXTENSIONS:
            raise serializers.ValidationError(
                f"{uploaded.name} is not a dependency export: send a .csv or an .xlsx file."
            )
        if uploaded.size == 0:
            raise serializers.ValidationError(f"{uploaded.name} is empty.")
        return uploaded


class JobStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    url = serializers.URLField()
    status = serializers.CharField()


class SuggestedVmSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The VM ids, sorted and comma-separated: send them back to accept")
    name = serializers.CharField()
    connections = serializers.IntegerField()
    vms = SuggestedVmSerializer(many=True)


class AcceptSuggestionSerializer(serializers.Serializer):
    vms = serializers.ListField(child=IdField(), min_length=2, help_text="The suggestion's VM ids")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    min_seen = serializers.IntegerField(required=False, min_value=1)
    ignore_ports = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=65535),
        required=False,
        help_text="Default: settings DEPENDENCY_INFRASTRUCTURE_PORTS",
    )
