"""Confirming a worked problem: every backward quantity a derivation prints.

Each element of ``dL/dy_hat``, ``delta{k}``, ``dL/da{k}``, ``dL/dW{k}``,
``dL/db{k}`` is the derivative of its step's loss with respect to a forward node
(ŷ, z, a, a weight, a bias); each element of ``da{k}/dz{k}`` is the local
derivative of an activation. The engine's value is the printed gradient node. A
step after the first starts from the parameters the previous one updated: they are
that step's leaves.

Everything is written in the derivation's own notation: each symbol as the layer view
writes its element, with the element's 0-based position (W₁[0][1], ŷ[0], z₁[1][2] for
sample 1 of a batch), each derivative by the quantity's symbol (∂L/∂W₁[0][1], δ₂[0],
σ′(z₁)[1]).
"""

from __future__ import annotations

from dataclasses import replace

from ..core.nested import cells
from ..core.notation import Math, element
from ..problem.formulas import node_notation, symbol
from ..problem.kinds import at
from .confirm import ABS_TOL, REL_TOL, Confirmer, VerifyReport
from .convert import SymbolicGraph


def _targets(worked, quantity, step: int):
    """The forward nodes (trace indices, same nesting) that ``quantity`` differentiates."""
    q, k = worked.quantities, quantity.layer
    kind = quantity.kind
    if not quantity.printed:  # not in a derivation (per-path contributions, ∂L/∂x): nothing printed to confirm
        return None
    of = {"dL/dy_hat": "y_hat", "dL/da": f"a{k}", "act_grad": f"a{k}", "delta": f"z{k}"}.get(kind)
    if of is not None:
        if kind in ("dL/da", "act_grad") and at(of, step) not in q:
            of = f"z{k}"
        return q[at(of, step)].nodes
    if kind in ("dL/dW", "dL/db"):
        nodes = worked.parameters[step][(kind[-1], k)]
        return nodes[0] if kind == "dL/db" and worked.layers[k - 1].shared_bias else nodes
    return None


def verify_worked(worked, *, expand: bool = False, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> VerifyReport:
    """Confirm every backward quantity of ``worked`` (see the module docstring); in a derivation
    of several steps each derivative and definition of step t > 1 is marked (t = 2)."""
    t = worked.trace
    reports = []
    for step in range(1, worked.steps + 1):
        root = worked.quantities[at("loss", step)].nodes
        starts = {i for nodes in worked.parameters[step].values() for _, i in cells(nodes)}
        graph = SymbolicGraph(t, root, leaves=starts)
        graph.rename(node_notation(worked, step))
        checker = Confirmer(graph, expand, rel_tol, abs_tol)
        mark = Math("", "") if step == 1 else Math(rf"\;(t = {step})", f" (t = {step})")
        items = []
        for quantity in worked.of_step(step):
            targets = _targets(worked, quantity, step) if quantity.section == "backward" else None
            if targets is None:
                continue
            m = symbol(worked, quantity)
            for (position, shown), (_, target) in zip(cells(quantity.nodes), cells(targets)):
                label, of = quantity.element(position), element(m, position) + mark
                engine = t.nodes[shown].data
                if quantity.kind == "act_grad":
                    items.append(checker.local(label, target, 0, engine, of))
                else:
                    items.append(checker.gradient(label, target, engine, of))
        report = checker.report(items, worked.problem.title)
        reports.append(replace(report, definitions=tuple(
            replace(d, name=d.name + mark.text, symbol=d.symbol + mark.latex) for d in report.definitions)))
    first = reports[0]
    rules = {(r.op, r.params, r.arity): r for report in reports for r in report.rules}
    return replace(first, items=tuple(i for r in reports for i in r.items), rules=tuple(rules.values()),
                   definitions=tuple(d for r in reports for d in r.definitions))


def verification_rows(worked, **tolerances) -> list:
    """The confirmation table of ``tracegrad derive --verify``: one
    :class:`~tracegrad.symbolic.verify.Item` per printed backward element (``name``
    its answers-file key such as ``dL/dW1[0][1]``, ``of`` and ``formula`` as LaTeX,
    ``of_text`` and ``formula_text`` as text, ``symbolic`` and ``engine`` values, ``agree``)."""
    return list(verify_worked(worked, **tolerances).items)
