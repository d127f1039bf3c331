"""A job's page, live: the JobFeed its page (and the HCX set-up page's job panel) follows (core/live).

Each message replaces the status panel and appends the log lines written after the page's last
number; it is `done` once the job has ended.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from .access import user_can
from .live.stream import Feed
from .models import Job


class JobFeed(Feed):
    def __init__(self, job: Job, user, csrf_token: str):
        self.job, self.user, self.csrf_token = job, user, csrf_token
        self.key = job.live_key

    @classmethod
    def open(cls, request, pk: int) -> "JobFeed":
        if not user_can(request.user, Job, "view"):
            raise PermissionDenied("You may not see jobs.")
        job = Job.objects.filter(pk=pk).first()
        if job is None:
            raise Http404("No such job.")
        # The status panel holds the cancel form: it is rendered here, outside a request.
        return cls(job, request.user, get_token(request))

    def changes(self, since: int, upto: int) -> dict:
        from django.contrib.auth.context_processors import PermWrapper

        self.job.refresh_from_db()
        events = list(self.job.events.filter(change__gt=since, change__lte=upto))
        context = {
            "job": self.job,
            "user": self.user,
            "perms": PermWrapper(self.user),
            "csrf_token": self.csrf_token,
        }
        body = {"replace": {"job-status": render_to_string("core/_job_status.html", context)}}
        if events:
            body["append"] = {
                "job-events": "".join(
                    render_to_string("core/_job_event.html", {**context, "event": event}) for event in events
                )
            }
        return body

    def finished(self) -> bool:
        return self.job.is_terminal
