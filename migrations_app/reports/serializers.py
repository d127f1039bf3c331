"""What the reports API answers, field by field, so that /api/schema/ documents the real answers.

The figures are computed in dashboard.py as plain dicts (one set for the page, its JSON and the PDF);
these serializers only describe and render them.
"""

from rest_framework import serializers

from migrations_app.choices import MigrationState, WaveStatus

HEALTH = ["healthy", "lagging", "failed"]  # launch/rollup.py's HEALTHY, LAGGING, FAILED


class WaveProgressSerializer(serializers.Serializer):
    """A wave's live rollup (launch/rollup.WaveProgress)."""

    vms = serializers.IntegerField()
    states = serializers.DictField(
        child=serializers.IntegerField(), help_text="VMs per latest attempt's state"
    )
    done = serializers.IntegerField(help_text="Moved to AVS")
    failed = serializers.IntegerField()
    in_flight = serializers.IntegerField(help_text="In HCX now")
    waiting = serializers.IntegerField(help_text="Not sent yet")
    cancelled = serializers.IntegerField()
    rolled_back = serializers.IntegerField()
    lagging = serializers.IntegerField()
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField()
    health = serializers.ChoiceField(choices=HEALTH)
    elapsed_seconds = serializers.IntegerField(
        allow_null=True, help_text="From the first start; null before it"
    )
    estimate_seconds = serializers.IntegerField(
        allow_null=True, help_text="The slow end of the plan's estimate"
    )
    percent = serializers.IntegerField()


class SizeSerializer(serializers.Serializer):
    vms = serializers.IntegerField()
    tb = serializers.FloatField(help_text="TiB of used storage (provisioned when used is unknown)")


class MigratedSerializer(SizeSerializer):
    percent_vms = serializers.IntegerField()
    percent_tb = serializers.IntegerField()


class BurnupPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    planned_vms = serializers.IntegerField(help_text="Cumulative, by the day their wave's window ends")
    planned_tb = serializers.FloatField()
    actual_vms = serializers.IntegerField(help_text="Cumulative, by the day their migration ended")
    actual_tb = serializers.FloatField()


class BurnupSerializer(serializers.Serializer):
    unscheduled_vms = serializers.IntegerField(help_text="Planned in waves without a change window")
    points = BurnupPointSerializer(many=True)


class StatusCountSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WaveStatus.choices)
    label = serializers.CharField()
    color = serializers.CharField()
    waves = serializers.IntegerField()


class LiveWaveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    health = serializers.ChoiceField(choices=HEALTH)
    progress = WaveProgressSerializer()


class HealthCountsSerializer(serializers.Serializer):
    healthy = serializers.IntegerField()
    lagging = serializers.IntegerField()
    failed = serializers.IntegerField()


class NextWindowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=WaveStatus.choices)
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    time_zone = serializers.CharField()
    vms = serializers.IntegerField()


class BlockedRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    title = serializers.CharField()
    vms = serializers.IntegerField()


class FailedMigrationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vm = serializers.CharField()
    vm_id = serializers.IntegerField()
    wave = serializers.CharField()
    wave_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=MigrationState.choices)
    state_label = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    ended = serializers.DateTimeField(allow_null=True)
    attempt = serializers.IntegerField()


class RisksSerializer(serializers.Serializer):
    blocked_vms = serializers.IntegerField(help_text="VMs with readiness blockers in waves still to move")
    blocked_by_rule = BlockedRuleSerializer(many=True)
    failed_migrations = serializers.IntegerField()
    failed = FailedMigrationSerializer(many=True, help_text="The latest failures, newest first")
    lagging_waves = LiveWaveSerializer(many=True)


class ThroughputSerializer(serializers.Serializer):
    completed = serializers.IntegerField(help_text="Forward migrations completed with a start and an end")
    bytes = serializers.IntegerField()
    seconds = serializers.FloatField()
    running = serializers.IntegerField(help_text="Migrations reporting a throughput now")
    current_mbps = serializers.FloatField()
    efficiency_low = serializers.FloatField(allow_null=True)
    efficiency_high = serializers.FloatField(allow_null=True)
    samples = serializers.IntegerField()
    median_mbps = serializers.FloatField(allow_null=True)
    average_mbps = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    """The programme dashboard's figures (dashboard.Figures.as_dict())."""

    at = serializers.DateTimeField()
    estate_vms = serializers.IntegerField()
    planned = SizeSerializer()
    migrated = MigratedSerializer()
    burnup = BurnupSerializer()
    waves_by_status = StatusCountSerializer(many=True)
    running_waves = LiveWaveSerializer(many=True)
    more_running_waves = serializers.IntegerField(help_text="Running waves beyond those listed")
    health = HealthCountsSerializer()
    next_windows = NextWindowSerializer(many=True)
    risks = RisksSerializer()
    throughput = ThroughputSerializer()
