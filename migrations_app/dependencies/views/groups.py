"""Group pages: list, one group (its VMs, its connections to outside, its graph), add/edit/delete,
and adding or removing VMs."""

from django.contrib import messages
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.urls import reverse, reverse_lazy
from django.views import View
from django_tables2 import RequestConfig

from core.access import PermissionMixin, user_can
from core.generic_views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from inventory.tables import PAGINATION

from ...models import DependencyGroup, GroupMember
from .. import querysets, svg
from ..actions import MembershipError, do_add_members, do_delete_group, do_remove_members, do_save_group
from ..filtersets import DependencyGroupFilterSet
from ..forms import AddMembersForm, DependencyGroupForm, RemoveMembersForm
from ..graph import GraphFilter, build
from ..tables import DependencyGroupTable, DependencyTable, GroupMemberTable, endpoint_html

OUTSIDE_LISTED = 10


class GroupListView(ObjectListView):
    queryset = querysets.groups()
    filterset_class = DependencyGroupFilterSet
    table_class = DependencyGroupTable
    template_name = "migrations_app/groups_list.html"
    table_pagination = PAGINATION
    count_noun = ("group", "groups")
    main_filters = ["q", "source", "risk", "vm"]


def outside_summary(group, outgoing) -> dict:
    """What the group depends on outside itself: how many distinct things, and the first few by name
    (external endpoints first: they stay behind)."""
    from ...models import Endpoint

    outside = Endpoint.objects.filter(pk__in=outgoing.values("destination_id"))
    listed = list(
        outside.select_related("vm__group_membership__group").order_by(
            F("vm_id").asc(nulls_first=True), "name", "ip", "pk"
        )[:OUTSIDE_LISTED]
    )
    count = outside.count()
    return {
        "count": count,
        "external": outside.filter(vm__isnull=True).count() if count else 0,
        "listed": [endpoint_html(e) for e in listed],
        "more": max(0, count - len(listed)),
    }


class GroupView(ObjectDetailView):
    model = DependencyGroup
    queryset = querysets.groups()
    template_name = "migrations_app/groups_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        group = self.object
        members = GroupMemberTable(querysets.members().filter(group=group), prefix="vm-")
        if not user_can(self.request.user, GroupMember, "delete"):
            members.columns.hide("select")
        outgoing, incoming = querysets.crossing(group)
        out_table = DependencyTable(outgoing, prefix="out-")
        in_table = DependencyTable(incoming, prefix="in-")
        for table in (members, out_table, in_table):
            RequestConfig(self.request, paginate=PAGINATION).configure(table)
        graph = build(GraphFilter(groups=[group.pk]))
        context.update(
            member_table=members,
            out_table=out_table,
            in_table=in_table,
            outside=outside_summary(group, outgoing),
            graph_svg=svg.render(graph, highlight_group=group.pk),
            graph_legend=svg.legend(graph),
            graph=graph,
            add_form=AddMembersForm(),
        )
        return context


class GroupEditView(ObjectEditView):
    model = DependencyGroup
    form_class = DependencyGroupForm
    template_name = "migrations_app/groups_edit.html"

    def save(self, form):
        group = do_save_group(
            form.save(commit=False), acting_user=self.request.user, changed=form.changed_data
        )
        messages.success(self.request, f"Group {group} saved.")
        return redirect(group)


class GroupDeleteView(ObjectDeleteView):
    model = DependencyGroup
    queryset = querysets.groups()
    what = "group"
    success_url = reverse_lazy("migrations_app:dependencygroup_list")

    def consequence(self, group):
        return (
            f"Its {group.vm_count} VM{pluralize(group.vm_count)} become ungrouped; the VMs, their connections and "
            "any wave they are in stay as they are."
        )

    def delete(self, group):
        name = str(group)
        do_delete_group(group, acting_user=self.request.user)
        return f"Group {name} deleted; its VMs are ungrouped, nothing else changed."


class GroupMembersView(PermissionMixin, View):
    """POST only: `action=add` (VM names, optionally moving them from other groups) or `action=remove`."""

    model = GroupMember
    permission_action = "add"

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and request.POST.get("action") == "remove":
            self.permission_action = "delete"
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return redirect(reverse("migrations_app:dependencygroup", args=[pk]))

    def post(self, request, pk):
        group = get_object_or_404(DependencyGroup, pk=pk)
        if request.POST.get("action") == "remove":
            form = RemoveMembersForm(request.POST, group=group)
            if form.is_valid():
                count = do_remove_members(group, form.cleaned_data["select"], acting_user=request.user)
                messages.success(request, f"Removed {count} VM{'s' if count != 1 else ''} from {group}.")
            else:
                messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect(group)
        form = AddMembersForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect(group)
        try:
            result = do_add_members(
                group,
                form.cleaned_data["vms"],
                acting_user=request.user,
                move=form.cleaned_data["move"],
                reason=form.cleaned_data["reason"],
            )
        except MembershipError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, result.message(group))
        return redirect(group)
