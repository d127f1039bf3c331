"""Placeholder: vCenter connections and discovery come next."""

from django.views.generic import DetailView, ListView, UpdateView

from core.access import PermissionMixin

from ..models import VCenter


class VCenterListView(PermissionMixin, ListView):
    model = VCenter
    template_name = "inventory/object_list.html"


class VCenterView(PermissionMixin, DetailView):
    model = VCenter
    template_name = "inventory/object.html"


class VCenterEditView(PermissionMixin, UpdateView):
    model = VCenter
    permission_action = "change"
    fields = ["name"]


class VCenterDiscoverView(VCenterView):
    permission_action = "discover_vcenter"
