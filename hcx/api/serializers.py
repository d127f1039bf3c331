from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..forms import gateway_problem
from ..models import HcxNetworkProfilePlan, HcxPlan
from ..planning.addresses import validate_ip_ranges

_RANGE = {
    "type": "object",
    "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
    "required": ["start", "end"],
}


@extend_schema_field({"type": "array", "items": _RANGE})
class IpRangesField(serializers.JSONField):
    """The address pool as `[{"start": ip, "end": ip}, ...]`."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"App-VLAN101": "10.10.41.1/24"},
    }
)
class GatewaysField(serializers.DictField):
    """`{"<network name>": "gateway/prefix"}`, checked as the plan form checks its lines (hcx/forms.py)."""

    child = serializers.CharField()

    def to_internal_value(self, data):
        gateways, errors = {}, []
        for name, cidr in super().to_internal_value(data).items():
            name, cidr = str(name).strip(), cidr.strip()
            problem = gateway_problem(cidr) if name else "give the network's name"
            if problem:
                errors.append(f"{name or '(no name)'}: {problem}")
            elif name in gateways:
                errors.append(f"{name}: this network already has a gateway.")
            else:
                gateways[name] = cidr
        if errors:
            raise serializers.ValidationError(errors)
        return gateways


class HcxNetworkProfilePlanSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:hcxnetworkprofileplan-detail")
    ip_ranges = IpRangesField(
        validators=[validate_ip_ranges], help_text='Address pool: [{"start": ip, "end": ip}, ...]'
    )

    class Meta:
        model = HcxNetworkProfilePlan
        fields = [
            "id",
            "url",
            "plan",
            "kind",
            "port_group",
            "network",
            "ip_ranges",
            "gateway",
            "prefix_length",
            "primary_dns",
            "secondary_dns",
            "mtu",
        ]

    def validate(self, attrs):
        # DRF does not call Model.clean(); run it so the API refuses what the form refuses.
        instance = HcxNetworkProfilePlan(**{**self._current(), **attrs})
        instance.clean()
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in ("plan", "gateway", "prefix_length", "ip_ranges")}


class HcxPlanSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:hcxplan-detail")
    checks_url = serializers.HyperlinkedIdentityField(view_name="api:hcxplan-checks")
    profiles = HcxNetworkProfilePlanSerializer(many=True, read_only=True)
    extension_gateways = GatewaysField(
        required=False,
        help_text='Each network to extend with its gateway/prefix, for example {"App-VLAN101": "10.10.41.1/24"}',
    )

    class Meta:
        model = HcxPlan
        fields = [
            "id",
            "url",
            "checks_url",
            "name",
            "vcenter",
            "connector_hostname",
            "connector_ip",
            "connector_prefix_length",
            "connector_gateway",
            "dns_servers",
            "ntp_servers",
            "avs_block",
            "link_type",
            "bandwidth_mbps",
            "latency_ms",
            "concurrent_migrations",
            "estate_vm_count",
            "networks",
            "extension_gateways",
            "wan_opt",
            "notes",
            "revision",
            "profiles",
            "created",
            "last_updated",
        ]
        read_only_fields = ["revision", "created", "last_updated"]

    def validate(self, attrs):
        values = {k: v for k, v in attrs.items() if k != "networks"}
        if self.instance is not None:
            values = {"connector_prefix_length": self.instance.connector_prefix_length, **values}
        HcxPlan(**values).clean()
        return attrs


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    severity = serializers.CharField()
    subject = serializers.CharField()
    message = serializers.CharField()
    fix = serializers.CharField()


class PlanChecksSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    revision = serializers.IntegerField()
    ready = serializers.BooleanField()
    errors = serializers.IntegerField()
    warnings = serializers.IntegerField()
    findings = FindingSerializer(many=True)
