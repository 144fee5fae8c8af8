"""Symbolic confirmation, the machinery: every op rule a trace uses, and every gradient it holds.

:func:`check_rule` confirms one op of the table: each declared partial,
evaluated on SymPy symbols, minus ``sympy.diff`` of the op's SymPy form
simplifies to 0 (or to 0 almost everywhere, as ``sign``'s Dirac delta).

:func:`verify` confirms a computation's gradients: for every leaf (and, on
request, every intermediate) the derivative of the loss expression, computed
by SymPy and evaluated at the recorded point, equals the engine's gradient
within ``rel_tol`` (``abs_tol`` near zero). The engine's numbers are never
used on the symbolic side: intermediate values are re-evaluated by SymPy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import sympy as sp

from ..core.limits import check
from ..core.ops import OPS
from .convert import SymbolicGraph, as_expr, derivative, latex, numeric_value, text, too_deep
from .names import symbol_latex

REL_TOL = 1e-9
ABS_TOL = 1e-12


@dataclass(frozen=True)
class Partial:
    """One input of a rule check: the declared partial, ``sympy.diff``'s, their difference."""

    declared: str  # LaTeX
    derived: str  # LaTeX
    difference: str  # plain text of the simplified difference ("0" when confirmed)
    agree: bool


@dataclass(frozen=True)
class RuleCheck:
    """The rule of op ``op`` (with ``params``, on ``arity`` inputs) against SymPy."""

    op: str
    params: tuple
    arity: int
    form: str  # LaTeX of the op's SymPy form on symbols x_1 … x_n
    partials: tuple

    @property
    def agree(self) -> bool:
        return all(p.agree for p in self.partials)


@dataclass(frozen=True)
class Item:
    """One confirmed derivative: d(loss)/d(``name``) (or a local derivative for ``kind == "local"``)."""

    name: str  # plain text: the node's label, or a quantity element such as dL/dW1[0][1]
    of: str  # LaTeX of the quantity differentiated, e.g. \frac{\partial L}{\partial w^{(1)}_{12}}
    formula: str  # LaTeX of the symbolic derivative
    formula_text: str
    symbolic: float
    engine: float
    agree: bool
    kind: str = "gradient"


@dataclass(frozen=True)
class Definition:
    """A named intermediate the formulas use: ``symbol = formula`` (value by SymPy)."""

    name: str
    symbol: str  # LaTeX
    formula: str  # LaTeX
    formula_text: str
    value: float


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found; ``ok`` when every item and every rule agrees."""

    loss: str
    items: tuple
    rules: tuple
    definitions: tuple
    rel_tol: float = REL_TOL
    abs_tol: float = ABS_TOL
    title: str = ""

    @property
    def ok(self) -> bool:
        return all(i.agree for i in self.items) and all(r.agree for r in self.rules)

    @property
    def disagreements(self) -> list:
        """Names of the items and ops that disagree."""
        return [i.name for i in self.items if not i.agree] + [r.op for r in self.rules if not r.agree]

    def to_dict(self) -> dict:
        """A JSON-ready dictionary (what ``--format json`` prints)."""
        data = asdict(self)
        data["ok"] = self.ok
        for r, rule in zip(data["rules"], self.rules):
            r["agree"] = rule.agree
            r["params"] = list(rule.params)
        return data


# --- rules ------------------------------------------------------------------------------


def check_rule(op: str, params: tuple = (), arity: int | None = None) -> RuleCheck:
    """Confirm op ``op``'s declared partials against ``sympy.diff`` of its SymPy form."""
    spec = OPS[op]
    n = arity if spec.arity is None else spec.arity
    if n is None:
        raise ValueError(f"{op} is variadic: give the number of inputs")
    slots = sp.symbols(f"x1:{n + 1}", real=True) if n > 1 else (sp.Symbol("x", real=True),)
    form = spec.sympy(sp, slots, params)
    # an integral parameter as an integer, as the SymPy form has it: the partial of x**3.0 is 3*x**2, not 3.0*x**2.0
    exact = tuple(sp.Integer(int(p)) if float(p).is_integer() else p for p in params)
    declared = spec.partials(slots, form, exact)
    checks = []
    for s, d in zip(slots, declared):
        d = as_expr(d)
        truth = sp.diff(form, s)
        difference = zero_almost_everywhere(truth - d)
        checks.append(Partial(latex(d), latex(truth), text(difference), difference == 0))
    return RuleCheck(op, tuple(params), n, latex(form), tuple(checks))


def zero_almost_everywhere(difference):
    """The simplified difference, with Dirac deltas (nonzero on a null set only) dropped."""
    difference = sp.simplify(sp.piecewise_fold(difference))
    return sp.simplify(difference.replace(sp.DiracDelta, lambda *a: sp.S.Zero))


def _rules(graph: SymbolicGraph) -> tuple:
    seen: dict = {}
    for i in graph.below:
        rec = graph.trace.nodes[i]
        if not rec.is_leaf:
            seen.setdefault((rec.op, rec.params, len(rec.inputs)), None)
    return tuple(check_rule(op, params, n) for op, params, n in seen)


class Confirmer:
    """Builds the items of one report over one :class:`SymbolicGraph`, as derivatives of its root
    (or of ``root``, another root of the graph: a later step's loss)."""

    def __init__(self, graph: SymbolicGraph, expand: bool, rel_tol: float, abs_tol: float, root: int | None = None):
        if expand:  # written over the leaves alone, nested piecewise forms multiply out
            check("symbolic_kinks", graph.kinks)
        self.graph, self.expand = graph, expand
        self.root = graph.root if root is None else root
        self.rel_tol, self.abs_tol = rel_tol, abs_tol
        self.partials: dict = {}
        self.adjoint = graph.adjoints(self.partials, self.root)
        self.values = graph.point()
        self.used: set = set()
        self._full = None

    def _of(self, i: int) -> str:
        g = self.graph
        top = symbol_latex(g.symbol[self.root].name) if self.root in g.symbol else "L"
        if i in g.expr:
            bottom = latex(g.expr[i])
        else:  # a node the loss does not use (a class with target 0 in cross-entropy)
            label = g.trace.nodes[i].label
            bottom = symbol_latex(str(label)) if label is not None else f"v_{{{i}}}"
        return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"

    def _item(self, name, of, formula, engine, kind) -> Item:
        value = float(numeric_value(formula, self.values))
        agree = math.isfinite(value) and math.isfinite(engine) and math.isclose(
            value, engine, rel_tol=self.rel_tol, abs_tol=self.abs_tol)
        self.used |= formula.free_symbols
        return Item(name, of, latex(formula), text(formula), value, float(engine), agree, kind)

    def _written(self, formula, leaf: int | None = None):
        """``formula`` as reported: over named intermediates, or with ``expand`` over the
        leaves (for a leaf, ``sympy.diff`` of the full loss expression itself)."""
        if not self.expand:
            return formula
        g = self.graph
        try:
            if leaf is not None:
                if self._full is None:
                    self._full = g.full(self.root)
                return derivative(self._full, g.symbol[leaf])
            return g.expand(formula)
        except RecursionError:
            raise too_deep() from None

    def gradient(self, name: str, i: int, engine: float) -> Item:
        """d(loss)/d(node ``i``) against the engine's ``engine``."""
        formula = self.adjoint.get(i, sp.S.Zero)
        if i not in self.graph.expr:  # not below the loss: the derivative is 0 by construction
            return self._item(name, self._of(i), formula, engine, "gradient")
        leaf = i if self.graph.trace.nodes[i].is_leaf else None
        return self._item(name, self._of(i), self._written(formula, leaf), engine, "gradient")

    def local(self, name: str, out: int, position: int, engine: float, of: str) -> Item:
        """d(node ``out``)/d(its input ``position``) against the engine's ``engine``."""
        formula = self.graph.local(out, self.partials)[position]
        return self._item(name, of, self._written(formula), engine, "local")

    def report(self, items: list, title: str = "") -> VerifyReport:
        g = self.graph
        definitions = []
        wanted = set(self.used)
        for i in reversed(g.below):  # named intermediates the formulas use, and what those use
            s = g.symbol.get(i)
            if s is not None and i in g.definition and s in wanted:
                wanted |= g.definition[i].free_symbols
        for i in g.below:
            s = g.symbol.get(i)
            if s is not None and i in g.definition and (s in wanted or i == g.root):
                d = g.definition[i]
                definitions.append(Definition(s.name, latex(s), latex(d), text(d), float(self.values[s])))
        root = g.trace.nodes[g.root]
        return VerifyReport(str(root.label) if root.label is not None else "output", tuple(items), _rules(g),
                            tuple(definitions), self.rel_tol, self.abs_tol, title)
