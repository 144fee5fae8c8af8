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
    from ..problem.formulas import by_formula, formula, symbol
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
        by_formula=by_formula(worked),
    )


def _written(formula):
    return formula.math() if formula is not None else None


def _updated(symbol):
    """W₁ after the update: W₁ⁿᵉʷ."""
    return Math(symbol.latex + r"^{\mathrm{new}}", symbol.text + "ⁿᵉʷ")
