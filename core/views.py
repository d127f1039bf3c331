from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from .access import PermissionMixin, deny
from .choices import AuditAction
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
    model = Job
    template_name = "core/job.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["events"] = self.object.events.all()
        context["last_seq"] = context["events"][len(context["events"]) - 1].seq if context["events"] else 0
        return context


class JobStatusFragmentView(PermissionMixin, View):
    """The live part of a job page: progress and status, plus the events after `?after=<seq>`.

    htmx polls it every second while the job runs; the returned fragment has no trigger once
    the job is terminal, so polling stops by itself.
    """

    model = Job

    def get(self, request, pk):
        job = get_object_or_404(Job, pk=pk)
        try:
            after = int(request.GET.get("after", 0))
        except ValueError:
            after = 0
        events = list(job.events.filter(seq__gt=after))
        last_seq = events[-1].seq if events else after
        return render(
            request, "core/_job_status.html", {"job": job, "new_events": events, "last_seq": last_seq, "poll": True}
        )


@require_POST
@login_required
def job_cancel(request, pk):
    job = get_object_or_404(Job, pk=pk)
    if not request.user.has_perm("core.cancel_job"):
        raise deny("core.cancel_job", request)
    job.request_cancel()
    AuditEntry.record(request.user, AuditAction.JOB_CANCEL, job)
    return redirect(job)
