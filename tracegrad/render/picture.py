"""Graph pictures: DOT, SVG (through Graphviz's ``dot``) and Mermaid.

One box per value, as micrograd's ``draw_dot`` draws them, left to right:
the value's name and the op that made it (``v₃ = x + y``, cut with ``…``
after :data:`MAX_TITLE` characters), its data and its grad. Names are the
node view's (:func:`tracegrad.render.node_view.node_name`): a node's label,
else ``v`` and its index in the trace; constants show their number. An input
used twice (``x * x``) gets two edges.

Every function takes a ``Value`` (drawn with its current data and grads, as
micrograd does; run ``backward()`` first to see gradients) or a
:class:`~tracegrad.core.trace.Trace`. Output depends only on the graph and its
numbers: the same graph gives byte-identical text.
"""

from __future__ import annotations

import html
import shutil
import subprocess

from ..core import notation as nt
from ..core.errors import TraceGradError
from ..core.ops import OPS
from ..core.escape import plain
from ..core.numbers import NumberFormat, exact_text
from ..core.trace import Trace
from ..core.value import Value

FORMATS = ("dot", "svg", "mermaid")
MAX_TITLE = 60  # characters of a box title; longer ones are cut with …
SVG_TIMEOUT = 120  # seconds Graphviz may take


class GraphvizMissing(TraceGradError):
    """SVG was asked for but Graphviz's ``dot`` program is not installed."""

    def __init__(self):
        super().__init__(
            "SVG pictures need Graphviz's dot program, which is not installed or not on PATH: "
            "install Graphviz (apt-get install graphviz, brew install graphviz, conda install graphviz) "
            "or ask for --format dot or --format mermaid")


def as_trace(graph) -> Trace:
    """A :class:`Trace` of ``graph`` (a ``Value`` root, or a ``Trace`` as it is)."""
    if isinstance(graph, Trace):
        return graph
    if isinstance(graph, Value):
        return Trace([graph])
    raise TypeError(f"a graph picture needs a Value or a Trace, not {type(graph).__name__}")


def boxes(graph, decimals: int = 4) -> list:
    """``(title, data text, grad text)`` for every node, in execution order (user text unescaped)."""
    from .mathtext import number
    from .node_view import node_name

    t = as_trace(graph)
    fmt = NumberFormat(decimals=decimals)
    refs, titles = [], []
    for node in t.nodes:
        if node.is_const and node.label is None:
            ref = (exact_text(node.data), nt.NEG if node.data < 0 else nt.ATOM)
        else:
            name = plain(node_name(t, node.index).text)
            ref = (name, nt.name_precedence(name))
        refs.append(ref)
        if node.is_leaf:
            titles.append(ref[0])
        else:
            formula = OPS[node.op].render([refs[i] for i in node.inputs], node.params, "text")[0]
            titles.append(f"{ref[0]} = {formula}")
    titles = [t if len(t) <= MAX_TITLE else t[: MAX_TITLE - 1] + "…" for t in titles]
    return [(title, number(node.data, fmt).text, number(node.grad, fmt).text) for title, node in zip(titles, t.nodes)]


def _edges(graph) -> list:
    return [(i, node.index) for node in as_trace(graph).nodes for i in node.inputs]


# --- DOT --------------------------------------------------------------------------------

def dot_escape(text: str) -> str:
    """User text for a cell of a Graphviz HTML-like label: XML-escaped, with backslashes
    doubled (Graphviz reads ``\\\\`` as one) and ``]`` as an entity (a cell holding only
    ``]`` loses it in Graphviz 2.43)."""
    text = html.escape(plain(text).replace("\n", " "), quote=True)
    return text.replace("\\", "\\\\").replace("]", "&#93;")


def to_dot(graph, decimals: int = 4) -> str:
    """The graph in Graphviz's DOT language."""
    graph = as_trace(graph)
    lines = ["digraph tracegrad {", "  graph [rankdir=LR];", "  node [shape=plaintext];"]
    for i, (title, data, grad) in enumerate(boxes(graph, decimals)):
        cells = "".join(f"<TD>{dot_escape(f)}</TD>" for f in (title, f"data {data}", f"grad {grad}"))
        lines.append(f'  v{i} [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
                     f"<TR>{cells}</TR></TABLE>>];")
    lines += [f"  v{a} -> v{b};" for a, b in _edges(graph)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_available() -> bool:
    """Whether Graphviz's ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


def to_svg(graph, decimals: int = 4) -> str:
    """The graph drawn as SVG by Graphviz; raises :class:`GraphvizMissing` without it."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing()
    graph = as_trace(graph)
    source = to_dot(graph, decimals)
    try:
        result = subprocess.run([exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                                timeout=SVG_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise TraceGradError(f"Graphviz took longer than {SVG_TIMEOUT} s on this graph of "
                             f"{len(as_trace(graph))} nodes; ask for --format dot and render it yourself, "
                             "or draw a smaller graph") from None
    if result.returncode != 0:
        raise TraceGradError(f"Graphviz's dot failed: {result.stderr.decode('utf-8', 'replace').strip()}")
    return result.stdout.decode("utf-8")


# --- Mermaid -----------------------------------------------------------------------------

_MERMAID_SAFE = set(" .,_+-=():×−·/*^")


def mermaid_escape(text: str) -> str:
    """User text inside a double-quoted Mermaid label: anything but letters, digits and
    plain punctuation becomes a numeric entity code (``#35;``)."""
    return "".join(c if c.isalnum() or c in _MERMAID_SAFE else f"#{ord(c)};"
                   for c in plain(text).replace("\n", " "))


def to_mermaid(graph, decimals: int = 4) -> str:
    """The graph as a Mermaid flowchart (for Markdown: put it in a ```` ```mermaid ```` block)."""
    graph = as_trace(graph)
    lines = ["flowchart LR"]
    for i, (title, data, grad) in enumerate(boxes(graph, decimals)):
        text = "<br/>".join(mermaid_escape(f) for f in (title, f"data {data}", f"grad {grad}"))
        lines.append(f'  v{i}["{text}"]')
    lines += [f"  v{a} --> v{b}" for a, b in _edges(graph)]
    return "\n".join(lines) + "\n"


def picture(graph, fmt: str = "dot", decimals: int = 4) -> str:
    """The graph in format ``fmt`` (``dot``, ``svg`` or ``mermaid``)."""
    writers = {"dot": to_dot, "svg": to_svg, "mermaid": to_mermaid}
    if fmt not in writers:
        raise ValueError(f"unknown picture format {fmt!r}; choose from {', '.join(FORMATS)}")
    return writers[fmt](graph, decimals)
