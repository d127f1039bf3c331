"""The OVA folder (settings.HCX_OVA_DIR): the only place a Connector deployment reads an OVA from.

Pages, the API and the command name an OVA by its file name in the folder. A name or path that
leads anywhere else (`../x.ova`, `/etc/x.ova`, a symlink out of the folder) is refused, so that
nobody can make the worker read an arbitrary file of the server. Uploads land here too
(`store_upload`), checked as OVF packages before they get their final name; nothing in the
folder is ever executed, only read as a tar archive.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename

from core.jobs import JobError

from .ova import OvfPackage, open_package
from .spec import check_connector_package as check_is_connector

SUFFIX = ".ova"
MAX_NAME_LENGTH = 150
# Uploads in progress: hidden, and without the .ova suffix, so that no list or deployment sees them.
PARTIAL_PREFIX = ".upload-"


class OvaRefused(JobError):
    """A name or file that may not be used as the Connector OVA; the message says why."""


@dataclass(frozen=True)
class StoredOva:
    name: str
    size: int

    @property
    def size_mb(self) -> float:
        return self.size / 2**20


def folder() -> Path:
    return Path(settings.HCX_OVA_DIR).resolve()


def max_upload_bytes() -> int:
    return settings.HCX_OVA_MAX_MB * 1024 * 1024


def list_ovas() -> list[StoredOva]:
    """The .ova files in the folder, by name; an absent folder is an empty one."""
    base = folder()
    if not base.is_dir():
        return []
    found = []
    for entry in base.iterdir():
        if entry.name.startswith(".") or entry.suffix.lower() != SUFFIX:
            continue
        try:
            resolved = entry.resolve()
            if resolved.parent != base or not resolved.is_file():
                continue  # a symlink out of the folder is not offered
            found.append(StoredOva(entry.name, resolved.stat().st_size))
        except OSError:
            continue
    return sorted(found, key=lambda o: o.name.lower())


def resolve_ova(name: str) -> Path:
    """The path of OVA `name` (a file name in the folder, or a path that resolves into it)."""
    base = folder()
    name = (name or "").strip()
    if not name:
        raise OvaRefused("No OVA chosen: pick one from the OVA folder or upload one.")
    if len(name) > 1000 or any(ord(c) < 32 for c in name):
        raise OvaRefused("That is not the name of a file in the OVA folder.")
    candidate = Path(name)
    try:
        path = (candidate if candidate.is_absolute() else base / candidate).resolve()
        is_file = path.is_file()
    except (OSError, ValueError):
        raise OvaRefused("That is not the name of a file in the OVA folder.") from None
    if path.parent != base:
        raise OvaRefused(
            f"{name} is outside the OVA folder {base}: the Connector is deployed only from an OVA in that "
            "folder. Upload it on the deploy page or copy it there."
        )
    if path.name.startswith(".") or path.suffix.lower() != SUFFIX:
        raise OvaRefused(f"{path.name} is not an .ova file in the OVA folder.")
    if not is_file:
        names = ", ".join(o.name for o in list_ovas()) or "none"
        raise OvaRefused(f"There is no OVA named {path.name} in {base}; the folder holds: {names}.")
    return path


def check_connector_package(path: Path, shown_name: str) -> OvfPackage:
    """Open the package and make sure it is an HCX Connector OVA, naming the upload in messages."""
    try:
        package = open_package(path)
        check_is_connector(package)
    except JobError as exc:
        raise OvaRefused(str(exc).replace(path.name, shown_name)) from None
    return package


def clean_upload_name(name: str) -> str:
    """A safe file name for an upload: no folders, only letters, digits, - _ and ., ending in .ova."""
    base = os.path.basename((name or "").replace("\\", "/"))
    try:
        clean = get_valid_filename(base)
    except SuspiciousFileOperation:
        clean = ""
    if not clean or clean.startswith(".") or not clean.lower().endswith(SUFFIX):
        raise OvaRefused(f"{base or 'The file'} is not named like an OVA: upload a file ending in .ova.")
    if len(clean) > MAX_NAME_LENGTH:
        clean = clean[: MAX_NAME_LENGTH - len(SUFFIX)] + SUFFIX
    return clean


def store_upload(partial: Path, original_name: str) -> StoredOva:
    """Give a completely received upload its final name, once it has proved to be a Connector OVA.

    The partial file is removed whatever happens; an OVA of the same name is never overwritten
    (a deployment may be reading it)."""
    try:
        name = clean_upload_name(original_name)
        check_connector_package(partial, name)
        final = folder() / name
        try:
            os.link(partial, final)  # fails, rather than replaces, when the name is taken
        except FileExistsError:
            raise OvaRefused(
                f"An OVA named {name} is already in the folder: choose it from the list, or rename the file "
                "before uploading it."
            ) from None
        return StoredOva(name, final.stat().st_size)
    finally:
        partial.unlink(missing_ok=True)
