"""A layered left-to-right layout of a computation graph, for the Graph page's SVG.

Columns are ranks: a computed node sits one column right of its furthest
input, a leaf just left of its first consumer. Within a column, nodes are
ordered by a few barycenter sweeps (each node moved towards the mean position
of its neighbours), which untangles most crossings; ties keep trace order, so
the same graph always gets the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 176, 58  # a node's box
GAP_X, GAP_Y = 64, 18
MARGIN = 12
SWEEPS = 4
TITLE_CHARACTERS = 22  # of a box's first line; the tooltip has the whole formula


@dataclass(frozen=True)
class Box:
    node: dict
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Edge:
    edge: dict
    path: str


@dataclass(frozen=True)
class Picture:
    width: float
    height: float
    boxes: tuple
    edges: tuple
    box_width: float = WIDTH
    box_height: float = HEIGHT


def _ranks(nodes: list) -> list:
    rank = [0] * len(nodes)
    for node in nodes:  # trace order: inputs come first
        if node["inputs"]:
            rank[node["index"]] = 1 + max(rank[i] for i in node["inputs"])
    consumers: dict = {}
    for node in nodes:
        for i in node["inputs"]:
            consumers.setdefault(i, []).append(node["index"])
    for node in nodes:
        if not node["inputs"] and node["index"] in consumers:
            rank[node["index"]] = min(rank[c] for c in consumers[node["index"]]) - 1
    return rank


def _order(nodes: list, rank: list) -> dict:
    """Position of every node within its column after the barycenter sweeps."""
    columns: dict = {}
    for node in nodes:
        columns.setdefault(rank[node["index"]], []).append(node["index"])
    position = {i: k for column in columns.values() for k, i in enumerate(column)}
    below = {node["index"]: node["inputs"] for node in nodes}
    above: dict = {}
    for node in nodes:
        for i in node["inputs"]:
            above.setdefault(i, []).append(node["index"])
    for sweep in range(SWEEPS):
        neighbours = below if sweep % 2 == 0 else above
        for r in sorted(columns, reverse=sweep % 2 == 1):
            def centre(i):
                near = neighbours.get(i) or ()
                return (sum(position[j] for j in near) / len(near) if near else position[i], position[i])
            columns[r].sort(key=centre)
            position.update((i, k) for k, i in enumerate(columns[r]))
    return position


def _title(text: str) -> str:
    return text if len(text) <= TITLE_CHARACTERS else text[: TITLE_CHARACTERS - 1] + "…"


def layout(graph: dict) -> Picture:
    """Boxes and edge paths for the graph data of :func:`tracegrad.serve.api.graph_data`."""
    nodes = graph["nodes"]
    rank = _ranks(nodes)
    position = _order(nodes, rank)
    sizes: dict = {}
    for node in nodes:
        sizes[rank[node["index"]]] = sizes.get(rank[node["index"]], 0) + 1
    tallest = max(sizes.values(), default=0)
    xy = {}
    boxes = []
    for node in nodes:
        i = node["index"]
        r = rank[i]
        offset = (tallest - sizes[r]) * (HEIGHT + GAP_Y) / 2
        x, y = MARGIN + r * (WIDTH + GAP_X), MARGIN + offset + position[i] * (HEIGHT + GAP_Y)
        xy[i] = (x, y)
        boxes.append(Box(node, x, y, _title(node["title"])))
    edges = []
    for edge in graph["edges"]:
        (x1, y1), (x2, y2) = xy[edge["source"]], xy[edge["target"]]
        x1, y1, y2 = x1 + WIDTH, y1 + HEIGHT / 2, y2 + HEIGHT / 2
        bend = max(GAP_X / 2, (x2 - x1) / 2)
        edges.append(Edge(edge, f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} "
                                f"{x2:.1f},{y2:.1f}"))
    columns = max(rank, default=0) + 1
    width = 2 * MARGIN + columns * WIDTH + (columns - 1) * GAP_X
    height = 2 * MARGIN + tallest * HEIGHT + max(tallest - 1, 0) * GAP_Y
    return Picture(width, height, tuple(boxes), tuple(edges))
