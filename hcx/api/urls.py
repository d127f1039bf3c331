from .views import HcxNetworkProfilePlanViewSet, HcxPlanViewSet


def register(router):
    router.register("hcx-plans", HcxPlanViewSet)
    router.register("hcx-network-profiles", HcxNetworkProfilePlanViewSet)
