"""An expression as homework: what :func:`tracegrad.check` judges answers to it against.

The quantities are the expression's values and gradients, each gradient built as a
person computes it, so a wrong answer carries into later ones as it would by hand.
"""

from __future__ import annotations

from ..core.notation import node_symbol, partial
from ..core.ops import OPS
from ..core.trace import record
from ..core.value import Value, nodes_below
from ..expressions.parse import OUTPUT_NAME, parse

_ASCII_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def _gradients_by_hand(root) -> dict:
    """``{node: d root/d node}`` built as a person computes it: every edge's upstream × local
    is a node of its own and the contributions into a node are added up. Unlike the engine's
    ``create_graph`` pass, which reuses a node whenever a factor is 1, no gradient is the same
    node as a forward value or as another gradient, so each can be pinned to a student's answer."""
    grads = {root: Value(1.0)}
    for node in reversed(nodes_below(root)):
        g = grads.get(node)
        if g is None or not node.inputs:
            continue
        for inp, local in zip(node.inputs, OPS[node.op].partials(node.inputs, node, node.params)):
            contribution = g * local
            grads[inp] = grads[inp] + contribution if inp in grads else contribution
    return grads


def _refuse_clashes(below, root, names, source) -> None:
    """A variable named like an intermediate value (``v3``) or the result (``f``) would share its
    answer names (``df/dv3``): refused, naming the variable."""
    from ..core.errors import InputError

    seen = {}
    for v in sorted(below, key=lambda v: bool(v.op), reverse=True):  # intermediates first, then variables
        name = OUTPUT_NAME if v is root else names[v].text.translate(_ASCII_DIGITS)
        if name in seen:
            other = "the result" if seen[name] is root else f"the intermediate value {names[seen[name]].text}"
            raise InputError(f"the variable {name} has the name of {other}; rename the variable", file=source,
                             key=f"at.{name}")
        seen[name] = v


def expression_subject(text: str, at, *, title: str = "", source: str = "<expression>", file=None):
    """What :func:`tracegrad.checker.check` judges answers to an expression problem against.

    Quantities: ``f`` (the result), each intermediate value by its node-view name
    (``v3`` for v₃, as ``tracegrad expr`` prints it), and ``df/dx`` for every
    variable and ``df/dv3`` for every intermediate. Every gradient is a node of its
    own, so a wrong answer carries into later answers as it would by hand.
    """
    from ..checker.subject import Subject

    with record() as rec:
        root = parse(text, at, name=OUTPUT_NAME, file=file)
        grads = _gradients_by_hand(root)
    t = rec.trace
    out = node_symbol(t.nodes[t.index(root)].label, t.index(root))
    below = [v for v in nodes_below(root) if v.op != "const"]
    names = {v: node_symbol(v.label, t.index(v)) for v in below}
    _refuse_clashes(below, root, names, file or source)
    quantities, symbols = {}, {}
    for v in below:  # values in the order they are computed, f last
        if v.op:
            key = OUTPUT_NAME if v is root else names[v].text.translate(_ASCII_DIGITS)
            quantities[key], symbols[key] = (t.index(v),), names[v]
    gates = [v for v in reversed(below) if v.op and v is not root]
    for v in gates + [v for v in below if not v.op]:  # gradients gate by gate backward, then the variables
        key = f"d{OUTPUT_NAME}/d{names[v].text.translate(_ASCII_DIGITS)}"
        quantities[key], symbols[key] = (t.index(grads[v]),), partial(out, names[v])
    return Subject(title or f"{OUTPUT_NAME} = {text}", source, t, quantities, symbols)
