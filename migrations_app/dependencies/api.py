"""REST endpoints of this part of the app; migrations_app/api.py calls register(router)."""

from .api_views import (
    DependencyGraphViewSet,
    DependencyGroupViewSet,
    DependencyImportViewSet,
    DependencyViewSet,
    GroupMemberViewSet,
    GroupSuggestionViewSet,
)


def register(router):
    router.register("groups", DependencyGroupViewSet, basename="dependencygroup")
    router.register("group-members", GroupMemberViewSet, basename="groupmember")
    router.register("group-suggestions", GroupSuggestionViewSet, basename="group-suggestion")
    router.register("dependencies", DependencyViewSet, basename="dependency")
    router.register("dependency-imports", DependencyImportViewSet, basename="dependencyimport")
    router.register("dependency-graph", DependencyGraphViewSet, basename="dependency-graph")
