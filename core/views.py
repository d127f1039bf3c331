from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import get_object_or_404, redirect
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from .access import PermissionMixin, deny
from .choices import AuditAction
from .live import sequence
from .models import AuditEntry, Job
from .throttling import throttle_login


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
    AuditEntry.record(request.user, AuditAction.JOB_CANCEL, job)
    return redirect(job)
