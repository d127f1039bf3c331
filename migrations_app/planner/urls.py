"""Pages of this part of the app; included by migrations_app/urls.py under the migrations_app namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("autoplan/", views.AutoPlanView.as_view(), name="planproposal_add"),
    path("proposals/", views.ProposalListView.as_view(), name="planproposal_list"),
    path("proposals/<int:pk>/", views.ProposalView.as_view(), name="planproposal"),
    path("waves/<int:pk>/estimate/", views.WaveEstimateView.as_view(), name="wave_estimate"),
    path("proposals/<int:pk>/accept/", views.ProposalAcceptView.as_view(), name="planproposal_accept"),
]
