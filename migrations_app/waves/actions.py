"""Every change to waves, their VMs, their network mappings and to target clusters goes through here
so each is made the same way: one transaction, the wave's row locked first, the acting user named, and the
change recorded by `revisions.changed()` (new revision, approval withdrawn, audit rows).

Callers validate the shape of the input (forms, serializers); these functions check what depends on
the database at the moment of the change, and raise WaveError (nothing written) when they refuse.
"""

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core.choices import AuditAction
from core.models import AuditEntry
from inventory.models import Network, VirtualMachine
from migrations_app.choices import WaveStatus
from migrations_app.models import DependencyGroup, GroupMember, NetworkMapping, TargetCluster, Wave, WaveItem

from .errors import StaleRevision, WaveError, WaveLocked
from .network_targets import avs_targets
from .revisions import Change, changed, ensure_editable, lock
from .states import DELETABLE

MAX_LISTED = 20


def listed(names, limit: int = MAX_LISTED) -> list[str]:
    """A list for a message: the first `limit` names, then how many more."""
    names = list(names)
    if len(names) > limit:
        return names[:limit] + [f"and {len(names) - limit} more"]
    return names


def _stale(wave: Wave, expected: int) -> StaleRevision:
    return StaleRevision(
        f"{wave.name} changed since you opened it (you edited revision {expected}; it is now at revision "
        f"{wave.revision}). Nothing was saved: reload it, and make your change again."
    )


# --- waves -------------------------------------------------------------------------------------


WAVE_FIELDS = [
    "name",
    "sequence",
    "pilot",
    "window_start",
    "window_end",
    "time_zone",
    "site",
    "target_cluster",
    "target_datastore",
    "target_folder",
    "target_resource_pool",
    "migration_type",
    "max_vms",
    "max_tb",
    "remove_isos",
    "remove_snapshots",
    "force_power_off",
    "retain_mac",
    "upgrade_tools",
    "upgrade_hardware",
    "notes",
]


def _name_taken(name) -> WaveError:
    return WaveError(f"A wave named {name!r} exists already; choose another name.")


def do_create_wave(values: dict, *, acting_user) -> Wave:
    try:
        with transaction.atomic():
            wave = Wave(**{k: v for k, v in values.items() if k in WAVE_FIELDS})
            wave.clean()
            wave.save()
            AuditEntry.record(acting_user, AuditAction.WAVE_CREATE, wave, revision=wave.revision)
    except IntegrityError:
        raise _name_taken(values.get("name")) from None
    return wave


def _differs(wave: Wave, name: str, value) -> bool:
    field = Wave._meta.get_field(name)
    if field.is_relation:
        return getattr(wave, field.attname) != (value.pk if value is not None else None)
    return getattr(wave, name) != value


def do_update_wave(pk, values: dict, *, expected_revision: int | None, acting_user) -> Change | None:
    """Apply changed field values to the wave, refusing if it moved past `expected_revision` (a stale
    form or API client) or cannot be edited. Returns None when nothing differed (no new revision)."""
    try:
        with transaction.atomic():
            wave = lock(pk)
            ensure_editable(wave)
            if expected_revision is not None and expected_revision != wave.revision:
                raise _stale(wave, expected_revision)
            fields = [
                name for name, value in values.items() if name in WAVE_FIELDS and _differs(wave, name, value)
            ]
            if not fields:
                return None
            for name in fields:
                setattr(wave, name, values[name])
            wave.clean()
            wave.save(update_fields=fields + ["last_updated"])
            return changed(wave, acting_user, "fields: " + ", ".join(fields), fields=fields)
    except IntegrityError:
        raise _name_taken(values.get("name")) from None


def do_delete_wave(pk, *, acting_user) -> str:
    with transaction.atomic():
        wave = lock(pk)
        if wave.status not in DELETABLE:
            raise WaveError(
                f"{wave.name} is {wave.get_status_display().lower()}: only draft or rejected waves can be deleted."
            )
        name = wave.name
        AuditEntry.record(
            acting_user, AuditAction.WAVE_DELETE, wave, revision=wave.revision, vms=wave.items.count()
        )
        wave.delete()
    return name


# --- the wave's VMs ------------------------------------------------------------------------------


def _taken_elsewhere(vm_ids, wave_pk) -> list[str]:
    """`vm-1 (in Wave 2)` for each of these VMs that is in another wave."""
    rows = (
        WaveItem.objects.filter(vm_id__in=vm_ids)
        .exclude(wave_id=wave_pk)
        .order_by("vm__name")
        .values_list("vm__name", "wave__name")
    )
    return [f"{vm} (in {wave})" for vm, wave in rows]


def _insert_items(wave: Wave, items: list[WaveItem]) -> None:
    """Insert, letting the database's one-wave-per-VM constraint refuse what a concurrent change took
    between our check and this insert: the whole change is then rolled back and explained."""
    try:
        with transaction.atomic():
            WaveItem.objects.bulk_create(items)
    except IntegrityError:
        raise _RaceLost([item.vm_id for item in items]) from None


class _RaceLost(Exception):
    def __init__(self, vm_ids):
        self.vm_ids = vm_ids


def _explain_race(error: _RaceLost, wave_pk) -> WaveError:
    return WaveError(
        "Nothing was added: some of these VMs were put into another wave while you were adding them "
        "(a VM belongs to one wave at a time):",
        items=listed(_taken_elsewhere(error.vm_ids, wave_pk))
        or ["(they have since been removed again; retry)"],
    )


def find_split_groups(vm_ids, wave_pk) -> list[str]:
    """Groups of these VMs that have members in a wave other than `wave_pk`: adding the VMs here would
    split the group across waves."""
    groups = GroupMember.objects.filter(vm_id__in=vm_ids).values("group_id")
    rows = (
        GroupMember.objects.filter(group_id__in=groups, vm__wave_item__isnull=False)
        .exclude(vm__wave_item__wave_id=wave_pk)
        .values_list("group__name", "vm__wave_item__wave__name")
        .distinct()
        .order_by("group__name")
    )
    return [f"{group} (has VMs in {wave})" for group, wave in rows]


def do_add_groups(pk, group_ids, *, acting_user) -> tuple[Change | None, int]:
    """Add every present VM of these groups. A group moves whole: if any of its VMs is in another wave,
    nothing is added and the VMs at fault are named."""
    group_ids = list(group_ids)
    try:
        with transaction.atomic():
            wave = lock(pk)
            ensure_editable(wave)
            groups = list(DependencyGroup.objects.filter(pk__in=group_ids).order_by("name"))
            missing = set(group_ids) - {g.pk for g in groups}
            if missing:
                raise WaveError("No such group:", items=[str(m) for m in sorted(missing)])
            members = list(
                GroupMember.objects.filter(group__in=groups).values_list(
                    "vm_id", "group_id", "vm__removed", "vm__wave_item__wave_id"
                )
            )
            elsewhere = _taken_elsewhere([vm for vm, _, _, _ in members], wave.pk)
            if elsewhere:
                # Name the groups at fault, not every group picked with them.
                at_fault_ids = {
                    group for _, group, _, in_wave in members if in_wave is not None and in_wave != wave.pk
                }
                at_fault = [g for g in groups if g.pk in at_fault_ids] or groups
                raise WaveError(
                    f"Nothing was added: a group moves whole, and {_names(at_fault)} "
                    f"{'has' if len(at_fault) == 1 else 'have'} VMs in other waves. Remove them there first, or "
                    f"add the group to that wave:",
                    items=listed(elsewhere),
                )
            new = [
                WaveItem(wave=wave, vm_id=vm, group_id=group)
                for vm, group, removed, in_wave in members
                if removed is None and in_wave is None
            ]
            if not new:
                return None, 0
            _insert_items(wave, new)
            change = changed(
                wave,
                acting_user,
                f"added {len(new)} VMs of {_names(groups)}",
                groups=[g.pk for g in groups],
                vms=len(new),
            )
            return change, len(new)
    except _RaceLost as race:
        raise _explain_race(race, pk) from None


def _names(objects) -> str:
    names = [str(o) for o in objects]
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _vm_rows(vm_ids) -> list[tuple]:
    """(pk, name, vanished at, wave id, group id) of these VMs, as the database has them now."""
    return list(
        VirtualMachine.objects.filter(pk__in=vm_ids).values_list(
            "pk", "name", "removed", "wave_item__wave_id", "group_membership__group_id"
        )
    )


def do_add_vms(pk, vm_ids, *, acting_user, migration_type: str = "") -> tuple[Change | None, int]:
    """Add single VMs (with a migration type of their own, or "" for the wave's default). Refused, whole,
    if one is vanished, in another wave, or in a group that has VMs in another wave (the group would be
    split)."""
    vm_ids = list(dict.fromkeys(vm_ids))
    try:
        with transaction.atomic():
            wave = lock(pk)
            ensure_editable(wave)
            vms = _vm_rows(vm_ids)
            missing = set(vm_ids) - {row[0] for row in vms}
            if missing:
                raise WaveError("No such VM:", items=[str(m) for m in sorted(missing)])
            vanished = sorted(name for _, name, removed, _, _ in vms if removed is not None)
            if vanished:
                raise WaveError(
                    "Nothing was added: these VMs have vanished from their vCenter:", items=listed(vanished)
                )
            elsewhere = _taken_elsewhere(vm_ids, wave.pk)
            if elsewhere:
                raise WaveError(
                    "Nothing was added: a VM belongs to one wave at a time, and these are in another:",
                    items=listed(elsewhere),
                )
            split = find_split_groups(vm_ids, wave.pk)
            if split:
                raise WaveError(
                    "Nothing was added: a group moves whole, and these VMs' groups have VMs in another wave "
                    "(add the VMs to that wave, or move the whole group here):",
                    items=listed(split),
                )
            new = [
                WaveItem(wave=wave, vm_id=vm, group_id=group, migration_type=migration_type)
                for vm, _, _, in_wave, group in vms
                if in_wave is None
            ]
            if not new:
                return None, 0
            _insert_items(wave, new)
            return changed(wave, acting_user, f"added {len(new)} VMs", vms=[i.vm_id for i in new][:200]), len(
                new
            )
    except _RaceLost as race:
        raise _explain_race(race, pk) from None


def do_remove_vms(pk, vm_ids, *, acting_user) -> tuple[Change | None, int]:
    with transaction.atomic():
        wave = lock(pk)
        ensure_editable(wave)
        removed, _ = WaveItem.objects.filter(wave=wave, vm_id__in=list(vm_ids)).delete()
        if not removed:
            return None, 0
        return changed(wave, acting_user, f"removed {removed} VMs", vms=list(vm_ids)[:200]), removed


def do_remove_groups(pk, group_ids, *, acting_user) -> tuple[Change | None, int]:
    with transaction.atomic():
        wave = lock(pk)
        ensure_editable(wave)
        members = GroupMember.objects.filter(group_id__in=list(group_ids)).values("vm_id")
        removed, _ = WaveItem.objects.filter(wave=wave, vm_id__in=members).delete()
        if not removed:
            return None, 0
        return changed(wave, acting_user, f"removed {removed} VMs of groups", groups=list(group_ids)), removed


def do_set_migration_type(pk, vm_ids, migration_type: str, *, acting_user) -> tuple[Change | None, int]:
    """Set (or, with "", clear) the per-VM migration type of these VMs of the wave."""
    with transaction.atomic():
        wave = lock(pk)
        ensure_editable(wave)
        items = WaveItem.objects.filter(wave=wave, vm_id__in=list(vm_ids))
        if not items.exists():
            raise WaveError(f"None of these VMs is in {wave.name}.")
        updated = items.exclude(migration_type=migration_type).update(migration_type=migration_type)
        if not updated:
            return None, 0
        what = f"migration type of {updated} VMs set to {migration_type or 'the wave default'}"
        return changed(
            wave, acting_user, what, migration_type=migration_type, vms=list(vm_ids)[:200]
        ), updated


# --- network mappings -----------------------------------------------------------------------------


def do_save_mapping(pk, source: Network, target_kind: str, target_name: str, *, acting_user) -> Change | None:
    """Map the source network for this wave (create or replace); no change when it maps so already.
    A target the wave's site does not offer is refused (network_targets.AvsTargets.refusal); one that is
    offered but wrong for this network (another VLAN's extension) is saved, and readiness blocks it."""
    with transaction.atomic():
        wave = lock(pk)
        ensure_editable(wave)
        refused = avs_targets(wave).refusal(source.name, target_kind, target_name)
        if refused:
            raise WaveError(refused)
        mapping = NetworkMapping.objects.filter(wave=wave, source=source).first()
        if mapping and (mapping.target_kind, mapping.target_name) == (target_kind, target_name):
            return None
        if mapping:
            mapping.target_kind, mapping.target_name = target_kind, target_name
            mapping.save(update_fields=["target_kind", "target_name"])
        else:
            mapping = NetworkMapping.objects.create(
                wave=wave, source=source, target_kind=target_kind, target_name=target_name
            )
        return changed(
            wave,
            acting_user,
            f"network {source.name} mapped to {target_name} ({target_kind})",
            network=source.pk,
            target_kind=target_kind,
            target_name=target_name,
        )


def do_delete_mapping(pk, mapping_pk, *, acting_user) -> Change:
    with transaction.atomic():
        wave = lock(pk)
        ensure_editable(wave)
        mapping = NetworkMapping.objects.select_related("source").filter(wave=wave, pk=mapping_pk).first()
        if mapping is None:
            raise WaveError(f"{wave.name} has no such network mapping.")
        source = mapping.source
        mapping.delete()
        return changed(wave, acting_user, f"mapping of network {source.name} removed", network=source.pk)


# --- target clusters ------------------------------------------------------------------------------


# What a launch reads of a target cluster (launch/site.py: the cluster HCX places into, its default
# datastore) and what the wave's datastore and folder were checked against: a change to one of these
# is a change to every wave into the cluster. Capacity figures (sku, hosts, FTT) move no VM.
PLACEMENT_FIELDS = ("site", "name", "datastores", "folders")


def _placement_changes(old: TargetCluster, new: TargetCluster) -> list[str]:
    changes = []
    for name in PLACEMENT_FIELDS:
        field = TargetCluster._meta.get_field(name)
        before, after = getattr(old, field.attname), getattr(new, field.attname)
        if before != after:
            if field.is_relation:
                before, after = getattr(old, name), getattr(new, name)
            changes.append(
                f"{name} {before!s} -> {after!s}" if field.is_relation else f"{name} {before!r} -> {after!r}"
            )
    return changes


def do_save_target_cluster(cluster: TargetCluster, *, acting_user) -> TargetCluster:
    """Create or change a target cluster. A change to where it places VMs (PLACEMENT_FIELDS) is
    recorded as a change of every wave into it (revisions.changed(): new revision, approval or
    submission withdrawn, waiting migrations cancelled), and is refused while one of them runs.
    `cluster.changes` lists what the waves were told (Change objects, for the page's message)."""
    created = cluster.pk is None
    cluster.changes = []
    try:
        with transaction.atomic():
            placement = []
            waves = []
            if not created:
                old = TargetCluster.objects.select_for_update().select_related("site").get(pk=cluster.pk)
                placement = _placement_changes(old, cluster)
                if placement:
                    # Locked in pk order (every action locks one wave; a cluster's several, always in this order).
                    waves = [
                        lock(pk)
                        for pk in Wave.objects.filter(target_cluster=old)
                        .order_by("pk")
                        .values_list("pk", flat=True)
                    ]
                    running = [w.name for w in waves if w.status == WaveStatus.RUNNING]
                    if running:
                        raise WaveLocked(
                            f"Nothing was saved: {old.name} is the target of waves that are running, and where their "
                            "VMs land cannot change under them (its name, site, datastores and folders stay as they "
                            "are until they complete):",
                            items=listed(running),
                        )
            cluster.save()
            AuditEntry.record(
                acting_user,
                AuditAction.TARGET_CLUSTER_CREATE if created else AuditAction.TARGET_CLUSTER_CHANGE,
                cluster,
                sku=cluster.sku,
                hosts=cluster.hosts,
                ftt=cluster.failures_to_tolerate,
                **({"placement": placement, "waves": [w.pk for w in waves]} if placement else {}),
            )
            what = f"target cluster {cluster.name} changed: {'; '.join(placement)}"
            for wave in waves:
                if wave.status == WaveStatus.COMPLETED:  # history: nothing of it is sent any more
                    continue
                cluster.changes.append(
                    changed(wave, acting_user, what[:500], target_cluster=cluster.pk, placement=placement)
                )
    except IntegrityError:
        raise WaveError(
            f"The site {cluster.site} has a target cluster named {cluster.name!r} already."
        ) from None
    return cluster


def do_delete_target_cluster(cluster: TargetCluster, *, acting_user) -> None:
    try:
        with transaction.atomic():
            AuditEntry.record(acting_user, AuditAction.TARGET_CLUSTER_DELETE, cluster)
            cluster.delete()
    except ProtectedError as exc:
        names = sorted(str(w) for w in exc.protected_objects)
        raise WaveError(
            f"{cluster.name} is the target of waves; point them elsewhere first:", items=listed(names)
        ) from None
