"""The deploy page of a plan (/hcx/plans/<pk>/deploy/): what will be deployed, where, from which
OVA, and "Deploy"; plus the OVA upload into the OVA folder. Engineers and admins only
(hcx.deploy_connector)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.access import PermissionMixin
from core.choices import AuditAction
from core.jobs import JobError
from core.models import AuditEntry
from hcx.choices import SetupStepKey
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep
from hcx.setup.runner import SetupBusy, active_setup_job

from . import library
from .forms import DeployForm, OvaUploadForm
from .jobs import start_connector_deployment, wait_url
from .ova import open_package
from .placement import Placement, connector_spec
from .spec import describe_unknown
from .uploads import OvaUploadHandler

TEMPLATE = "hcx/deploy.html"


def url_or_none(name: str, *args) -> str | None:
    """Pages another part of the portal provides: linked when they exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def page_context(plan: HcxPlan, *, deploy_form=None, upload_form=None) -> dict:
    connection = HcxConnection.objects.filter(plan=plan).first()
    try:
        spec, spec_error = connector_spec(plan, Placement()), ""
    except JobError as exc:
        spec, spec_error = None, str(exc)
    step = HcxSetupStep.objects.select_related("job").filter(plan=plan, step=SetupStepKey.DEPLOY).first()
    deploy_form = deploy_form or DeployForm(plan=plan)
    return {
        "object": plan,
        "spec": spec,
        "spec_error": spec_error,
        "wait_url": wait_url(plan, spec) if spec else "",
        "passwords": {
            "admin": bool(connection and connection.admin_password),
            "root": bool(connection and connection.root_password),
        },
        "connection_url": url_or_none("hcx:hcxplan_connection", plan.pk),
        "setup_url": url_or_none("hcx:hcxplan_setup", plan.pk),
        "step": step,
        "busy": active_setup_job(plan),
        "ovas": library.list_ovas(),
        "ova_folder": library.folder(),
        "max_upload_mb": settings.HCX_OVA_MAX_MB,
        "deploy_form": deploy_form,
        "ova_notes": ova_notes(deploy_form["ova"].value()),
        "upload_form": upload_form or OvaUploadForm(),
    }


def ova_notes(name) -> str:
    """What the chosen OVA declares that the portal does not set (hcx/deploy/spec.py), or ''."""
    if not name:
        return ""
    try:
        return describe_unknown(open_package(library.resolve_ova(name)))
    except JobError:
        return ""  # the form says what is wrong with it


class HcxPlanDeployView(PermissionMixin, View):
    model = HcxPlan
    permission_action = "deploy_connector"

    def get_plan(self):
        return get_object_or_404(HcxPlan.objects.select_related("vcenter"), pk=self.kwargs["pk"])

    def get(self, request, pk):
        plan = self.get_plan()
        form = DeployForm(
            plan=plan, initial={"ova": request.GET.get("ova", "")} if request.GET.get("ova") else None
        )
        return render(request, TEMPLATE, page_context(plan, deploy_form=form))

    def post(self, request, pk):
        plan = self.get_plan()
        form = DeployForm(request.POST, plan=plan)
        status = 400
        if form.is_valid():
            try:
                job = start_connector_deployment(
                    request.user,
                    plan,
                    form.cleaned_data["ova"],
                    form.placement(),
                    ssh_enabled=form.cleaned_data["ssh_enabled"],
                )
            except SetupBusy as exc:
                form.add_error(None, f"{exc} Wait for it to finish, or cancel it, then deploy.")
                status = 409
            except JobError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"Deployment of the HCX Connector for {plan} started (job #{job.pk})."
                )
                return redirect(url_or_none("hcx:hcxplan_setup", plan.pk) or job.get_absolute_url())
        return render(request, TEMPLATE, page_context(plan, deploy_form=form), status=status)


# The upload handler must be in place before anything reads the request body, and the CSRF check
# reads it: so the check is exempted at the door and done by csrf_protect on `receive`, after the
# handler is set (Django's documented pattern for custom upload handlers). Only a signed-in user
# with the permission gets this far; a request refused by the CSRF check keeps no file.
@method_decorator(csrf_exempt, name="dispatch")
class HcxPlanOvaUploadView(PermissionMixin, View):
    model = HcxPlan
    permission_action = "deploy_connector"
    http_method_names = ["post"]

    def post(self, request, pk):
        plan = get_object_or_404(HcxPlan.objects.select_related("vcenter"), pk=pk)
        handler = OvaUploadHandler(request)
        request.upload_handlers = [handler]
        try:
            return self.receive(request, plan, handler)
        finally:
            handler.discard()  # whatever was not stored under its final name

    @method_decorator(csrf_protect)
    def receive(self, request, plan, handler):
        form = OvaUploadForm(request.POST, request.FILES, handler=handler)
        if not form.is_valid():
            return render(request, TEMPLATE, page_context(plan, upload_form=form), status=400)
        stored = form.stored
        AuditEntry.record(request.user, AuditAction.HCX_OVA_UPLOAD, plan, ova=stored.name, size=stored.size)
        messages.success(request, f"{stored.name} ({stored.size_mb:,.0f} MB) is in the OVA folder.")
        notes = ova_notes(stored.name)
        if notes:
            messages.warning(request, notes)
        return redirect(f"{reverse('hcx:hcxplan_deploy', args=[plan.pk])}?{urlencode({'ova': stored.name})}")
