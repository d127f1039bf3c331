from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from .access import PermissionMixin, deny, user_can
from .live import sequence
from .models import AuditEntry, Job
from .throttling import throttle_login


@login_required
def home(request):
    """What needs doing, per kind of work the person may do (migrations_app/todo.py), then the estate
    in figures and the latest jobs. Someone with nothing to do but read (a stakeholder) lands on the
    programme dashboard instead."""
    from inventory.models import Cluster, VCenter, VirtualMachine
    from migrations_app.models import Wave
    from migrations_app.todo import engineer_lists, planner_lists

    engineer, planner = engineer_lists(request.user), planner_lists(request.user)
    if not engineer and not planner and user_can(request.user, Wave, "view"):
        from migrations_app.reports.views import DashboardView

        return DashboardView.as_view()(request)
    context = {"recent_jobs": [], "counts": None, "engineer_lists": engineer, "planner_lists": planner}
    if user_can(request.user, VirtualMachine, "view"):
        vms = VirtualMachine.objects.filter(removed__isnull=True)
        context["counts"] = {
            "vms": vms.count(),
            "clusters": Cluster.objects.count(),
            "vcenters": VCenter.objects.count(),
        }
    if user_can(request.user, Job, "view"):
        context["recent_jobs"] = Job.objects.select_related("user")[:8]
    return render(request, "core/home.html", context)


def favicon(request):
    """The portal's icon for browsers that ask /favicon.ico (a page without the base layout, the API's
    JSON). Public, as the sign-in page's icon is; a redirect, so that static files keep their caching."""
    return redirect(static("favicon.svg"))


@method_decorator(throttle_login, name="post")
class PortalLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class JobListView(PermissionMixin, ListView):
    model = Job
    paginate_by = 50
    template_name = "core/job_list.html"

    def get_queryset(self):
        return Job.objects.select_related("user")


class JobView(PermissionMixin, DetailView):
    """A job's page. While the job runs it follows the job's live stream (core/job_feed.py) from the
    number read here, before the log: a line committed after it comes by the stream, never twice."""

    model = Job
    template_name = "core/job.html"

    def get_object(self, queryset=None):
        # The number first, then the job: the page may show a newer state than the number, never an older one.
        self.live_seq = sequence.current(Job.live_key_for(self.kwargs["pk"]))
        return super().get_object(queryset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["live_seq"] = self.live_seq
        context["events"] = self.object.events.filter(change__lte=self.live_seq)
        return context


@require_POST
@login_required
def job_cancel(request, pk):
    job = get_object_or_404(Job, pk=pk)
    if not request.user.has_perm("core.cancel_job"):
        raise deny("core.cancel_job", request)
    job.request_cancel()
    AuditEntry.record(request.user, "job.cancel", job)
    return redirect(job)
