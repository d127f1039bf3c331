"""The on-premises copy an HCX Bulk migration leaves behind, recognised when vCenter is read again.

After a Bulk switchover HCX keeps the source VM, powered off, renamed with a POSIX-timestamp suffix and
moved to the "Migrated VMs" folder (VMware HCX User Guide; hcx-wire.md §6, "Reverse migrations"). It is
the same VM to vCenter (same moref, same instance UUID), so a plain rediscovery would rename the
portal's record to `app-1-1733600000` and offer it to plan again. `recognise()` spots such a row before
it is written: the record keeps its name and folder, which now stand for the VM in AVS (the name HCX
kept there, which a rollback looks up), and `migrated_copy_name` says the copy left on-premises is
called that. Planning leaves such VMs out (they are in AVS already).
"""

import re

from .models import VirtualMachine

MIGRATED_FOLDER = "Migrated VMs"
# name-1733600000 or name_1733600000: seconds since 1970 (9 to 10 digits), or milliseconds (13).
COPY_NAME = re.compile(r"^(?P<original>.+?)[-_](?:\d{9,10}|\d{13})$")


def original_name(name: str, folder: str) -> str | None:
    """The name the VM had before HCX renamed it, when `name` and `folder` are those of a Bulk copy."""
    leaf = (folder or "").rstrip("/").rsplit("/", 1)[-1]
    found = COPY_NAME.match(name or "")
    return found.group("original") if found and leaf == MIGRATED_FOLDER else None


def recognise(vcenter, rows: list[dict]) -> list[dict]:
    """The VM rows of a reading of `vcenter`, with each Bulk copy of a known VM kept under that VM's
    name and folder and flagged by `migrated_copy_name`; every other row clears the flag."""
    copies = {
        row["moid"]: original
        for row in rows
        if (original := original_name(row.get("name"), row.get("folder")))
    }
    stored = {}
    if copies:
        stored = {
            moid: (name, folder, uuid, copy)
            for moid, name, folder, uuid, copy in VirtualMachine.objects.filter(
                vcenter=vcenter, moid__in=list(copies)
            ).values_list("moid", "name", "folder", "instance_uuid", "migrated_copy_name")
        }
    out = []
    for row in rows:
        original = copies.get(row["moid"])
        flagged = {**row, "migrated_copy_name": ""}
        if original is not None:
            name, folder, uuid, copy = stored.get(row["moid"], (None, "", "", ""))
            same_vm = not (uuid and row.get("instance_uuid") and uuid != row["instance_uuid"])
            if name is None or (same_vm and name == row["name"]):
                # First seen as a copy: recorded under the name it has in AVS.
                flagged.update(name=original, migrated_copy_name=row["name"])
            elif same_vm and (name == original or copy == row["name"]):
                # The record stays the migrated VM's, under its own name and folder.
                flagged.update(name=name, folder=folder, migrated_copy_name=row["name"])
        out.append(flagged)
    return out
