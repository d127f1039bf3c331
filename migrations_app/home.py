"""The home page: what needs doing per kind of work (todo.py), the estate in figures, the latest jobs,
or the programme dashboard. It shows every app, so it lives in the highest one (URL `home`, /)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.access import user_can
from core.models import Job
from inventory.models import Cluster, VCenter, VirtualMachine
from migrations_app.models import Wave
from migrations_app.reports.views import DashboardView
from migrations_app.todo import engineer_lists, planner_lists


@login_required
def home(request):
    """What needs doing, per kind of work the person may do (todo.py), then the estate
    in figures and the latest jobs. Someone with nothing to do but read (a stakeholder) lands on the
    programme dashboard instead."""
    engineer, planner = engineer_lists(request.user), planner_lists(request.user)
    if not engineer and not planner and user_can(request.user, Wave, "view"):
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
    return render(request, "migrations_app/home.html", context)
