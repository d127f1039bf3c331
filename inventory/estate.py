"""The one writer of a vCenter's estate: discovery, RVTools imports and the demo all store through it.

A source describes what it found as an `Estate`: plain rows per kind of object, whose links to
other objects are given the way the source knows them, by managed-object id or by name
(`cluster_moid`, `host_name`, `datastore_name`, `vm_moid`...). `write_estate` writes the rows
in dependency order with `inventory.sync.sync_rows`, turns those links into primary keys in one
place, and returns what changed per kind. Writing the same estate twice writes nothing.

The sources differ in what an absence means; `WriteOptions` holds those differences, and
`DISCOVERY`, `RVTOOLS` and `DEMO` say which each source uses and why.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.db import models, transaction

from .choices import SourceKind
from .migrated_copies import recognise as recognise_migrated_copies
from .models import (
    CdRom,
    Cluster,
    Datastore,
    Host,
    Network,
    Snapshot,
    Tag,
    VCenter,
    VirtualDisk,
    VirtualMachine,
    VirtualNic,
)
from .sync import SyncResult, sync_rows


@dataclass
class Estate:
    """What a source says about one vCenter, as rows for sync_rows plus links to resolve.

    A section left as None was not read (an RVTools export without that sheet): the stored rows
    of that kind stay as they are, and links to them resolve against what is stored. An empty
    list means the source saw none, and the stored ones go (VMs are marked vanished instead).
    """

    clusters: list | None = None
    hosts: list | None = None  # may link "cluster_moid" or "cluster_name"
    datastores: list | None = None
    networks: list | None = None
    vms: list = field(default_factory=list)  # may link "cluster_*" and "host_*"
    disks: list | None = None  # each links "vm_moid"; may link "datastore_*"
    nics: list | None = None  # each links "vm_moid"; "network_name" is stored and linked
    cdroms: list | None = None  # each links "vm_moid"
    snapshots: list | None = None  # each links "vm_moid"
    tags: list | None = None  # (VM moid, tag name) pairs


@dataclass(frozen=True)
class WriteOptions:
    """How a source's silence is read: the real differences between discovery, RVTools and the demo."""

    origin: str  # SourceKind stamped on every VM written
    keep_vanished_networks: bool = False
    keep_parts_of_vanished_vms: bool = False
    recognise_migrated_copies: bool = False  # migrated_copies.py: HCX Bulk's renamed source VMs


# Discovery sees all of vCenter. A network gone from it is kept because network mappings planned
# against it must not vanish with it; a VM gone from it keeps its last known disks and NICs, which
# readiness and planning still show.
# A Bulk-migrated VM's renamed copy is the migrated VM's old self, not a new VM.
DISCOVERY = WriteOptions(
    SourceKind.DISCOVERY,
    keep_vanished_networks=True,
    keep_parts_of_vanished_vms=True,
    recognise_migrated_copies=True,
)
# An export is a full picture of each sheet it holds (sheets it lacks are None in the Estate).
RVTOOLS = WriteOptions(SourceKind.RVTOOLS)
DEMO = WriteOptions(SourceKind.DEMO)

# In the order they are written: every kind is written after the kinds it links to.
SECTIONS = (
    "clusters",
    "hosts",
    "datastores",
    "networks",
    "vms",
    "disks",
    "nics",
    "cdroms",
    "snapshots",
    "tags",
)
MODELS = {
    "clusters": Cluster,
    "hosts": Host,
    "datastores": Datastore,
    "networks": Network,
    "vms": VirtualMachine,
    "disks": VirtualDisk,
    "nics": VirtualNic,
    "cdroms": CdRom,
    "snapshots": Snapshot,
}
KEYS = {"networks": ("name",), "snapshots": ("vm_id", "name", "created_at")}  # others: moid, or (vm, label)
PARTS = ("disks", "nics", "cdroms", "snapshots")
PER_DATACENTER = "clusters"  # cluster names are unique per datacenter only
LINKED = {
    "cluster": "clusters",
    "host": "hosts",
    "datastore": "datastores",
    "network": "networks",
    "vm": "vms",
}


def write_estate(
    vcenter: VCenter,
    estate: Estate,
    *,
    options: WriteOptions,
    on_written: Callable[[str, SyncResult | None], None] | None = None,
) -> dict[str, SyncResult]:
    """Make `vcenter`'s inventory what `estate` says, in one transaction; returns the written kinds.

    `on_written(section, result)` is called after each section, with None for a section left as
    stored, so that a caller can report progress. A link to a row that is not there is stored as
    no link; a part whose VM is not in the estate is refused before anything is kept.
    """
    on_written = on_written or (lambda section, result: None)
    links = _Links(vcenter)
    results: dict[str, SyncResult] = {}
    # savepoint=False: callers wrap their vCenter row changes and this in one transaction already,
    # and a failure here must undo those too, not just our part
    with transaction.atomic(savepoint=False):
        for section in SECTIONS:
            rows = getattr(estate, section)
            if rows is None:
                on_written(section, None)
                continue
            if section == "tags":
                results["tags"], results["vm_tags"] = _write_tags(vcenter, rows, links, options)
                on_written("tags", results["vm_tags"])
                continue
            if section == "vms" and options.recognise_migrated_copies:
                rows = recognise_migrated_copies(vcenter, rows)
            result = _write_section(vcenter, section, rows, links, options)
            links.written(section, rows, result)
            results[section] = result
            on_written(section, result)
    return results


def _write_section(vcenter, section, rows, links, options) -> SyncResult:
    model = MODELS[section]
    if section in PARTS:
        scope = {"vm__vcenter": vcenter}
        if options.keep_parts_of_vanished_vms:
            # the VMs are written first, so the vanished ones are marked by now and out of scope
            scope["vm__removed__isnull"] = True
        key = KEYS.get(section, ("vm_id", "label"))
        return sync_rows(model, scope, key, [links.resolve(model, section, row) for row in rows])
    own, missing = {"vcenter_id": vcenter.pk}, "delete"
    if section == "vms":
        # planning data hangs on VMs: a vanished one is marked, never deleted, and one seen again
        # is no longer vanished, whoever saw it
        own.update(origin=options.origin, removed=None)
        missing = "mark"
    elif section == "networks" and options.keep_vanished_networks:
        missing = "keep"
    rows = [{**links.resolve(model, section, row), **own} for row in rows]
    return sync_rows(model, {"vcenter": vcenter}, KEYS.get(section, ("moid",)), rows, missing=missing)


def _write_tags(vcenter, pairs, links, options) -> tuple[SyncResult, SyncResult]:
    names = sorted({name for _, name in pairs})
    # tags are shared by all vCenters: create the new names, never remove one another vCenter may use
    tags = sync_rows(Tag, {"name__in": names}, ("name",), [{"name": n} for n in names], missing="keep")
    scope = {"virtualmachine__vcenter": vcenter}
    if options.keep_parts_of_vanished_vms:
        scope["virtualmachine__removed__isnull"] = True
    rows = [
        {"virtualmachine_id": links.find("tags", "vm", "moid", vm), "tag_id": tags.pks[(name,)]}
        for vm, name in pairs
    ]
    return tags, sync_rows(VirtualMachine.tags.through, scope, ("virtualmachine_id", "tag_id"), rows)


class _Index:
    """Primary keys of one kind of row in the vCenter, by managed-object id and by name."""

    def __init__(self):
        self.by = {"moid": {}, "name": {}}

    def add(self, pk, moid, name, datacenter=None):
        # the lowest id wins a tie, as it would in the model's ("name", "pk") order
        for index, value in ((self.by["moid"], moid), (self.by["name"], name)):
            if value and pk < index.get(value, pk + 1):
                index[value] = pk
        if datacenter is not None and name and pk < self.by["name"].get((datacenter, name), pk + 1):
            self.by["name"][(datacenter, name)] = pk

    def find(self, by: str, value, datacenter: str | None = None):
        if not value:
            return None
        found = self.by["name"].get((datacenter, value)) if by == "name" and datacenter is not None else None
        return found or self.by[by].get(value)


class _Links:
    """Resolves the links rows give by moid or name to the rows written before them, in one place.

    A link resolves against the rows the estate gave for that kind (what is stored once they are
    written, less any kept vanished rows), or against the stored rows if the estate left that
    kind out.
    """

    def __init__(self, vcenter):
        self.vcenter = vcenter
        self.indexes: dict[str, _Index] = {}

    def written(self, section, rows, result: SyncResult):
        if section not in LINKED.values():
            return
        index = self.indexes[section] = _Index()
        key = KEYS.get(section, ("moid",))
        seen = set()
        for row in rows:
            row_key = tuple(row[k] for k in key)
            if row_key not in seen:  # sync_rows keeps the first of repeated rows, so do we
                seen.add(row_key)
                datacenter = row.get("datacenter", "") if section == PER_DATACENTER else None
                index.add(result.pks[row_key], row.get("moid"), row.get("name"), datacenter)

    def index(self, section) -> _Index:
        if section not in self.indexes:
            index = self.indexes[section] = _Index()
            per_datacenter = section == PER_DATACENTER
            fields = ("pk", "moid", "name", "datacenter") if per_datacenter else ("pk", "moid", "name")
            for pk, moid, name, *datacenter in (
                MODELS[section].objects.filter(vcenter=self.vcenter).values_list(*fields)
            ):
                index.add(pk, moid, name, datacenter[0] if per_datacenter else None)
        return self.indexes[section]

    def resolve(self, model, section, row: dict) -> dict:
        """The row with its links (`<fk>_moid`, `<fk>_name`) as `<fk>_id`."""
        out = dict(row)
        for column in row:
            fk, _, by = column.rpartition("_")
            if by in ("moid", "name") and fk in LINKED:
                out[f"{fk}_id"] = self.find(section, fk, by, row[column], row.get("datacenter", ""))
                if not _is_column(model, column):  # a NIC keeps the network name it was given
                    del out[column]
        return out

    def find(self, section, fk, by, value, datacenter=""):
        kind = LINKED[fk]
        # of clusters with the same name, prefer the one in the row's own datacenter
        pk = self.index(kind).find(by, value, datacenter if kind == PER_DATACENTER else None)
        if pk is None and fk == "vm":
            raise ValueError(f"{section}: VM {value!r} is not in the estate")
        return pk


@cache
def _is_column(model: type[models.Model], name: str) -> bool:
    return any(f.attname == name for f in model._meta.concrete_fields)
