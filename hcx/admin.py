from django.contrib import admin

from .models import HcxNetworkProfilePlan, HcxPlan


class HcxNetworkProfilePlanInline(admin.TabularInline):
    model = HcxNetworkProfilePlan
    extra = 0
    raw_id_fields = ["network"]


@admin.register(HcxPlan)
class HcxPlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "vcenter",
        "connector_hostname",
        "connector_ip",
        "avs_block",
        "link_type",
        "revision",
    ]
    list_filter = ["link_type", "wan_opt"]
    search_fields = ["name", "connector_hostname"]
    raw_id_fields = ["vcenter"]
    filter_horizontal = ["networks"]
    readonly_fields = ["revision"]
    inlines = [HcxNetworkProfilePlanInline]
