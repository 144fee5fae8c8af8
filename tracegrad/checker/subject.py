"""What the checker works on: a trace with named quantities.

A :class:`Subject` is plain data: the trace, ``{name: nested node indices}``, a
symbol and a formula per name for display, and the likely mistakes of its kind
of problem (built only when some answer is wrong). The checker needs nothing
else, so any traced computation whose values have names can be checked:
:func:`network_subject` builds one from a network problem; an expression
problem needs its trace, a name per node (``{"f": (i,), "df/dx": (j,)}``) and
symbols, and gets the generic diagnoses (rounding too early) for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

from ..core.nested import flatten
from ..core.notation import Math
from ..core.trace import Trace


def _no_mutations() -> tuple:
    return ()


@dataclass(frozen=True)
class Subject:
    """A trace, its named quantities (nested tuples of node indices, in the problem's
    layout), a :class:`~tracegrad.render.mathtext.Math` symbol and formula per name,
    and ``mutations()`` returning the problem-specific :class:`~tracegrad.checker.mutations.Mutation` s."""

    title: str
    source: str
    trace: Trace
    quantities: dict
    symbols: dict
    formulas: dict = field(default_factory=dict)
    mutations: Callable[[], tuple] = _no_mutations
    lang: str = "en"
    precision: tuple = (4, None)  # the problem's display default: (decimals, sig_figs)
    policy: object = None  # the problem's grading Policy (None: the default at its precision)
    by_formula: Callable | None = None  # values (name → nested floats) → each quantity by its printed formula
    unprinted: frozenset = frozenset()  # names a derivation does not print (never carry-rounded)

    @cached_property
    def printed(self) -> frozenset:
        """Every computed node a quantity names (the values a derivation prints)."""
        nodes = self.trace.nodes
        return frozenset(i for name, q in self.quantities.items() if name not in self.unprinted
                         for i in flatten(q) if not nodes[i].is_leaf)

    @cached_property
    def layouts(self) -> dict:
        """``{name: (shape, shape without axes of length one, flat node indices)}``."""
        from ..core.nested import shape_of

        out = {}
        for name, nodes in self.quantities.items():
            shape = shape_of(nodes)
            out[name] = (shape, tuple(n for n in shape if n != 1), tuple(flatten(nodes)))
        return out

    @cached_property
    def grader(self):
        """The :class:`~tracegrad.checker.verdicts.Grader` under the subject's own policy, kept
        so that what is per problem is computed once for every answers file."""
        from .verdicts import Grader

        return Grader(self)


def network_subject(problem, optimizer_factory=None) -> Subject:
    """The subject of a network problem (a path, a :class:`~tracegrad.problem.Problem` or a
    solved :class:`~tracegrad.problem.solve.Worked`). ``optimizer_factory`` is passed to
    :func:`~tracegrad.problem.solve.solve` and used, mutated, by the optimizer diagnoses."""
    from ..problem.schema import load_problem
    from ..problem.formulas import formula, symbol
    from ..problem.solve import Worked, solve
    from .mutations import network_mutations
    from .policy import problem_policy

    if isinstance(problem, (str, Path)):
        problem = load_problem(problem)
    worked = problem if isinstance(problem, Worked) else solve(problem, optimizer_factory=optimizer_factory)
    qs = worked.quantities
    precision = (worked.problem.render.decimals, worked.problem.render.sig_figs)
    return Subject(
        title=worked.problem.title,
        source=worked.problem.source,
        trace=worked.trace,
        quantities={name: q.nodes for name, q in qs.items()},
        symbols={name: _updated(symbol(worked, q)) if q.kind == "new" else symbol(worked, q)
                 for name, q in qs.items()},
        formulas={name: _written(formula(worked, q)) for name, q in qs.items()},
        mutations=lambda: network_mutations(worked, optimizer_factory),
        lang=worked.problem.render.lang,
        precision=precision,
        policy=problem_policy(worked.problem),
        unprinted=frozenset(name for name, q in qs.items() if not q.printed),
        by_formula=_by_formula(worked),
    )


def _by_formula(worked):
    """``f(values) -> {name: [flat floats, …]}``: every quantity whose printed formula reads other
    quantities, evaluated on ``values`` (name → nested floats, e.g. a student's own numbers), and
    for δ also the chain rule it simplifies (a ⊙ (g − Σ g·a) for softmax). A student computes by
    the formulas of the derivation, where the graph may take another path to the same number."""
    import numpy as np

    from ..core.formula import Axes
    from ..core.nested import map_nested
    from ..problem.formulas import delta_chain, environment, formula

    qs = worked.quantities
    formulas = {}
    for name, q in qs.items():
        own = set(q.indices())
        found = [formula(worked, q)] + ([delta_chain(worked, q.layer, q.step)] if q.kind == "delta" else [])
        # a formula naming the quantity itself, or another name of its numbers (ŷ = a₂), says nothing
        found = [f for f in found if f is not None and
                 not any(ref in qs and own & set(qs[ref].indices()) for ref in f.refs())]
        if found:
            formulas[name] = found
    axes = Axes.of(worked.problem.layout)
    counter = iter(range(10 ** 9))
    positions = {name: map_nested(q.nodes, lambda i: float(next(counter))) for name, q in worked.quantities.items()}
    where = environment(worked, values=positions)  # each element's place in its oriented array
    starts = {name: int(min(flatten(grid))) for name, grid in positions.items()}

    def evaluate(values: dict) -> dict:
        env = environment(worked, values=values)
        out = {}
        for name, found in formulas.items():
            for f in found:
                try:
                    with np.errstate(all="ignore"):  # a number outside a domain gives NaN, never a match
                        got = np.broadcast_to(np.asarray(f.evaluate(env, axes), dtype=float), where[name].shape)
                except (ArithmeticError, ValueError, KeyError, TypeError):
                    continue
                flat = np.empty(where[name].size)
                flat[where[name].astype(int).ravel() - starts[name]] = got.ravel()
                out.setdefault(name, []).append(flat)
        return out

    return evaluate


def _written(formula):
    return formula.math() if formula is not None else None


def _updated(symbol):
    """W₁ after the update: W₁ⁿᵉʷ."""
    return Math(symbol.latex + r"^{\mathrm{new}}", symbol.text + "ⁿᵉʷ")
