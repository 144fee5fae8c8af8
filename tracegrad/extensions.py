"""Methods the core's classes get from the layers above, attached when ``tracegrad`` is
imported: Jupyter display (a ``Value`` shows its graph, a ``Trace`` its node-view
derivation; see :mod:`tracegrad.notebook`) and ``Value.to_sympy()``.

The core imports nothing above it; this module, at the top, adds the methods. Each one
imports what it needs when called, so ``import tracegrad`` stays light.
"""

from __future__ import annotations

from .core.trace import Trace
from .core.value import Value


def _value_svg(self):
    """Jupyter: the picture of the graph below this value (needs Graphviz)."""
    from .notebook import value_svg

    return value_svg(self)


def _value_markdown(self):
    """Jupyter without Graphviz: the graph's boxes as a Markdown table."""
    from .notebook import value_markdown

    return value_markdown(self)


def _to_sympy(self):
    """This node as a SymPy expression: a real symbol per leaf, named from its label
    (see :func:`tracegrad.symbolic.to_sympy`; imports SymPy)."""
    from .symbolic import to_sympy

    return to_sympy(self)


def _trace_markdown(self):
    """Jupyter: the node-view derivation."""
    from .notebook import trace_markdown

    return trace_markdown(self)


Value._repr_svg_ = _value_svg
Value._repr_markdown_ = _value_markdown
Value.to_sympy = _to_sympy
Trace._repr_markdown_ = _trace_markdown
