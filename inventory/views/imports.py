"""The RVTools upload page: validate, store, start the import job, show its page."""

from django.conf import settings
from django.shortcuts import redirect
from django.views.generic import FormView

from core.access import PermissionMixin

from ..forms.imports import RVToolsUploadForm
from ..models import VCenter
from ..rvtools.actions import start_rvtools_import


class RVToolsImportView(PermissionMixin, FormView):
    model = VCenter
    permission_action = "import_inventory"
    form_class = RVToolsUploadForm
    template_name = "inventory/rvtools_import.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(max_upload_mb=settings.MAX_UPLOAD_MB, **kwargs)

    def form_valid(self, form):
        job = start_rvtools_import(
            form.cleaned_data["file"], vcenter=form.cleaned_data["vcenter"], acting_user=self.request.user
        )
        return redirect(job)
