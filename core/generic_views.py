"""One way to write a page: a list, an add/change form and a delete confirmation per model.

As in NetBox (netbox/views/generic/: one generic view per action, not a page written per model), a
page names its model, queryset, FilterSet, table, form and template; what differs (the action
function that saves or deletes, its messages, what a delete takes with it) goes in a few small methods. Every view checks its permission
through `PermissionMixin` (core/access.py) before anything else.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .access import PermissionMixin

TABLE_TARGET = "object-table"  # the id an htmx request aims at to get the table alone


def style_filter_form(form):
    """Bootstrap's small controls on a filter form (a select for choices, a text box otherwise)."""
    for field in form.fields.values():
        widget = field.widget
        css = "form-select form-select-sm" if hasattr(widget, "choices") else "form-control form-control-sm"
        widget.attrs.setdefault("class", css)
    return form


class ObjectListView(PermissionMixin, SingleTableMixin, FilterView):
    """A filter form, a count and a table, paginated in the database; an htmx request aimed at the
    table (`TABLE_TARGET`) gets `partial_template_name` alone."""

    partial_template_name = "generic/_object_table.html"
    # What the count says: "12 groups" (default: the model's verbose names).
    count_noun: tuple[str, str] | None = None
    # The filters to show first; the others fold away under "More filters" (templates that use them).
    main_filters: list[str] = ["q"]
    # Filters that links from other pages set (by id): kept as hidden inputs, never typed in.
    link_filters: list[str] = []
    # Filters the API has but this page does not show (a page that is one wave's has no wave filter).
    omit_filters: tuple[str, ...] = ()

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        # Always bound, so that defaults such as "hide vanished VMs" apply without parameters.
        kwargs["data"] = self.request.GET
        return kwargs

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        for name in self.omit_filters:
            filterset.form.fields.pop(name, None)
        style_filter_form(filterset.form)
        return filterset

    def get_template_names(self):
        htmx = getattr(self.request, "htmx", False)
        if self.partial_template_name and htmx and htmx.target == TABLE_TARGET:
            return [self.partial_template_name]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        table = context["table"]
        fields = list(self.filterset.form)
        more_fields = [f for f in fields if f.name not in self.main_filters + self.link_filters]
        opts = self.filterset.queryset.model._meta
        singular, plural = self.count_noun or (opts.verbose_name, opts.verbose_name_plural)
        context.update(
            opts=opts,
            count_noun=singular,
            count_noun_plural=plural,
            table_target=TABLE_TARGET,
            main_fields=[f for f in fields if f.name in self.main_filters],
            more_fields=more_fields,
            link_fields=[f for f in fields if f.name in self.link_filters and self.request.GET.get(f.name)],
            more_open=any(self.request.GET.get(f.name) for f in more_fields),
            filtered=any(v for k, v in self.request.GET.items() if k in self.filterset.form.fields),
            total=table.paginator.count if hasattr(table, "paginator") else len(table.rows),
        )
        return context


class ObjectDetailView(PermissionMixin, DetailView):
    """One object's page: its queryset (a missing object is a 404), its template, and what else it shows
    from `get_context_data`."""


class ObjectEditView(PermissionMixin, View):
    """Add an object (no `pk` in the URL: needs the add permission) or change one (needs change).

    Subclasses set `model`, `form_class` and `template_name`, and write `save(form)`: it calls the
    action function and returns the response (a redirect, with its message). An error it raises that
    is listed in `form_errors` shows above the form, with that status.
    """

    queryset = None
    form_class = None
    template_name: str
    form_errors: dict[type[Exception], int] = {}
    invalid_status = 400  # a form with errors, shown again

    @property
    def permission_action(self):
        return "change" if "pk" in self.kwargs else "add"

    def get_object(self):
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(
            self.queryset if self.queryset is not None else self.model.objects.all(), pk=self.kwargs["pk"]
        )

    def get_initial(self):
        return None

    def get_form(self, data=None):
        return self.form_class(
            data, instance=self.object, initial=None if data is not None else self.get_initial()
        )

    def is_valid(self, form) -> bool:
        return form.is_valid()

    def refuse(self, obj):
        """A response instead of the form (an object that cannot be changed now), or None."""
        return None

    def save(self, form):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = {"object": self.object, "view": self}
        if self.object is not None:
            context[self.object._meta.model_name] = self.object
        return context | kwargs

    def render(self, form, status=200):
        return render(self.request, self.template_name, self.get_context_data(form=form), status=status)

    def get(self, request, **kwargs):
        self.object = self.get_object()
        return self.refuse(self.object) or self.render(self.get_form())

    def post(self, request, **kwargs):
        self.object = self.get_object()
        form = self.get_form(request.POST)
        if not self.is_valid(form):
            return self.render(form, status=self.invalid_status)
        try:
            return self.save(form)
        except tuple(self.form_errors) as error:
            form.add_error(None, str(error))
            status = next(code for kind, code in self.form_errors.items() if isinstance(error, kind))
            return self.render(form, status=status)


class ObjectDeleteView(PermissionMixin, View):
    """ "Delete X?": one page for every model, saying what goes with it (`consequence`) or, when
    something protects it (`protected_by`), why it cannot go; POST deletes through `delete()`.

    `delete(obj)` calls the action function and returns the success message; an error of a kind in
    `refusals` goes back to the object's page as an error message instead.
    """

    permission_action = "delete"
    template_name = "generic/object_delete.html"
    queryset = None
    what: str  # "wave", "HCX plan": the title says "Delete the wave Pilot?"
    success_url: str
    refusals: tuple[type[Exception], ...] = ()

    def get_object(self):
        queryset = self.queryset if self.queryset is not None else self.model.objects.all()
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def consequence(self, obj) -> str:
        """What goes with the object, and what stays."""
        raise NotImplementedError

    def protected_by(self, obj) -> str | None:
        """Why the object cannot be deleted now, or None."""
        return None

    def cancel_url(self, obj) -> str:
        return obj.get_absolute_url()

    def delete(self, obj) -> str:
        raise NotImplementedError

    def get(self, request, **kwargs):
        obj = self.get_object()
        context = {
            "object": obj,
            "what": self.what,
            "protected_by": self.protected_by(obj),
            "consequence": self.consequence(obj),
            "cancel_url": self.cancel_url(obj),
        }
        return render(request, self.template_name, context)

    def post(self, request, **kwargs):
        obj = self.get_object()
        try:
            message = self.delete(obj)
        except self.refusals as error:
            messages.error(request, str(error))
            return redirect(obj)
        messages.success(request, message)
        return redirect(self.success_url)
