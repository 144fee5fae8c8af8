"""Confirming a worked problem: every backward quantity a derivation prints.

Each element of ``dL/dy_hat``, ``delta{k}``, ``dL/da{k}``, ``dL/dW{k}``,
``dL/db{k}`` is the derivative of the loss with respect to a forward node
(ŷ, z, a, a weight, a bias); each element of ``da{k}/dz{k}`` is the local
derivative of an activation. The engine's value is the printed gradient node.
"""

from __future__ import annotations

from ..problem.formulas import at
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
    """The forward nodes (trace indices, same nesting) that ``quantity`` differentiates, in its own step."""
    q, k, step = worked.quantities, quantity.layer, quantity.step or 1
    kind = quantity.kind
    if not quantity.printed:  # not in a derivation (per-path contributions, ∂L/∂x): nothing printed to confirm
        return None
    if kind == "dL/dy_hat":
        return q[at("y_hat", step)].nodes
    if kind in ("dL/da", "act_grad"):
        return q[at(f"a{k}", step)].nodes if f"a{k}" in q else q[at(f"z{k}", step)].nodes
    if kind == "delta":
        return q[at(f"z{k}", step)].nodes
    if kind == "dL/dW":
        return worked.parameters[step][("W", k)]
    if kind == "dL/db":
        biases = worked.parameters[step][("b", k)]
        return biases[0] if worked.layers[k - 1].shared_bias else biases
    return None


def verify_worked(worked, *, expand: bool = False, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> VerifyReport:
    """Confirm every backward quantity of ``worked`` (see the module docstring): each step's as
    derivatives of that step's loss."""
    t = worked.trace
    roots = {it.step: worked.quantities[at("loss", it.step)].nodes for it in worked.iterations}
    graph = SymbolicGraph(t, roots[1], also=tuple(roots[s] for s in sorted(roots) if s > 1))
    checkers = {}
    items = []
    for name, quantity in worked.quantities.items():
        if quantity.section != "backward":
            continue
        targets = _targets(worked, quantity)
        if targets is None:
            continue
        step = quantity.step or 1
        if step not in checkers:
            checkers[step] = Confirmer(graph, expand, rel_tol, abs_tol, root=roots[step])
        checker = checkers[step]
        for (position, shown), (_, target) in zip(_cells(quantity.nodes), _cells(targets)):
            label = name + "".join(f"[{p}]" for p in position)
            engine = t.nodes[shown].data
            if quantity.kind == "act_grad":
                g, z = checker.graph, t.nodes[target].inputs[0]
                of = rf"\frac{{\partial {_symbol(g, target)}}}{{\partial {_symbol(g, z)}}}"
                items.append(checker.local(label, target, 0, engine, of))
            else:
                items.append(checker.gradient(label, target, engine))
    first = checkers.get(1) or Confirmer(graph, expand, rel_tol, abs_tol)
    for checker in checkers.values():  # the definitions the formulas of every step use
        first.used |= checker.used
    return first.report(items, worked.problem.title)


def _symbol(graph, i: int) -> str:
    return latex(graph.symbol[i]) if i in graph.symbol else latex(graph.full(i))


def verification_rows(worked, **tolerances) -> list:
    """The confirmation table of ``tracegrad derive --verify``: one
    :class:`~tracegrad.symbolic.verify.Item` per printed backward element (``name``
    such as ``dL/dW1[0][1]``, ``of`` and ``formula`` as LaTeX, ``formula_text``,
    ``symbolic`` and ``engine`` values, ``agree``)."""
    return list(verify_worked(worked, **tolerances).items)
