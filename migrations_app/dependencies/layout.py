"""A layered layout of a dependency graph, computed with networkx, in pure Python (no numpy).

Callers on the left, what they call on the right: each weakly connected part of the graph is
condensed into its strongly connected components (a DAG), whose topological generations are the
columns. Within a column, nodes follow the average position of their neighbours in the columns
before (one barycentre pass), which keeps most lines short and uncrossed. A tall column wraps into
several, and a part with more columns than fit the width wraps into bands. The parts are packed
left to right into rows, largest first; lone nodes last, in a grid.
"""

import networkx as nx

X_GAP = 200
Y_GAP = 40
MAX_PER_COLUMN = 18
MARGIN = 30
PART_GAP = 70
MAX_WIDTH = 1800
LABEL_ROOM = 150  # room right of the last column for its labels


def _label(graph: nx.DiGraph, node) -> str:
    return str(graph.nodes[node].get("label", node)).lower()


def _columns(graph: nx.DiGraph, part) -> list[list]:
    sub = graph.subgraph(part)
    condensed = nx.condensation(sub)
    mapping = condensed.graph["mapping"]
    generation = {}
    for index, members in enumerate(nx.topological_generations(condensed)):
        for scc in members:
            generation[scc] = index
    layers: list[list] = [[] for _ in range(max(generation.values()) + 1)]
    for node in part:
        layers[generation[mapping[node]]].append(node)
    order: dict = {}
    columns = []
    for layer in layers:

        def barycentre(n):
            placed = [order[m] for m in nx.all_neighbors(sub, n) if m in order]
            return (sum(placed) / len(placed) if placed else float("inf"), _label(graph, n))

        layer.sort(key=barycentre)
        for index, node in enumerate(layer):
            order[node] = index
        for start in range(0, len(layer), MAX_PER_COLUMN):
            columns.append(layer[start : start + MAX_PER_COLUMN])
    return columns


def layered(graph: nx.DiGraph) -> tuple[dict, int, int]:
    """Positions {node: (x, y)} and the drawing's width and height."""
    parts = sorted(
        nx.weakly_connected_components(graph), key=lambda p: (-len(p), min(_label(graph, n) for n in p))
    )
    blocks = [_columns(graph, part) for part in parts if len(part) > 1]
    lone = sorted((n for part in parts if len(part) == 1 for n in part), key=lambda n: _label(graph, n))
    for start in range(0, len(lone), MAX_PER_COLUMN):
        blocks.append([lone[start : start + MAX_PER_COLUMN]])

    # A long chain would run off to the right: its columns wrap into bands, one below the other.
    per_band = max(1, (MAX_WIDTH - LABEL_ROOM) // X_GAP)
    banded = []
    for columns in blocks:
        for start in range(0, len(columns), per_band):
            banded.append(columns[start : start + per_band])

    positions, x, y, row_height, width = {}, MARGIN, MARGIN, 0, 0
    for columns in banded:
        block_width = (len(columns) - 1) * X_GAP + LABEL_ROOM
        block_height = (max(len(c) for c in columns) - 1) * Y_GAP
        if x > MARGIN and x + block_width > MAX_WIDTH:
            x, y = MARGIN, y + row_height + PART_GAP
            row_height = 0
        tallest = max(len(c) for c in columns)
        for ci, column in enumerate(columns):
            offset = (tallest - len(column)) * Y_GAP / 2  # centre short columns
            for ri, node in enumerate(column):
                positions[node] = (x + ci * X_GAP, y + offset + ri * Y_GAP)
        width = max(width, x + block_width)
        x += block_width + PART_GAP
        row_height = max(row_height, block_height)
    height = y + row_height + MARGIN
    return positions, max(width + MARGIN, 300), max(height + MARGIN, 120)
