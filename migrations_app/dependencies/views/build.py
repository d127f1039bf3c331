"""Building groups from tags, folders or a name pattern: preview first, then create."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from core.access import PermissionMixin

from ...choices import GroupSource
from ...models import DependencyGroup
from .. import builders
from ..actions import MembershipError, do_create_groups
from ..forms import BuildForm

BUILDERS = {"tag": builders.from_tags, "folder": builders.from_folders, "pattern": builders.from_pattern}
SOURCES = {"tag": GroupSource.TAG, "folder": GroupSource.FOLDER, "pattern": GroupSource.PATTERN}


class GroupBuildView(PermissionMixin, View):
    model = DependencyGroup
    permission_action = "add"
    template_name = "migrations_app/groups_build.html"

    def get(self, request):
        by = request.GET.get("by") if request.GET.get("by") in BUILDERS else "tag"
        return self.render(BuildForm(initial={"by": by, "kind": "glob"}), by)

    def post(self, request):
        form = BuildForm(request.POST)
        by = request.POST.get("by") if request.POST.get("by") in BUILDERS else "tag"
        if not form.is_valid():
            return self.render(form, by, status=400)
        try:
            proposals = BUILDERS[by](**form.builder_kwargs())
        except builders.BuildError as exc:
            form.add_error(None, str(exc))
            return self.render(form, by, status=400)
        if request.POST.get("action") != "create":
            return self.render(form, by, proposals=proposals)
        try:
            groups, added = do_create_groups(proposals, acting_user=request.user, source=SOURCES[by])
        except MembershipError as exc:
            form.add_error(None, str(exc))
            return self.render(form, by, proposals=proposals, status=409)
        skipped = sum(p.skipped for p in proposals)
        messages.success(
            request,
            f"{len(groups)} group{'s' if len(groups) != 1 else ''} built or topped up with {added} VMs; "
            f"{skipped} VM{'s' if skipped != 1 else ''} skipped, being in a group already.",
        )
        if len(groups) == 1:
            return redirect(groups[0])
        return redirect(reverse("migrations_app:dependencygroup_list"))

    def render(self, form, by, proposals=None, status=200):
        context = {"form": form, "by": by, "builders": BuildForm.BY, "proposals": proposals}
        if proposals is not None:
            context["totals"] = {
                "groups": sum(1 for p in proposals if p.members),
                "new": sum(1 for p in proposals if p.members and p.existing is None),
                "vms": sum(len(p.members) for p in proposals),
                "skipped": sum(p.skipped for p in proposals),
            }
        return render(self.request, self.template_name, context, status=status)
