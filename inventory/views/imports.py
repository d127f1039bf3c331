"""Placeholder: the RVTools upload comes next."""

from django.views.generic import TemplateView

from core.access import PermissionMixin

from ..models import VCenter


class RVToolsImportView(PermissionMixin, TemplateView):
    model = VCenter
    permission_action = "import_inventory"
    template_name = "inventory/object_list.html"
