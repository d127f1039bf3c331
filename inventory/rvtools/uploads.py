"""Uploaded exports: stored under MEDIA_ROOT/uploads/ with a random name, read only by the import job.

The folder is never served (no MEDIA_URL route) and nothing in it is executed; the random
name keeps only the extension, so a user's file name never reaches the file system.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings

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
