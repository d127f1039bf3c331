"""Starting an RVTools import: the one way pages (and later the API) do it."""

from django.db import transaction

from core.choices import AuditAction
from core.models import AuditEntry, Job

from .uploads import store_upload

JOB_KIND = "inventory.import_rvtools"


def start_rvtools_import(uploaded, *, vcenter: str = "", acting_user) -> Job:
    """Store the uploaded export and enqueue its import; the task is sent once this commits."""
    path = store_upload(uploaded)
    try:
        with transaction.atomic():
            job = Job.enqueue(
                JOB_KIND,
                name=f"Import RVTools export {uploaded.name}",  # Django keeps an upload's name to 255 characters: it fits
                user=acting_user,
                params={"path": str(path), "filename": uploaded.name, "vcenter": vcenter},
            )
            AuditEntry.record(
                acting_user, AuditAction.RVTOOLS_IMPORT, job, filename=uploaded.name, size=uploaded.size
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job
