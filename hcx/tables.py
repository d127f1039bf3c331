import django_tables2 as tables

from .models import HcxPlan


class HcxPlanTable(tables.Table):
    name = tables.Column(linkify=True, verbose_name="Site")
    vcenter = tables.Column(verbose_name="vCenter")
    connector = tables.TemplateColumn(
        "{{ record.connector_hostname }} <span class='text-muted'>{{ record.connector_ip }}</span>",
        order_by=("connector_hostname",),
        verbose_name="Connector",
    )
    link = tables.TemplateColumn(
        "{{ record.get_link_type_display }}, {{ record.bandwidth_mbps }} Mbps, {{ record.latency_ms }} ms",
        order_by=("link_type", "bandwidth_mbps"),
        verbose_name="Link",
    )
    networks_count = tables.Column(verbose_name="Networks to extend")
    revision = tables.Column()
    last_updated = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Updated")

    class Meta:
        model = HcxPlan
        fields = (
            "name",
            "vcenter",
            "connector",
            "avs_block",
            "link",
            "networks_count",
            "revision",
            "last_updated",
        )
        attrs = {"class": "table table-sm table-hover"}
        empty_text = "No deployment plans yet."
