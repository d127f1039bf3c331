from ..deploy.api import HcxPlanDeployViewSet
from ..setup.api import HcxPlanSetupViewSet
from .views import HcxNetworkProfilePlanViewSet, HcxPlanViewSet


def register(router):
    # /api/hcx-plans/<id>/setup/ (hcx/setup/api.py). Registered before the plans' own viewset so that
    # the API root keeps listing /api/hcx-plans/ (the router names the root entry after the last
    # registration of a prefix); it adds only the detail route `setup`.
    router.register("hcx-plans", HcxPlanSetupViewSet, basename="hcxplan-setup")
    # /api/hcx-plans/<id>/deploy/ (hcx/deploy/api.py): the same arrangement, detail route `deploy` only.
    router.register("hcx-plans", HcxPlanDeployViewSet, basename="hcxplan-deploy")
    router.register("hcx-plans", HcxPlanViewSet)
    router.register("hcx-network-profiles", HcxNetworkProfilePlanViewSet)
