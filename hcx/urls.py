from django.urls import path

from core.live.stream import endpoint

from . import views
from .avs_inventory import AvsInventoryReadView
from .deploy import views as deploy_views
from .setup import views as setup_views
from .setup.feed import SetupFeed

app_name = "hcx"

urlpatterns = [
    path("plans/", views.HcxPlanListView.as_view(), name="hcxplan_list"),
    path("plans/add/", views.HcxPlanEditView.as_view(), name="hcxplan_add"),
    path("plans/<int:pk>/", views.HcxPlanView.as_view(), name="hcxplan"),
    path("plans/<int:pk>/edit/", views.HcxPlanEditView.as_view(), name="hcxplan_edit"),
    path("plans/<int:pk>/delete/", views.HcxPlanDeleteView.as_view(), name="hcxplan_delete"),
    path("plans/<int:pk>/export/", views.HcxPlanExportView.as_view(), name="hcxplan_export"),
    path(
        "plans/<int:pk>/avs-inventory/read/",
        AvsInventoryReadView.as_view(),
        name="hcxplan_avs_inventory_read",
    ),
    # The set-up path after the plan (hcx/setup/views.py).
    path("plans/<int:pk>/setup/", setup_views.HcxPlanSetupView.as_view(), name="hcxplan_setup"),
    path("plans/<int:pk>/setup/live/", endpoint(SetupFeed), name="hcxplan_setup_live"),
    path("plans/<int:pk>/setup/run/", setup_views.HcxPlanSetupRunView.as_view(), name="hcxplan_setup_run"),
    path(
        "plans/<int:pk>/setup/trust/", setup_views.HcxPlanSetupTrustView.as_view(), name="hcxplan_setup_trust"
    ),
    path(
        "plans/<int:pk>/connection/", setup_views.HcxConnectionEditView.as_view(), name="hcxplan_connection"
    ),
    # The Connector's deployment, the set-up's "deploy" step (hcx/deploy/views.py).
    path("plans/<int:pk>/deploy/", deploy_views.HcxPlanDeployView.as_view(), name="hcxplan_deploy"),
    path(
        "plans/<int:pk>/deploy/ova/", deploy_views.HcxPlanOvaUploadView.as_view(), name="hcxplan_deploy_ova"
    ),
]
