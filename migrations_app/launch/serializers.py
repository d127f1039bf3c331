"""Serializers of the launch API: batches, VM migrations, actions, and the progress message."""

from rest_framework import serializers

from core.api.serializers import JobSerializer
from inventory.models import VirtualMachine
from migrations_app.models import Batch, DependencyGroup, VmMigration, Wave

from .forms import ACTIONS


class BatchSerializer(serializers.ModelSerializer):
    wave_name = serializers.CharField(source="wave.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    vm_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "wave",
            "wave_name",
            "number",
            "name",
            "vm_count",
            "created_by",
            "created",
            "launched",
            "hcx_group_name",
            "hcx_group_id",
            "job",
        ]
        read_only_fields = fields


class BatchCreateSerializer(serializers.Serializer):
    wave = serializers.PrimaryKeyRelatedField(queryset=Wave.objects.all())
    vms = serializers.PrimaryKeyRelatedField(queryset=VirtualMachine.objects.all(), many=True, required=False)
    groups = serializers.PrimaryKeyRelatedField(
        queryset=DependencyGroup.objects.all(), many=True, required=False
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    launch = serializers.BooleanField(default=False, help_text="Launch the batch at once")

    def validate(self, data):
        if not data.get("vms") and not data.get("groups"):
            raise serializers.ValidationError("Give `vms` or `groups` of the wave.")
        return data


class BatchCreatedSerializer(serializers.Serializer):
    batch = BatchSerializer()
    job = JobSerializer(allow_null=True)


class VmMigrationSerializer(serializers.ModelSerializer):
    vm_name = serializers.CharField(source="vm.name", read_only=True)
    batch_name = serializers.CharField(source="batch.name", read_only=True)

    class Meta:
        model = VmMigration
        fields = [
            "id",
            "wave",
            "batch",
            "batch_name",
            "vm",
            "vm_name",
            "direction",
            "attempt",
            "retry_of",
            "migration_type",
            "state",
            "hcx_id",
            "hcx_state",
            "percent",
            "bytes_transferred",
            "bytes_total",
            "throughput_mbps",
            "eta_seconds",
            "message",
            "errors",
            "validation",
            "seed_checkpoint",
            "switchover_start",
            "switchover_end",
            "created",
            "submitted",
            "started",
            "ended",
            "updated",
        ]
        read_only_fields = fields


class WindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField(
        required=False, help_text="move_window: the new switchover window's start"
    )
    end = serializers.DateTimeField(required=False, help_text="move_window: its end")


class BulkActionSerializer(WindowSerializer):
    action = serializers.ChoiceField(choices=list(ACTIONS))
    ids = serializers.PrimaryKeyRelatedField(queryset=VmMigration.objects.all(), many=True, allow_empty=False)

    def validate(self, data):
        if data["action"] == "move_window":
            if not data.get("start") or not data.get("end"):
                raise serializers.ValidationError("move_window needs `start` and `end`.")
            if data["end"] <= data["start"]:
                raise serializers.ValidationError("The window must end after it starts.")
        return data


class ProgressRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vm = serializers.CharField()
    batch = serializers.IntegerField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    color = serializers.CharField()
    percent = serializers.IntegerField()
    bytes_transferred = serializers.IntegerField()
    bytes_total = serializers.IntegerField()
    throughput_mbps = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()
    attempt = serializers.IntegerField()
    updated = serializers.CharField(help_text="ISO time; keep the newest per row")


class ProgressEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.CharField(help_text="Local time, as the page shows it")
    migration = serializers.IntegerField()
    url = serializers.CharField()
    vm = serializers.CharField()
    message = serializers.CharField()
    user = serializers.CharField(help_text="Who acted; empty for HCX's own changes")


class ProgressSerializer(serializers.Serializer):
    wave = serializers.IntegerField()
    batch = serializers.IntegerField(allow_null=True)
    cursor = serializers.CharField(allow_null=True, help_text="Pass as `since` next time")
    migrations = ProgressRowSerializer(many=True)
    rollup = serializers.DictField(
        allow_null=True, help_text="The wave's (or batch's) rollup; null when nothing changed"
    )
    batches = serializers.DictField(
        child=serializers.DictField(), help_text="Rollups of the batches of the changed rows"
    )
    events = ProgressEventSerializer(
        many=True, help_text="Events logged since `since` (or the latest), newest first"
    )
