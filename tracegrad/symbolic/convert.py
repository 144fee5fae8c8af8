"""Value graphs ↔ SymPy expressions.

:class:`SymbolicGraph` folds the nodes below one root into SymPy, one node at a
time through the op table (``OPS[op].sympy``), so nothing about an op is
written here. Leaves become real symbols with unique internal names
(:mod:`.names`), each printed as a derivation writes its node
(:attr:`SymbolicGraph.names`: the node view's name, or for a worked problem the layer
view's symbol), constants become numbers, and every node is converted once (shared
subexpressions stay shared, nothing is expanded). With ``named=True`` each labelled
intermediate (and each unlabelled one used more than once, or nested
:data:`INLINE_DEPTH` deep) also gets a symbol of its own with its
definition kept aside, which keeps the derivatives of deep networks small and
shallow: see :meth:`SymbolicGraph.adjoints`.

:func:`from_sympy` goes back: a ``Value`` graph from a SymPy expression and a
point, by walking the expression tree over a whitelist of node types.
"""

from __future__ import annotations

import math
import re
from numbers import Real

import sympy as sp
from sympy.printing.str import StrPrinter

from ..core.errors import InputError
from ..core.escape import math_label
from ..core.limits import check
from ..core.notation import ATOM, Math, name_precedence
from ..core.ops import OPS
from ..core.trace import Trace, trace
from ..core.value import Value, apply, const
from .names import Namer

PRECISION = 30
"""Decimal digits SymPy evaluates with (leaves are exact binary64 values)."""

INLINE_DEPTH = 4
"""An unlabelled node nested this deep gets a symbol of its own (SymPy recurses once per level)."""


_KINKS = (sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign)


def _kinked(rec, _cache={}) -> bool:
    """Whether node ``rec``'s op is piecewise (relu, abs, max …): SymPy's work on an expression
    grows fast with how many of them are nested."""
    key = (rec.op, rec.params, len(rec.inputs))
    if key not in _cache:
        xs = [sp.Symbol(f"k{n}", real=True) for n in range(len(rec.inputs))]
        _cache[key] = sp.sympify(OPS[rec.op].sympy(sp, xs, rec.params)).has(*_KINKS)
    return _cache[key]


def number(x: float):
    """A constant as SymPy writes it: an integer when whole, else a float."""
    if not math.isfinite(x):
        raise InputError(f"the constant {x!r} is not a finite number; SymPy cannot confirm derivatives through it")
    return sp.Integer(int(x)) if float(x).is_integer() else sp.Float(x)


def as_expr(x):
    """A SymPy expression, or a plain number (a partial such as ``1``) as one."""
    return x if isinstance(x, sp.Basic) else number(x)


def _shown(s, names: dict) -> Math:
    """How symbol ``s`` is written: as ``names`` says, else its name as a derivation writes a label;
    in parentheses when the name reads as a formula (a program's label ``x1*w1``)."""
    m = names[s] if s in names else Math(math_label(s.name), s.name)
    if name_precedence(m.text) < ATOM:
        return Math(rf"\left({m.latex}\right)", f"({m.text})")
    return m


def latex(expr, names: dict | None = None) -> str:
    """``sympy.latex`` with each symbol written as ``names`` (symbol → :class:`Math`) says, else
    as a derivation writes a label in math (``W1[0][1]`` → ``\\text{W1[0][1]}``)."""
    symbols = {s: _shown(s, names or {}).latex for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    return sp.latex(expr, symbol_names=symbols)


class _TextPrinter(StrPrinter):
    """SymPy's plain-text printer with every symbol printed as a placeholder, so that the
    operators can be rewritten without touching the symbols' own text."""

    def __init__(self, slots: dict):
        super().__init__()
        self.slots = slots

    def _print_Symbol(self, expr):
        return self.slots.setdefault(expr, f"\x00{len(self.slots)}\x00")


_OPERATOR = re.compile(r"\*\*(\d+)(?![\d.])|\*\*|\*|-")
_GLYPH = {"**": "^", "*": "·", "-": "−"}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SLOT = re.compile("\x00\\d+\x00")


def text(expr, names: dict | None = None) -> str:
    """Plain text of ``expr`` the way a derivation writes it: each symbol as ``names``
    (symbol → :class:`Math`) says, else by its name; ``·`` for a product, ``²`` for a whole
    power (``^`` for another), ``−`` for minus (``W₂[0][0]·(ŷ[0] − y[0])·exp(−z₂[0])``)."""
    slots: dict = {}
    written = _OPERATOR.sub(lambda m: m.group(1).translate(_SUPERSCRIPT) if m.group(1) else _GLYPH[m.group()],
                            _TextPrinter(slots).doprint(expr))
    shown = {placeholder: _shown(s, names or {}).text for s, placeholder in slots.items()}
    return _SLOT.sub(lambda m: shown[m.group()], written)


def as_trace(subject) -> tuple[Trace, int]:
    """``(trace, index of the root)`` for a ``Value`` or a ``Trace`` (its output)."""
    if isinstance(subject, Value):
        t = trace(subject, backward=False)
        return t, len(t) - 1
    if isinstance(subject, Trace):
        return subject, subject.output.index
    raise TypeError(f"expected a tracegrad Value or Trace, got {type(subject).__name__}")


class SymbolicGraph:
    """The nodes of ``trace`` below node ``root`` as SymPy expressions.

    ``below``: their indices in execution order; ``expr[i]``: what node ``i``
    is inside its consumers (its symbol, a number, or its inlined form);
    ``symbol[i]``: the symbol of a leaf or of a named intermediate;
    ``definition[i]``: the op's SymPy form over the inputs' ``expr`` for
    every non-leaf node; ``names[symbol]``: how each symbol is printed
    (:class:`Math`), by default the node's name in the node view (its label, or v₁₂):
    the internal SymPy names never are. The nodes in ``leaves`` count as leaves too (what
    they are computed from is not followed): the parameters one step of training starts from.
    """

    def __init__(self, trace_: Trace, root: int, named: bool = True, leaves=frozenset()):
        nodes = trace_.nodes
        self.trace, self.root = trace_, root
        seen, stack = {root}, [root]
        uses: dict = {}
        while stack:
            i = stack.pop()
            for j in nodes[i].inputs if i not in leaves else ():
                uses[j] = uses.get(j, 0) + 1
                if j not in seen:
                    seen.add(j)
                    stack.append(j)
        self.below = sorted(seen)
        self.symbol: dict = {}
        self.expr: dict = {}
        self.definition: dict = {}
        self.names: dict = {}
        check("symbolic_nodes", len(self.below))
        namer = Namer()
        depth = {}  # nesting depth of each node's expr
        kinks = {}  # kinked ops nested down to each node, through every intermediate
        for i in self.below:
            rec = nodes[i]
            depth[i] = 0
            leaf = rec.is_leaf or i in leaves
            kinks[i] = 0 if leaf else max((kinks[j] for j in rec.inputs), default=0) + _kinked(rec)
            if rec.is_const:
                self.expr[i] = number(rec.data)
                continue
            if leaf:
                self.symbol[i] = self.expr[i] = sp.Symbol(namer.name(rec.label, "v"), real=True)
                self.names[self.symbol[i]] = trace_.symbol(i)
                continue
            form = OPS[rec.op].sympy(sp, [self.expr[j] for j in rec.inputs], rec.params)
            self.definition[i] = form
            depth[i] = 1 + max(depth[j] for j in rec.inputs)
            if named and (rec.label is not None or uses.get(i, 0) > 1 or depth[i] >= INLINE_DEPTH):
                self.symbol[i] = self.expr[i] = sp.Symbol(namer.name(rec.label, "t"), real=True)
                self.names[self.symbol[i]] = trace_.symbol(i)
                depth[i] = 0
            else:
                self.expr[i] = form
        self.kinks = max(kinks.values(), default=0)

    # --- printing --------------------------------------------------------------------
    def rename(self, names: dict) -> None:
        """Print the symbols of nodes ``{index: Math}`` as given (a worked problem's symbols)."""
        for i, m in names.items():
            if i in self.symbol:
                self.names[self.symbol[i]] = m

    def latex(self, expr) -> str:
        return latex(expr, self.names)

    def text(self, expr) -> str:
        return text(expr, self.names)

    # --- forms -----------------------------------------------------------------------
    def full(self, i: int):
        """Node ``i`` as one expression in the leaves' symbols (named intermediates substituted)."""
        memo: dict = {}

        def unfold(j):
            if j not in memo:
                rec = self.trace.nodes[j]
                if j not in self.definition:  # a leaf (or a constant)
                    memo[j] = self.expr[j]
                else:
                    memo[j] = OPS[rec.op].sympy(sp, [unfold(k) for k in rec.inputs], rec.params)
            return memo[j]

        return unfold(i)

    def expand(self, expr):
        """``expr`` with every named intermediate replaced by its definition, down to the leaves."""
        for i in reversed(self.below):
            if i in self.definition and i in self.symbol and self.symbol[i] in expr.free_symbols:
                expr = expr.xreplace({self.symbol[i]: self.definition[i]})
        return expr

    # --- calculus --------------------------------------------------------------------
    def adjoints(self, partials=None) -> dict:
        """``{i: d root / d node i}`` for every node below the root.

        The chain rule runs over the graph in reverse: each node's local partial
        derivatives are ``sympy.diff`` of its op's SymPy form (``partials``
        caches them per op, parameters and arity), multiplied by the node's own
        derivative and summed over every use. Expanding the named intermediates
        (:meth:`expand`) gives ``sympy.diff`` of the full root expression.
        """
        partials = {} if partials is None else partials
        nodes = self.trace.nodes
        adj = {self.root: sp.Integer(1)}
        for i in reversed(self.below):
            rec = nodes[i]
            if i not in self.definition or i not in adj:
                continue
            for j, d in zip(rec.inputs, self.local(i, partials)):
                if not nodes[j].is_const:
                    adj[j] = adj[j] + adj[i] * d if j in adj else adj[i] * d
        return adj

    def local(self, i: int, partials: dict) -> list:
        """d node ``i`` / d each of its inputs: :func:`derivative` of the op's form at the
        inputs' expressions, with the node's own form written as its symbol wherever it
        appears (``1 - a**2`` for ``a = tanh(z)``)."""
        rec = self.trace.nodes[i]
        args = [self.expr[j] for j in rec.inputs]
        out = [d(args) for d in local_partials(rec.op, rec.params, len(rec.inputs), partials)]
        if i in self.symbol:
            own = {self.definition[i]: self.symbol[i]}
            out = [d.xreplace(own) for d in out]
        return out

    def point(self) -> dict:
        """``{symbol: value}``: the leaves' recorded values and every named intermediate
        evaluated from its definition by SymPy (not read from the engine)."""
        nodes = self.trace.nodes
        values: dict = {}
        for i in self.below:
            if i in self.symbol:
                if i not in self.definition:
                    values[self.symbol[i]] = sp.Float(nodes[i].data, PRECISION)
                else:
                    values[self.symbol[i]] = numeric_value(self.definition[i], values)
        return values


class Iverson(sp.Function):
    """``[condition]``: 1 when the condition holds, else 0. Derivatives of piecewise ops
    are written with it (``[z > 0]`` for ReLU's) instead of a two-line ``cases``."""

    @classmethod
    def eval(cls, condition):
        if condition is sp.true:
            return sp.S.One
        if condition is sp.false:
            return sp.S.Zero
        return None

    def _latex(self, printer):
        return r"\left[" + printer._print(self.args[0]) + r"\right]"

    def _sympystr(self, printer):
        return "[" + printer._print(self.args[0]) + "]"


def _two_branches(*pairs):
    if len(pairs) == 2 and pairs[1].cond is sp.true and isinstance(pairs[0].cond, sp.core.relational.Relational):
        (a, condition), (b, _) = pairs
        return b + (a - b) * Iverson(condition)
    return sp.Piecewise(*pairs)


def readable(expr):
    """``expr`` with each two-branch ``Piecewise`` written ``b + (a − b)·[condition]``."""
    return expr.replace(sp.Piecewise, _two_branches)


def derivative(expr, symbol):
    """``sympy.diff(expr, symbol)`` written for reading (:func:`readable`); a Dirac delta
    (the derivative of a jump, nonzero on a null set only) counts as 0."""
    return readable(sp.diff(expr, symbol).replace(sp.DiracDelta, lambda *a: sp.S.Zero))


def local_partials(op: str, params: tuple, arity: int, cache: dict) -> list:
    """:func:`derivative` of op ``op``'s SymPy form with respect to each input, as functions
    of the input expressions, cached in ``cache`` per op, parameters and arity."""
    key = (op, params, arity)
    if key not in cache:
        slots = sp.symbols(f"_x0:{arity}", real=True)
        form = OPS[op].sympy(sp, slots, params)
        derivs = [derivative(form, s) for s in slots]
        cache[key] = [_substituter(d, slots) for d in derivs]
    return cache[key]


def _substituter(d, slots):
    free = [k for k, s in enumerate(slots) if s in d.free_symbols]
    if not free:
        return lambda args: d
    return lambda args: d.xreplace({slots[k]: args[k] for k in free})


def numeric_value(expr, values: dict) -> sp.Float:
    """``expr`` at ``values`` (``{symbol: number}``) with :data:`PRECISION` digits."""
    result = expr.xreplace(values)
    if not result.is_Number:
        result = result.evalf(PRECISION)
    if not result.is_Number:
        raise InputError(f"could not evaluate {text(expr)} to a number (got {text(result)})")
    return result


def to_sympy(subject):
    """A ``Value`` (or a trace's output) as one SymPy expression: a real symbol per leaf,
    named from its label, and numbers for constants; subexpressions are shared, not expanded."""
    t, root = as_trace(subject)
    try:
        return SymbolicGraph(t, root, named=False).expr[root]
    except RecursionError:
        raise too_deep() from None


def too_deep() -> InputError:
    """The error for a graph nested too deeply to write as one SymPy expression."""
    return InputError("the graph is nested too deeply to write as one SymPy expression (SymPy recurses once "
                      "per level); verify it without expand, which gives intermediates symbols of their own")


# --- back: SymPy → Value ------------------------------------------------------------------

_HEADS = {getattr(sp, spec.sympy_head): name for name, spec in OPS.items() if spec.sympy_head}
"""The SymPy functions read back as ops (the op table's ``sympy_head``): exp, log, tanh, Abs, sign, Max, Min."""
_SUPPORTED = "numbers, symbols, +, −, ×, ÷, powers, " + ", ".join(f.__name__ for f in _HEADS)


def from_sympy(expr, point) -> Value:
    """A ``Value`` graph computing SymPy expression ``expr`` at ``point``.

    ``point`` maps each free symbol (or its name) to a number; each symbol becomes
    one leaf labelled with its name. Only whitelisted node types are accepted
    (numbers, symbols, ``Add``, ``Mul``, ``Pow`` and the functions the op table reads back,
    its ``sympy_head``: ``exp``, ``log``, ``tanh``, ``Abs``, ``sign``, ``Max``, ``Min``);
    anything else is an :class:`InputError`.
    Nothing is parsed: pass a SymPy object, never a string.
    """
    if not isinstance(expr, sp.Basic):
        raise InputError(f"from_sympy needs a SymPy expression, got {type(expr).__name__}; "
                         "build it with sympy objects (text is never parsed)")
    leaves = {}
    for s in sorted(expr.free_symbols, key=lambda s: s.name):
        value = point.get(s, point.get(s.name)) if hasattr(point, "get") else None
        if isinstance(value, Value):
            value = value.data
        if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
            raise InputError(f"no finite value for symbol {s.name!r} in the point; give a number for every "
                             f"free symbol ({', '.join(sorted(x.name for x in expr.free_symbols))})", key=s.name)
        leaves[s] = Value(float(value), label=s.name)
    memo: dict = {}

    def build(e):
        if e not in memo:
            memo[e] = _node(e, build, leaves)
        return memo[e]

    stack = [expr]  # convert the deepest subtrees first: no recursion limit on deep expressions
    order = []
    while stack:
        e = stack.pop()
        order.append(e)
        stack.extend(e.args if not isinstance(e, sp.Number) else ())
    for e in reversed(order):
        build(e)
    return build(expr)


def _node(e, build, leaves) -> Value:
    if isinstance(e, sp.Symbol):
        return leaves[e]
    if e.is_Number or e in (sp.pi, sp.E):
        value = float(e)
        if not math.isfinite(value):
            raise InputError(f"{text(e)} is not a finite number")
        return const(value)
    if isinstance(e, sp.Add):
        terms = [build(a) for a in e.args]
        return apply("add", terms) if len(terms) == 2 else apply("sum", terms)
    if isinstance(e, sp.Mul):
        return _product(e, build)
    if isinstance(e, sp.Pow):
        base, exponent = e.args
        if exponent.is_Number:
            return apply("pow", (build(base),), (float(exponent),))
        return apply("vpow", (build(base), build(exponent)))
    if type(e) in _HEADS:
        op = _HEADS[type(e)]
        if OPS[op].arity == 1:
            return apply(op, (build(e.args[0]),))
        acc = build(e.args[0])  # Max(a, b, c): max(max(a, b), c)
        for a in e.args[1:]:
            acc = apply(op, (acc, build(a)))
        return acc
    raise InputError(f"cannot turn the SymPy node {type(e).__name__} ({text(e)}) into tracegrad ops; "
                     f"supported: {_SUPPORTED}")


def _product(e, build) -> Value:
    """A product as ``neg``, ``mul`` and one ``div`` for the factors with negative exponents."""
    top, bottom, sign = [], [], 1
    for f in e.args:
        if f == -1:
            sign = -sign
        elif isinstance(f, sp.Pow) and f.exp.is_Number and f.exp < 0:
            bottom.append(build(f.base if f.exp == -1 else f.base ** -f.exp))
        else:
            top.append(build(f))
    acc = top[0] if top else const(1.0)
    for f in top[1:]:
        acc = acc * f
    if bottom:
        den = bottom[0]
        for f in bottom[1:]:
            den = den * f
        acc = acc / den
    return -acc if sign < 0 else acc
