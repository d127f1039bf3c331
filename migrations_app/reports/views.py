"""Pages of reports: the programme dashboard (and its live fragment), the wave report, the exports and
the PDFs. Every one is a read: the view permission on waves, which every role holds."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from core.access import PermissionMixin
from core.exports import download
from migrations_app.choices import WaveStatus
from migrations_app.models import Wave
from migrations_app.waves.display import window_text

from . import charts, pdf, wavereport
from .dashboard import HEALTH_COLORS, figures
from .exports import EXPORTS
from .tables import PER_PAGE, ApprovalReportTable, EventReportTable, VmReportTable

# Poll often while something moves, rarely when nothing does.
POLL_RUNNING, POLL_IDLE = "3s", "30s"


def dashboard_context() -> dict:
    f = figures()
    context = {"f": f, "poll": POLL_RUNNING if f.running else POLL_IDLE}
    if not f.burnup.empty:
        context["burnup_vms"] = charts.svg(charts.burnup_chart(f.burnup, "vms"), "VMs migrated against plan")
        context["burnup_tb"] = charts.svg(charts.burnup_chart(f.burnup, "tb"), "TiB migrated against plan")
    if f.waves:
        context["status_svg"] = charts.svg(charts.status_chart(f.status_counts), "Waves by status")
    return context


class DashboardView(PermissionMixin, TemplateView):
    model = Wave
    template_name = "reports/dashboard.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **dashboard_context()}


class DashboardLiveView(DashboardView):
    """The dashboard's figures alone, which the page polls; it carries its own next poll."""

    template_name = "reports/_dashboard_live.html"


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{timezone.now():%Y%m%d-%H%M}.pdf"'
    return response


class ProgrammePdfView(PermissionMixin, View):
    model = Wave

    def get(self, request):
        return pdf_response(pdf.programme_pdf(figures()), "programme")


class WavePdfView(PermissionMixin, View):
    model = Wave

    def get(self, request, pk):
        wave = get_object_or_404(Wave.objects.select_related("site"), pk=pk)
        return pdf_response(pdf.wave_pdf(wave), f"wave-{wave.pk}")


class ExportView(PermissionMixin, View):
    """`/plan/reports/export/<waves|vms|results>/?format=csv|xlsx[&wave=<id>]`."""

    model = Wave

    def get(self, request, what):
        if what not in EXPORTS:
            raise Http404("No such export")
        title, build = EXPORTS[what]
        wave = None
        if request.GET.get("wave") and what != "waves":
            try:
                wave = get_object_or_404(Wave, pk=int(request.GET["wave"]))
            except ValueError:
                raise Http404("No such wave") from None
        columns, rows = build(wave) if wave is not None else build()
        name = f"{what}-wave-{wave.pk}" if wave else what
        return download(
            request.GET.get("format", "csv"),
            f"{name}-{timezone.now():%Y%m%d-%H%M}",
            columns,
            rows,
            sheet_name=title,
        )


def _style(form):
    for field in form.fields.values():
        css = (
            "form-select form-select-sm"
            if hasattr(field.widget, "choices")
            else "form-control form-control-sm"
        )
        field.widget.attrs.setdefault("class", css)
    return form


class WaveReportView(PermissionMixin, TemplateView):
    """Plan versus actual per VM, approvals, readiness findings and events: each table paged and sorted
    in the database under its own URL prefix, with its filters in the URL."""

    model = Wave
    template_name = "reports/wave_report.html"

    def get_context_data(self, **kwargs):
        from migrations_app.readiness.tables import FindingTable

        request = self.request
        wave = get_object_or_404(Wave.objects.select_related("site", "target_cluster"), pk=self.kwargs["pk"])
        summary = wavereport.summary(wave)
        vm_filter = wavereport.VmRowFilterSet(request.GET, queryset=wavereport.vm_rows(wave))
        event_filter = wavereport.EventFilterSet(request.GET, queryset=wavereport.events(wave), prefix="e")
        vm_table = VmReportTable(vm_filter.qs, estimator=wavereport.VmEstimator(wave, summary["estimate"]))
        approvals = ApprovalReportTable(wavereport.approvals(wave), prefix="a-")
        findings = FindingTable(wavereport.findings(wave), prefix="f-")
        event_table = EventReportTable(event_filter.qs, prefix="e-")
        config = RequestConfig(request, paginate={"per_page": PER_PAGE})
        for table in (vm_table, approvals, findings, event_table):
            config.configure(table)
        progress = summary["progress"]
        # Each form keeps the other table's choices, so filtering one does not reset the other.
        events_keys = {f"e-{name}" for name in event_filter.form.fields} | {"e-page", "e-sort"}
        return {
            "vm_keep": [(k, v) for k, v in request.GET.items() if k in events_keys and k != "e-page"],
            "event_keep": [
                (k, v) for k, v in request.GET.items() if k in vm_filter.form.fields or k == "sort"
            ],
            **super().get_context_data(**kwargs),
            "wave": wave,
            "window": window_text(wave),
            "wave_status_color": WaveStatus.COLORS.get(wave.status),
            "health_color": HEALTH_COLORS.get(progress["health"], "secondary"),
            "summary": summary,
            "progress": progress,
            "estimate": summary["estimate"],
            "vm_filter": _style(vm_filter.form),
            "vm_filter_errors": vm_filter.errors,
            "event_filter": _style(event_filter.form),
            "vm_table": vm_table,
            "approvals_table": approvals,
            "findings_table": findings,
            "events_table": event_table,
            "vm_filtered": any(request.GET.get(k) for k in vm_filter.form.fields),
            "state_svg": charts.svg(
                charts.migration_state_chart(progress["states"], "VMs by state of their latest attempt"),
                "VMs by state of their latest attempt",
            )
            if progress["states"]
            else "",
        }
