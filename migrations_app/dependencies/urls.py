"""Pages of this part of the app; included by migrations_app/urls.py under the migrations_app namespace."""

from django.urls import path

from .views import build, dependencies, groups, suggestions

urlpatterns = [
    path("groups/", groups.GroupListView.as_view(), name="dependencygroup_list"),
    path("groups/add/", groups.GroupEditView.as_view(), name="dependencygroup_add"),
    path("groups/build/", build.GroupBuildView.as_view(), name="dependencygroup_build"),
    path("groups/suggestions/", suggestions.SuggestionsView.as_view(), name="dependencygroup_suggestions"),
    path("groups/<int:pk>/", groups.GroupView.as_view(), name="dependencygroup"),
    path("groups/<int:pk>/edit/", groups.GroupEditView.as_view(), name="dependencygroup_edit"),
    path("groups/<int:pk>/delete/", groups.GroupDeleteView.as_view(), name="dependencygroup_delete"),
    path("groups/<int:pk>/members/", groups.GroupMembersView.as_view(), name="dependencygroup_members"),
    path("dependencies/", dependencies.DependencyListView.as_view(), name="dependency_list"),
    path("dependencies/graph/", dependencies.DependencyGraphView.as_view(), name="dependency_graph"),
    path("dependencies/import/", dependencies.DependencyImportView.as_view(), name="import_dependencies"),
    path(
        "dependencies/imports/", dependencies.DependencyImportListView.as_view(), name="dependencyimport_list"
    ),
]
