"""A line's expansion as data: scalar arithmetic over printed numbers.

An expansion (``1 × 0.5 + 2 × 0.7 + 0.1``) is a tree of :class:`Apply` cells, each an op of
the op table applied to cells or to :class:`Number` leaves; a number knows its value and the
text it is printed as. The same tree is **written** through the op table's notations (so an
expansion reads like every other arithmetic tracegrad prints), **evaluated** with the op
table's forward functions on the printed numbers, and evaluated over **intervals** (each
printed number stands for the interval of values that round to it), which is how a line's
arithmetic is checked: with carried numbers the printed operands must give the printed
result at its digits; with exact numbers the printed result must lie within what the
printed operands allow. Every fact about an op (its notation, forward function, whether it
is monotone) is read from its entry in the op table; an indicator
𝟙[z > 0] or a choice by a condition (LeakyReLU′: 1 or α) is an op of the table too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from . import notation as nt
from .notation import ATOM, Math
from .numbers import hand_decimal, written
from .ops import OPS


@dataclass(frozen=True)
class Number:
    """A printed number: ``value`` is what the arithmetic uses (for a computed number, the
    value as rounded for display under carry rounding), ``text`` how it is printed (ASCII
    minus), ``half`` half a unit in its last printed place (0 for a number given as written)."""

    value: float
    text: str
    half: float = 0.0
    latex: str | None = None  # when it is not the text (a fraction of two given numbers)

    def to_dict(self) -> dict:
        return {"number": self.text}


@dataclass(frozen=True)
class Apply:
    """Op ``op`` of the op table applied to ``args`` (cells), with the op's ``params``."""

    op: str
    args: tuple
    params: tuple = ()

    def to_dict(self) -> dict:
        return {"op": self.op, "args": [a.to_dict() for a in self.args], "params": list(self.params)}


def number(value: float, text: str, half: float = 0.0) -> Number:
    """A printed number."""
    return Number(float(value), text, half)


def given(value: float) -> Number:
    """A number printed as given: its shortest decimal, exact."""
    from .numbers import exact_text

    return Number(float(value), exact_text(float(value)), 0.0)


# --- writing ---------------------------------------------------------------------------


def _number_arg(n: Number, fmt: str):
    if fmt == "latex" and n.latex is not None:
        return n.latex, ATOM
    latex, text = written(n.text)
    return (latex if fmt == "latex" else text), nt.number_precedence(n.text)


def fraction(a: float, b: float) -> Number:
    """A fraction of two given numbers as one number: ½, \frac{2}{3}."""
    from .numbers import exact_text

    top, bottom = exact_text(a), exact_text(b)
    text = "½" if (top, bottom) == ("1", "2") else f"{top}/{bottom}"
    return Number(a / b, text, 0.0, rf"\frac{{{top}}}{{{bottom}}}")


def render(cell, fmt: str):
    """``(text, precedence)`` of ``cell`` in LaTeX (``fmt == "latex"``) or plain text."""
    if isinstance(cell, Number):
        return _number_arg(cell, fmt)
    if cell.op == "mul" and isinstance(cell.args[0], Number) and cell.args[0].latex is not None:
        # a fraction coefficient before a parenthesised factor reads as ½(…), as a person writes it
        inner = render(cell.args[1], fmt)
        if inner[1] < nt.MUL:
            head = render(cell.args[0], fmt)[0]
            body = rf"\left({inner[0]}\right)" if fmt == "latex" else f"({inner[0]})"
            return head + body, nt.MUL
    return OPS[cell.op].render([render(a, fmt) for a in cell.args], cell.params, fmt)


def write(cell) -> Math:
    """The cell in both notations."""
    return Math(render(cell, "latex")[0], render(cell, "text")[0])


def width(cell) -> int:
    """How many characters the plain text of ``cell`` takes."""
    return len(render(cell, "text")[0])


def terms(cell) -> list:
    """The top-level terms of a sum (``a + b − c`` → the cells whose text can end a line), for
    breaking a long expansion over lines; a cell that is not a sum is one term."""
    if isinstance(cell, Apply) and cell.op in ("sum", "dot"):
        return list(cell.args)
    if isinstance(cell, Apply) and cell.op in ("add", "sub"):
        return terms(cell.args[0]) + [cell.args[1]]
    return [cell]


# --- evaluating ------------------------------------------------------------------------


def evaluate(cell) -> float:
    """The value of ``cell`` from its numbers' values, through the op table."""
    if isinstance(cell, Number):
        return cell.value
    if cell.op == "mul" and any(isinstance(a, Number) and a.value == 0 for a in cell.args):
        return 0.0  # 0 × log(0): a target of 0 leaves its term out of cross-entropy, as the loss does
    return float(OPS[cell.op].forward(tuple(evaluate(a) for a in cell.args), cell.params))


def interval(cell) -> tuple:
    """``(low, high)``: every value the cell can take when each printed number may be any
    value that rounds to it (outward by a float ulp at every step)."""
    if isinstance(cell, Number):
        return cell.value - cell.half, cell.value + cell.half
    args = [interval(a) for a in cell.args]
    lo, hi = _interval(cell.op, args, cell.params)
    return math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)


def _interval(op: str, args: list, params: tuple) -> tuple:
    spec = OPS[op]
    forward = spec.forward
    if op == "add":
        return args[0][0] + args[1][0], args[0][1] + args[1][1]
    if op == "sub":
        return args[0][0] - args[1][1], args[0][1] - args[1][0]
    if op == "sum":
        return math.fsum(a[0] for a in args), math.fsum(a[1] for a in args)
    if op in ("mul", "dot"):
        n = len(args) // 2 if op == "dot" else 1
        pairs = list(zip(args[:n], args[n:])) if op == "dot" else [(args[0], args[1])]
        products = [_product(a, b) for a, b in pairs]
        return math.fsum(p[0] for p in products), math.fsum(p[1] for p in products)
    if op == "div":
        (a0, a1), (b0, b1) = args
        if b0 <= 0 <= b1:
            return -math.inf, math.inf
        return _product((a0, a1), (min(1 / b0, 1 / b1), max(1 / b0, 1 / b1)))
    if op == "neg":
        return -args[0][1], -args[0][0]
    if spec.monotone or (op == "pow" and _monotone_power(params[0], args[0])):
        ends = sorted(_safe(forward, ((x,), params)) for x in args[0])
        return ends[0], ends[1]
    # anything else (abs, even powers across 0, max, min, bce, a choice …): the corners, and 0 for abs/pow
    corners = [_safe(forward, (combo, params)) for combo in _corners(args)]
    if op in ("abs", "pow") and args[0][0] < 0 < args[0][1]:
        corners.append(_safe(forward, ((0.0,), params)))
    return min(corners), max(corners)


def _product(a, b):
    products = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    return min(products), max(products)


def _monotone_power(exponent, base) -> bool:
    return base[0] >= 0 or (float(exponent).is_integer() and int(exponent) % 2 == 1)


def _corners(args):
    combos = [()]
    for lo, hi in args:
        combos = [c + (v,) for c in combos for v in (lo, hi)]
    return combos


def _safe(forward, call) -> float:
    try:
        return float(forward(*call))
    except (ArithmeticError, ValueError):
        return math.nan


# --- checking ----------------------------------------------------------------------------


def agrees(cell, shown: Number, carried: bool) -> bool:
    """Whether the arithmetic of ``cell`` gives the printed result ``shown``: with carried
    numbers, exactly at the result's printed digits; with exact ones, within what the
    printed operands allow (their intervals and the result's own rounding)."""
    if carried:
        got = evaluate(cell)
        if not math.isfinite(got):
            return False
        return _rounds_to(got, shown)
    lo, hi = interval(cell)
    return lo - shown.half <= shown.value <= hi + shown.half


def _rounds_to(x: float, shown: Number) -> bool:
    """``x`` rounds to the printed ``shown`` (either way at a tie; ``x`` read as rounding reads
    it, :func:`~tracegrad.core.numbers.hand_decimal`)."""
    if shown.half == 0:
        return math.isclose(x, shown.value, rel_tol=1e-12, abs_tol=1e-15)
    printed = Decimal(shown.text)
    distance = abs(hand_decimal(x, Decimal(1).scaleb(printed.as_tuple().exponent)) - printed)
    return distance <= Decimal(repr(shown.half)) * (1 + Decimal("1e-9"))
