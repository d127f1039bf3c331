"""API shapes of the estimates and the auto-planner."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hcx.choices import MigrationType

from ..models import PlanProposal


class SpanSerializer(serializers.Serializer):
    low_seconds = serializers.IntegerField()
    high_seconds = serializers.IntegerField()
    text = serializers.CharField()


class TypeEstimateSerializer(serializers.Serializer):
    migration_type = serializers.ChoiceField(choices=MigrationType.choices)
    vms = serializers.IntegerField()
    tb = serializers.FloatField()
    transfer = SpanSerializer(allow_null=True, help_text="Null when the wave has no site (no bandwidth)")
    switchover = SpanSerializer()
    in_window = SpanSerializer(allow_null=True, help_text="What of this type must fit in the change window")
    pre_seed = serializers.BooleanField(
        help_text="True for Bulk/RAV: the initial sync runs before the window"
    )


class WaveEstimateSerializer(serializers.Serializer):
    """A wave's estimated durations as ranges, whether they fit its window, and what they assume."""

    wave = serializers.IntegerField()
    name = serializers.CharField()
    vms = serializers.IntegerField()
    tb = serializers.FloatField(help_text="TiB of used storage (provisioned where used is unknown)")
    transfer = SpanSerializer(allow_null=True)
    switchover = SpanSerializer()
    in_window = SpanSerializer(allow_null=True)
    pre_seed = SpanSerializer(allow_null=True, help_text="Bulk/RAV initial sync, to finish before the window")
    window_seconds = serializers.IntegerField(allow_null=True)
    fits = serializers.BooleanField(
        allow_null=True, help_text="Null without a window, without bandwidth or without VMs"
    )
    verdict = serializers.CharField()
    types = TypeEstimateSerializer(many=True)
    assumptions = serializers.JSONField()
    longest_vms = serializers.JSONField(help_text="The biggest VMs with their own ranges (detail only)")


class VmEstimateSerializer(serializers.Serializer):
    vm = serializers.IntegerField()
    name = serializers.CharField()
    migration_type = serializers.ChoiceField(choices=MigrationType.choices)
    type_label = serializers.CharField()
    tb = serializers.FloatField()
    transfer = SpanSerializer(
        allow_null=True, help_text="From the VM alone on the link to its share of the wave"
    )
    switchover = SpanSerializer()


class PlanProposalSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()

    class Meta:
        model = PlanProposal
        fields = ["id", "user", "created", "accepted", "data"]


class PlanProposalSummarySerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = PlanProposal
        fields = ["id", "user", "created", "accepted", "summary"]

    @extend_schema_field(serializers.JSONField())
    def get_summary(self, obj):
        return getattr(obj, "summary", None)


class AutoPlanRequestSerializer(serializers.Serializer):
    """What POST /api/plan-proposals/ takes; missing fields take the form's defaults. Validated by
    the same form as the page (migrations_app/planner/forms.py)."""

    site = serializers.IntegerField(
        help_text="hcx.HcxPlan id: its link bandwidth drives the estimates, and only VMs "
        "of its vCenter (the one its HCX manages) are planned"
    )
    target_cluster = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Its room (usable capacity less the waves already planned into it) is shared by the proposed waves; "
        "null: capacity is not checked",
    )
    migration_type = serializers.ChoiceField(choices=MigrationType.choices, required=False)
    cold_for_powered_off = serializers.BooleanField(required=False, default=True)
    max_vms = serializers.IntegerField(required=False)
    max_tb = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    pilot_max_vms = serializers.IntegerField(required=False)
    pilot_max_tb = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    first_window_start = serializers.CharField(
        help_text="ISO date and time; without an offset it is wall-clock time in `time_zone`"
    )
    window_hours = serializers.DecimalField(max_digits=4, decimal_places=1, required=False)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        help_text="0 = Monday ... 6 = Sunday; default Saturday",
    )
    time_zone = serializers.CharField(required=False)
    blackout_dates = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
    )
    max_windows = serializers.IntegerField(required=False)
    include_ungrouped = serializers.BooleanField(required=False, default=True)
    name_prefix = serializers.CharField(required=False)


class AcceptRequestSerializer(serializers.Serializer):
    waves = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Wave numbers of the proposal; omitted: every wave not yet accepted",
    )


class AcceptResultSerializer(serializers.Serializer):
    created = serializers.JSONField(help_text="[{id, name}] of the draft waves created")
