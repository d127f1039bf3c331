"""Groups proposed from what the inventory already says: vSphere tags, folders, name patterns.

Each builder returns proposals (a group name, the rule, each VM with the reason it is in) without
writing anything, so that a planner sees them first; actions.do_create_groups writes them.
VMs already in a group are skipped and counted, never moved: a builder does not undo a planner's
hand work. A VM that two proposals of one run would take (two tags of a category) goes to the first.
Running a builder again adds the VMs that appeared since to the groups it made before (same name,
same rule); a name taken by another group is refused, and a prefix avoids it.
Vanished VMs are left out.

Tags are stored as "category:name" (vSphere's tag category and tag); a tag without a colon has
no category.
"""

import fnmatch
import re
from dataclasses import dataclass, field

from inventory.models import Tag, VirtualMachine

from ..choices import GroupSource
from ..models import DependencyGroup, GroupMember

NAME_LENGTH = DependencyGroup._meta.get_field("name").max_length
PREVIEW_NAMES = 200


class BuildError(Exception):
    """The builder's input cannot give groups (a bad pattern, names taken): nothing is written."""


@dataclass
class Proposal:
    name: str
    rule: str
    description: str = ""
    members: list = field(default_factory=list)  # (vm id, reason)
    member_names: list = field(default_factory=list)  # the first PREVIEW_NAMES, for the preview
    skipped: int = 0  # VMs the rule matches that are in a group already
    existing: DependencyGroup | None = None  # a group this builder made before, topped up

    def add(self, vm_id: int, name: str, reason: str):
        self.members.append((vm_id, reason))
        if len(self.member_names) < PREVIEW_NAMES:
            self.member_names.append(name)


def tag_categories() -> list[str]:
    names = Tag.objects.filter(name__contains=":").values_list("name", flat=True)
    return sorted({name.split(":", 1)[0] for name in names})


def _grouped_vm_ids() -> set:
    return set(GroupMember.objects.values_list("vm_id", flat=True))


def _settle(proposals: list[Proposal], source: str) -> list[Proposal]:
    """Match proposals to groups that exist: the same rule's group is topped up, another group's name refused."""
    existing = {g.name: g for g in DependencyGroup.objects.filter(name__in=[p.name for p in proposals])}
    clashes = []
    for proposal in proposals:
        group = existing.get(proposal.name)
        if group is None:
            continue
        if group.source == source and group.rule == proposal.rule:
            proposal.existing = group
        else:
            clashes.append(proposal.name)
    if clashes:
        listed = ", ".join(clashes[:10]) + (f" and {len(clashes) - 10} more" if len(clashes) > 10 else "")
        raise BuildError(
            f"Groups named {listed} exist already and were not built from this rule: choose another name or a name prefix."
        )
    return proposals


def _distribute(rows, key_of, make_proposal, reason_of, source) -> list[Proposal]:
    grouped = _grouped_vm_ids()
    taken = set()
    proposals: dict[str, Proposal] = {}
    for vm_id, vm_name, value in rows:
        key = key_of(value)
        proposal = proposals.get(key)
        if proposal is None:
            proposal = proposals[key] = make_proposal(value)
        if vm_id in grouped or vm_id in taken:
            proposal.skipped += 1
            continue
        taken.add(vm_id)
        proposal.add(vm_id, vm_name, reason_of(value))
    return _settle(sorted(proposals.values(), key=lambda p: p.name), source)


def _name(prefix: str, text: str) -> str:
    return f"{prefix}{text}"[:NAME_LENGTH]


def from_tags(*, category: str = "", tag: str = "", prefix: str = "") -> list[Proposal]:
    """One group per tag of `category`, or one group for `tag`."""
    through = VirtualMachine.tags.through.objects.filter(virtualmachine__removed__isnull=True)
    if tag:
        through = through.filter(tag__name=tag)
    elif category:
        through = through.filter(tag__name__startswith=f"{category}:")
    else:
        raise BuildError("Choose a tag category or a tag.")
    rows = through.order_by("tag__name", "virtualmachine__name", "virtualmachine_id").values_list(
        "virtualmachine_id", "virtualmachine__name", "tag__name"
    )
    return _distribute(
        rows,
        key_of=lambda t: t,
        make_proposal=lambda t: Proposal(
            name=_name(prefix, t.split(":", 1)[1] if ":" in t else t), rule=t, description=f"VMs tagged {t}"
        ),
        reason_of=lambda t: f'tagged "{t}"',
        source=GroupSource.TAG,
    )


def from_folders(*, under: str = "", prefix: str = "") -> list[Proposal]:
    """One group per VM folder (the folders below `under`, when given)."""
    under = under.rstrip("/")
    vms = VirtualMachine.objects.filter(removed__isnull=True).exclude(folder="")
    if under:
        vms = vms.filter(folder__startswith=under)
    rows = vms.order_by("folder", "name", "pk").values_list("pk", "name", "folder")

    def name_of(folder):
        relative = folder[len(under) :].strip("/") if under else folder.strip("/")
        return _name(prefix, relative or folder.rstrip("/").rsplit("/", 1)[-1] or folder)

    return _distribute(
        rows,
        key_of=lambda f: f,
        make_proposal=lambda f: Proposal(name=name_of(f), rule=f, description=f"VMs in folder {f}"),
        reason_of=lambda f: f'in folder "{f}"',
        source=GroupSource.FOLDER,
    )


def compile_pattern(pattern: str, kind: str) -> re.Pattern:
    """A glob (`crm-*`, whole name) or a regular expression (found anywhere in the name), ignoring case."""
    pattern = pattern.strip()
    if not pattern:
        raise BuildError("Give a name pattern.")
    if kind == "glob":
        return re.compile(fnmatch.translate(pattern), re.IGNORECASE)
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise BuildError(f'"{pattern}" is not a regular expression: {exc}') from None


def from_pattern(*, pattern: str, kind: str = "glob", name: str = "") -> list[Proposal]:
    """One group of the VMs whose name matches `pattern`."""
    compiled = compile_pattern(pattern, kind)
    match = compiled.match if kind == "glob" else compiled.search
    name = (name or pattern).strip()[:NAME_LENGTH]
    rule = f"{kind}:{pattern.strip()}"
    rows = (
        (pk, vm_name, rule)
        for pk, vm_name in VirtualMachine.objects.filter(removed__isnull=True)
        .order_by("name", "pk")
        .values_list("pk", "name")
        if match(vm_name)
    )
    proposals = _distribute(
        rows,
        key_of=lambda r: r,
        make_proposal=lambda r: Proposal(
            name=name, rule=r, description=f"VMs whose name matches {pattern.strip()}"
        ),
        reason_of=lambda r: f'name matches "{pattern.strip()}"',
        source=GroupSource.PATTERN,
    )
    if not proposals:
        raise BuildError(f'No VM name matches "{pattern.strip()}".')
    return proposals
