"""The op table: every op tracegrad knows, declared once.

Each :class:`OpSpec` holds every fact about one op, and nothing else in tracegrad lists
ops again: its forward function, its local partial derivatives, its SymPy form (and the
SymPy function that reads back as it), its notation (LaTeX and text, with precedence,
from :mod:`tracegrad.core.notation`: infix, a function, a fraction …), its numpy form (how a
formula evaluates it on arrays), whether it is monotone (how an interval of printed values
maps through it), and sample points on which the test suite checks the partials against
central finite differences and against ``sympy.diff`` of the SymPy form.

Partials are written once and work on three kinds of number: on floats (the
fast backward pass), on :class:`~tracegrad.core.value.Value` nodes (the backward pass
that builds its own graph, ``create_graph=True``) and on SymPy expressions (the
rule check). Inside a partial, use arithmetic operators and the helpers
:func:`step`, :func:`sign`, :func:`log`; they dispatch on the argument type.

To add an op: add one ``OpSpec`` to ``_SPECS`` below (with ``examples``), and, if
users should call it by name, a method on ``Value`` or a function in
:mod:`tracegrad.core.functional`. The table tests pick it up automatically; an activation
on it is then one entry of :mod:`tracegrad.nn.activations` (``tests/test_specs.py`` adds
both from a test fixture).

**The contract with the compiler** (:mod:`tracegrad.compile.tracing`). Compiled replay
derives each op's code by running ``forward`` and ``partials`` once on symbolic
stand-ins, so those functions may use only: arithmetic operators, comparisons (an
``if`` on one is explored both ways), functions of the ``math`` module, the builtins
``max``/``min``/``abs``, other functions of this module, and the helpers below. The
compiler gives this module's functions a copy of its globals in which ``math``,
``max``, ``min`` and the two dispatching helpers :func:`dispatch` and :func:`largest`
are replaced by symbolic versions, so those two must keep their meaning: ``dispatch``
applies the named op's ``forward``, ``largest`` is the maximum of plain numbers. An op
that breaks the contract fails at compile time (the tests compile every op).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from . import notation as nt

@dataclass(frozen=True, eq=False)
class OpSpec:
    """One op: ``forward(x, p)`` on a tuple of floats ``x`` and parameters ``p``;
    ``partials(x, out, p)`` returns one local derivative per input."""

    name: str
    arity: int | None  # None: variadic
    forward: Callable[[tuple, tuple], float]
    partials: Callable[[tuple, Any, tuple], tuple]
    sympy: Callable[[Any, tuple, tuple], Any]
    notation: Any
    examples: tuple  # ((inputs, params), ...) inside the op's smooth domain
    params: tuple[str, ...] = ()
    domain: str = ""  # what the inputs must satisfy, for error messages
    derivative_domain: str = ""  # the same for the local partials, when it differs
    fix: str = ""  # a hint shown when the domain is violated
    function: bool = False  # callable by name in expressions (tracegrad.parse)
    numpy: Callable | None = None  # (np, arrays, params) -> array: the op elementwise, as a formula evaluates it
    monotone: bool = False  # non-decreasing in its one input: an interval maps to the interval of its ends
    sympy_head: str = ""  # the SymPy function read back as this op (from_sympy): "exp", "Abs", "Max" …

    def __repr__(self) -> str:
        return f"OpSpec({self.name!r})"

    def render(self, args, params, fmt: str = "latex"):
        """Write the op applied to ``args`` (``(text, precedence)`` pairs) as ``(text, precedence)``."""
        return self.notation.render(args, params, fmt)


# --- helpers usable inside partials (floats, Values or SymPy expressions) ----------

_value_type: list = []  # filled by tracegrad.core.value (avoids an import cycle)


def dispatch(name: str, *args):
    """Op ``name`` applied to ``args``: its forward on numbers, a node on ``Value`` s, its
    SymPy form on SymPy expressions (the helpers below use it)."""
    spec = OPS[name]
    if all(type(a) in (float, int) for a in args):
        return spec.forward(args, ())
    if _value_type and any(isinstance(a, _value_type[0]) for a in args):
        return _value_type[0]._apply(spec, args, ())
    import sympy

    return spec.sympy(sympy, args, ())


def step(x):
    """Heaviside step with step(0) = 0 (the subgradient ReLU uses at 0)."""
    return dispatch("step", x)


def sign(x):
    """Sign of x, sign(0) = 0."""
    return dispatch("sign", x)


def log(x):
    """Natural logarithm."""
    return dispatch("log", x)


def exp(x):
    """Exponential."""
    return dispatch("exp", x)


def sigmoid(x):
    """Logistic sigmoid."""
    return dispatch("sigmoid", x)


def total(xs):
    """x₁ + … + xₙ as one ``sum``."""
    return dispatch("sum", *xs)


def largest(xs) -> float:
    """The largest plain number among ``xs`` (Values by their data); 0 for symbols."""
    values = [getattr(v, "data", v) for v in xs]
    return max(values) if all(type(v) in (float, int) for v in values) else 0


# --- forward functions with care for the edges ------------------------------------


def _sigmoid(x, p):
    z = x[0]
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _vpow(x, p):
    if x[0] <= 0:
        raise ValueError("base must be positive")
    return math.pow(x[0], x[1])


def _total(x, p):
    # left to right, the way a person adds (builtin sum compensates on 3.12+)
    acc = 0.0
    for v in x:
        acc += v
    return acc


def _dot(x, p):
    n = len(x) // 2
    acc = 0.0
    for a, b in zip(x[:n], x[n:]):
        acc += a * b
    return acc


def _bce(x, p):
    q, y = x
    return -(y * math.log(q) + (1 - y) * math.log(1 - q))


def _bce_logits(x, p):
    z, y = x
    return (z if z > 0 else 0.0) - z * y + math.log1p(math.exp(-abs(z)))


def _lse(z):
    m = max(z)
    acc = 0.0
    for v in z:
        acc += math.exp(v - m)
    return m + math.log(acc)


def _softmax_ce(x, p):
    n = len(x) // 2
    lse = _lse(x[:n])
    acc = 0.0
    for z, y in zip(x[:n], x[n:]):
        acc += y * (lse - z)
    return acc


def _softmax_ce_partials(x, o, p):
    n = len(x) // 2
    z, y = x[:n], x[n:]
    m = largest(z)
    e = [exp(v - m) for v in z]
    s = total(e)
    lse = m + log(s)
    y_total = total(y)
    return tuple(e_i / s * y_total - y_i for e_i, y_i in zip(e, y)) + tuple(lse - z_i for z_i in z)


def _sympy_number(sp, p):
    return sp.Integer(int(p)) if float(p).is_integer() else sp.Float(p)


def _piecewise_step(sp, z):
    return sp.Piecewise((1, z > 0), (0, True))


# --- numpy forms (a formula evaluated on arrays; never on the engine's path) ---------------


def _np_sigmoid(np, x, p):
    return 0.5 * (1 + np.tanh(0.5 * x[0]))  # σ without overflow


def _np_log(np, x, p):
    with np.errstate(divide="ignore"):  # −inf at 0 without a warning: 0 × log 0 is then 0 (_np_mul)
        return np.log(x[0])


def _np_mul(np, x, p):
    with np.errstate(invalid="ignore"):  # 0 × log(0) is 0: a target of 0 leaves its term out of the loss
        product = np.multiply(x[0], x[1])
    if not np.isnan(product).any():
        return product
    return np.where((np.asarray(x[0]) == 0) | (np.asarray(x[1]) == 0), 0.0, product)


def _np_total(np, x, p):
    acc = x[0]
    for v in x[1:]:
        acc = acc + v
    return acc


def _np_dot(np, x, p):
    n = len(x) // 2
    return _np_total(np, [a * b for a, b in zip(x[:n], x[n:])], p)


def _np_softmax_ce(np, x, p):
    n = len(x) // 2
    lse = np.logaddexp.reduce(np.stack(np.broadcast_arrays(*x[:n])), axis=0)
    return _np_total(np, [y * (lse - z) for z, y in zip(x[:n], x[n:])], p)


# --- comparisons: the relation ops (𝟙[a > b]) and the choice between two values by one ---


def _gt(a, b):
    return a > b


def _ge(a, b):
    return a >= b


def _lt(a, b):
    return a < b


def _le(a, b):
    return a <= b


def _relations():
    """For each relation of :data:`~tracegrad.core.notation.RELATIONS`: the indicator op
    (``gt``: 𝟙[a > b]) and the choice op (``cases_gt``: yes where a > b, else no)."""
    specs = []
    for name, compare in (("gt", _gt), ("ge", _ge), ("lt", _lt), ("le", _le)):
        specs.append(OpSpec(
            name, 2, lambda x, p, c=compare: 1.0 if c(x[0], x[1]) else 0.0, lambda x, o, p: (0, 0),
            lambda sp, x, p, c=compare: sp.Piecewise((1, c(x[0], x[1])), (0, True)), nt.Indicator(name),
            (((0.3, -0.2), ()), ((-1.7, 0.4), ())),
            numpy=lambda np, x, p, c=compare: np.where(c(np.asarray(x[0]), np.asarray(x[1])), 1.0, 0.0)))
        specs.append(OpSpec(
            f"cases_{name}", 4, lambda x, p, c=compare: x[0] if c(x[2], x[3]) else x[1],
            lambda x, o, p, name=name: (dispatch(name, x[2], x[3]), 1 - dispatch(name, x[2], x[3]), 0, 0),
            lambda sp, x, p, c=compare: sp.Piecewise((x[0], c(x[2], x[3])), (x[1], True)), nt.Cases(name),
            (((1.5, -0.5, 0.3, 0.0), ()), ((1.5, -0.5, -1.2, 0.0), ())),
            numpy=lambda np, x, p, c=compare: np.where(c(np.asarray(x[2]), np.asarray(x[3])), x[0], x[1])))
    return specs


F = nt.Function

_SPECS = [
    OpSpec("add", 2, lambda x, p: x[0] + x[1], lambda x, o, p: (1, 1),
           lambda sp, x, p: x[0] + x[1], nt.ADDITION, (((1.5, -0.25), ()),),
           numpy=lambda np, x, p: x[0] + x[1]),
    OpSpec("sub", 2, lambda x, p: x[0] - x[1], lambda x, o, p: (1, -1),
           lambda sp, x, p: x[0] - x[1], nt.SUBTRACTION, (((1.5, -0.25), ()),),
           numpy=lambda np, x, p: x[0] - x[1]),
    OpSpec("mul", 2, lambda x, p: x[0] * x[1], lambda x, o, p: (x[1], x[0]),
           lambda sp, x, p: x[0] * x[1], nt.TIMES, (((1.5, -0.25), ()),), numpy=_np_mul),
    OpSpec("div", 2, lambda x, p: x[0] / x[1], lambda x, o, p: (1 / x[1], -o / x[1]),
           lambda sp, x, p: x[0] / x[1], nt.QUOTIENT, (((1.5, -0.25), ()), ((-2.0, 3.0), ())),
           domain="the divisor must not be zero", fix="check the node that produced the divisor",
           numpy=lambda np, x, p: x[0] / x[1]),
    OpSpec("neg", 1, lambda x, p: -x[0], lambda x, o, p: (-1,),
           lambda sp, x, p: -x[0], nt.NEGATION, (((0.75,), ()),), numpy=lambda np, x, p: -x[0]),
    OpSpec("pow", 1, lambda x, p: math.pow(x[0], p[0]),
           lambda x, o, p: (p[0] * x[0] ** (p[0] - 1),),
           lambda sp, x, p: x[0] ** _sympy_number(sp, p[0]), nt.Power(param=True),
           (((1.5,), (2,)), ((0.7,), (-1,)), ((2.5,), (0.5,)), ((-1.2,), (3,))),
           params=("exponent",),
           domain="a negative base needs an integer exponent, and zero a non-negative one",
           derivative_domain="at a zero base the derivative p·x^(p−1) needs an exponent of at least 1 "
                             "(x ** 0 is the constant 1: write 1 instead)",
           numpy=lambda np, x, p: np.power(x[0], p[0])),
    OpSpec("vpow", 2, _vpow, lambda x, o, p: (x[1] * x[0] ** (x[1] - 1), o * log(x[0])),
           lambda sp, x, p: x[0] ** x[1], nt.Power(param=False), (((1.7, 0.6), ()), ((0.4, -1.3), ())),
           domain="the base must be positive when the exponent is a Value",
           fix="use a number exponent, or make the base positive", numpy=lambda np, x, p: np.power(x[0], x[1])),
    OpSpec("exp", 1, lambda x, p: math.exp(x[0]), lambda x, o, p: (o,),
           lambda sp, x, p: sp.exp(x[0]), nt.Exponential(), (((0.3,), ()), ((-1.1,), ())),
           domain="the result must be finite (exp overflows above about 709.78)",
           fix="scale the input down or use a stable form (log-sum-exp, logits)", function=True,
           numpy=lambda np, x, p: np.exp(x[0]), monotone=True, sympy_head="exp"),
    OpSpec("log", 1, lambda x, p: math.log(x[0]), lambda x, o, p: (1 / x[0],),
           lambda sp, x, p: sp.log(x[0]), F(r"\log", "log"), (((0.3,), ()), ((2.5,), ())),
           domain="the argument must be positive",
           fix="clip probabilities away from 0, or use the loss's from-logits form", function=True,
           numpy=_np_log, monotone=True, sympy_head="log"),
    OpSpec("sqrt", 1, lambda x, p: math.sqrt(x[0]), lambda x, o, p: (0.5 / o,),
           lambda sp, x, p: sp.sqrt(x[0]), nt.Radical(), (((0.3,), ()), ((4.0,), ())),
           domain="the argument must be non-negative (and positive for a derivative)", function=True,
           numpy=lambda np, x, p: np.sqrt(x[0]), monotone=True),
    OpSpec("tanh", 1, lambda x, p: math.tanh(x[0]), lambda x, o, p: (1 - o * o,),
           lambda sp, x, p: sp.tanh(x[0]), F(r"\tanh", "tanh"), (((0.3,), ()), ((-1.7,), ())), function=True,
           numpy=lambda np, x, p: np.tanh(x[0]), monotone=True, sympy_head="tanh"),
    OpSpec("sigmoid", 1, _sigmoid, lambda x, o, p: (o * (1 - o),),
           lambda sp, x, p: 1 / (1 + sp.exp(-x[0])), F(r"\sigma", "σ"),
           (((0.3,), ()), ((-2.2,), ())), function=True, numpy=_np_sigmoid, monotone=True),
    OpSpec("relu", 1, lambda x, p: x[0] if x[0] > 0 else 0.0, lambda x, o, p: (step(x[0]),),
           lambda sp, x, p: sp.Piecewise((x[0], x[0] > 0), (0, True)), F(r"\operatorname{ReLU}", "ReLU"),
           (((0.3,), ()), ((-1.7,), ())), function=True, numpy=lambda np, x, p: np.maximum(x[0], 0.0),
           monotone=True),
    OpSpec("leaky_relu", 1, lambda x, p: x[0] if x[0] > 0 else p[0] * x[0],
           lambda x, o, p: (p[0] + (1 - p[0]) * step(x[0]),),
           lambda sp, x, p: sp.Piecewise((x[0], x[0] > 0), (_sympy_number(sp, p[0]) * x[0], True)),
           F(r"\operatorname{LeakyReLU}", "LeakyReLU"), (((0.3,), (0.01,)), ((-1.7,), (0.1,))),
           params=("alpha",), function=True,
           numpy=lambda np, x, p: np.where(np.asarray(x[0]) > 0, x[0], p[0] * np.asarray(x[0])), monotone=True),
    OpSpec("abs", 1, lambda x, p: abs(x[0]), lambda x, o, p: (sign(x[0]),),
           lambda sp, x, p: sp.Abs(x[0]), nt.Bars(), (((0.3,), ()), ((-1.7,), ())), function=True,
           numpy=lambda np, x, p: np.abs(x[0]), sympy_head="Abs"),
    OpSpec("max", 2, lambda x, p: x[0] if x[0] >= x[1] else x[1],
           lambda x, o, p: (1 - step(x[1] - x[0]), step(x[1] - x[0])),
           lambda sp, x, p: sp.Piecewise((x[0], x[0] >= x[1]), (x[1], True)), F(r"\max", "max"),
           (((0.3, -0.2), ()), ((-1.7, 0.4), ())), function=True, numpy=lambda np, x, p: np.maximum(x[0], x[1]),
           sympy_head="Max"),
    OpSpec("min", 2, lambda x, p: x[0] if x[0] <= x[1] else x[1],
           lambda x, o, p: (1 - step(x[0] - x[1]), step(x[0] - x[1])),
           lambda sp, x, p: sp.Piecewise((x[0], x[0] <= x[1]), (x[1], True)), F(r"\min", "min"),
           (((0.3, -0.2), ()), ((-1.7, 0.4), ())), function=True, numpy=lambda np, x, p: np.minimum(x[0], x[1]),
           sympy_head="Min"),
    OpSpec("sum", None, _total, lambda x, o, p: (1,) * len(x),
           lambda sp, x, p: sp.Add(*x), nt.Chain(), (((0.3, -0.2, 1.1), ()),), numpy=_np_total),
    OpSpec("dot", None, _dot, lambda x, o, p: tuple(x[len(x) // 2:]) + tuple(x[: len(x) // 2]),
           lambda sp, x, p: sp.Add(*(a * b for a, b in zip(x[: len(x) // 2], x[len(x) // 2:]))),
           nt.DotProduct(), (((0.3, -0.2, 1.1, 0.5), ()),), numpy=_np_dot),
    # losses as single ops, so that dL/dŷ reads as the textbook writes it (ŷ − y, σ(z) − y, ŷ − y)
    OpSpec("half_sq_err", 2, lambda x, p: 0.5 * (x[0] - x[1]) ** 2, lambda x, o, p: (x[0] - x[1], x[1] - x[0]),
           lambda sp, x, p: sp.Rational(1, 2) * (x[0] - x[1]) ** 2, nt.HalfSquare(), (((0.77, 0.5), ()),),
           numpy=lambda np, x, p: 0.5 * (x[0] - x[1]) ** 2),
    OpSpec("sq_err", 2, lambda x, p: (x[0] - x[1]) ** 2, lambda x, o, p: (2 * (x[0] - x[1]), 2 * (x[1] - x[0])),
           lambda sp, x, p: (x[0] - x[1]) ** 2, nt.Square(), (((0.77, 0.5), ()),),
           numpy=lambda np, x, p: (x[0] - x[1]) ** 2),
    OpSpec("bce", 2, _bce, lambda x, o, p: ((x[0] - x[1]) / (x[0] * (1 - x[0])), log(1 - x[0]) - log(x[0])),
           lambda sp, x, p: -(x[1] * sp.log(x[0]) + (1 - x[1]) * sp.log(1 - x[0])),
           F(r"\operatorname{BCE}", "BCE"), (((0.7, 1.0), ()), ((0.2, 0.3), ())),
           domain="the probability must lie strictly between 0 and 1",
           fix="use the from-logits form of the loss (bce_logits), or clip the probability",
           numpy=lambda np, x, p: -(x[1] * np.log(x[0]) + (1 - x[1]) * np.log(1 - x[0]))),
    OpSpec("bce_logits", 2, _bce_logits, lambda x, o, p: (sigmoid(x[0]) - x[1], -x[0]),
           lambda sp, x, p: sp.log(1 + sp.exp(x[0])) - x[0] * x[1],
           F(r"\operatorname{BCE}_{\text{logits}}", "BCE_logits"), (((0.7, 1.0), ()), ((-1.4, 0.0), ())),
           numpy=lambda np, x, p: np.maximum(x[0], 0.0) - x[0] * x[1] + np.log1p(np.exp(-np.abs(x[0])))),
    OpSpec("softmax_ce", None, _softmax_ce, _softmax_ce_partials,
           lambda sp, x, p: sp.Add(*(y * (sp.log(sp.Add(*(sp.exp(v) for v in x[: len(x) // 2]))) - z)
                                      for z, y in zip(x[: len(x) // 2], x[len(x) // 2:]))),
           F(r"\operatorname{CE}_{\text{softmax}}", "CE_softmax"), (((0.3, -1.2, 2.0, 0.0, 1.0, 0.0), ()),),
           numpy=_np_softmax_ce),
    OpSpec("step", 1, lambda x, p: 1.0 if x[0] > 0 else 0.0, lambda x, o, p: (0,),
           lambda sp, x, p: _piecewise_step(sp, x[0]), F(r"\operatorname{H}", "H"),
           (((0.3,), ()), ((-1.7,), ())), numpy=lambda np, x, p: np.where(np.asarray(x[0]) > 0, 1.0, 0.0),
           monotone=True),
    OpSpec("sign", 1, lambda x, p: (x[0] > 0) - (x[0] < 0) + 0.0, lambda x, o, p: (0,),
           lambda sp, x, p: sp.sign(x[0]), F(r"\operatorname{sgn}", "sgn"), (((0.3,), ()), ((-1.7,), ())),
           numpy=lambda np, x, p: np.sign(x[0]), monotone=True, sympy_head="sign"),
    *_relations(),
]

OPS: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}
"""Every op by name."""

FUNCTIONS: dict[str, OpSpec] = {name: spec for name, spec in OPS.items() if spec.function}
"""Ops that expressions may call by name."""
