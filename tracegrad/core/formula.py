"""Textbook formulas as data: a small tree over named scalars, vectors and matrices.

A derivation line claims ``symbol = formula = expansion ≈ value``. The formula is a
:class:`Formula` tree (``z₁ = X·W₁ + b₁``, ``δ₂ = ∂L/∂ŷ ⊙ σ′(z₂)``, ``m ← β₁m + (1 − β₁)g``)
whose leaves are :class:`Sym` bound to quantity names, so the same tree is *written*
(:meth:`Formula.math`: LaTeX and text, parenthesised by one precedence table) and
*evaluated* (:meth:`Formula.evaluate` with numpy on the quantities' values), which is how a
printed formula is checked against the numbers printed beside it.

Shapes follow the layout of the problem: a layer's values of one sample are a row
(``in_out``, z = x·W + b) or a column (``out_in``, z = W·x + b); a batch stacks the rows (or
columns). :class:`Axes` names which array axis holds the units and which the samples, so
``Σⱼ`` (over a layer's units) and ``Σₛ`` (over a batch's samples) evaluate in either layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from .notation import ADD, ATOM, MUL, NEG, POW, Math
from .numbers import exact_text, written

_SUPERSCRIPT = str.maketrans("0123456789-tn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵗⁿ")


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


class Formula:
    """A formula tree; see the module docstring. Build with the constructors below and the
    operators ``+ - * / ** @``, unary ``-`` and ``.T``."""

    prec = ATOM

    # --- writing -------------------------------------------------------------------------
    def render(self, fmt: str) -> str:
        """The formula as LaTeX (``fmt == "latex"``) or plain text."""
        raise NotImplementedError

    def math(self) -> Math:
        """The formula in both notations."""
        return Math(self.render("latex"), self.render("text"))

    def precedence(self, fmt: str) -> int:
        """How tightly the written formula binds (:mod:`tracegrad.core.notation`'s levels)."""
        return self.prec

    def wrapped(self, level: int, fmt: str, strict: bool = False) -> str:
        """Rendered, in parentheses when it binds looser than ``level`` (or as loose, ``strict``)."""
        text = self.render(fmt)
        prec = self.precedence(fmt)
        if prec < level or (strict and prec == level):
            return rf"\left({text}\right)" if fmt == "latex" else f"({text})"
        return text

    # --- evaluating ----------------------------------------------------------------------
    def evaluate(self, env, axes: Axes = Axes()):
        """The value with ``env`` mapping each symbol's ``ref`` to a number or an array."""
        raise NotImplementedError

    def refs(self) -> set:
        """The quantity names the formula reads."""
        return set().union(*(c.refs() for c in self.children()))

    def children(self) -> tuple:
        return ()

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

    @property
    def T(self):
        return Transpose(self)


def _is_half(f) -> bool:
    return isinstance(f, Frac) and isinstance(f.a, Num) and isinstance(f.b, Num) and f.a.value == 1 and f.b.value == 2


def lift(x) -> Formula:
    """A number as a :class:`Num`; a formula unchanged."""
    return x if isinstance(x, Formula) else Num(x)


@dataclass(frozen=True, eq=False)
class Sym(Formula):
    """A named value: ``latex``/``text`` as written, ``ref`` the quantity (or constant) it
    stands for when evaluated (``None``: a symbol only written, never evaluated)."""

    latex: str
    text: str
    ref: str | None = None

    def render(self, fmt):
        return self.latex if fmt == "latex" else self.text

    def evaluate(self, env, axes=Axes()):
        if self.ref is None or self.ref not in env:
            raise KeyError(f"no value for {self.text} ({self.ref})")
        value = env[self.ref]
        return value if isinstance(value, (int, float)) else _np().asarray(value, dtype=float)

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

    @property
    def prec(self):
        if self.value < 0:
            return NEG
        return MUL if "e" in exact_text(float(self.value)) else ATOM  # 2.5 × 10⁻⁷ binds as a product

    def render(self, fmt):
        latex, text = written(exact_text(float(self.value)))  # 0.5, −1, 10⁻⁶: never a raw float
        return latex if fmt == "latex" else text

    def evaluate(self, env, axes=Axes()):
        return float(self.value)

    def _cell(self, ex, pos):
        from .arithmetic import given

        return given(self.value)


_BINARY = {
    # op: (precedence, latex, text, strict right operand)
    "+": (ADD, " + ", " + ", False),
    "-": (ADD, " - ", " − ", True),
    "*": (MUL, r" \cdot ", "·", True),
    "@": (MUL, " ", "·", True),
    "odot": (MUL, r" \odot ", " ⊙ ", True),
}


@dataclass(frozen=True, eq=False)
class Binary(Formula):
    """``a + b``, ``a − b``, ``a·b`` (a scalar factor), ``a @ b`` (a matrix product, written
    by juxtaposition in LaTeX), ``a ⊙ b`` (elementwise). A scalar product of a number and
    a parenthesised factor, or of a fraction and a symbol, is written by juxtaposition too:
    ``(1 − β₁)g``, ``\\frac{2}{n}(ŷ − y)``."""

    op: str
    a: Formula
    b: Formula

    @property
    def prec(self):
        return _BINARY[self.op][0]

    def children(self):
        return (self.a, self.b)

    def render(self, fmt):
        prec, latex, text, strict = _BINARY[self.op]
        left = self.a.wrapped(prec, fmt)
        # a sum sign extends to the right: (1/n)·Σᵢ …, not (1/n)·(Σᵢ …)
        right = self.b.render(fmt) if isinstance(self.b, Total) and self.op == "*" else \
            self.b.wrapped(prec, fmt, strict=strict)
        if self.op == "*" and _juxtaposed(self.a, self.b, fmt):
            return f"{left} {right}" if fmt == "latex" and not right.startswith("\\left(") else left + right
        return left + (latex if fmt == "latex" else text) + right

    def evaluate(self, env, axes=Axes()):
        a, b = self.a.evaluate(env, axes), self.b.evaluate(env, axes)
        if self.op == "+":
            return a + b
        if self.op == "-":
            return a - b
        if self.op == "@":
            return _np().matmul(a, b)
        np = _np()
        with np.errstate(invalid="ignore"):  # 0 × log(0) is 0: a target of 0 leaves its term out of the loss
            product = np.multiply(a, b)
        return np.where((np.asarray(a) == 0) | (np.asarray(b) == 0), 0.0, product) if np.isnan(product).any() else product

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


def _juxtaposed(a: Formula, b: Formula, fmt: str) -> bool:
    """Whether ``a·b`` is written without the dot: in LaTeX, a coefficient (a number, a
    fraction, a parenthesised sum) before anything but a number, or anything before a
    parenthesised factor; in text, a number or ½ before a parenthesised factor or a symbol."""
    if fmt == "text":
        return (isinstance(a, Num) or a.render("text") == "½") and not isinstance(b, Num)
    coefficient = isinstance(a, (Num, Frac)) or (isinstance(a, Binary) and a.prec < MUL)
    return (coefficient and not isinstance(b, Num)) or b.prec < MUL


def odot(a, b) -> Formula:
    """``a ⊙ b``, elementwise."""
    return Binary("odot", lift(a), lift(b))


@dataclass(frozen=True, eq=False)
class Frac(Formula):
    r"""``\frac{a}{b}`` in LaTeX, ``a / b`` in text (``(1/n)`` when both are atoms)."""

    a: Formula
    b: Formula

    def precedence(self, fmt):
        return ATOM if fmt == "latex" or self._short() else MUL

    def _short(self) -> bool:
        """Written ``½`` or ``(1/n)`` in text."""
        return self.a.prec == ATOM and self.b.prec == ATOM and (isinstance(self.a, Num) or isinstance(self.b, Num))

    def children(self):
        return (self.a, self.b)

    def render(self, fmt):
        if fmt == "latex":
            return rf"\frac{{{self.a.render(fmt)}}}{{{self.b.render(fmt)}}}"
        if isinstance(self.a, Num) and self.a.value == 1 and isinstance(self.b, Num) and self.b.value == 2:
            return "½"
        if self._short():
            return f"({self.a.render(fmt)}/{self.b.render(fmt)})"
        return f"{self.a.wrapped(MUL, fmt)} / {self.b.wrapped(MUL, fmt, strict=True)}"

    def evaluate(self, env, axes=Axes()):
        return self.a.evaluate(env, axes) / self.b.evaluate(env, axes)

    def _cell(self, ex, pos):
        from .arithmetic import Number, fraction

        a, b = ex.at(self.a, pos), ex.at(self.b, pos)
        given = [isinstance(c, Number) and c.half == 0 and c.latex is None and float(c.value).is_integer()
                 for c in (a, b)]
        if all(given) and b.value != 0:  # ½, 1/3: one coefficient
            return fraction(a.value, b.value)
        return _apply("div", a, b)


@dataclass(frozen=True, eq=False)
class Power(Formula):
    """``a^e``; a number exponent is written as a superscript in text (``a²``)."""

    a: Formula
    e: Formula
    prec = POW

    def children(self):
        return (self.a, self.e)

    def render(self, fmt):
        base = self.a.wrapped(ATOM, fmt)
        if fmt == "latex":
            return f"{base}^{{{self.e.render(fmt)}}}"
        if isinstance(self.e, Num) and float(self.e.value).is_integer():
            return base + str(int(self.e.value)).translate(_SUPERSCRIPT)
        if isinstance(self.e, Sym) and self.e.text in ("t", "n"):
            return base + self.e.text.translate(_SUPERSCRIPT)
        return f"{base}^{self.e.wrapped(ATOM, fmt)}"

    def evaluate(self, env, axes=Axes()):
        return self.a.evaluate(env, axes) ** self.e.evaluate(env, axes)

    def _cell(self, ex, pos):
        from .arithmetic import Number

        exponent = ex.at(self.e, pos)
        if isinstance(exponent, Number) and exponent.half == 0 and float(exponent.value).is_integer():
            return _apply("pow", ex.at(self.a, pos), params=(float(exponent.value),))
        return _apply("vpow", ex.at(self.a, pos), exponent)


@dataclass(frozen=True, eq=False)
class Neg(Formula):
    """``−a``."""

    a: Formula
    prec = NEG

    def children(self):
        return (self.a,)

    def render(self, fmt):
        inner = self.a.render(fmt) if isinstance(self.a, Total) else self.a.wrapped(MUL, fmt)
        return ("-" if fmt == "latex" else "−") + inner

    def evaluate(self, env, axes=Axes()):
        return -self.a.evaluate(env, axes)

    def _cell(self, ex, pos):
        return _apply("neg", ex.at(self.a, pos))


@dataclass(frozen=True, eq=False)
class Transpose(Formula):
    """``aᵀ``."""

    a: Formula
    prec = POW

    def children(self):
        return (self.a,)

    def render(self, fmt):
        base = self.a.wrapped(ATOM, fmt)
        return base + (r"^{\top}" if fmt == "latex" else "ᵀ")

    def evaluate(self, env, axes=Axes()):
        value = self.a.evaluate(env, axes)
        return value.T if hasattr(value, "T") else value

    def _cell(self, ex, pos):
        return ex.cell(self.a, tuple(reversed(pos)))



def _log(np, x):
    """log, −inf at 0 without a warning (the term it stands in is then left out: 0 × log 0 is 0)."""
    with np.errstate(divide="ignore"):
        return np.log(x)

_FUNCTIONS = {
    # name: numpy function of (array, axes)
    "exp": lambda np, x, axes: np.exp(x),
    "log": lambda np, x, axes: _log(np, x),
    "sqrt": lambda np, x, axes: np.sqrt(x),
    "abs": lambda np, x, axes: np.abs(x),
    "sign": lambda np, x, axes: np.sign(x),
    "sigmoid": lambda np, x, axes: 0.5 * (1 + np.tanh(0.5 * x)),  # σ without overflow
    "tanh": lambda np, x, axes: np.tanh(x),
    "relu": lambda np, x, axes: np.maximum(x, 0.0),
    "identity": lambda np, x, axes: x,
    "softmax": lambda np, x, axes: _softmax(np, x, axes.units),
    "indicator": lambda np, x, axes: np.where(x > 0, 1.0, 0.0),
}


def _softmax(np, x, axis):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True)) if x.ndim else np.exp(0.0)
    return e / np.sum(e, axis=axis, keepdims=True) if x.ndim else 1.0


@dataclass(frozen=True, eq=False)
class Call(Formula):
    """``f(a)`` written as ``latex``/``text`` (``\\sigma``, ``σ``), evaluated elementwise by the
    function ``name`` (softmax over each sample's units); ``params`` are extra numbers
    (LeakyReLU's slope)."""

    name: str
    latex: str
    text: str
    a: Formula
    params: tuple = ()

    def children(self):
        return (self.a,)

    def render(self, fmt):
        head = self.latex if fmt == "latex" else self.text
        inner = self.a.render(fmt)
        return rf"{head}\left({inner}\right)" if fmt == "latex" else f"{head}({inner})"

    def evaluate(self, env, axes=Axes()):
        np = _np()
        x = self.a.evaluate(env, axes)
        if self.name == "leaky_relu":
            return np.where(np.asarray(x) > 0, x, self.params[0] * np.asarray(x))
        return _FUNCTIONS[self.name](np, np.asarray(x, dtype=float), axes)

    def _cell(self, ex, pos):
        if self.name == "identity":
            return ex.at(self.a, pos)
        if self.name == "softmax":
            shape = ex.shape(self.a)
            axis = ex.axes.units if len(shape) > 1 else 0

            def e(k):
                p = list(pos)
                p[axis] = k
                return _apply("exp", ex.at(self.a, tuple(p)))
            total = [e(k) for k in range(shape[axis])]
            return _apply("div", e(pos[axis]), _apply("sum", *total) if len(total) > 1 else total[0])
        if self.name == "indicator":
            from .arithmetic import Indicator as IndicatorCell

            return IndicatorCell(ex.at(self.a, pos))
        return _apply(self.name, ex.at(self.a, pos), params=self.params if self.name == "leaky_relu" else ())


@dataclass(frozen=True, eq=False)
class Indicator(Formula):
    """``𝟙[a > 0]``: 1 where ``a`` is positive, else 0."""

    a: Formula

    def children(self):
        return (self.a,)

    def render(self, fmt):
        inner = self.a.render(fmt)
        return rf"\mathbb{{1}}\left[{inner} > 0\right]" if fmt == "latex" else f"1[{inner} > 0]"

    def evaluate(self, env, axes=Axes()):
        np = _np()
        return np.where(np.asarray(self.a.evaluate(env, axes)) > 0, 1.0, 0.0)

    def _cell(self, ex, pos):
        from .arithmetic import Indicator as IndicatorCell

        return IndicatorCell(ex.at(self.a, pos))


@dataclass(frozen=True, eq=False)
class Cases(Formula):
    """``yes`` where ``a > 0``, else ``no`` (LeakyReLU's derivative)."""

    a: Formula
    yes: Formula
    no: Formula

    def children(self):
        return (self.a, self.yes, self.no)

    def render(self, fmt):
        a, yes, no = (x.render(fmt) for x in (self.a, self.yes, self.no))
        if fmt == "latex":
            return rf"\begin{{cases}} {yes} & {a} > 0 \\ {no} & {a} \le 0 \end{{cases}}"
        return f"({yes} if {a} > 0 else {no})"

    def evaluate(self, env, axes=Axes()):
        np = _np()
        a = np.asarray(self.a.evaluate(env, axes))
        return np.where(a > 0, self.yes.evaluate(env, axes), self.no.evaluate(env, axes))

    def _cell(self, ex, pos):
        from .arithmetic import Choice

        return Choice(ex.at(self.a, pos), ex.at(self.yes, pos), ex.at(self.no, pos))


@dataclass(frozen=True, eq=False)
class Total(Formula):
    """``Σ a`` over the units of a layer (``over == "units"``), the samples of a batch
    (``"samples"``) or every element (``"all"``); ``index`` is the summation index as
    written (``j``, ``s``), ``limit`` its upper bound (``N``) or empty."""

    a: Formula
    over: str
    index: str = ""
    limit: str = ""
    prec = MUL

    def children(self):
        return (self.a,)

    def render(self, fmt):
        inner = self.a.wrapped(MUL, fmt)
        if fmt == "latex":
            bound = f"_{{{self.index}=1}}^{{{self.limit}}}" if self.limit else (f"_{{{self.index}}}" if self.index else "")
            return rf"\sum{bound} {inner}"
        sub = self.index.translate(str.maketrans("ijks", "ᵢⱼₖₛ"))
        return f"Σ{sub}{'' if inner.startswith('(') else ' '}{inner}" if sub else f"Σ {inner}"

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
class Root(Formula):
    r"""``\sqrt{a}``, elementwise."""

    a: Formula

    def children(self):
        return (self.a,)

    def render(self, fmt):
        return rf"\sqrt{{{self.a.render(fmt)}}}" if fmt == "latex" else f"√{self.a.wrapped(ATOM, fmt)}"

    def evaluate(self, env, axes=Axes()):
        return _np().sqrt(self.a.evaluate(env, axes))

    def _cell(self, ex, pos):
        return _apply("sqrt", ex.at(self.a, pos))


@dataclass(frozen=True, eq=False)
class Bars(Formula):
    """``|a|``, elementwise."""

    a: Formula

    def children(self):
        return (self.a,)

    def render(self, fmt):
        inner = self.a.render(fmt)
        return rf"\left|{inner}\right|" if fmt == "latex" else f"|{inner}|"

    def evaluate(self, env, axes=Axes()):
        return _np().abs(self.a.evaluate(env, axes))

    def _cell(self, ex, pos):
        return _apply("abs", ex.at(self.a, pos))


@dataclass(frozen=True, eq=False)
class Norm(Formula):
    """``‖a‖``, the Euclidean norm of every element of ``a`` (gradient clipping)."""

    a: Formula

    def children(self):
        return (self.a,)

    def render(self, fmt):
        inner = self.a.render(fmt)
        return rf"\left\lVert {inner} \right\rVert" if fmt == "latex" else f"‖{inner}‖"

    def evaluate(self, env, axes=Axes()):
        np = _np()
        return float(np.sqrt(np.sum(np.square(np.asarray(self.a.evaluate(env, axes), dtype=float)))))

    def _cell(self, ex, pos):
        import itertools

        shape = ex.shape(self.a)
        squares = [_apply("pow", ex.cell(self.a, p), params=(2.0,)) for p in itertools.product(*(range(n) for n in shape))]
        return _apply("sqrt", squares[0] if len(squares) == 1 else _apply("sum", *squares))


@dataclass(frozen=True, eq=False)
class Extremum(Formula):
    """``min(a, b)`` or ``max(a, b)`` (``name``), elementwise."""

    name: str
    a: Formula
    b: Formula

    def children(self):
        return (self.a, self.b)

    def render(self, fmt):
        a, b = self.a.render(fmt), self.b.render(fmt)
        return rf"\{self.name}\left({a}, {b}\right)" if fmt == "latex" else f"{self.name}({a}, {b})"

    def evaluate(self, env, axes=Axes()):
        np = _np()
        f = np.minimum if self.name == "min" else np.maximum
        return f(self.a.evaluate(env, axes), self.b.evaluate(env, axes))

    def _cell(self, ex, pos):
        return _apply(self.name, ex.at(self.a, pos), ex.at(self.b, pos))


def minimum(a, b) -> Extremum:
    """``min(a, b)``."""
    return Extremum("min", lift(a), lift(b))


def maximum(a, b) -> Extremum:
    """``max(a, b)``."""
    return Extremum("max", lift(a), lift(b))


@dataclass(frozen=True, eq=False)
class Where(Formula):
    """``main, L_s = definition``: a formula with a named part written after it; the part is
    evaluated first and bound to ``part.ref``."""

    main: Formula
    part: Sym
    definition: Formula

    def children(self):
        return (self.main, self.definition)

    def refs(self):
        return (self.main.refs() - {self.part.ref}) | self.definition.refs()

    def render(self, fmt):
        sep = r", \quad " if fmt == "latex" else ",  "
        return f"{self.main.render(fmt)}{sep}{self.part.render(fmt)} = {self.definition.render(fmt)}"

    def evaluate(self, env, axes=Axes()):
        inner = dict(env)
        inner[self.part.ref] = self.definition.evaluate(env, axes)
        return self.main.evaluate(inner, axes)

    def _cell(self, ex, pos):
        ex.parts[self.part.ref] = self.definition
        return ex.at(self.main, pos)


def call(name: str, symbol: Math, a: Formula, params: tuple = ()) -> Call:
    """``symbol(a)`` evaluated by function ``name``."""
    return Call(name, symbol.latex, symbol.text, lift(a), params)


def half() -> Frac:
    """½."""
    return Frac(Num(1), Num(2))


def is_close(computed, shown, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    """Whether every element of ``computed`` equals ``shown`` up to float noise."""
    np = _np()
    a, b = np.asarray(computed, dtype=float), np.asarray(shown, dtype=float)
    if a.shape != b.shape:
        if a.size != b.size:
            return False
        a = a.reshape(b.shape)
    return bool(np.all(np.isclose(a, b, rtol=rel, atol=abs_) | (np.isnan(a) & np.isnan(b))))


__all__ = ["Axes", "Formula", "Sym", "Num", "Binary", "Frac", "Power", "Neg", "Transpose", "Call", "Indicator",
           "Cases", "Total", "Root", "Bars", "Norm", "Extremum", "Where", "minimum", "maximum", "sym", "lift", "odot", "call", "half", "is_close"]


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
    from .arithmetic import Apply

    return Apply(op, tuple(args), tuple(params))


_CELL_OPS = {"+": "add", "-": "sub", "*": "mul", "odot": "mul"}
