"""Suggested move groups: see them with their reasons, accept one (optionally renamed)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views import View

from core.access import PermissionMixin, user_can

from ...models import DependencyGroup
from ..actions import MembershipError
from ..forms import AcceptSuggestionForm, SuggestionSettingsForm
from ..suggestions import do_accept_suggestion, suggest

PER_PAGE = 20


class SuggestionsView(PermissionMixin, View):
    model = DependencyGroup

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            self.permission_action = "add"
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        form = SuggestionSettingsForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return self.render(form, None, status=400)
        min_seen, ports = form.settings()
        return self.render(form, suggest(min_seen, ports))

    def post(self, request):
        form = AcceptSuggestionForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect(request.get_full_path())
        min_seen, ports = form.settings()
        try:
            group = do_accept_suggestion(
                form.cleaned_data["vms"],
                name=form.cleaned_data["name"],
                min_seen=min_seen,
                ignore_ports=ports,
                acting_user=request.user,
            )
        except MembershipError as exc:
            messages.error(request, str(exc))
            return redirect(request.get_full_path())
        messages.success(
            request, f"Group {group} created from the suggestion with {group.members.count()} VMs."
        )
        return redirect(group)

    def render(self, form, result, status=200):
        page = None
        if result is not None:
            page = Paginator(result.items, PER_PAGE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "result": result,
            "page": page,
            "query": query.urlencode(),
            "can_accept": user_can(self.request.user, DependencyGroup, "add"),
            "ignore_ports_text": ", ".join(str(p) for p in result.ignore_ports) if result else "",
        }
        return render(self.request, "migrations_app/groups_suggestions.html", context, status=status)
