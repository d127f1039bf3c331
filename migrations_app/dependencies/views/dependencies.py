"""Dependency data pages: the connection list, the upload, past imports, the estate graph."""

from django.conf import settings
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from core.access import PermissionMixin
from core.generic_views import ObjectListView
from inventory.tables import PAGINATION

from ...models import Dependency, DependencyImport
from .. import querysets, svg
from ..actions import start_dependency_import
from ..filtersets import DependencyFilterSet, DependencyImportFilterSet
from ..forms import DependencyUploadForm, GraphFilterForm
from ..graph import GraphFilter, build
from ..tables import DependencyImportTable, DependencyTable


class DependencyListView(ObjectListView):
    queryset = querysets.dependencies()
    filterset_class = DependencyFilterSet
    table_class = DependencyTable
    template_name = "migrations_app/dependencies_list.html"
    table_pagination = PAGINATION
    count_noun = ("connection", "connections")
    main_filters = ["q", "vm", "group", "external", "port", "min_seen"]
    link_filters = ["vm_id", "group_id", "source_vm_id", "destination_vm_id", "import_id"]


class DependencyImportView(PermissionMixin, FormView):
    model = DependencyImport
    permission_action = "import_dependencies"
    form_class = DependencyUploadForm
    template_name = "migrations_app/dependencies_import.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            max_upload_mb=settings.DEPENDENCIES["MAX_UPLOAD_MB"],
            max_rows=f"{settings.DEPENDENCY_IMPORT_MAX_ROWS:,}",
            **kwargs,
        )

    def form_valid(self, form):
        job = start_dependency_import(
            form.cleaned_data["file"],
            acting_user=self.request.user,
            format=form.cleaned_data.get("format") or "",
        )
        return redirect(job)


class DependencyImportListView(ObjectListView):
    model = DependencyImport
    queryset = querysets.imports()
    filterset_class = DependencyImportFilterSet
    table_class = DependencyImportTable
    table_pagination = PAGINATION
    template_name = "migrations_app/dependencies_imports.html"


class DependencyGraphView(PermissionMixin, TemplateView):
    """The estate's graph (or some groups'), cut to a node limit with a message saying so."""

    model = Dependency
    template_name = "migrations_app/dependencies_graph.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = GraphFilterForm(self.request.GET or None)
        # Unfiltered, DNS and AD tie every server to a few hubs; hide them until asked otherwise.
        flt = GraphFilter(ignore_ports=tuple(settings.DEPENDENCIES["INFRASTRUCTURE_PORTS"]))
        if form.is_bound:
            if form.is_valid():
                data = form.cleaned_data
                flt = GraphFilter(
                    groups=[g.pk for g in data["group"]],
                    externals=not data["hide_externals"],
                    min_seen=data["min_seen"] or 1,
                    ignore_ports=data["ignore_ports"],
                )
            else:
                context.update(form=form, graph=None)
                return context
        graph = build(flt)
        context.update(
            form=form,
            graph=graph,
            graph_svg=svg.render(graph),
            graph_legend=svg.legend(graph),
            max_nodes=settings.DEPENDENCIES["GRAPH_MAX_NODES"],
            query=self.request.GET.urlencode(),
        )
        return context
