"""The set-up page's checklist, live: the SetupFeed it follows (core/live).

The plan's stream ("hcx.hcxplan:<pk>") is numbered by what changes the checklist: a step's record
(runner.record), a trusted certificate or a saved connection (actions.py), and a job on the plan
starting or ending (core Job). Each message is the checklist again, for the page to swap in.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from core.access import user_can
from core.live import sequence
from core.live.stream import Feed
from hcx.models import HcxPlan, HcxSetupStep


class SetupFeed(Feed):
    def __init__(self, plan: HcxPlan, user, csrf_token: str):
        self.plan, self.user, self.csrf_token = plan, user, csrf_token
        self.key = sequence.key_for(plan)

    @classmethod
    def open(cls, request, pk: int) -> "SetupFeed":
        if not user_can(request.user, HcxSetupStep, "view"):
            raise PermissionDenied("You may not see HCX set-up.")
        plan = HcxPlan.objects.filter(pk=pk).select_related("vcenter", "connection").first()
        if plan is None:
            raise Http404("No such plan.")
        # The checklist holds the Run and Trust forms: it is rendered here, outside a request.
        return cls(plan, request.user, get_token(request))

    def changes(self, since: int, upto: int) -> dict:
        from .views import checklist_context

        self.plan = HcxPlan.objects.select_related("vcenter", "connection").get(pk=self.plan.pk)
        context = {
            **checklist_context(self.user, self.plan),
            "user": self.user,
            "csrf_token": self.csrf_token,
        }
        return {"replace": {"setup-checklist": render_to_string("hcx/_setup_checklist.html", context)}}
