"""The job that imports a stored RVTools upload ("inventory.import_rvtools")."""

from core.choices import EventLevel
from core.jobs import JobError, job_handler

from .importer import import_export
from .problems import RVToolsError
from .uploads import stored_path


@job_handler("inventory.import_rvtools")
def import_rvtools(job, path: str, filename: str = "", vcenter: str = "") -> dict:
    try:
        upload = stored_path(path)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    if not upload.exists():
        raise JobError(f"The uploaded file {filename} is no longer there; upload it again.")
    job.log(f"Importing {filename or upload.name}")
    try:
        summary = import_export(
            upload,
            filename or upload.name,
            vcenter=vcenter,
            progress=job.set_progress,
            log=job.log,
            check_cancelled=job.check_cancelled,
        )
    except RVToolsError as exc:
        for line in exc.lines():
            job.log(line, EventLevel.ERROR)
        raise JobError(exc.summary(limit=5)) from None
    finally:
        # Imported or not, the file is done with: one that cannot be imported never will be.
        upload.unlink(missing_ok=True)
    return summary
