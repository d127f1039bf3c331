"""The wave plan as a CSV or XLSX file: download it, edit it, upload it back."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View
from django.views.generic import FormView

from core.access import PermissionMixin
from migrations_app.models import Wave

from ..forms import PlanUploadForm
from ..planfile import PlanFileError, import_plan, plan_rows, write_csv, write_xlsx

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def plan_download(kind: str) -> HttpResponse:
    kind = kind if kind in CONTENT_TYPES else "csv"
    body = write_xlsx(plan_rows()) if kind == "xlsx" else write_csv(plan_rows())
    response = HttpResponse(body, content_type=CONTENT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="wave-plan-{timezone.now():%Y%m%d-%H%M}.{kind}"'
    return response


class WavePlanExportView(PermissionMixin, View):
    model = Wave

    def get(self, request):
        return plan_download(request.GET.get("file", "csv"))


class WavePlanImportView(PermissionMixin, FormView):
    """Upload an edited plan: every row is checked; one bad row refuses the file, listing them all."""

    model = Wave
    permission_action = "change"
    form_class = PlanUploadForm
    template_name = "migrations_app/waves_plan_import.html"

    def form_valid(self, form):
        uploaded = form.cleaned_data["file"]
        try:
            result = import_plan(
                uploaded.read(),
                uploaded.name,
                acting_user=self.request.user,
                check_only=form.cleaned_data["check_only"],
            )
        except PlanFileError as error:
            return render(
                self.request,
                self.template_name,
                {"form": form, "error": error, "problems": error.problems},
                status=400,
            )
        return render(self.request, self.template_name, {"form": self.form_class(), "result": result})

    def form_invalid(self, form):
        return render(self.request, self.template_name, {"form": form}, status=400)
