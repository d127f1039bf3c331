"""The job that imports a stored dependency upload ("migrations_app.import_dependencies")."""

from core.choices import EventLevel
from core.jobs import JobError, job_handler
from inventory.rvtools.uploads import stored_path

from .importer import import_file
from .problems import DependencyImportError

JOB_KIND = "migrations_app.import_dependencies"


@job_handler(JOB_KIND)
def import_dependencies(job, path: str, filename: str = "", format: str = "") -> dict:
    try:
        upload = stored_path(path)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    if not upload.exists():
        raise JobError(f"The uploaded file {filename} is no longer there; upload it again.")
    job.log(f"Importing {filename or upload.name}")
    try:
        record = import_file(
            upload,
            filename or upload.name,
            format=format or None,
            user=job.user,
            job=job,
            progress=job.set_progress,
            log=job.log,
        )
    except DependencyImportError as exc:
        for line in exc.lines():
            job.log(line, EventLevel.ERROR)
        raise JobError(exc.summary()) from None
    finally:
        # Imported or not, the file is done with: one that cannot be imported never will be.
        upload.unlink(missing_ok=True)
    return record.summary
