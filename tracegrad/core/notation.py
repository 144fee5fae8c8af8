"""How math is written: :class:`Math` (LaTeX and plain text at once), symbols, and
how each op is written, with one precedence table.

A notation turns already-written operands, each a ``(text, precedence)`` pair,
into ``(text, precedence)`` for the whole expression, adding parentheses only
where precedence requires them (the way SymPy's printers ``parenthesize``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .escape import SUBSCRIPT_DIGITS, math_label

ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5
"""Precedence levels, loosest to tightest."""

FORMATS = ("latex", "text")


def parenthesize(arg: tuple[str, int], level: int, fmt: str, strict: bool = False) -> str:
    """Wrap ``arg`` in parentheses when it binds looser than ``level``
    (or as loose as ``level`` when ``strict``)."""
    text, prec = arg
    if prec < level or (strict and prec == level):
        return rf"\left({text}\right)" if fmt == "latex" else f"({text})"
    return text


@dataclass(frozen=True)
class Math:
    """One piece of math, as LaTeX and as plain text."""

    latex: str
    text: str

    def __add__(self, other: "Math") -> "Math":
        return Math(self.latex + other.latex, self.text + other.text)


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def sub(k) -> str:
    """Unicode subscript digits: ``sub(12) == '₁₂'``."""
    return str(k).translate(_SUB)


def element(m: Math, position: tuple) -> Math:
    """One element of a quantity written ``m``, 0-based: ``W₁[0][1]``."""
    index = "".join(f"[{p}]" for p in position)
    return Math(m.latex + index, m.text + index)


def var(name: str, k=None, hat: bool = False) -> Math:
    """A symbol such as z₁, W₂, ŷ."""
    latex = rf"\hat{{{name}}}" if hat else name
    text = name + "\u0302" if hat else name
    if k is not None:
        latex += f"_{{{k}}}"
        text += sub(k)
    return Math(latex, text)


def partial(top: Math, bottom: Math) -> Math:
    """∂top/∂bottom."""
    return Math(rf"\frac{{\partial {top.latex}}}{{\partial {bottom.latex}}}", f"∂{top.text}/∂{bottom.text}")


def node_symbol(label, index: int, prefix: str = "v") -> Math:
    """A node's name in a derivation: its label, or v₁₂ after its index in the trace
    (``prefix`` instead of ``v``: see :func:`unnamed_prefix`)."""
    if label is not None:
        return Math(math_label(label), str(label))
    return Math(f"{prefix}_{{{index}}}", f"{prefix}{sub(index)}")


_SUBSCRIPT_RUN = re.compile("[₀-₉]+")


def label_key(label) -> str:
    """A label as an answers file writes it: subscript digits after an underscore (``c₂`` → ``c_2``)."""
    return _SUBSCRIPT_RUN.sub(lambda m: "_" + m.group().translate(SUBSCRIPT_DIGITS), str(label))


def node_key(label, index: int, prefix: str = "v") -> str:
    """The name an answers file gives a node: its :func:`label_key`, or ``v12`` for the unlabelled v₁₂."""
    return label_key(label) if label is not None else f"{prefix}{index}"


_COMPOUND = re.compile(r"[\s+\-−*/×·^=,()|<>]")


def name_precedence(name: str) -> int:
    """How tightly a node's name binds as an operand: :data:`ATOM` for one token (x1, W1[0][1],
    c₂); 0, so always parenthesized, for a label that reads as a formula (``x1*w1 + x2*w2``)."""
    return 0 if _COMPOUND.search(name) else ATOM


_NUMBERED = re.compile(r"([^\W\d_]+)_?[0-9₀-₉]+")
_PREFIXES = ("v", "u", "w", "t", "s", "r", "q", "p")


def unnamed_prefix(labels) -> str:
    """The letter unlabelled nodes are named with: ``v`` (v₃), or, when some label already reads
    as that letter and a number (a variable called ``v3``), the first of u, w, t … that none does,
    so an unlabelled node's name never equals a label."""
    taken = {m.group(1) for label in labels if label is not None and (m := _NUMBERED.fullmatch(str(label)))}
    prefix = next((p for p in _PREFIXES if p not in taken), "vv")
    while prefix in taken:
        prefix += "v"
    return prefix


L = Math("L", "L")
Y = Math("y", "y")
Y_HAT = Math(r"\hat{y}", "ŷ")
ETA = Math(r"\eta", "η")


def _number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class Infix:
    """``a ∘ b``; ``strict`` parenthesizes a right operand of equal precedence (a − (b − c))."""

    latex: str
    text: str
    prec: int
    strict: bool = False

    def render(self, args, params, fmt):
        sym = self.latex if fmt == "latex" else self.text
        left = parenthesize(args[0], self.prec, fmt)
        right = parenthesize(args[1], self.prec, fmt, strict=self.strict)
        return f"{left} {sym} {right}", self.prec


@dataclass(frozen=True)
class Chain:
    """A variadic sum ``a + b + c``."""

    def render(self, args, params, fmt):
        return " + ".join(parenthesize(a, ADD, fmt) for a in args), ADD


@dataclass(frozen=True)
class DotProduct:
    """``a₁·b₁ + a₂·b₂ + …`` for inputs ``(a₁ … aₙ, b₁ … bₙ)``."""

    def render(self, args, params, fmt):
        n = len(args) // 2
        sym = r" \times " if fmt == "latex" else " × "
        terms = [parenthesize(a, MUL, fmt) + sym + parenthesize(b, MUL, fmt, strict=True)
                 for a, b in zip(args[:n], args[n:])]
        return " + ".join(terms), ADD


@dataclass(frozen=True)
class Prefix:
    """Unary minus."""

    def render(self, args, params, fmt):
        sym = "-" if fmt == "latex" else "−"
        return sym + parenthesize(args[0], POW, fmt), NEG


@dataclass(frozen=True)
class Fraction:
    r"""``\frac{a}{b}`` in LaTeX, ``a / b`` in text."""

    def render(self, args, params, fmt):
        if fmt == "latex":
            return rf"\frac{{{args[0][0]}}}{{{args[1][0]}}}", ATOM
        return f"{parenthesize(args[0], MUL, fmt)} / {parenthesize(args[1], MUL, fmt, strict=True)}", MUL


@dataclass(frozen=True)
class Power:
    """``a^p`` with the exponent a parameter (``param=True``) or the second operand."""

    param: bool

    def render(self, args, params, fmt):
        base = parenthesize(args[0], ATOM, fmt)
        if self.param:
            exponent = _number(params[0])
        else:
            exponent = args[1][0] if fmt == "latex" else parenthesize(args[1], ATOM, fmt)
        if fmt == "latex":
            return f"{{{base}}}^{{{exponent}}}", POW
        if self.param and exponent.isdigit():
            return base + exponent.translate(_SUPERSCRIPT), POW
        return f"{base}^{exponent}", POW


@dataclass(frozen=True)
class Exponential:
    """``e^{x}`` in LaTeX, ``exp(x)`` in text."""

    def render(self, args, params, fmt):
        if fmt == "latex":
            return f"e^{{{args[0][0]}}}", POW
        return f"exp({args[0][0]})", ATOM


@dataclass(frozen=True)
class Bars:
    """Absolute value ``|x|``."""

    def render(self, args, params, fmt):
        if fmt == "latex":
            return rf"\left|{args[0][0]}\right|", ATOM
        return f"|{args[0][0]}|", ATOM


@dataclass(frozen=True)
class Function:
    r"""``f(x, y)``; parameters, if any, shown as a subscript (``\operatorname{leaky}_{0.01}``)."""

    latex: str
    text: str

    def render(self, args, params, fmt):
        inner = ", ".join(a[0] for a in args)
        if fmt == "latex":
            sub = f"_{{{', '.join(_number(p) for p in params)}}}" if params else ""
            return rf"{self.latex}{sub}\left({inner}\right)", ATOM
        sub = f"[{', '.join(_number(p) for p in params)}]" if params else ""
        return f"{self.text}{sub}({inner})", ATOM


@dataclass(frozen=True)
class Radical:
    r"""``\sqrt{x}``."""

    def render(self, args, params, fmt):
        if fmt == "latex":
            return rf"\sqrt{{{args[0][0]}}}", ATOM
        return f"√{parenthesize(args[0], ATOM, fmt)}", ATOM


@dataclass(frozen=True)
class Square:
    """``(a − b)²``."""

    def render(self, args, params, fmt):
        inner = Infix("-", "−", ADD, strict=True).render(args, params, fmt)[0]
        return (rf"\left({inner}\right)^{{2}}" if fmt == "latex" else f"({inner})²"), POW


@dataclass(frozen=True)
class HalfSquare:
    """``½(a − b)²``."""

    def render(self, args, params, fmt):
        square = Square().render(args, params, fmt)[0]
        return (rf"\frac{{1}}{{2}}{square}" if fmt == "latex" else f"½{square}"), MUL
