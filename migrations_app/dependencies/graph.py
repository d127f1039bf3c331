"""The dependency graph of a group or of the estate, as data: nodes (VMs and external endpoints, with
their group) and edges (source to destination, with the ports seen), built with networkx from
`values_list` queries, never one model object per edge.

The estate graph can be large; it is cut to settings.DEPENDENCIES["GRAPH_MAX_NODES"] nodes, the
most connected first, and says so (`truncated`, `total_nodes`), so a browser is never handed a
hairball of 10,000 nodes. Filtering by group shows the rest.
"""

from dataclasses import dataclass, field

import networkx as nx
from django.conf import settings
from django.db.models import Q

from ..models import Dependency, Endpoint, GroupMember


@dataclass
class GraphFilter:
    groups: list = field(default_factory=list)  # group ids: edges with either side in one of them
    externals: bool = True
    min_seen: int = 1
    ignore_ports: tuple = ()
    max_nodes: int | None = None


@dataclass
class Graph:
    graph: nx.DiGraph
    total_nodes: int
    truncated: bool
    groups: dict  # group id -> name, for the legend

    def as_dict(self) -> dict:
        # Endpoint ids and the made-up "vm-<id>" of a VM without connections, all as strings
        nodes = [{"id": str(n), **self.graph.nodes[n]} for n in self.graph.nodes]
        edges = [
            {"source": str(u), "target": str(v), "ports": data["ports"], "seen": data["seen"]}
            for u, v, data in self.graph.edges(data=True)
        ]
        return {
            "nodes": nodes,
            "edges": edges,
            "groups": [
                {"id": gid, "name": name}
                for gid, name in sorted(self.groups.items(), key=lambda g: g[1].lower())
            ],
            "total_nodes": self.total_nodes,
            "shown_nodes": len(nodes),
            "truncated": self.truncated,
        }


def _edge_rows(flt: GraphFilter):
    edges = Dependency.objects.filter(seen__gte=max(1, flt.min_seen))
    if flt.groups:
        edges = edges.filter(
            Q(source__vm__group_membership__group_id__in=flt.groups)
            | Q(destination__vm__group_membership__group_id__in=flt.groups)
        )
    if not flt.externals:
        edges = edges.filter(source__vm__isnull=False, destination__vm__isnull=False)
    if flt.ignore_ports:
        edges = edges.exclude(port__in=list(flt.ignore_ports))
    # Edges to vanished VMs lead nowhere a planner can act on.
    edges = edges.exclude(source__vm__removed__isnull=False).exclude(destination__vm__removed__isnull=False)
    return edges.values_list("source_id", "destination_id", "port", "protocol", "seen")


def _node(endpoint_row, member_of: dict) -> dict:
    pk, name, ip, vm_id, vm_name = endpoint_row
    if vm_id:
        group_id, group_name = member_of.get(vm_id, (None, None))
        return {
            "kind": "vm",
            "label": vm_name,
            "vm": vm_id,
            "ip": ip,
            "group": group_id,
            "group_name": group_name,
        }
    return {
        "kind": "external",
        "label": name or ip or "?",
        "vm": None,
        "ip": ip,
        "group": None,
        "group_name": None,
    }


def build(flt: GraphFilter) -> Graph:
    limit = flt.max_nodes or settings.DEPENDENCIES["GRAPH_MAX_NODES"]
    graph = nx.DiGraph()
    for source, destination, port, protocol, seen in _edge_rows(flt).iterator(chunk_size=5000):
        label = f"{port}/{protocol}" if port else protocol or "?"
        if graph.has_edge(source, destination):
            data = graph.edges[source, destination]
            data["ports"].append(label)
            data["seen"] += seen
        else:
            graph.add_edge(source, destination, ports=[label], seen=seen)
    # A group's VMs belong on its graph even when no connection of theirs is known.
    member_vms = []
    if flt.groups:
        member_vms = list(
            GroupMember.objects.filter(group_id__in=flt.groups, vm__removed__isnull=True).values_list(
                "vm_id", flat=True
            )
        )
    # Endpoints of member VMs that have none yet are shown under a made-up id ("vm-<id>").
    endpoint_of_vm = (
        dict(Endpoint.objects.filter(vm_id__in=member_vms).values_list("vm_id", "pk")) if member_vms else {}
    )
    for vm_id in member_vms:
        graph.add_node(endpoint_of_vm.get(vm_id, f"vm-{vm_id}"))
    total = graph.number_of_nodes()
    truncated = total > limit
    if truncated:
        keep = sorted(graph.nodes, key=lambda n: (-graph.degree(n), str(n)))[:limit]
        graph = graph.subgraph(keep).copy()
    _label(graph)
    groups = {d["group"]: d["group_name"] for _, d in graph.nodes(data=True) if d.get("group")}
    return Graph(graph, total, truncated, groups)


def _label(graph: nx.DiGraph):
    endpoint_ids = [n for n in graph.nodes if isinstance(n, int)]
    rows = Endpoint.objects.filter(pk__in=endpoint_ids).values_list("pk", "name", "ip", "vm_id", "vm__name")
    made_up = {int(n[3:]) for n in graph.nodes if isinstance(n, str)}
    endpoints = list(rows)
    vm_ids = {row[3] for row in endpoints if row[3]} | made_up
    member_of = {
        vm_id: (group_id, name)
        for vm_id, group_id, name in GroupMember.objects.filter(vm_id__in=vm_ids).values_list(
            "vm_id", "group_id", "group__name"
        )
    }
    for row in endpoints:
        graph.nodes[row[0]].update(_node(row, member_of))
    if made_up:
        from inventory.models import VirtualMachine

        for vm_id, name in VirtualMachine.objects.filter(pk__in=made_up).values_list("pk", "name"):
            graph.nodes[f"vm-{vm_id}"].update(_node((f"vm-{vm_id}", "", None, vm_id, name), member_of))
