from core.exports import download
from core.generic_views import ObjectListView
from core.models import AuditEntry

from .filtersets import AuditEntryFilterSet
from .tables import PER_PAGE, AuditEntryTable, detail_text

EXPORT_COLUMNS = ["When (UTC)", "Who", "Action", "Object type", "Object id", "Object", "Detail"]
EXPORT_MAX_ROWS = 100_000  # a bounded file; narrow the filter for more


def queryset():
    return AuditEntry.objects.select_related("user", "object_type")


class AuditLogView(ObjectListView):
    """The audit log, filtered in the URL and paged in the database; `?export=csv|xlsx` downloads what
    the filter shows (every page)."""

    model = AuditEntry
    filterset_class = AuditEntryFilterSet
    table_class = AuditEntryTable
    table_pagination = {"per_page": PER_PAGE}
    template_name = "core/audit_list.html"

    def get_queryset(self):
        return queryset()

    def render_to_response(self, context, **kwargs):
        fmt = self.request.GET.get("export")
        if fmt:
            entries = self.filterset.qs.order_by("-created", "-id")[:EXPORT_MAX_ROWS]
            rows = (
                [
                    e.created,
                    e.user.username if e.user else "",
                    e.action,
                    f"{e.object_type.app_label}.{e.object_type.model}" if e.object_type else "",
                    e.object_id or "",
                    e.object_repr,
                    detail_text(e.detail),
                ]
                for e in entries.iterator(chunk_size=2000)
            )
            return download(fmt, "audit-log", EXPORT_COLUMNS, rows, sheet_name="Audit log")
        return super().render_to_response(context, **kwargs)
