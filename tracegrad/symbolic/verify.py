"""``verify``: a computation's gradients confirmed symbolically (see :mod:`.confirm`).

For a ``Value`` or a ``Trace``: the derivative of the loss expression with respect to every
leaf (and, on request, every intermediate), computed by SymPy and evaluated at the recorded
point, equals the engine's gradient. For a worked problem: every backward quantity it prints
(:mod:`.quantities`).
"""

from __future__ import annotations

from ..core.errors import InputError
from .confirm import ABS_TOL, REL_TOL, Confirmer, VerifyReport
from .convert import SymbolicGraph, as_trace
from .quantities import verify_worked


def verify(subject, wrt=None, intermediates: bool = False, *, loss=None, expand: bool = False,
           rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> VerifyReport:
    """Confirm the gradients of ``subject`` symbolically.

    ``subject`` is a ``Value`` (the loss), a ``Trace`` (its output, or the node
    ``loss`` names) or a worked problem (:func:`tracegrad.problem.solve`; then
    every backward quantity it prints is confirmed). ``wrt`` picks the nodes
    (labels, indices or ``Value`` s; default: every non-constant leaf);
    ``intermediates`` adds every non-leaf node below the loss. Derivatives are
    written over named intermediates (their definitions are listed); with
    ``expand`` they are written over the leaves alone, for leaves literally
    ``sympy.diff`` of the full loss expression.
    """
    if hasattr(subject, "quantities"):
        return verify_worked(subject, rel_tol=rel_tol, abs_tol=abs_tol, expand=expand)
    t, root = as_trace(subject)
    if loss is not None:
        root = t.index(loss)
    graph = SymbolicGraph(t, root)
    nodes = t.nodes
    if wrt is None:
        targets = [i for i in graph.below if nodes[i].is_leaf and not nodes[i].is_const]
    else:
        targets = [t.index(k) for k in (wrt if isinstance(wrt, (list, tuple)) else [wrt])]
        outside = [_name(t, i) for i in targets if i not in graph.expr]
        if outside:
            raise InputError(f"{', '.join(outside)}: not below {_name(t, root)}, so the derivative is 0 by "
                             "construction; choose nodes the loss depends on")
    if intermediates:
        targets += [i for i in graph.below if not nodes[i].is_leaf and i != root and i not in targets]
    engine = engine_gradients(t, root)
    checker = Confirmer(graph, expand, rel_tol, abs_tol)
    items = [checker.gradient(_name(t, i), i, engine[i]) for i in targets]
    return checker.report(items)


def engine_gradients(t, root: int) -> list:
    """The engine's d(root)/d(node) for every node of ``t``: the recorded gradients when
    ``root`` was the trace's only backward root, else a fresh backward pass on a rebuilt graph."""
    if t.roots == (root,):
        return [rec.grad for rec in t.nodes]
    fresh = t.rebuild()
    fresh[root].backward()
    return [v.grad for v in fresh]


def _name(t, i: int) -> str:
    """Node ``i`` as an answers file names it: its label, or ``v12`` (v₁₂ in the node view)."""
    return t.key(i)
