"""Textbook formulas as data: a small tree over named scalars, vectors and matrices.

A derivation line claims ``symbol = formula = expansion ≈ value``. The formula is a
:class:`Formula` tree (``z₁ = X·W₁ + b₁``, ``δ₂ = ∂L/∂ŷ ⊙ σ′(z₂)``, ``m ← β₁m + (1 − β₁)g``)
whose leaves are :class:`Sym` bound to quantity names, so the same tree is *written*
(:meth:`Formula.math`: LaTeX and text, through the one printer, :mod:`tracegrad.core.notation`),
*evaluated* (:meth:`Formula.evaluate` with numpy on the quantities' values) and *expanded*
into the arithmetic of one element (:class:`Expander`), which is how a printed formula is
checked against the numbers printed beside it. A function of the op table (log, σ, |x|,
max, 𝟙[a > b], a choice by a condition) is a :class:`Call` of that op: written, evaluated
and expanded through the op's own entry.

Shapes follow the layout of the problem: a layer's values of one sample are a row
(``in_out``, z = x·W + b) or a column (``out_in``, z = W·x + b); a batch stacks the rows (or
columns). :class:`Axes` names which array axis holds the units and which the samples, so
``Σⱼ`` (over a layer's units) and ``Σₛ`` (over a batch's samples) evaluate in either layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import notation as nt
from .arithmetic import Apply, Number, fraction, given
from .notation import ADD, Math
from .numbers import exact_text, written
from .ops import OPS


@dataclass(frozen=True)
class Axes:
    """Where the units and the samples of a layer's values are: ``units`` and ``samples``
    are array axes (``in_out``: samples × units; ``out_in``: units × samples)."""

    units: int = 1
    samples: int = 0

    @staticmethod
    def of(layout: str) -> "Axes":
        return Axes(1, 0) if layout == "in_out" else Axes(0, 1)


def _np():
    import numpy

    return numpy


def _op(name: str, *args, params=()):
    """Op ``name`` of the table on arrays (its numpy form)."""
    return OPS[name].numpy(_np(), list(args), tuple(params))


class Formula:
    """A formula tree; see the module docstring. Build with the constructors below and the
    operators ``+ - * / ** @``, unary ``-`` and ``.T``; ``a > b`` (``>=``, ``<``, ``<=``) is a
    :class:`Condition` for :func:`indicator` and :func:`cases`."""

    # --- writing -------------------------------------------------------------------------
    def written(self, fmt: str) -> tuple:
        """``(text, precedence)``: the formula as LaTeX (``fmt == "latex"``) or plain text, and how
        tightly it binds (:data:`tracegrad.core.notation.PRECEDENCE`)."""
        raise NotImplementedError

    def render(self, fmt: str) -> str:
        """The formula as LaTeX (``fmt == "latex"``) or plain text."""
        return self.written(fmt)[0]

    def math(self) -> Math:
        """The formula in both notations."""
        return Math(self.render("latex"), self.render("text"))

    # --- evaluating ----------------------------------------------------------------------
    def evaluate(self, env, axes: Axes = Axes()):
        """The value with ``env`` mapping each symbol's ``ref`` to a number or an array."""
        raise NotImplementedError

    def refs(self) -> set:
        """The quantity names the formula reads."""
        return set().union(*(c.refs() for c in self.children()))

    def children(self) -> tuple:
        return ()

    def substituted(self, parts: dict) -> "Formula":
        """The formula with each symbol whose ``ref`` is in ``parts`` replaced by that formula."""
        return self._rebuilt(tuple(c.substituted(parts) for c in self.children()))

    def _rebuilt(self, children: tuple) -> "Formula":
        return self

    # --- building ------------------------------------------------------------------------
    def __add__(self, other):
        return Binary("+", self, lift(other))

    def __radd__(self, other):
        return Binary("+", lift(other), self)

    def __sub__(self, other):
        return Binary("-", self, lift(other))

    def __rsub__(self, other):
        return Binary("-", lift(other), self)

    def __mul__(self, other):
        return Binary("*", self, lift(other))

    def __rmul__(self, other):
        return Binary("*", lift(other), self)

    def __truediv__(self, other):
        return Frac(self, lift(other))

    def __rtruediv__(self, other):
        return Frac(lift(other), self)

    def __matmul__(self, other):
        return Binary("@", self, lift(other))

    def __pow__(self, exponent):
        return Power(self, lift(exponent))

    def __neg__(self):
        return Neg(self)

    def __gt__(self, other):
        return Condition("gt", self, lift(other))

    def __ge__(self, other):
        return Condition("ge", self, lift(other))

    def __lt__(self, other):
        return Condition("lt", self, lift(other))

    def __le__(self, other):
        return Condition("le", self, lift(other))

    @property
    def T(self):
        return Transpose(self)


def lift(x) -> Formula:
    """A number as a :class:`Num`; a formula unchanged."""
    return x if isinstance(x, Formula) else Num(x)


@dataclass(frozen=True, eq=False)
class Sym(Formula):
    """A named value: ``latex``/``text`` as written, ``ref`` the quantity (or constant) it
    stands for when evaluated (``None``: a symbol only written, never evaluated). How tightly it
    binds is read from what it prints (∂L/∂W₂ is a quotient)."""

    latex: str
    text: str
    ref: str | None = None

    def written(self, fmt):
        shown = self.latex if fmt == "latex" else self.text
        return shown, nt.precedence(shown, fmt)

    def evaluate(self, env, axes=Axes()):
        if self.ref is None or self.ref not in env:
            raise KeyError(f"no value for {self.text} ({self.ref})")
        value = env[self.ref]
        return value if isinstance(value, (int, float)) else _np().asarray(value, dtype=float)

    def substituted(self, parts):
        return parts.get(self.ref, self)

    def _cell(self, ex, pos):
        if self.ref in ex.parts:
            return ex.cell(ex.parts[self.ref], pos)
        value = ex.value(self.ref)
        if isinstance(value, float):
            return ex.number(self.ref, value)
        index = tuple(0 if n == 1 else p for p, n in zip(pos[len(pos) - value.ndim:], value.shape)) if pos else \
            (0,) * value.ndim
        return ex.number(self.ref, float(value[index]))

    def refs(self):
        return {self.ref} if self.ref is not None else set()


def sym(m: Math, ref: str | None = None) -> Sym:
    """A symbol written as ``m`` and bound to ``ref``."""
    return Sym(m.latex, m.text, ref)


@dataclass(frozen=True, eq=False)
class Num(Formula):
    """A number written as itself (``½`` and ``1/n`` are :class:`Frac` of numbers and symbols)."""

    value: float

    def written(self, fmt):
        text = exact_text(float(self.value))
        latex, plain = written(text)  # 0.5, −1, 10⁻⁶: never a raw float
        return (latex if fmt == "latex" else plain), nt.number_precedence(text)

    def evaluate(self, env, axes=Axes()):
        return float(self.value)

    def _cell(self, ex, pos):
        return given(self.value)


@dataclass(frozen=True, eq=False)
class Constant(Formula):
    """A named constant with its value (Euler's e)."""

    latex: str
    text: str
    value: float

    def written(self, fmt):
        return (self.latex if fmt == "latex" else self.text), nt.ATOM

    def evaluate(self, env, axes=Axes()):
        return self.value

    def _cell(self, ex, pos):
        return given(self.value)


E = Constant("e", "e", math.e)
"""Euler's number: ``E ** x`` is written e^x and expanded as the op ``exp``."""


_BINARY = {"+": nt.ADDITION, "-": nt.SUBTRACTION, "*": nt.SCALAR_PRODUCT, "@": nt.MATRIX_PRODUCT,
           "odot": nt.HADAMARD}
_CELL_OPS = {"+": "add", "-": "sub", "*": "mul", "odot": "mul"}


@dataclass(frozen=True, eq=False)
class Binary(Formula):
    """``a + b``, ``a − b``, ``a·b`` (a scalar factor), ``a @ b`` (a matrix product, written
    by juxtaposition in LaTeX), ``a ⊙ b`` (elementwise). A scalar product of a number and
    a parenthesised factor, or of a fraction and a symbol, is written by juxtaposition too:
    ``(1 − β₁)g``, ``\\frac{2}{n}(ŷ − y)``. A matrix product inside an elementwise one (or the
    other way round) is parenthesized: (δ₂·W₂ᵀ) ⊙ σ′(z₁)."""

    op: str
    a: Formula
    b: Formula

    def children(self):
        return (self.a, self.b)

    def _rebuilt(self, children):
        return Binary(self.op, *children)

    def written(self, fmt):
        a, b = self._operand(self.a, fmt), self._operand(self.b, fmt)
        if self.op == "*":
            return nt.SCALAR_PRODUCT.render([a, b], (), fmt, juxtaposed=_juxtaposed(self.a, self.b, a, b, fmt))
        return _BINARY[self.op].render([a, b], (), fmt)

    def _operand(self, child: Formula, fmt: str) -> tuple:
        shown = child.written(fmt)
        if self.op in ("@", "odot") and isinstance(child, Binary) and child.op in ("@", "odot") and child.op != self.op:
            return shown[0], ADD  # two kinds of product: in parentheses
        return shown

    def evaluate(self, env, axes=Axes()):
        a, b = self.a.evaluate(env, axes), self.b.evaluate(env, axes)
        if self.op == "@":
            return _np().matmul(a, b)
        return _op(_CELL_OPS[self.op], a, b)

    def _cell(self, ex, pos):
        if self.op == "*" and _is_half(self.a) and isinstance(self.b, Power) and isinstance(self.b.a, Binary) \
                and self.b.a.op == "-" and isinstance(self.b.e, Num) and self.b.e.value == 2:
            # ½(a − b)²: the op written as the document writes it
            return _apply("half_sq_err", ex.at(self.b.a.a, pos), ex.at(self.b.a.b, pos))
        if self.op != "@":
            return _apply(_CELL_OPS[self.op], ex.at(self.a, pos), ex.at(self.b, pos))
        a_shape, b_shape = ex.shape(self.a), ex.shape(self.b)
        i, j = pos[-2], pos[-1]
        inner = a_shape[-1]
        left = [ex.cell(self.a, (i if a_shape[0] > 1 else 0, t)) for t in range(inner)]
        right = [ex.cell(self.b, (t, j if b_shape[1] > 1 else 0)) for t in range(inner)]
        if inner == 1:
            return _apply("mul", left[0], right[0])
        return _apply("dot", *left, *right)


def _is_half(f) -> bool:
    return isinstance(f, Frac) and isinstance(f.a, Num) and isinstance(f.b, Num) and f.a.value == 1 and f.b.value == 2


def _juxtaposed(a: Formula, b: Formula, a_shown: tuple, b_shown: tuple, fmt: str) -> bool:
    """Whether ``a·b`` is written without the dot: in LaTeX, a coefficient (a number, a
    fraction, a parenthesised sum) before anything but a number, or anything before a
    parenthesised factor; in text, a number or ½ before a parenthesised factor or a symbol."""
    if fmt == "text":
        return (isinstance(a, Num) or a_shown[0] == "½") and not isinstance(b, Num)
    coefficient = isinstance(a, (Num, Frac)) or (isinstance(a, Binary) and a_shown[1] < nt.MUL)
    return (coefficient and not isinstance(b, Num)) or b_shown[1] < nt.MUL


def odot(a, b) -> Formula:
    """``a ⊙ b``, elementwise."""
    return Binary("odot", lift(a), lift(b))


@dataclass(frozen=True, eq=False)
class Frac(Formula):
    r"""``\frac{a}{b}`` in LaTeX, ``a / b`` in text (``½``, and ``(1/n)`` when both are atoms)."""

    a: Formula
    b: Formula

    def children(self):
        return (self.a, self.b)

    def _rebuilt(self, children):
        return Frac(*children)

    def written(self, fmt):
        a, b = self.a.written(fmt), self.b.written(fmt)
        if fmt == "text":
            if _is_half(self):
                return "½", nt.ATOM
            if a[1] == nt.ATOM and b[1] == nt.ATOM and (isinstance(self.a, Num) or isinstance(self.b, Num)):
                return f"({a[0]}/{b[0]})", nt.ATOM
        return nt.QUOTIENT.render([a, b], (), fmt)

    def evaluate(self, env, axes=Axes()):
        return _op("div", self.a.evaluate(env, axes), self.b.evaluate(env, axes))

    def _cell(self, ex, pos):
        a, b = ex.at(self.a, pos), ex.at(self.b, pos)
        plain = [isinstance(c, Number) and c.half == 0 and c.latex is None and float(c.value).is_integer()
                 for c in (a, b)]
        if all(plain) and b.value != 0:  # ½, 1/3: one coefficient
            return fraction(a.value, b.value)
        return _apply("div", a, b)


def half() -> Frac:
    """½."""
    return Frac(Num(1), Num(2))


@dataclass(frozen=True, eq=False)
class Power(Formula):
    """``a^e`` (a power of Euler's :data:`E` is the exponential)."""

    a: Formula
    e: Formula

    def children(self):
        return (self.a, self.e)

    def _rebuilt(self, children):
        return Power(*children)

    def written(self, fmt):
        return nt.power(self.a.written(fmt), self.e.written(fmt), fmt)

    def evaluate(self, env, axes=Axes()):
        if self.a is E:
            return _op("exp", self.e.evaluate(env, axes))
        return _op("vpow", self.a.evaluate(env, axes), self.e.evaluate(env, axes))

    def _cell(self, ex, pos):
        exponent = ex.at(self.e, pos)
        if self.a is E:
            return _apply("exp", exponent)
        if isinstance(exponent, Number) and exponent.half == 0 and float(exponent.value).is_integer():
            return _apply("pow", ex.at(self.a, pos), params=(float(exponent.value),))
        return _apply("vpow", ex.at(self.a, pos), exponent)


@dataclass(frozen=True, eq=False)
class Neg(Formula):
    """``−a``."""

    a: Formula

    def children(self):
        return (self.a,)

    def _rebuilt(self, children):
        return Neg(*children)

    def written(self, fmt):
        return nt.FORMULA_NEGATION.render([self.a.written(fmt)], (), fmt)

    def evaluate(self, env, axes=Axes()):
        return _op("neg", self.a.evaluate(env, axes))

    def _cell(self, ex, pos):
        return _apply("neg", ex.at(self.a, pos))


@dataclass(frozen=True, eq=False)
class Transpose(Formula):
    """``aᵀ``."""

    a: Formula

    def children(self):
        return (self.a,)

    def _rebuilt(self, children):
        return Transpose(*children)

    def written(self, fmt):
        return nt.Transposed().render([self.a.written(fmt)], (), fmt)

    def evaluate(self, env, axes=Axes()):
        value = self.a.evaluate(env, axes)
        return value.T if hasattr(value, "T") else value

    def _cell(self, ex, pos):
        return ex.cell(self.a, tuple(reversed(pos)))


@dataclass(frozen=True, eq=False)
class Call(Formula):
    """Op ``op`` of the op table applied to ``args`` with the op's ``params`` (LeakyReLU's
    slope): written with the op's notation, evaluated elementwise by its numpy form, expanded
    as that op."""

    op: str
    args: tuple
    params: tuple = ()

    def children(self):
        return self.args

    def _rebuilt(self, children):
        return Call(self.op, children, self.params)

    def written(self, fmt):
        return OPS[self.op].render([a.written(fmt) for a in self.args], self.params, fmt)

    def evaluate(self, env, axes=Axes()):
        return _op(self.op, *(a.evaluate(env, axes) for a in self.args), params=self.params)

    def _cell(self, ex, pos):
        return _apply(self.op, *(ex.at(a, pos) for a in self.args), params=self.params)


def call(op: str, *args, params: tuple = ()) -> Call:
    """Op ``op`` applied to ``args`` (numbers are lifted)."""
    return Call(op, tuple(lift(a) for a in args), tuple(params))


def sqrt(a) -> Call:
    r"""``\sqrt{a}``, elementwise."""
    return call("sqrt", a)


def bars(a) -> Call:
    """``|a|``, elementwise."""
    return call("abs", a)


def minimum(a, b) -> Call:
    """``min(a, b)``, elementwise."""
    return call("min", a, b)


def maximum(a, b) -> Call:
    """``max(a, b)``, elementwise."""
    return call("max", a, b)


@dataclass(frozen=True)
class Condition:
    """``a > b`` (``relation`` one of :data:`tracegrad.core.notation.RELATIONS`): what
    :func:`indicator` and :func:`cases` test; written ``a > b``, ``|r| ≤ δ`` …"""

    relation: str
    a: Formula
    b: Formula


def indicator(condition: Condition) -> Call:
    """``𝟙[condition]``: 1 where it holds, else 0 (the op of its relation)."""
    return Call(condition.relation, (condition.a, condition.b))


def cases(*branches, otherwise) -> Formula:
    """``value`` of the first ``(condition, value)`` branch that holds, else ``otherwise``:
    ``cases((z > 0, 1), otherwise=α)`` is LeakyReLU′, ``cases((bars(r) <= δ, r), otherwise=δ·sgn(r))``
    Huber's derivative."""
    out = lift(otherwise)
    for condition, value in reversed(branches):
        out = Call(f"cases_{condition.relation}", (lift(value), out, condition.a, condition.b))
    return out


@dataclass(frozen=True, eq=False)
class Applied(Formula):
    """``f(a)`` for a function that is not an op of the table (softmax), written ``head(a)`` and
    expanded as ``body``, its definition at ``a``; evaluated as ``body`` too, or by ``stable``
    (``(numpy, value of a, axes) -> value``: the same function without overflow) when given."""

    head: Math
    a: Formula
    body: Formula
    stable: object = None

    def children(self):
        return (self.body,)

    def _rebuilt(self, children):
        return Applied(self.head, self.a, children[0], self.stable)

    def written(self, fmt):
        return nt.Function(self.head.latex, self.head.text).render([self.a.written(fmt)], (), fmt)

    def evaluate(self, env, axes=Axes()):
        if self.stable is not None:
            return self.stable(_np(), self.a.evaluate(env, axes), axes)
        return self.body.evaluate(env, axes)

    def _cell(self, ex, pos):
        return ex.cell(self.body, pos)


@dataclass(frozen=True, eq=False)
class Total(Formula):
    """``Σ a`` over the units of a layer (``over == "units"``), the samples of a batch
    (``"samples"``) or every element (``"all"``); ``index`` is the summation index as
    written (``j``, ``s``), ``limit`` its upper bound (``N``) or empty."""

    a: Formula
    over: str
    index: str = ""
    limit: str = ""

    def children(self):
        return (self.a,)

    def _rebuilt(self, children):
        return Total(children[0], self.over, self.index, self.limit)

    def written(self, fmt):
        return nt.BigSum(self.index, self.limit).render([self.a.written(fmt)], (), fmt)

    def evaluate(self, env, axes=Axes()):
        np = _np()
        a = np.asarray(self.a.evaluate(env, axes), dtype=float)
        if self.over == "all" or a.ndim < 2:
            return float(np.sum(a))
        axis = axes.units if self.over == "units" else axes.samples
        return np.sum(a, axis=axis, keepdims=True)

    def _cell(self, ex, pos):
        shape = ex.shape(self.a)
        if not shape:
            return ex.cell(self.a, ())
        if self.over == "all" or len(shape) < 2:
            import itertools

            cells = [ex.cell(self.a, p) for p in itertools.product(*(range(n) for n in shape))]
        else:
            axis = ex.axes.units if self.over == "units" else ex.axes.samples
            base = list(pos) if len(pos) == len(shape) else [0] * len(shape)
            cells = []
            for k in range(shape[axis]):
                p = list(base)
                p[axis] = k
                cells.append(ex.cell(self.a, tuple(p)))
        return cells[0] if len(cells) == 1 else _apply("sum", *cells)


@dataclass(frozen=True, eq=False)
class Norm(Formula):
    """``‖a‖``, the Euclidean norm of every element of ``a`` (gradient clipping)."""

    a: Formula

    def children(self):
        return (self.a,)

    def _rebuilt(self, children):
        return Norm(*children)

    def written(self, fmt):
        return nt.NormBars().render([self.a.written(fmt)], (), fmt)

    def evaluate(self, env, axes=Axes()):
        np = _np()
        return float(np.sqrt(np.sum(np.square(np.asarray(self.a.evaluate(env, axes), dtype=float)))))

    def _cell(self, ex, pos):
        import itertools

        shape = ex.shape(self.a)
        squares = [_apply("pow", ex.cell(self.a, p), params=(2.0,)) for p in itertools.product(*(range(n) for n in shape))]
        return _apply("sqrt", squares[0] if len(squares) == 1 else _apply("sum", *squares))


@dataclass(frozen=True, eq=False)
class Where(Formula):
    """``main, L_s = definition``: a formula with a named part written after it; the part is
    evaluated first and bound to ``part.ref``."""

    main: Formula
    part: Sym
    definition: Formula

    def children(self):
        return (self.main, self.definition)

    def _rebuilt(self, children):
        return Where(children[0], self.part, children[1])

    def refs(self):
        return (self.main.refs() - {self.part.ref}) | self.definition.refs()

    def written(self, fmt):
        sep = r", \quad " if fmt == "latex" else ",  "
        return f"{self.main.render(fmt)}{sep}{self.part.render(fmt)} = {self.definition.render(fmt)}", nt.REL

    def evaluate(self, env, axes=Axes()):
        inner = dict(env)
        inner[self.part.ref] = self.definition.evaluate(env, axes)
        return self.main.evaluate(inner, axes)

    def _cell(self, ex, pos):
        ex.parts[self.part.ref] = self.definition
        return ex.at(self.main, pos)


def is_close(computed, shown, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    """Whether every element of ``computed`` equals ``shown`` up to float noise."""
    np = _np()
    a, b = np.asarray(computed, dtype=float), np.asarray(shown, dtype=float)
    if a.shape != b.shape:
        if a.size != b.size:
            return False
        a = a.reshape(b.shape)
    return bool(np.all(np.isclose(a, b, rtol=rel, atol=abs_) | (np.isnan(a) & np.isnan(b))))


__all__ = ["Axes", "Formula", "Sym", "Num", "Constant", "E", "Binary", "Frac", "Power", "Neg", "Transpose", "Call",
           "Applied", "Condition", "Total", "Norm", "Where", "call", "sqrt", "bars", "minimum", "maximum", "indicator",
           "cases", "sym", "lift", "odot", "half", "is_close"]


# --- expanding a formula into arithmetic, element by element -------------------------------


class Expander:
    """Writes one element of a formula's value as arithmetic over numbers
    (:mod:`tracegrad.core.arithmetic`): ``X·W₁ + b₁`` at unit 0 becomes ``1 × 0.5 + 2 × 0.7 + 0.1``;
    a matrix product becomes the sum over its inner index, a softmax e^{zᵢ} / Σⱼ e^{zⱼ} over the
    values themselves. ``number(ref, value)`` writes the number a symbol stands for (given as
    written, or computed and rounded for display)."""

    def __init__(self, env, axes: Axes, number):
        self.env, self.axes, self.number = env, axes, number
        self._shapes: dict = {}
        self._values: dict = {}
        self.parts: dict = {}  # ref -> formula, for Where's named parts

    def value(self, ref: str):
        """The value ``ref`` stands for: a float, or an array (converted once)."""
        if ref not in self._values:
            value = self.env[ref]
            array = _np().asarray(value, dtype=float)
            self._values[ref] = float(value) if array.ndim == 0 else array
        return self._values[ref]

    def shape(self, f: Formula) -> tuple:
        if id(f) not in self._shapes:
            self._shapes[id(f)] = (_np().shape(f.evaluate(self._env_with_parts(), self.axes)), f)
        return self._shapes[id(f)][0]

    def _env_with_parts(self):
        if not self.parts:
            return self.env
        env = dict(self.env)
        for ref, definition in self.parts.items():
            env[ref] = definition.evaluate(env, self.axes)
        return env

    def cell(self, f: Formula, pos: tuple):
        """Element ``pos`` of ``f`` as an arithmetic cell."""
        return f._cell(self, tuple(pos))

    def at(self, child: Formula, pos: tuple):
        """The child's element that broadcasts to ``pos`` of its parent."""
        shape = self.shape(child)
        if not shape:
            return self.cell(child, ())
        pos = pos[len(pos) - len(shape):] if len(pos) >= len(shape) else (0,) * (len(shape) - len(pos)) + pos
        return self.cell(child, tuple(0 if n == 1 else p for p, n in zip(pos, shape)))


def _apply(op, *args, params=()):
    return Apply(op, tuple(args), tuple(params))
