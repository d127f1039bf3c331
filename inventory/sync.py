"""Write a full snapshot of some rows with the fewest statements: the one upsert used by
discovery and imports alike.

`sync_rows` compares what the source says now with what is stored, in memory, and then
issues bulk INSERTs for new keys, bulk UPDATEs for changed fields only, and one DELETE (or
an UPDATE marking them vanished) for keys that are gone. Re-running with the same input
writes nothing, which is what makes a repeated discovery or re-import a no-op.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

BATCH = 1000


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    pks: dict = field(default_factory=dict)  # key -> primary key, for rows that reference these

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.removed

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
        }


def sync_rows(
    model: type[models.Model],
    scope: Mapping,
    key: tuple[str, ...],
    rows: Iterable[Mapping],
    *,
    missing: str = "delete",
) -> SyncResult:
    """Make the rows of `model` within `scope` equal to `rows`, matched on the `key` fields.

    `scope` is a filter (`{"vcenter": vc}`, `{"vm__vcenter": vc}`); fields given in every
    row must be concrete attribute names (`cluster_id`, not `cluster`). `missing` says what
    happens to stored rows whose key is absent: "delete", "mark" (set `removed` to now and
    keep them, for VMs whose planning data must survive) or "keep".
    """
    result = SyncResult()
    rows = list(rows)
    fields = sorted({f for row in rows for f in row})
    stored = {
        tuple(getattr(obj, k) for k in key): obj for obj in model.objects.filter(**scope).only("pk", *fields)
    }

    to_create, to_update, changed_fields = [], [], set()
    seen = set()
    for row in rows:
        row_key = tuple(row[k] for k in key)
        if row_key in seen:
            continue  # the source repeats itself (RVTools lists a VM once per host view); first wins
        seen.add(row_key)
        obj = stored.get(row_key)
        if obj is None:
            to_create.append(model(**row))
            continue
        dirty = [f for f, value in row.items() if getattr(obj, f) != value]
        if dirty:
            for f in dirty:
                setattr(obj, f, row[f])
            changed_fields.update(dirty)
            to_update.append(obj)
        else:
            result.unchanged += 1
        result.pks[row_key] = obj.pk

    if to_create:
        created = model.objects.bulk_create(to_create, batch_size=BATCH)
        result.created = len(created)
        if created and created[0].pk is None:  # backends that return no ids: look them up
            lookup = {
                tuple(getattr(o, k) for k in key): o.pk
                for o in model.objects.filter(**scope).only("pk", *key)
            }
            result.pks.update({k: lookup[k] for k in (tuple(getattr(o, f) for f in key) for o in created)})
        else:
            result.pks.update({tuple(getattr(o, k) for k in key): o.pk for o in created})
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=BATCH)
        result.updated = len(to_update)

    gone = [obj.pk for k, obj in stored.items() if k not in seen]
    if gone and missing == "delete":
        for start in range(0, len(gone), BATCH):
            model.objects.filter(pk__in=gone[start : start + BATCH]).delete()
        result.removed = len(gone)
    elif gone and missing == "mark":
        result.removed = model.objects.filter(pk__in=gone, removed__isnull=True).update(
            removed=timezone.now()
        )
    return result
