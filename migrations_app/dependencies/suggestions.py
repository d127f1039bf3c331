"""Suggested move groups: VMs that talk to each other, found in the dependency graph.

How it works, in plain words:
1. Take every imported connection between two VMs of the inventory that are both still there and
   both not yet in a group. Connections to or from external endpoints are left out (what stays
   behind cannot move with anything), and so are VMs a planner has grouped already.
2. Leave out the weak and the universal connections: those seen fewer than `min_seen` times
   (a one-off scan or a backup touching everything once), and those to the infrastructure ports
   (DNS 53, Kerberos 88, NTP 123, LDAP 389/636, global catalog 3268/3269 by default, a setting:
   DEPENDENCY_INFRASTRUCTURE_PORTS). Every server talks to DNS and AD; counting those would glue
   the whole estate into one group.
3. Draw the rest as an undirected graph, VMs as nodes and connections as edges, and take its
   connected components: two VMs end up in the same suggestion when a chain of kept connections
   links them. A component of one VM is no suggestion.
4. For each VM, say why it is in: its strongest connection (the most often seen) to another VM of
   the suggestion, e.g. "talks to app01 on 1433 (seen 12 times)", and how many more it has there.
5. The suggestion is named after its best-connected VM; the planner can rename it on accepting.
   Accepting writes a group with source "suggested" and each VM's reason; it is refused if the
   suggestion changed meanwhile (VMs grouped, data imported), so the planner accepts what was shown.

The graph is built from one `values_list` query (no model object per edge) and networkx's
connected components, so 10,000 VMs with 50,000 connections take well under a second.
"""

from dataclasses import dataclass, field

import networkx as nx
from django.conf import settings
from django.db.models import Q

from ..choices import GroupSource
from ..models import Dependency, DependencyGroup
from .actions import MembershipError, do_create_groups
from .builders import NAME_LENGTH, Proposal


def default_settings() -> tuple[int, tuple]:
    config = settings.DEPENDENCIES
    return config["SUGGESTION_MIN_SEEN"], tuple(config["INFRASTRUCTURE_PORTS"])


@dataclass
class SuggestedVm:
    id: int
    name: str
    reason: str


@dataclass
class Suggestion:
    name: str
    vms: list  # SuggestedVm, best-connected first
    connections: int  # kept connections inside the suggestion

    @property
    def vm_ids(self) -> list[int]:
        return sorted(vm.id for vm in self.vms)

    @property
    def key(self) -> str:
        return ",".join(str(i) for i in self.vm_ids)


@dataclass
class Suggestions:
    min_seen: int
    ignore_ports: tuple
    items: list = field(default_factory=list)
    considered: int = 0  # VM-to-VM connections between ungrouped VMs
    below_threshold: int = 0
    on_ignored_ports: int = 0

    @property
    def rule(self) -> str:
        ports = ", ".join(str(p) for p in self.ignore_ports) or "none"
        return f"connected components: seen at least {self.min_seen} times, ignoring ports {ports}"


def _port(port, protocol) -> str:
    return f"{port}" if protocol in ("", "tcp") else f"{port}/{protocol}"


def _why(names, seen, other, port, protocol, outgoing) -> str:
    where = f"on {_port(port, protocol)} (seen {seen} time{'s' if seen != 1 else ''})"
    return f"talks to {names[other]} {where}" if outgoing else f"{names[other]} talks to it {where}"


def suggest(min_seen: int | None = None, ignore_ports=None) -> Suggestions:
    default_min, default_ports = default_settings()
    min_seen = max(1, int(min_seen if min_seen is not None else default_min))
    ignore_ports = tuple(sorted(set(default_ports if ignore_ports is None else ignore_ports)))
    result = Suggestions(min_seen, ignore_ports)

    candidates = Dependency.objects.filter(
        source__vm__isnull=False,
        destination__vm__isnull=False,
        source__vm__removed__isnull=True,
        destination__vm__removed__isnull=True,
        source__vm__group_membership__isnull=True,
        destination__vm__group_membership__isnull=True,
    )
    rows = candidates.values_list(
        "source__vm_id",
        "source__vm__name",
        "destination__vm_id",
        "destination__vm__name",
        "port",
        "protocol",
        "seen",
    )
    graph = nx.Graph()
    names: dict[int, str] = {}
    best: dict[
        int, tuple
    ] = {}  # vm id -> (seen, other vm, port, protocol, outgoing) of its strongest kept connection
    links: dict[int, int] = {}  # vm id -> kept connections
    ignored = set(ignore_ports)
    for src, src_name, dst, dst_name, port, protocol, seen in rows.iterator(chunk_size=5000):
        result.considered += 1
        if port in ignored:
            result.on_ignored_ports += 1
            continue
        if seen < min_seen:
            result.below_threshold += 1
            continue
        names[src], names[dst] = src_name, dst_name
        graph.add_edge(src, dst)
        links[src] = links.get(src, 0) + 1
        links[dst] = links.get(dst, 0) + 1
        if src not in best or seen > best[src][0]:
            best[src] = (seen, dst, port, protocol, True)
        if dst not in best or seen > best[dst][0]:
            best[dst] = (seen, src, port, protocol, False)

    for component in nx.connected_components(graph):
        if len(component) < 2:
            continue
        ordered = sorted(component, key=lambda v: (-graph.degree(v), names[v].lower(), v))
        vms = []
        for vm in ordered:
            more = links[vm] - 1
            reason = _why(names, *best[vm]) + (
                f"; {more} more connection{'s' if more != 1 else ''} in this group" if more else ""
            )
            vms.append(SuggestedVm(vm, names[vm], reason))
        result.items.append(
            Suggestion(
                name=f"{names[ordered[0]]} and {len(vms) - 1} connected VM{'s' if len(vms) > 2 else ''}"[
                    :NAME_LENGTH
                ],
                vms=vms,
                connections=graph.subgraph(component).number_of_edges(),
            )
        )
    result.items.sort(key=lambda s: (-len(s.vms), s.name.lower()))
    return result


def do_accept_suggestion(vm_ids, *, name: str, min_seen: int, ignore_ports, acting_user) -> DependencyGroup:
    """Make a group of a suggestion, as shown: recomputed now, it must still have exactly these VMs."""
    wanted = sorted(set(int(v) for v in vm_ids))
    current = suggest(min_seen, ignore_ports)
    suggestion = next((s for s in current.items if s.vm_ids == wanted), None)
    if suggestion is None:
        raise MembershipError(
            "This suggestion has changed since it was shown (VMs were grouped or connections imported); look again."
        )
    name = (name or suggestion.name).strip()[:NAME_LENGTH]
    if DependencyGroup.objects.filter(Q(name=name)).exists():
        raise MembershipError(f"A group named {name} exists already; choose another name.")
    proposal = Proposal(
        name=name, rule=current.rule[:500], description=f"Suggested from dependencies ({current.rule})"
    )
    for vm in suggestion.vms:
        proposal.add(vm.id, vm.name, vm.reason)
    groups, _added = do_create_groups([proposal], acting_user=acting_user, source=GroupSource.SUGGESTED)
    return groups[0]
