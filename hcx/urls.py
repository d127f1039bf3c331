from django.urls import path

from . import views

app_name = "hcx"

urlpatterns = [
    path("plans/", views.HcxPlanListView.as_view(), name="hcxplan_list"),
    path("plans/add/", views.HcxPlanAddView.as_view(), name="hcxplan_add"),
    path("plans/<int:pk>/", views.HcxPlanView.as_view(), name="hcxplan"),
    path("plans/<int:pk>/edit/", views.HcxPlanEditView.as_view(), name="hcxplan_edit"),
    path("plans/<int:pk>/delete/", views.HcxPlanDeleteView.as_view(), name="hcxplan_delete"),
    path("plans/<int:pk>/export/", views.HcxPlanExportView.as_view(), name="hcxplan_export"),
]
