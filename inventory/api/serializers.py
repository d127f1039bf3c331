"""Read-only serializers for the inventory API. Related objects appear as {id, name}.

No serializer here ever names a vCenter's password: the API says only whether one is stored.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    CdRom,
    Cluster,
    Datastore,
    Host,
    Network,
    Snapshot,
    VCenter,
    VirtualDisk,
    VirtualMachine,
    VirtualNic,
)
from ..querysets import network_names


class BriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class VCenterSerializer(serializers.ModelSerializer):
    has_password = serializers.BooleanField(read_only=True, help_text="Whether a password is stored")

    class Meta:
        model = VCenter
        fields = [
            "id",
            "name",
            "instance_uuid",
            "url",
            "username",
            "has_password",
            "verify_tls",
            "origin",
            "version",
            "last_synced",
            "created",
            "last_updated",
        ]


class ClusterSerializer(serializers.ModelSerializer):
    vcenter = BriefSerializer(read_only=True)
    vm_count = serializers.IntegerField(read_only=True, help_text="VMs present (not vanished)")

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "moid",
            "vcenter",
            "datacenter",
            "num_hosts",
            "num_cpu_cores",
            "total_cpu_mhz",
            "total_memory_mib",
            "ha_enabled",
            "drs_enabled",
            "vm_count",
            "created",
            "last_updated",
        ]


class HostSerializer(serializers.ModelSerializer):
    vcenter = BriefSerializer(read_only=True)
    cluster = BriefSerializer(read_only=True, allow_null=True)
    vm_count = serializers.IntegerField(read_only=True, help_text="VMs present (not vanished)")

    class Meta:
        model = Host
        fields = [
            "id",
            "name",
            "moid",
            "vcenter",
            "cluster",
            "datacenter",
            "cpu_model",
            "cpu_vendor",
            "num_cpu_sockets",
            "num_cpu_cores",
            "cpu_mhz",
            "memory_mib",
            "esx_version",
            "vendor",
            "model",
            "in_maintenance",
            "vm_count",
            "created",
            "last_updated",
        ]


class DatastoreSerializer(serializers.ModelSerializer):
    vcenter = BriefSerializer(read_only=True)
    vm_count = serializers.IntegerField(read_only=True, help_text="VMs present with a disk here")

    class Meta:
        model = Datastore
        fields = [
            "id",
            "name",
            "moid",
            "vcenter",
            "type",
            "capacity_mib",
            "free_mib",
            "provisioned_mib",
            "url",
            "vm_count",
            "created",
            "last_updated",
        ]


class NetworkSerializer(serializers.ModelSerializer):
    vcenter = BriefSerializer(read_only=True)
    vm_count = serializers.IntegerField(read_only=True, help_text="VMs present with a NIC here")

    class Meta:
        model = Network
        fields = [
            "id",
            "name",
            "moid",
            "vcenter",
            "switch_name",
            "switch_type",
            "vlan",
            "vlan_id",
            "vm_count",
            "created",
            "last_updated",
        ]


class VirtualDiskSerializer(serializers.ModelSerializer):
    datastore = BriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = VirtualDisk
        fields = [
            "id",
            "label",
            "key",
            "capacity_mib",
            "datastore",
            "path",
            "thin",
            "mode",
            "sharing",
            "rdm_mode",
            "controller",
            "controller_type",
            "bus_sharing",
        ]


class VirtualNicSerializer(serializers.ModelSerializer):
    network = BriefSerializer(read_only=True, allow_null=True)
    ip_addresses = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = VirtualNic
        fields = [
            "id",
            "label",
            "adapter",
            "network",
            "network_name",
            "mac_address",
            "connected",
            "start_connected",
            "ip_addresses",
            "direct_path_io",
        ]


class CdRomSerializer(serializers.ModelSerializer):
    class Meta:
        model = CdRom
        fields = ["id", "label", "connected", "start_connected", "device_type", "iso_path", "has_iso"]

    has_iso = serializers.BooleanField(read_only=True)


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = ["id", "name", "description", "created_at", "size_mib", "quiesced", "state"]


class VirtualMachineSerializer(serializers.ModelSerializer):
    """A VM in the list: what a planner sorts and filters by."""

    vcenter = BriefSerializer(read_only=True)
    cluster = BriefSerializer(read_only=True, allow_null=True)
    host = BriefSerializer(read_only=True, allow_null=True)
    networks = serializers.SerializerMethodField(help_text="Distinct network names of the VM's NICs")

    class Meta:
        model = VirtualMachine
        fields = [
            "id",
            "name",
            "moid",
            "vcenter",
            "cluster",
            "host",
            "power_state",
            "is_template",
            "guest_os",
            "guest_family",
            "num_cpu",
            "memory_mib",
            "provisioned_mib",
            "used_mib",
            "hw_version",
            "tools_status",
            "primary_ip",
            "dns_name",
            "networks",
            "removed",
            "last_updated",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_networks(self, vm):
        return network_names(vm)


class VirtualMachineDetailSerializer(VirtualMachineSerializer):
    """A VM with its devices, snapshots, tags and custom attributes."""

    disks = VirtualDiskSerializer(many=True, read_only=True)
    nics = VirtualNicSerializer(many=True, read_only=True)
    cdroms = CdRomSerializer(many=True, read_only=True)
    snapshots = SnapshotSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    attributes = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta(VirtualMachineSerializer.Meta):
        fields = VirtualMachineSerializer.Meta.fields + [
            "instance_uuid",
            "bios_uuid",
            "datacenter",
            "folder",
            "resource_pool",
            "guest_os_tools",
            "firmware",
            "tools_version",
            "annotation",
            "cbt_enabled",
            "ft_enabled",
            "usb_devices",
            "passthrough_devices",
            "origin",
            "created",
            "attributes",
            "tags",
            "disks",
            "nics",
            "cdroms",
            "snapshots",
        ]
