"""Every change to groups and dependency data goes through here: one transaction, the acting user
passed in, an audit row. Pages and API validate, then call these.

A VM is in at most one group. The database says so (GroupMember.vm is unique); these functions
say it first, with the name of the group that holds the VM, and move it only when asked to.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from core.choices import AuditAction
from core.models import AuditEntry, Job
from inventory.models import VirtualMachine
from inventory.rvtools.uploads import store_upload

from ..models import DependencyGroup, GroupMember
from .jobs import JOB_KIND


class MembershipError(Exception):
    """A change to group members that cannot be made; the message says why and what to do."""


@dataclass
class MembershipResult:
    added: list = field(default_factory=list)  # VM names
    moved: list = field(default_factory=list)  # (VM name, from group name)
    already: list = field(default_factory=list)  # VM names already in this group

    def message(self, group) -> str:
        parts = []
        if self.added:
            parts.append(f"added {len(self.added)} VM{'s' if len(self.added) != 1 else ''} to {group}")
        if self.moved:
            parts.append(
                f"moved {len(self.moved)} from other groups ({', '.join(f'{vm} from {g}' for vm, g in self.moved[:5])}{'…' if len(self.moved) > 5 else ''})"
            )
        if self.already:
            parts.append(f"{len(self.already)} already in it")
        text = "; ".join(parts) or "nothing to change"
        return text[0].upper() + text[1:] + "."


def do_save_group(group: DependencyGroup, *, acting_user, changed: list | None = None) -> DependencyGroup:
    creating = group.pk is None
    with transaction.atomic():
        group.save()
        AuditEntry.record(
            acting_user,
            AuditAction.GROUP_CREATE if creating else AuditAction.GROUP_CHANGE,
            group,
            changed=changed or [],
        )
    return group


def do_delete_group(group: DependencyGroup, *, acting_user) -> None:
    with transaction.atomic():
        AuditEntry.record(acting_user, AuditAction.GROUP_DELETE, group, vms=group.members.count())
        group.delete()


def do_add_members(
    group: DependencyGroup, vm_ids, *, acting_user, move: bool = False, reason: str = ""
) -> MembershipResult:
    """Put VMs into `group`. A VM in another group is refused, naming that group, unless `move`."""
    vm_ids = list(dict.fromkeys(vm_ids))
    result = MembershipResult()
    reason = (reason or f"added by {getattr(acting_user, 'username', None) or 'hand'}")[:500]
    with transaction.atomic():
        vms = dict(VirtualMachine.objects.filter(pk__in=vm_ids).values_list("pk", "name"))
        unknown = [str(v) for v in vm_ids if v not in vms]
        if unknown:
            raise MembershipError(f"No VM has the id {', '.join(unknown[:10])}.")
        existing = {
            m.vm_id: m
            for m in GroupMember.objects.select_for_update().select_related("group").filter(vm_id__in=vm_ids)
        }
        elsewhere = [(vms[v], m.group.name) for v, m in existing.items() if m.group_id != group.pk]
        if elsewhere and not move:
            listed = "; ".join(f"{vm} is already in group {g}" for vm, g in elsewhere[:10])
            more = f" (and {len(elsewhere) - 10} more)" if len(elsewhere) > 10 else ""
            raise MembershipError(
                f"{listed}{more}. A VM belongs to one group only: remove it there, or choose to move it here."
            )
        result.already = [vms[v] for v, m in existing.items() if m.group_id == group.pk]
        to_move = [m for v, m in existing.items() if m.group_id != group.pk]
        for member in to_move:
            result.moved.append((vms[member.vm_id], member.group.name))
            member.group = group
            member.reason = reason
        GroupMember.objects.bulk_update(to_move, ["group", "reason"])
        new = [GroupMember(group=group, vm_id=v, reason=reason) for v in vm_ids if v not in existing]
        try:
            with transaction.atomic():
                GroupMember.objects.bulk_create(new)
        except IntegrityError:
            # Another request put one of these VMs in a group since we looked: the database refused it.
            raise MembershipError(
                "One of these VMs was put in a group by someone else just now; look again."
            ) from None
        result.added = [vms[m.vm_id] for m in new]
        AuditEntry.record(
            acting_user,
            AuditAction.GROUP_ADD_MEMBERS,
            group,
            added=result.added[:100],
            moved=[f"{vm} from {g}" for vm, g in result.moved][:100],
            reason=reason,
        )
    return result


def do_remove_members(group: DependencyGroup, vm_ids, *, acting_user) -> int:
    with transaction.atomic():
        members = GroupMember.objects.filter(group=group, vm_id__in=list(vm_ids))
        names = list(members.values_list("vm__name", flat=True)[:100])
        count, _ = members.delete()
        if count:
            AuditEntry.record(acting_user, AuditAction.GROUP_REMOVE_MEMBERS, group, removed=names)
    return count


def do_create_groups(proposals, *, acting_user, source: str) -> tuple[list, int]:
    """Write the groups a builder (builders.py) or the suggestions proposed, with each VM's reason.

    Returns (groups, VMs added). All or nothing: a VM grouped by someone else meanwhile refuses the lot.
    """
    groups, added = [], 0
    try:
        with transaction.atomic():
            for proposal in proposals:
                if not proposal.members:
                    continue
                group = proposal.existing
                if group is None:
                    group = DependencyGroup.objects.create(
                        name=proposal.name,
                        source=source,
                        rule=proposal.rule[:500],
                        description=proposal.description,
                    )
                GroupMember.objects.bulk_create(
                    [
                        GroupMember(group=group, vm_id=vm_id, reason=why[:500])
                        for vm_id, why in proposal.members
                    ]
                )
                added += len(proposal.members)
                groups.append(group)
                AuditEntry.record(
                    acting_user,
                    AuditAction(f"group.build_{source}"),
                    group,
                    rule=proposal.rule,
                    added=len(proposal.members),
                    skipped=proposal.skipped,
                )
    except IntegrityError:
        raise MembershipError(
            "Someone else changed groups meanwhile (a group name or a VM is taken now); preview again."
        ) from None
    return groups, added


def start_dependency_import(uploaded, *, acting_user, format: str = "") -> Job:
    """Store the uploaded file and enqueue its import; the task is sent once this commits."""
    path = store_upload(uploaded)
    try:
        with transaction.atomic():
            job = Job.enqueue(
                JOB_KIND,
                name=f"Import dependencies {uploaded.name}",  # Django keeps an upload's name to 255 characters: it fits
                user=acting_user,
                params={"path": str(path), "filename": uploaded.name, "format": format or ""},
            )
            AuditEntry.record(
                acting_user, AuditAction.DEPENDENCIES_IMPORT, job, filename=uploaded.name, size=uploaded.size
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job
