"""Confirming a worked problem: every backward quantity a derivation prints.

Each element of ``dL/dy_hat``, ``delta{k}``, ``dL/da{k}``, ``dL/dW{k}``,
``dL/db{k}`` is the derivative of the loss with respect to a forward node
(ŷ, z, a, a weight, a bias); each element of ``da{k}/dz{k}`` is the local
derivative of an activation. The engine's value is the printed gradient node.
"""

from __future__ import annotations

from .convert import SymbolicGraph, latex
from .confirm import ABS_TOL, REL_TOL, Confirmer, VerifyReport


def _cells(nested, position=()):
    """``(position, leaf)`` pairs of a nested tuple, in reading order."""
    if isinstance(nested, (list, tuple)):
        for k, item in enumerate(nested):
            yield from _cells(item, position + (k,))
    else:
        yield position, nested


def _targets(worked, quantity):
    """The forward nodes (trace indices, same nesting) that ``quantity`` differentiates."""
    q, k, t = worked.quantities, quantity.layer, worked.trace
    kind = quantity.kind
    if not quantity.printed:  # not in a derivation (per-path contributions, ∂L/∂x): nothing printed to confirm
        return None
    if kind == "dL/dy_hat":
        return q["y_hat"].nodes
    if kind in ("dL/da", "act_grad"):
        return q[f"a{k}"].nodes if f"a{k}" in q else q[f"z{k}"].nodes
    if kind == "delta":
        return q[f"z{k}"].nodes
    layer = worked.layers[k - 1]
    if kind == "dL/dW":
        return tuple(tuple(t.index(p) for p in row) for row in layer.weight_matrix)
    if kind == "dL/db":
        biases = tuple(t.index(b) for b in layer.bias_values)
        return biases[0] if layer.shared_bias else biases
    return None


def verify_worked(worked, *, expand: bool = False, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> VerifyReport:
    """Confirm every backward quantity of ``worked`` (see the module docstring)."""
    t = worked.trace
    root = worked.quantities["loss"].nodes
    checker = Confirmer(SymbolicGraph(t, root), expand, rel_tol, abs_tol)
    items = []
    for name, quantity in worked.quantities.items():
        if quantity.section != "backward":
            continue
        targets = _targets(worked, quantity)
        if targets is None:
            continue
        for (position, shown), (_, target) in zip(_cells(quantity.nodes), _cells(targets)):
            label = name + "".join(f"[{p}]" for p in position)
            engine = t.nodes[shown].data
            if quantity.kind == "act_grad":
                g, z = checker.graph, t.nodes[target].inputs[0]
                of = rf"\frac{{\partial {_symbol(g, target)}}}{{\partial {_symbol(g, z)}}}"
                items.append(checker.local(label, target, 0, engine, of))
            else:
                items.append(checker.gradient(label, target, engine))
    return checker.report(items, worked.problem.title)


def _symbol(graph, i: int) -> str:
    return latex(graph.symbol[i]) if i in graph.symbol else latex(graph.full(i))


def verification_rows(worked, **tolerances) -> list:
    """The confirmation table of ``tracegrad derive --verify``: one
    :class:`~tracegrad.symbolic.verify.Item` per printed backward element (``name``
    such as ``dL/dW1[0][1]``, ``of`` and ``formula`` as LaTeX, ``formula_text``,
    ``symbolic`` and ``engine`` values, ``agree``)."""
    return list(verify_worked(worked, **tolerances).items)
