"""API serializers of waves, their VMs and mappings, and target clusters. They validate the shape and
the same rules as the forms (waves/validation.py); the viewsets write through waves/actions.py."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hcx.choices import MigrationType
from migrations_app.models import NetworkMapping, TargetCluster, Wave, WaveItem

from .capacity import usable_capacity
from .forms import validate_time_zone
from .validation import cluster_problems, wave_target_problems


class CapacitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    hosts = serializers.IntegerField()
    workload_hosts = serializers.IntegerField(help_text="Hosts less the ones held back for HA (N+1)")
    ftt = serializers.IntegerField()
    cores = serializers.IntegerField()
    vcpus = serializers.IntegerField()
    memory_gb = serializers.FloatField()
    raw_tb = serializers.FloatField(help_text="Raw vSAN capacity of all hosts, SI TB")
    storage_tb = serializers.FloatField(
        help_text="Usable vSAN after FTT copies and slack space, TB of 2^40 bytes"
    )
    vcpu_per_core = serializers.FloatField()
    memory_overcommit = serializers.FloatField()
    slack = serializers.FloatField()


class TargetClusterSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:targetcluster-detail")
    capacity = serializers.SerializerMethodField(help_text="Usable capacity and the assumptions behind it")
    wave_count = serializers.IntegerField(read_only=True, default=0)
    vm_count = serializers.IntegerField(
        read_only=True, default=0, help_text="VMs of every wave into this cluster"
    )
    datastores = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    folders = serializers.ListField(child=serializers.CharField(max_length=500), required=False)

    class Meta:
        model = TargetCluster
        fields = [
            "id",
            "url",
            "site",
            "name",
            "sku",
            "hosts",
            "failures_to_tolerate",
            "datastores",
            "folders",
            "capacity",
            "wave_count",
            "vm_count",
            "created",
            "last_updated",
        ]

    @extend_schema_field(CapacitySerializer(allow_null=True))
    def get_capacity(self, cluster):
        if cluster.sku not in settings.AVS_HOST_TYPES:
            return None
        capacity = usable_capacity(cluster)
        return {**CapacitySerializer(capacity).data, "workload_hosts": capacity.workload_hosts}

    def validate(self, attrs):
        hosts = attrs.get("hosts", getattr(self.instance, "hosts", None) if self.instance else 3)
        ftt = attrs.get(
            "failures_to_tolerate",
            getattr(self.instance, "failures_to_tolerate", None) if self.instance else 1,
        )
        problems = cluster_problems(hosts, ftt)
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class WaveSerializer(serializers.ModelSerializer):
    """A wave. Changing one needs the `revision` it was read at: a change made to an older revision is
    refused with 409 Conflict, so a client never overwrites what someone else saved since."""

    url = serializers.HyperlinkedIdentityField(view_name="api:wave-detail")
    revision = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Read-only on create. On PUT/PATCH required: the revision you read; an older one gets 409.",
    )
    time_zone = serializers.CharField(max_length=64, required=False, validators=[validate_time_zone])
    vm_count = serializers.IntegerField(read_only=True, default=0)
    used_mib = serializers.IntegerField(
        read_only=True, default=0, help_text="Used storage of the wave's VMs, MiB"
    )
    provisioned_mib = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Wave
        fields = [
            "id",
            "url",
            "name",
            "status",
            "revision",
            "sequence",
            "pilot",
            "window_start",
            "window_end",
            "time_zone",
            "site",
            "target_cluster",
            "target_datastore",
            "target_folder",
            "target_resource_pool",
            "migration_type",
            "max_vms",
            "max_tb",
            "remove_isos",
            "remove_snapshots",
            "force_power_off",
            "retain_mac",
            "upgrade_tools",
            "upgrade_hardware",
            "notes",
            "submitted_by",
            "submitted_at",
            "readiness_revision",
            "vm_count",
            "used_mib",
            "provisioned_mib",
            "created",
            "last_updated",
        ]
        read_only_fields = [
            "status",
            "submitted_by",
            "submitted_at",
            "readiness_revision",
            "created",
            "last_updated",
        ]

    def validate(self, attrs):
        current = {}
        if self.instance is not None:
            current = {
                f: getattr(self.instance, f)
                for f in (
                    "window_start",
                    "window_end",
                    "site",
                    "target_cluster",
                    "target_datastore",
                    "target_folder",
                    "max_vms",
                )
            }
        values = {**current, **{k: v for k, v in attrs.items() if k != "revision"}}
        problems = wave_target_problems(values)
        if (
            "site" in values
            and values["site"] is not None
            and "site" not in attrs
            and values.get("target_cluster")
        ):
            attrs["site"] = values["site"]
        if problems:
            raise serializers.ValidationError(problems)
        try:
            Wave(window_start=values.get("window_start"), window_end=values.get("window_end")).clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs


class WaveItemSerializer(serializers.ModelSerializer):
    """A VM in a wave. Create adds it (the same rules as the page: one wave per VM, groups move whole);
    PATCH changes only its migration type; DELETE takes it out of the wave."""

    url = serializers.HyperlinkedIdentityField(view_name="api:waveitem-detail")
    vm_name = serializers.CharField(source="vm.name", read_only=True)
    group = serializers.SerializerMethodField(help_text="The VM's dependency group")
    migration_type = serializers.ChoiceField(
        choices=[("", "Wave default")] + list(MigrationType.choices),
        required=False,
        allow_blank=True,
    )
    effective_migration_type = serializers.CharField(read_only=True)

    class Meta:
        model = WaveItem
        fields = ["id", "url", "wave", "vm", "vm_name", "group", "migration_type", "effective_migration_type"]
        # the one-wave-per-VM rule is the action's, with a message naming the other wave
        extra_kwargs = {"vm": {"validators": []}}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_group(self, item):
        membership = getattr(item.vm, "group_membership", None)
        return membership.group_id if membership else item.group_id

    def get_fields(self):
        fields = super().get_fields()
        if (
            self.instance is not None
            and not isinstance(self.instance, list | tuple)
            and hasattr(self.instance, "pk")
        ):
            fields["wave"].read_only = True
            fields["vm"].read_only = True
        return fields

    def get_validators(self):
        return []


class NetworkMappingSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:networkmapping-detail")
    source_name = serializers.CharField(source="source.name", read_only=True)

    class Meta:
        model = NetworkMapping
        fields = ["id", "url", "wave", "source", "source_name", "target_kind", "target_name"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and hasattr(self.instance, "pk"):
            fields["wave"].read_only = True
            fields["source"].read_only = True
        return fields

    def get_validators(self):
        return []  # a second mapping of the same source replaces the first

    def validate_target_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Name the network the VMs land on.")
        return value


MAX_ID = (
    2**63 - 1
)  # the largest id a database column holds; bigger numbers are refused, not sent to the database


class IdsSerializer(serializers.Serializer):
    groups = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=10000
    )
    vms = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=100000
    )

    def validate(self, attrs):
        if not attrs.get("groups") and not attrs.get("vms"):
            raise serializers.ValidationError("Give `vms` or `groups`: a list of ids.")
        return attrs


class GroupIdsSerializer(serializers.Serializer):
    groups = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=10000
    )


class VmIdsSerializer(serializers.Serializer):
    vms = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=100000
    )
    migration_type = serializers.ChoiceField(
        choices=[("", "Wave default")] + list(MigrationType.choices),
        required=False,
        allow_blank=True,
        default="",
    )


class ChangeResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="VMs added, removed or changed")
    revision = serializers.IntegerField()
    status = serializers.CharField()
    approval_withdrawn = serializers.BooleanField()
    message = serializers.CharField()


class TotalsSerializer(serializers.Serializer):
    vms = serializers.IntegerField()
    vcpus = serializers.IntegerField()
    memory_mib = serializers.IntegerField()
    provisioned_mib = serializers.IntegerField()
    used_mib = serializers.IntegerField()
    memory_gb = serializers.FloatField()
    provisioned_tb = serializers.FloatField()
    used_tb = serializers.FloatField()
    over_caps = serializers.ListField(child=serializers.CharField())


class ResourceSerializer(serializers.Serializer):
    label = serializers.CharField()
    unit = serializers.CharField()
    wave = serializers.FloatField()
    others = serializers.FloatField(help_text="What the waves counted in other_waves take")
    planned = serializers.FloatField()
    usable = serializers.FloatField()
    fits = serializers.BooleanField()


class FitSerializer(serializers.Serializer):
    target_cluster = serializers.IntegerField(allow_null=True)
    fits = serializers.BooleanField(allow_null=True)
    other_waves = serializers.IntegerField(
        help_text="Waves into the cluster counted with this one: those that move before or with it (lower or equal "
        "order), and the running and completed ones whatever their order"
    )
    capacity = CapacitySerializer(allow_null=True)
    resources = ResourceSerializer(many=True)
    problems = serializers.ListField(child=serializers.CharField())


class WaveNetworkSerializer(serializers.Serializer):
    network = serializers.IntegerField(allow_null=True, source="network_id")
    name = serializers.CharField()
    switch_type = serializers.CharField()
    vlan_id = serializers.IntegerField(allow_null=True)
    vms = serializers.IntegerField()
    mapped = serializers.BooleanField(
        help_text="Its VMs land somewhere: mapped in the wave or extended by the site plan"
    )
    mapped_by = serializers.ChoiceField(
        choices=["mapping", "site_plan"],
        allow_null=True,
        help_text="The wave's own mapping, or the site plan's extension",
    )
    target_kind = serializers.CharField(allow_null=True)
    target_name = serializers.CharField(allow_null=True)
    in_plan = serializers.BooleanField(help_text="Among the site plan's networks to extend")
    notes = serializers.ListField(child=serializers.CharField())


class PlanUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    check_only = serializers.BooleanField(required=False, default=False)

    def validate_file(self, uploaded):
        # The same limit as the page's form: the file is read into memory whole.
        if uploaded.size > settings.MAX_UPLOAD_MB * 1024 * 1024:
            raise serializers.ValidationError(f"{uploaded.name} is larger than {settings.MAX_UPLOAD_MB} MB.")
        return uploaded


class PlanProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField()
    message = serializers.CharField()


class PlanImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    moved = serializers.IntegerField()
    retyped = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    applied = serializers.BooleanField()
    waves = serializers.ListField(child=serializers.CharField())
    messages = serializers.ListField(child=serializers.CharField())
