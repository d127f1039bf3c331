"""Pages of readiness and approval: the readiness report of a wave, the approvals queue, and the POST
steps behind the panels' buttons (run readiness, switch a VM's type, submit, approve, reject).

The steps only validate their form and call the action (actions.py, approval.py), which runs in one
transaction and refuses with a message; the page shows it and goes back where the user was.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from core.access import PermissionMixin, user_can
from core.generic_views import ObjectListView
from hcx.choices import MigrationType
from inventory.querysets import count_subquery
from migrations_app.choices import FindingSeverity, WaveStatus
from migrations_app.models import Approval, ReadinessFinding, Wave, WaveItem

from .access import can_run_readiness, can_switch_type
from .actions import do_run_readiness, do_switch_migration_type
from .approval import do_approve, do_reject, do_submit
from .errors import WaveError
from .filtersets import ReadinessFindingFilterSet
from .forms import DecisionForm, RevisionForm, SwitchTypeForm, first_error
from .panels import BLOCKED_VMS, readiness_context
from .tables import PER_PAGE, FindingTable


def back(request, wave: Wave) -> str:
    """Where the user came from (the panel's `next`), if it is on this site; else the wave's page."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return wave.get_absolute_url()


def counts_text(summary) -> str:
    return f"{summary.blockers} blocker{'s' if summary.blockers != 1 else ''}, {summary.warnings} warning{'s' if summary.warnings != 1 else ''}"


class ReadinessReportView(ObjectListView):
    """All findings of one wave, filtered and paged in the database, with the blocked VMs (paged too)
    and the approval panel."""

    model = ReadinessFinding
    filterset_class = ReadinessFindingFilterSet
    table_class = FindingTable
    table_pagination = {"per_page": PER_PAGE}
    template_name = "migrations_app/readiness_report.html"
    omit_filters = ("wave_id", "wave", "vm_id")  # this page is one wave's; the VM is searched by name

    def get_queryset(self):
        self.wave = get_object_or_404(Wave, pk=self.kwargs["pk"])
        return ReadinessFinding.objects.filter(wave=self.wave).select_related("vm")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            page = max(int(self.request.GET.get("blocked_page", 1)), 1)
        except ValueError:
            page = 1
        readiness = readiness_context(
            self.wave, self.request, groups=False, blocked_offset=(page - 1) * BLOCKED_VMS
        )
        readiness["page_links"] = True
        context.update(readiness)
        context.update(
            wave=self.wave,
            blocked_page=page,
            blocked_pages=max((readiness["blocked_total"] + BLOCKED_VMS - 1) // BLOCKED_VMS, 1),
        )
        return context


class ApprovalQueueView(PermissionMixin, TemplateView):
    """Waves waiting for a decision (oldest submission first) and the latest decisions."""

    model = Approval
    template_name = "migrations_app/approval_queue.html"
    per_page = 50

    def get_context_data(self, **kwargs):
        waiting = (
            Wave.objects.filter(status=WaveStatus.SUBMITTED)
            .select_related("submitted_by", "target_cluster")
            .annotate(
                vm_count=count_subquery(WaveItem.objects.filter(wave=OuterRef("pk")), "wave"),
                warnings=count_subquery(
                    ReadinessFinding.objects.filter(wave=OuterRef("pk"), severity=FindingSeverity.WARNING),
                    "wave",
                ),
            )
            .order_by("submitted_at", "pk")
        )
        page = Paginator(waiting, self.per_page).get_page(self.request.GET.get("page"))
        recent = Approval.objects.select_related("wave", "user").order_by("-created", "-pk")[:20]
        return super().get_context_data(
            page_obj=page,
            waiting=page.object_list,
            recent=recent,
            may_decide=user_can(self.request.user, Wave, "approve_wave"),
            **kwargs,
        )


class WaveStepView(PermissionMixin, View):
    """A POST on a wave: validate the form, run the step, say what happened, go back."""

    model = Wave
    form_class = RevisionForm

    def allowed(self, user) -> bool:
        return True  # PermissionMixin has checked `permission_action`; steps with another rule override

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.allowed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
        else:
            try:
                message = self.act(wave, form.cleaned_data)
            except WaveError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, message)
        return redirect(back(request, wave))

    def act(self, wave: Wave, data: dict) -> str:
        raise NotImplementedError


class RunReadinessView(WaveStepView):
    permission_action = "view"

    def allowed(self, user) -> bool:
        return can_run_readiness(user)

    def act(self, wave, data):
        result = do_run_readiness(wave, acting_user=self.request.user)
        return f"Readiness of {wave.name} checked at revision {result.revision}: {counts_text(result)}."


class SwitchTypeView(WaveStepView):
    permission_action = "view"
    form_class = SwitchTypeForm

    def allowed(self, user) -> bool:
        return can_switch_type(user)

    def act(self, wave, data):
        change, result = do_switch_migration_type(
            wave,
            data["vm"],
            data["migration_type"],
            acting_user=self.request.user,
            revision=data.get("revision"),
        )
        text = (
            f"Switched to {MigrationType(data['migration_type']).label}; readiness checked again at revision "
            f"{result.revision}: {counts_text(result)}."
        )
        return f"{text} {change.message}".strip() if change else text


class SubmitView(WaveStepView):
    permission_action = "submit_wave"

    def act(self, wave, data):
        result = do_submit(wave, acting_user=self.request.user, revision=data.get("revision"))
        return f"{wave.name} revision {result.revision} submitted for approval ({counts_text(result)})."


class ApproveView(WaveStepView):
    permission_action = "approve_wave"
    form_class = DecisionForm

    def act(self, wave, data):
        approval = do_approve(
            wave,
            acting_user=self.request.user,
            change_ticket=data["change_ticket"],
            comment=data["comment"],
            revision=data.get("revision"),
        )
        return f"Revision {approval.revision} of {wave.name} approved under change ticket {approval.change_ticket}."


class RejectView(ApproveView):
    def act(self, wave, data):
        approval = do_reject(
            wave,
            acting_user=self.request.user,
            comment=data["comment"],
            change_ticket=data["change_ticket"],
            revision=data.get("revision"),
        )
        return f"Revision {approval.revision} of {wave.name} rejected; the planner sees your comment."
