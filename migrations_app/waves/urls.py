"""Pages of waves and target clusters; included by migrations_app/urls.py under the migrations_app namespace."""

from django.urls import path

from .views import calendar, items, mappings, planfile, targets, waves

urlpatterns = [
    path("targets/", targets.TargetClusterListView.as_view(), name="targetcluster_list"),
    path("targets/add/", targets.TargetClusterEditView.as_view(), name="targetcluster_add"),
    path("targets/<int:pk>/", targets.TargetClusterView.as_view(), name="targetcluster"),
    path("targets/<int:pk>/edit/", targets.TargetClusterEditView.as_view(), name="targetcluster_edit"),
    path("targets/<int:pk>/delete/", targets.TargetClusterDeleteView.as_view(), name="targetcluster_delete"),
    path("waves/", waves.WaveListView.as_view(), name="wave_list"),
    path("waves/calendar/", calendar.WaveCalendarView.as_view(), name="wave_calendar"),
    path("waves/add/", waves.WaveEditView.as_view(), name="wave_add"),
    path("waves/plan/export/", planfile.WavePlanExportView.as_view(), name="waveplan_export"),
    path("waves/plan/import/", planfile.WavePlanImportView.as_view(), name="waveplan_import"),
    path("waves/<int:pk>/", waves.WaveView.as_view(), name="wave"),
    path("waves/<int:pk>/edit/", waves.WaveEditView.as_view(), name="wave_edit"),
    path("waves/<int:pk>/delete/", waves.WaveDeleteView.as_view(), name="wave_delete"),
    path("waves/<int:pk>/add-groups/", items.WaveAddGroupsView.as_view(), name="wave_add_groups"),
    path("waves/<int:pk>/add-vms/", items.WaveAddVmsView.as_view(), name="wave_add_vms"),
    path("waves/<int:pk>/remove/", items.WaveRemoveView.as_view(), name="wave_remove_items"),
    path("waves/<int:pk>/migration-type/", items.WaveItemTypeView.as_view(), name="wave_item_type"),
    path("waves/<int:pk>/mappings/", mappings.WaveMappingSaveView.as_view(), name="wave_mapping_save"),
    path(
        "waves/<int:pk>/mappings/<int:mapping_pk>/delete/",
        mappings.WaveMappingDeleteView.as_view(),
        name="wave_mapping_delete",
    ),
]
