"""Uploaded exports: stored under MEDIA_ROOT/uploads/ with a random name, read only by the import job.

The folder is never served (no MEDIA_URL route) and nothing in it is executed; the random
name keeps only the extension, so a user's file name never reaches the file system.
"""

import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".xlsx", ".zip", ".csv")


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads"


def extension(filename: str) -> str:
    return os.path.splitext(filename or "")[1].lower()


def store_upload(uploaded) -> Path:
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{extension(uploaded.name)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return path


def stored_path(path: str) -> Path:
    """The stored upload a job names, refused if it points anywhere but the uploads folder."""
    resolved = Path(path).resolve()
    if resolved.parent != upload_dir().resolve():
        raise ValueError(f"{path} is not a stored upload")
    return resolved


def remove_stale_uploads(now: float | None = None) -> list[str]:
    """Remove the uploads older than UPLOAD_RETENTION_HOURS that no waiting or running job names: the
    import jobs remove theirs when they end, but a worker that dies, or a job that never ran, leaves
    its file behind. Returns the names removed."""
    from core.choices import JobStatus
    from core.models import Job

    folder = upload_dir()
    if not folder.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - settings.UPLOAD_RETENTION_HOURS * 3600
    in_use = {
        Path(p).name
        for p in Job.objects.filter(status__in=JobStatus.ACTIVE, params__has_key="path").values_list(
            "params__path", flat=True
        )
        if p
    }
    removed = []
    for path in folder.iterdir():
        try:
            if path.is_file() and path.name not in in_use and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:
            continue  # its job removed it meanwhile
    if removed:
        logger.info(
            "removed %d upload(s) older than %g hours: %s",
            len(removed),
            settings.UPLOAD_RETENTION_HOURS,
            removed,
        )
    return removed
