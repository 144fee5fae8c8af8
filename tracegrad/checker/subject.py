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

from ..errors import InputError
from ..trace import Trace


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

    @cached_property
    def printed(self) -> frozenset:
        """Every computed node a quantity names (the values a derivation prints)."""
        nodes = self.trace.nodes
        return frozenset(i for q in self.quantities.values() for i in flat(q) if not nodes[i].is_leaf)


def flat(nested) -> list:
    """The leaves of nested lists or tuples, in reading order."""
    if isinstance(nested, (list, tuple)):
        return [leaf for item in nested for leaf in flat(item)]
    return [nested]


def network_subject(problem, optimizer_factory=None) -> Subject:
    """The subject of a network problem (a path, a :class:`~tracegrad.problem.Problem` or a
    solved :class:`~tracegrad.worked.Worked`). ``optimizer_factory`` is passed to
    :func:`~tracegrad.worked.solve` and used, mutated, by the optimizer diagnoses."""
    from ..problem import load_problem
    from ..render.layer_view import _formula, _symbol
    from ..worked import Worked, solve
    from .mutations import network_mutations

    if isinstance(problem, (str, Path)):
        problem = load_problem(problem)
    worked = problem if isinstance(problem, Worked) else solve(problem, optimizer_factory=optimizer_factory)
    qs = worked.quantities
    return Subject(
        title=worked.problem.title,
        source=worked.problem.source,
        trace=worked.trace,
        quantities={name: q.nodes for name, q in qs.items()},
        symbols={name: _updated(_symbol(worked, name, q)) if q.kind == "new" else _symbol(worked, name, q)
                 for name, q in qs.items()},
        formulas={name: _formula(worked, name, q) for name, q in qs.items()},
        mutations=lambda: network_mutations(worked, optimizer_factory),
        lang=worked.problem.render.lang,
        precision=(worked.problem.render.decimals, worked.problem.render.sig_figs),
    )


def _updated(symbol):
    """W₁ after the update: W₁ⁿᵉʷ."""
    from ..render.mathtext import Math

    return Math(symbol.latex + r"^{\mathrm{new}}", symbol.text + "ⁿᵉʷ")


EXPRESSION_KEYS = ("title", "expression", "at", "answers", "tolerance", "layout")


def load_subject(path) -> Subject:
    """The subject of a problem file: a network problem, or an expression problem
    (``expression = "…"`` with an ``[at]`` table of variable values)."""
    from ..problem import read_file, is_finite_number

    data = read_file(Path(path))
    if "expression" not in data:
        return network_subject(path)
    from ..expression import expression_subject

    source = str(path)
    for key in data:
        if key not in EXPRESSION_KEYS:
            raise InputError(f"unknown key; an expression problem has {', '.join(EXPRESSION_KEYS)}", file=source,
                             key=key)
    text, at, title = data["expression"], data.get("at", {}), data.get("title", "")
    if not isinstance(text, str):
        raise InputError("expected the expression as a text, e.g. expression = \"(x + y) * z\"", file=source,
                         key="expression")
    if not isinstance(at, dict):
        raise InputError("expected a table of variable values, e.g. [at] x = -2", file=source, key="at")
    for name, value in at.items():
        if not is_finite_number(value):
            raise InputError("expected a finite number", file=source, key=f"at.{name}")
    if not isinstance(title, str):
        raise InputError("expected a text", file=source, key="title")
    return expression_subject(text, {k: float(v) for k, v in at.items()}, title=title, source=source,
                              file=source)
