"""Rich display in Jupyter.

A ``Value`` shows the picture of its graph (SVG, when Graphviz's ``dot`` is
installed) or, without Graphviz, the same boxes as a Markdown table. A
``Trace`` shows its node-view derivation in Markdown. Graphs larger than
:data:`DISPLAY_LIMIT` nodes keep the plain ``repr``, so displaying a big
network's loss never stalls a notebook; draw those on purpose with
:func:`tracegrad.render.picture.to_svg` or ``tracegrad.workflows.derive.derive``.
"""

from __future__ import annotations

from .render.picture import as_trace, boxes, graphviz_available, to_svg
from .core import escape
from .core.value import Value

DISPLAY_LIMIT = 300
"""Most nodes a graph may have to be drawn or derived automatically on display."""


def _small(graph):
    """``graph`` as a trace when it has at most :data:`DISPLAY_LIMIT` nodes, else ``None``
    (a ``Value`` graph is counted with an early stop, never walked in full)."""
    if isinstance(graph, Value):
        seen, stack = set(), [graph]
        while stack:
            v = stack.pop()
            if id(v) not in seen:
                seen.add(id(v))
                if len(seen) > DISPLAY_LIMIT:
                    return None
                stack.extend(v._prev)
    t = as_trace(graph)
    return t if len(t) <= DISPLAY_LIMIT else None


def value_svg(value) -> str | None:
    """The graph below ``value`` as SVG; ``None`` without Graphviz or above the limit."""
    t = _small(value)
    if t is None or not graphviz_available():
        return None
    return to_svg(t)


def value_markdown(value) -> str | None:
    """Without Graphviz: the graph's boxes as a Markdown table (``None`` when SVG is shown)."""
    t = _small(value)
    if t is None or graphviz_available():
        return None
    rows = [f"| {escape.markdown(title)} | {data} | {grad} |" for title, data, grad in boxes(t)]
    return "\n".join(["| value | data | grad |", "|:---|---:|---:|", *rows]) + "\n"


def trace_markdown(trace) -> str | None:
    """The node-view derivation of ``trace`` in Markdown (``None`` above the limit)."""
    if _small(trace) is None:
        return None
    from .workflows.derive import derive

    return derive(trace, format="markdown").text
