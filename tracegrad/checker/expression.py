"""An expression as homework: what :func:`tracegrad.check` judges answers to it against.

The quantities are the expression's values and gradients, each gradient built as a
person computes it, so a wrong answer carries into later ones as it would by hand.
"""

from __future__ import annotations

from ..core.notation import partial
from ..core.ops import OPS
from ..core.trace import Trace, record
from ..core.value import Value, nodes_below
from ..expressions.parse import OUTPUT_NAME, parse

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


def expression_subject(text: str, at, *, title: str = "", source: str = "<expression>", file=None):
    """What :func:`tracegrad.checker.check` judges answers to an expression problem against.

    Quantities: ``f`` (the result), each intermediate value by its node-view name
    (``v3`` for v₃, as ``tracegrad expr`` prints it), and ``df/dx`` for every
    variable and ``df/dv3`` for every intermediate. Every gradient is a node of its
    own, so a wrong answer carries into later answers as it would by hand.
    """
    root = parse(text, at, name=OUTPUT_NAME, file=file)
    return graph_subject(root, title or f"{OUTPUT_NAME} = {text}", source)


def program_subject(program):
    """What :func:`tracegrad.checker.check` judges answers to a program against (a
    :class:`~tracegrad.expressions.program.Program`): every node by its name, as
    :func:`graph_subject` names them; ``dL/da`` for the gradients."""
    return graph_subject(program.output, f"{program.output.label or 'output'} ({program.source})", program.source)


def graph_subject(root, title: str, source: str):
    """The subject of the graph below ``root``, each node named as the node view names it
    (:meth:`~tracegrad.core.trace.Trace.key`): its label (``c₂`` written ``c_2``), else ``v3``."""
    from ..checker.subject import Subject

    with record() as rec:
        grads = _gradients_by_hand(root)
    # the forward nodes first, in the order the derivation numbers them; then the gradients
    t = Trace([root, *rec.nodes])
    below = [v for v in nodes_below(root) if v.op != "const"]
    index = {v: t.index(v) for v in below}
    out = t.key(index[root])
    quantities, symbols = {}, {}
    for v in below:  # values in the order they are computed, the result last
        if v.op:
            quantities[t.key(index[v])], symbols[t.key(index[v])] = (index[v],), t.symbol(index[v])
    gates = [v for v in reversed(below) if v.op and v is not root]
    for v in gates + [v for v in below if not v.op]:  # gradients gate by gate backward, then the leaves
        key = f"d{out}/d{t.key(index[v])}"
        quantities[key], symbols[key] = (t.index(grads[v]),), partial(t.symbol(index[root]), t.symbol(index[v]))
    return Subject(title, source, t, quantities, symbols)
