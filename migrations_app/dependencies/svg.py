"""The dependency graph drawn as inline SVG on the server: readable without JavaScript or a CDN.

VMs are circles coloured by their group (grey when ungrouped), external endpoints are orange
dashed squares: what stays behind stands out. Hovering a line shows its ports and how often it
was seen (SVG <title>); a VM links to its page. All text is escaped.

Each node carries its name and group (`data-label`, `data-group`) and its centre (`data-x`,
`data-y`) for the page's zoom, fit and search (static/js/dependency-graph.js); without JavaScript
the drawing reads as before.
"""

import math

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .graph import Graph
from .layout import layered

PALETTE = [
    "#0d6efd", "#198754", "#6f42c1", "#d63384", "#20c997", "#0dcaf0",
    "#6610f2", "#b02a37", "#146c43", "#997404", "#3d8bfd", "#a370f7",
]  # fmt: skip
UNGROUPED = "#adb5bd"
EXTERNAL = "#fd7e14"
RADIUS = 8
LABEL_CHARS = 24


def group_colors(graph: Graph) -> dict:
    """group id -> colour, in the order of the group names, for the drawing and its legend."""
    ordered = sorted(graph.groups.items(), key=lambda g: g[1].lower())
    return {gid: PALETTE[i % len(PALETTE)] for i, (gid, _name) in enumerate(ordered)}


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _node_title(data) -> str:
    parts = [data.get("label", "?")]
    if data.get("kind") == "external":
        parts.append("external (not in the inventory)")
    elif data.get("group_name"):
        parts.append(f"group {data['group_name']}")
    else:
        parts.append("not in a group")
    if data.get("ip"):
        parts.append(data["ip"])
    return " · ".join(parts)


def render(graph: Graph, *, highlight_group: int | None = None) -> str:
    """The graph as an <svg> element (safe HTML). `highlight_group` draws that group's VMs bold."""
    g = graph.graph
    if g.number_of_nodes() == 0:
        return ""
    positions, width, height = layered(g)
    colors = group_colors(graph)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dependency-graph" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="Dependency graph: {g.number_of_nodes()} nodes, {g.number_of_edges()} connections">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6c757d"/></marker></defs>',
        "<style>.edge line.hit{stroke:transparent;stroke-width:10}.edge:hover line.show{stroke:#212529}"
        "text{font:11px system-ui,sans-serif;fill:#212529}a{text-decoration:none}a:hover text{text-decoration:underline}"
        ".node.found circle,.node.found rect{stroke:#ffc107;stroke-width:5}.node.found text{font-weight:700}"
        "</style>",
    ]
    for u, v, data in g.edges(data=True):
        (x1, y1), (x2, y2) = positions[u], positions[v]
        length = math.hypot(x2 - x1, y2 - y1) or 1
        # stop at the rim of the target, so the arrowhead shows
        ex, ey = x2 - (x2 - x1) * (RADIUS + 2) / length, y2 - (y2 - y1) * (RADIUS + 2) / length
        width_px = 1 + min(3, math.log10(max(1, data["seen"])))
        title = (
            f"{g.nodes[u].get('label', '?')} → {g.nodes[v].get('label', '?')}: {', '.join(data['ports'])} "
            f"(seen {data['seen']} time{'s' if data['seen'] != 1 else ''})"
        )
        out.append(
            f'<g class="edge"><title>{escape(title)}</title>'
            f'<line class="hit" x1="{x1:.1f}" y1="{y1:.1f}" x2="{ex:.1f}" y2="{ey:.1f}"/>'
            f'<line class="show" x1="{x1:.1f}" y1="{y1:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#adb5bd" '
            f'stroke-width="{width_px:.1f}" marker-end="url(#arrow)"/></g>'
        )
    for node, data in g.nodes(data=True):
        x, y = positions[node]
        title = escape(_node_title(data))
        label = escape(_short(str(data.get("label", "?"))))
        if data.get("kind") == "external":
            shape = (
                f'<rect x="{x - RADIUS:.1f}" y="{y - RADIUS:.1f}" width="{2 * RADIUS}" height="{2 * RADIUS}" '
                f'fill="#fff" stroke="{EXTERNAL}" stroke-width="2" stroke-dasharray="3 2"/>'
            )
        else:
            color = colors.get(data.get("group"), UNGROUPED)
            bold = highlight_group is not None and data.get("group") == highlight_group
            shape = (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS + (2 if bold else 0)}" fill="{color}" '
                f'stroke="{"#212529" if bold else "#fff"}" stroke-width="{2 if bold else 1}"/>'
            )
        text = f'<text x="{x + RADIUS + 4:.1f}" y="{y + 4:.1f}">{label}</text>'
        group_name = "" if data.get("kind") == "external" else str(data.get("group_name") or "")
        body = (
            f'<g class="node" data-label="{escape(str(data.get("label", "")))}" data-group="{escape(group_name)}" '
            f'data-x="{x:.1f}" data-y="{y:.1f}"><title>{title}</title>{shape}{text}</g>'
        )
        if data.get("vm"):
            body = f'<a href="{escape(reverse("inventory:virtualmachine", args=[data["vm"]]))}">{body}</a>'
        out.append(body)
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above went through escape()


def legend(graph: Graph) -> list[dict]:
    colors = group_colors(graph)
    items = [
        {"label": name, "color": colors[gid], "kind": "group"}
        for gid, name in sorted(graph.groups.items(), key=lambda g: g[1].lower())
    ]
    kinds = {d.get("kind") for _, d in graph.graph.nodes(data=True)}
    if any(d.get("kind") == "vm" and not d.get("group") for _, d in graph.graph.nodes(data=True)):
        items.append({"label": "not in a group", "color": UNGROUPED, "kind": "ungrouped"})
    if "external" in kinds:
        items.append({"label": "external (stays behind)", "color": EXTERNAL, "kind": "external"})
    return items
