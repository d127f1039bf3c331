"""The set-up page of a plan: the plan's checks, the checklist of steps with what to do next, the
buttons that start steps (engineers), the pairing's certificate prompt, and the running job's live
progress. Plus the HCX connection form. Everyone with a role reads; only engineers act."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views import View

from core.access import PermissionMixin, deny, user_can
from core.live import sequence
from hcx.choices import SetupStepKey
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep
from hcx.planning.checks import check_plan

from .actions import TrustRefused, do_save_connection, do_trust_certificate
from .checklist import build_checklist, last_setup_job, plan_has_connection
from .forms import SECRETS, HcxConnectionForm, RunStepsForm, TrustCertificateForm
from .logins import login_problem
from .runner import STEPS, SetupBusy, start_setup


def plan_for_setup(pk) -> HcxPlan:
    return get_object_or_404(HcxPlan.objects.select_related("vcenter", "connection"), pk=pk)


def deploy_url(plan: HcxPlan) -> str | None:
    """The Connector deployment page, once it exists in the URL map."""
    try:
        return reverse("hcx:hcxplan_deploy", args=[plan.pk])
    except NoReverseMatch:
        return None


def checklist_context(user, plan: HcxPlan) -> dict:
    """What the checklist shows `user` (the page, and its live updates: feed.py)."""
    checklist = build_checklist(plan, has_connection=plan_has_connection(plan))
    can_run = user_can(user, HcxPlan, "run_setup")
    return {
        "plan": plan,
        "checklist": checklist,
        "can_run": can_run,
        "can_deploy": user_can(user, HcxPlan, "deploy_connector"),
        "can_edit_connection": user_can(user, HcxConnection, "change"),
        "deploy_url": deploy_url(plan),
        "trust_form": TrustCertificateForm(initial={"sha256": checklist.prompt.sha256})
        if checklist.prompt
        else None,
    }


class HcxPlanSetupView(PermissionMixin, View):
    """GET /hcx/plans/<pk>/setup/"""

    model = HcxSetupStep
    template_name = "hcx/setup.html"

    def get(self, request, pk):
        plan = plan_for_setup(pk)
        # The checklist follows the plan's live stream (feed.py) from this number, read before it.
        setup_seq = sequence.current(sequence.key_for(plan))
        context = checklist_context(request.user, plan)
        report = check_plan(plan, list(plan.profiles.all()), list(plan.networks.all()))
        job = context["checklist"].active_job or last_setup_job(plan)
        # The job panel follows the job's live stream from this number (core/job_feed.py), read before its log.
        live_seq = sequence.current(job.live_key) if job is not None and job.is_active else 0
        if live_seq:
            job.refresh_from_db()  # read after the number: never older than it
        events = list(job.events.filter(change__lte=live_seq)) if live_seq else []
        connection = plan.connection if context["checklist"].has_connection else None
        context.update(
            report=report,
            job=job,
            events=events,
            live_seq=live_seq,
            setup_seq=setup_seq,
            connection=connection,
            secrets=[
                (HcxConnection._meta.get_field(n).verbose_name, bool(getattr(connection, n))) for n in SECRETS
            ]
            if connection
            else [],
            can_view_connection=user_can(request.user, HcxConnection, "view"),
            login_problem=login_problem(plan) if connection else "",
        )
        return render(request, self.template_name, context)


class HcxPlanSetupRunView(PermissionMixin, View):
    """POST: start one step ("Run"/"Run again") or every step not yet done ("Run all remaining")."""

    model = HcxPlan
    permission_action = "run_setup"
    http_method_names = ["post"]

    def post(self, request, pk):
        plan = plan_for_setup(pk)
        form = RunStepsForm(request.POST)
        setup_url = reverse("hcx:hcxplan_setup", args=[plan.pk])
        if not form.is_valid():
            messages.error(request, "Nothing to run: choose a step.")
            return redirect(setup_url)
        if form.cleaned_data["remaining"]:
            steps = build_checklist(plan).remaining
            if not steps:
                messages.info(request, "Every step the portal can run is done already.")
                return redirect(setup_url)
        else:
            key = form.cleaned_data["step"]
            if key not in STEPS:
                messages.error(request, f"There is no set-up step “{key}” the portal can run.")
                return redirect(setup_url)
            row = next(r for r in build_checklist(plan).rows if r.key == key)
            if row.waits_for:
                # The button is not offered then; a stale page or a hand-made POST gets told why.
                messages.error(
                    request, f"“{row.title}” waits for {', '.join(row.waits_for)}: nothing was started."
                )
                return redirect(setup_url)
            steps = [key]
        try:
            job = start_setup(request.user, plan, steps)
        except SetupBusy as exc:
            messages.error(request, f"{exc} Wait for it to finish (or cancel it), then try again.")
            return redirect(setup_url)
        titles = "; ".join(str(SetupStepKey(s).label) for s in job.params["steps"])
        messages.success(request, f"Started job #{job.pk}: {titles}.")
        return redirect(setup_url)


class HcxPlanSetupTrustView(PermissionMixin, View):
    """POST: trust the certificate a step's prompt shows (vCenter's, the Cloud Manager's) and run it again."""

    model = HcxPlan
    permission_action = "run_setup"
    http_method_names = ["post"]

    def post(self, request, pk):
        # Trusting writes the connection: it needs that right too, not only the right to run steps.
        if not user_can(request.user, HcxConnection, "change"):
            raise deny("hcx.change_hcxconnection", request)
        plan = plan_for_setup(pk)
        form = TrustCertificateForm(request.POST)
        setup_url = reverse("hcx:hcxplan_setup", args=[plan.pk])
        if not form.is_valid():
            messages.error(request, "Trust which certificate? The fingerprint was missing: reload the page.")
            return redirect(setup_url)
        try:
            job = do_trust_certificate(
                plan,
                acting_user=request.user,
                sha256=form.cleaned_data["sha256"],
                then_remaining=form.cleaned_data["then_remaining"],
            )
        except TrustRefused as exc:
            messages.error(request, str(exc))
            return redirect(setup_url)
        except SetupBusy as exc:
            messages.error(request, f"{exc} Nothing was trusted; try again when it has finished.")
            return redirect(setup_url)
        doing = "pair" if job.params["steps"][0] == SetupStepKey.PAIR else "register"
        messages.success(request, f"Certificate trusted. Started job #{job.pk} to {doing}.")
        return redirect(setup_url)


class HcxConnectionEditView(PermissionMixin, View):
    """GET/POST /hcx/plans/<pk>/connection/: how the portal reaches the Connector and Azure."""

    model = HcxConnection
    permission_action = "change"
    template_name = "hcx/setup_connection.html"

    def get(self, request, pk):
        plan = plan_for_setup(pk)
        return self.render(plan, HcxConnectionForm(instance=self.connection(plan)))

    def post(self, request, pk):
        plan = plan_for_setup(pk)
        form = HcxConnectionForm(request.POST, instance=self.connection(plan))
        if not form.is_valid():
            return self.render(plan, form, status=400)
        connection = do_save_connection(
            form.save(commit=False), acting_user=request.user, changed=form.changed_fields
        )
        messages.success(request, f"The HCX connection of {plan} is saved.")
        return redirect(connection)

    @staticmethod
    def connection(plan: HcxPlan) -> HcxConnection:
        return plan.connection if plan_has_connection(plan) else HcxConnection(plan=plan)

    def render(self, plan, form, status=200):
        return render(self.request, self.template_name, {"plan": plan, "form": form}, status=status)
