"""REST endpoints of this part of the app; migrations_app/api.py calls register(router)."""


def register(router):
    from .viewsets import NetworkMappingViewSet, TargetClusterViewSet, WaveItemViewSet, WaveViewSet

    router.register("target-clusters", TargetClusterViewSet, basename="targetcluster")
    router.register("waves", WaveViewSet, basename="wave")
    router.register("wave-items", WaveItemViewSet, basename="waveitem")
    router.register("network-mappings", NetworkMappingViewSet, basename="networkmapping")
