"""Numbers, vectors and matrices as :class:`~tracegrad.core.notation.Math`, and the
expansion of a node into arithmetic with its operands' numbers, written through the
op table's notations."""

from __future__ import annotations

from ..core import notation as nt
from ..core.notation import Math
from ..core.ops import OPS
from ..core.numbers import NumberFormat, exact_text, written

# --- numbers, vectors and matrices ---------------------------------------------------


def number(x: float, fmt: NumberFormat | None, full: bool = False) -> Math:
    """A computed value in the display format (``fmt``; ``full``: an exact one with every digit of
    the precision, 0.0090 beside 0.0045), or a given one as written (``fmt`` None)."""
    if fmt is None:
        return Math(*written(exact_text(x)))
    return Math(*written(fmt.printed(x).full if full else fmt.text(x)))


GIVEN_DIGITS = 10
"""A given number with more significant digits than this (a weight after training steps, a
softmax's shift) is shown in the display precision, not as written."""


def is_long(x: float) -> bool:
    """Whether ``x`` has more digits than a person writes (:data:`GIVEN_DIGITS`)."""
    return len(exact_text(x).lstrip("-").replace(".", "").lstrip("0")) > GIVEN_DIGITS


def grid(nested, cell) -> Math:
    """A scalar, a vector ``[a, b]`` or a matrix, each cell written by ``cell(x) -> Math``; deeper
    nesting (a batch of matrices) as a list of them."""
    if not isinstance(nested, (list, tuple)):
        return cell(nested)
    if nested and isinstance(nested[0], (list, tuple)) and nested[0] and isinstance(nested[0][0], (list, tuple)):
        parts = [grid(item, cell) for item in nested]
        return Math(r"\left[" + ", ".join(m.latex for m in parts) + r"\right]", "[" + ", ".join(m.text for m in parts) + "]")
    if nested and isinstance(nested[0], (list, tuple)):
        rows = [[cell(x) for x in row] for row in nested]
        latex = r"\begin{bmatrix}" + r" \\ ".join(" & ".join(c.latex for c in row) for row in rows) + r"\end{bmatrix}"
        text = "[" + ", ".join("[" + ", ".join(c.text for c in row) + "]" for row in rows) + "]"
        return Math(latex, text)
    cells = [cell(x) for x in nested]
    if len(cells) == 1:  # a one-unit layer's vector reads as a number, as the document writes it
        return cells[0]
    return Math(r"\left[" + ", ".join(c.latex for c in cells) + r"\right]", "[" + ", ".join(c.text for c in cells) + "]")


# --- expansion of a node into arithmetic ---------------------------------------------

NUMBER_NEGATIVE = 0  # binds looser than anything: a negative operand is always parenthesized


def expand(trace, index: int, printed: set, fmt: NumberFormat, depth: int = 1) -> Math | None:
    """The op of node ``index`` written with its operands' numbers: printed nodes and
    given leaves appear as numbers, other intermediate nodes are expanded in turn
    (``depth`` more levels), then shown as numbers too. ``None`` for a leaf."""
    nodes = trace.nodes
    if nodes[index].is_leaf:
        return None
    latex, text = _expand(nodes, index, printed, fmt, depth)
    return Math(latex[0], text[0])


def _operand(nodes, i, printed, fmt, depth):
    rec = nodes[i]
    if rec.is_leaf or i in printed or depth <= 0:
        given = rec.op == "" or (rec.is_const and fmt.is_exact(rec.data))
        m = number(rec.data, None if given else fmt)
        prec = NUMBER_NEGATIVE if rec.data < 0 and m.text.startswith("−") else nt.ATOM
        return (m.latex, prec), (m.text, prec)
    return _expand(nodes, i, printed, fmt, depth - 1)


def _expand(nodes, index, printed, fmt, depth):
    rec = nodes[index]
    spec = OPS[rec.op]
    args = [_operand(nodes, i, printed, fmt, depth) for i in rec.inputs]
    latex = spec.render([a[0] for a in args], rec.params, "latex")
    text = spec.render([a[1] for a in args], rec.params, "text")
    return latex, text
