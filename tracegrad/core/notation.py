"""How math is written: the one printer.

Everything tracegrad prints as math is written here: :class:`Math` (LaTeX and plain text at
once), symbols, **one precedence table** (:data:`PRECEDENCE`), **one** :func:`parenthesize`,
and one notation per way of writing (infix, fraction, power, bars, indicator, cases …), used
by the op table (:mod:`tracegrad.core.ops`, an expansion's numbers), by the formulas
(:mod:`tracegrad.core.formula`) and by the node view alike.

A notation turns already-written operands, each a ``(text, precedence)`` pair, into
``(text, precedence)`` for the whole, adding parentheses only where precedence requires them,
the way SymPy's printers do (``sympy/printing/precedence.py``, ``latex.py``), with SymPy's
meaning of ``strict``. A written symbol's precedence is read from what it prints
(:func:`precedence`): ∂L/∂W₂ is a quotient (so its square is written (∂L/∂W₂)²), σ²₁ and σ′(z)
are powers, W₁[0][1] an atom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .escape import SUBSCRIPT_DIGITS, math_label

REL, ADD, MUL, DIV, NEG, FRAC, POW, ATOM = 5, 10, 20, 25, 30, 35, 40, 50
"""Precedence levels, loosest to tightest (see :data:`PRECEDENCE`)."""

PRECEDENCE = {
    "relation": REL,  # a > b
    "sum": ADD,  # a + b, a − b
    "product": MUL,  # a·b, a × b, a ⊙ b, and Σ a (its summand runs to the right)
    "quotient": DIV,  # a / b inline: a product before it needs no parentheses, one after it does
    "negation": NEG,  # −a
    "fraction": FRAC,  # \frac{a}{b}: a box, in parentheses only as a base (of a power, a transpose)
    "power": POW,  # a², aᵀ, a′
    "atom": ATOM,  # a name, a number, f(x), |x|, (…)
}
"""The one precedence table: how tightly each form binds as an operand."""

FORMATS = ("latex", "text")


def parenthesize(arg: tuple[str, int], level: int, fmt: str, strict: bool = False) -> str:
    """``arg`` (``(text, precedence)``) as an operand at ``level``: in parentheses when it binds
    looser than ``level``, or as loose unless ``strict`` (SymPy's ``parenthesize``)."""
    text, prec = arg
    if prec < level or (not strict and prec == level):
        return wrap(text, fmt)
    return text


def wrap(text: str, fmt: str) -> str:
    """``text`` in parentheses."""
    return rf"\left({text}\right)" if fmt == "latex" else f"({text})"


_OPEN, _CLOSE = "([{", ")]}"
_DELIMITER = re.compile(r"\\(left|right)(\\[A-Za-z]+|\\?.)")
_LATEX_OPERATORS = ((re.compile(r"\\(cdot|times|odot)"), "·"), (re.compile(r"\\le(?![a-z])"), "≤"),
                    (re.compile(r"\\ge(?![a-z])"), "≥"))


def _top_level(written: str, fmt: str) -> str:
    r"""The characters of ``written`` outside any brackets (in LaTeX also outside groups and
    ``\left…\right``)."""
    if fmt == "latex":
        written = _DELIMITER.sub(lambda m: "(" if m.group(1) == "left" else ")", written)
        for pattern, glyph in _LATEX_OPERATORS:
            written = pattern.sub(glyph, written)
    out, depth = [], 0
    for ch in written:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=4096)
def precedence(written: str, fmt: str) -> int:
    """How tightly a written symbol binds as an operand, read from what it prints: a fraction
    (∂L/∂W₂: a quotient in text, a box in LaTeX), a power (σ²₁, or a name with a prime such as
    σ′(z)), a negation, or a product, sum or relation written into a name; else an atom."""
    if fmt == "latex" and written.startswith(r"\frac"):
        return FRAC
    top = _top_level(written, fmt)
    inner = top[1:]  # a sign in front is a negation, not a difference
    if any(op in inner for op in "=<>≤≥"):
        return REL
    if any(op in inner for op in "+−-"):
        return ADD
    if any(op in inner for op in "·×⊙"):
        return MUL
    if "/" in top:
        return DIV
    if top.startswith(("-", "−")):
        return NEG
    if any(ch in top for ch in "^'′⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵗⁿᵀ"):
        return POW
    return ATOM


def number_precedence(text: str) -> int:
    """How a number written as ``text`` (ASCII, as :func:`~tracegrad.core.numbers.exact_text`
    gives it) binds: a negative one as a negation, a mantissa times a power of ten as a product."""
    if text.startswith("-"):
        return NEG
    return MUL if "e" in text else ATOM


@dataclass(frozen=True)
class Math:
    """One piece of math, as LaTeX and as plain text."""

    latex: str
    text: str

    def __add__(self, other: "Math") -> "Math":
        return Math(self.latex + other.latex, self.text + other.text)


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


@dataclass(frozen=True)
class Index:
    """A layer index as a general formula writes it: k, k+1, k−1 (``letter`` and ``offset``), or L
    for the output layer; ``str`` gives its LaTeX subscript, :func:`sub` its text one."""

    letter: str
    offset: int = 0

    def __str__(self) -> str:
        return self.letter + (f"{self.offset:+d}" if self.offset else "")

    @property
    def subscript(self) -> str:
        raised = str(self).translate(_SUB_INDEX)
        return "_" + str(self) if any(c.isupper() for c in raised) else raised  # no subscript capitals


_SUB_INDEX = str.maketrans("k+-0123456789", "ₖ₊₋₀₁₂₃₄₅₆₇₈₉")


def sub(k) -> str:
    """Unicode subscript digits: ``sub(12) == '₁₂'``; a general index written ₖ₊₁, or _L where
    no subscript letter exists."""
    return k.subscript if isinstance(k, Index) else str(k).translate(_SUB)


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
    """``a ∘ b`` with ``sep`` between the operands (LaTeX, text); an operand looser than
    ``prec`` is parenthesized, and so is a right operand as loose unless ``associative``
    (a − (b − c), but a + b + c)."""

    latex: str
    text: str
    prec: int
    associative: bool = False

    def render(self, args, params, fmt):
        sep = self.latex if fmt == "latex" else self.text
        left = parenthesize(args[0], self.prec, fmt, strict=True)
        right = parenthesize(_after(args[1]), self.prec, fmt, strict=self.associative)
        return left + sep + right, self.prec


@dataclass(frozen=True)
class Product(Infix):
    """A product that may be written by juxtaposition (``(1 − β₁)g``, ``½(ŷ − y)²``: the caller
    says when, :meth:`render` ``juxtaposed``); a sum sign after it needs no parentheses
    (``(1/N)·Σₛ Lₛ``: the summand runs to the right)."""

    def render(self, args, params, fmt, juxtaposed: bool = False):
        left = parenthesize(args[0], self.prec, fmt, strict=True)
        right = _last(args[1], self.prec, fmt)
        if juxtaposed:
            space = fmt == "latex" and not right.startswith(r"\left(")
            return left + (" " if space else "") + right, self.prec
        return left + (self.latex if fmt == "latex" else self.text) + right, self.prec


def _after(arg: tuple) -> tuple:
    """An operand written after an operator: a negation, or anything written with a minus in
    front, binds there as loosely as a relation, so it is parenthesized (1 × (−0.3), a − (−b),
    (1/N)·(−y / ŷ); never a·−b or \\frac{1}{N} -\\frac{y}{p})."""
    return (arg[0], REL) if arg[1] == NEG or arg[0].startswith(("-", "−")) else arg


def _last(arg: tuple, level: int, fmt: str) -> str:
    """A right operand at ``level`` (in parentheses when as loose, or a negation); a sum sign
    needs none, its summand running to the end: (1/N)·Σₛ Lₛ, e^(zᵢ) / Σⱼ e^(zⱼ)."""
    return arg[0] if arg[0].startswith(("Σ", r"\sum")) else parenthesize(_after(arg), level, fmt)


@dataclass(frozen=True)
class Chain:
    """A variadic sum ``a + b + c``."""

    def render(self, args, params, fmt):
        return " + ".join(parenthesize(a if k == 0 else _after(a), ADD, fmt, strict=True) for k, a in enumerate(args)), ADD


@dataclass(frozen=True)
class DotProduct:
    """``a₁·b₁ + a₂·b₂ + …`` for inputs ``(a₁ … aₙ, b₁ … bₙ)``."""

    def render(self, args, params, fmt):
        n = len(args) // 2
        sym = r" \times " if fmt == "latex" else " × "
        terms = [parenthesize(a if k == 0 else _after(a), MUL, fmt, strict=True) + sym + parenthesize(_after(b), DIV, fmt)
                 for k, (a, b) in enumerate(zip(args[:n], args[n:]))]
        return " + ".join(terms), ADD


@dataclass(frozen=True)
class Prefix:
    """Unary minus: the operand in parentheses when it binds looser than ``bare`` (or is a
    negation itself). An expansion writes −(0.5 × 0.3) (``bare`` a fraction: every product
    first); a formula −(1/n)·Σᵢ …, a product's sign read as its coefficient's (``bare`` a product)."""

    bare: int = FRAC

    def render(self, args, params, fmt):
        sym = "-" if fmt == "latex" else "−"
        operand = wrap(args[0][0], fmt) if args[0][1] == NEG else parenthesize(args[0], self.bare, fmt, strict=True)
        return sym + operand, NEG


@dataclass(frozen=True)
class Fraction:
    r"""``\frac{a}{b}`` in LaTeX, ``a / b`` in text."""

    def render(self, args, params, fmt):
        if fmt == "latex":
            return rf"\frac{{{args[0][0]}}}{{{args[1][0]}}}", FRAC
        return f"{parenthesize(args[0], MUL, fmt, strict=True)} / {_last(args[1], DIV, fmt)}", DIV


_SUPERSCRIPT = str.maketrans("0123456789-−tn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻ᵗⁿ")
_RAISED = re.compile(r"[-−]?\d+|[tn]")  # exponents written as superscripts in text: x², x⁻¹, β₁ᵗ
_PLAIN = re.compile(r"[A-Za-z0-9.α-ωΑ-Ω]+")  # exponents written after ^ without parentheses: e^x
_NUMERAL = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class Power:
    """``a^p`` with the exponent a parameter (``param=True``) or the second operand. The base is
    parenthesized unless it is an atom (a fraction too: (∂L/∂W₂)²); in LaTeX a numeral base is
    braced (``{0.042}^{2}``, as SymPy writes a float); in text an integer exponent, t or n is a
    superscript (x², x⁻¹, β₁ᵗ), another one follows ^, in parentheses unless plain (e^x, e^(−x))."""

    param: bool

    def render(self, args, params, fmt):
        base = parenthesize(args[0], POW, fmt)
        exponent = (_number(params[0]), number_precedence(_number(params[0]))) if self.param else args[1]
        if fmt == "latex":
            base = f"{{{base}}}" if _NUMERAL.fullmatch(base) else base
            return f"{base}^{{{exponent[0]}}}", POW
        if _RAISED.fullmatch(exponent[0]):
            return base + exponent[0].translate(_SUPERSCRIPT), POW
        raised = exponent[0] if _PLAIN.fullmatch(exponent[0]) else wrap(exponent[0], fmt)
        return f"{base}^{raised}", POW


def power(base: tuple, exponent: tuple, fmt: str) -> tuple:
    """``base^exponent`` of written operands (``(text, precedence)`` pairs), as :class:`Power` writes it."""
    return Power(param=False).render([base, exponent], (), fmt)


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
        return f"√{parenthesize(args[0], POW, fmt)}", ATOM


@dataclass(frozen=True)
class Square:
    """``(a − b)²``."""

    def render(self, args, params, fmt):
        inner = SUBTRACTION.render(args, params, fmt)
        return power((wrap(inner[0], fmt), ATOM), ("2", ATOM), fmt)


@dataclass(frozen=True)
class HalfSquare:
    """``½(a − b)²``."""

    def render(self, args, params, fmt):
        square = Square().render(args, params, fmt)[0]
        return (rf"\frac{{1}}{{2}}{square}" if fmt == "latex" else f"½{square}"), MUL


RELATIONS = {
    # name: (LaTeX, text, the relation's negation), the comparisons a condition may make
    "gt": (">", ">", "le"), "ge": (r"\ge", "≥", "lt"), "lt": ("<", "<", "ge"), "le": (r"\le", "≤", "gt"),
}
"""The relations of a condition (:class:`Indicator`, :class:`Cases`) by op name."""


def relation(name: str, args, fmt: str) -> str:
    """``a > b``, ``|r| ≤ δ`` …: relation ``name`` between written operands."""
    latex, text, _ = RELATIONS[name]
    return f"{args[0][0]} {latex if fmt == 'latex' else text} {args[1][0]}"


@dataclass(frozen=True)
class Indicator:
    r"""``𝟙[a > b]`` (``\mathbb{1}\left[a > b\right]``, ``1[a > b]`` in text): 1 where the
    relation holds, else 0."""

    relation: str

    def render(self, args, params, fmt):
        inner = relation(self.relation, args, fmt)
        return (rf"\mathbb{{1}}\left[{inner}\right]" if fmt == "latex" else f"1[{inner}]"), ATOM


@dataclass(frozen=True)
class Cases:
    """``yes`` where the relation between the last two operands holds, else ``no`` (operands
    ``(yes, no, a, b)``): a two-line ``cases`` in LaTeX, ``(yes if a > b else no)`` in text."""

    relation: str

    def render(self, args, params, fmt):
        yes, no, a, b = args
        if fmt == "latex":
            holds, fails = relation(self.relation, (a, b), fmt), relation(RELATIONS[self.relation][2], (a, b), fmt)
            return rf"\begin{{cases}} {yes[0]} & {holds} \\ {no[0]} & {fails} \end{{cases}}", ATOM
        return f"({yes[0]} if {relation(self.relation, (a, b), fmt)} else {no[0]})", ATOM


ADDITION = Infix(" + ", " + ", ADD, associative=True)
SUBTRACTION = Infix(" - ", " − ", ADD)
TIMES = Infix(r" \times ", " × ", MUL, associative=True)
"""The infix operators of an expansion (numbers)."""
NEGATION = Prefix(FRAC)
QUOTIENT = Fraction()

SCALAR_PRODUCT = Product(r" \cdot ", "·", MUL)
MATRIX_PRODUCT = Infix(" ", "·", MUL)
HADAMARD = Infix(r" \odot ", " ⊙ ", MUL)
FORMULA_NEGATION = Prefix(MUL)
"""The operators of a formula: a scalar factor (a·b, juxtaposed where it reads so), a matrix
product (X W₁, written by juxtaposition in LaTeX), an elementwise one (a ⊙ b), a minus."""


@dataclass(frozen=True)
class BigSum:
    r"""``Σⱼ a`` (``\sum_{j} a``, ``\sum_{s=1}^{N} a``): the summand parenthesized when it binds
    looser than a product."""

    index: str = ""
    limit: str = ""

    def render(self, args, params, fmt):
        inner = parenthesize(args[0], MUL, fmt, strict=True)
        if fmt == "latex":
            bound = f"_{{{self.index}=1}}^{{{self.limit}}}" if self.limit else (f"_{{{self.index}}}" if self.index else "")
            return rf"\sum{bound} {inner}", MUL
        sub = self.index.translate(str.maketrans("ijks", "ᵢⱼₖₛ"))
        return (f"Σ{sub}{'' if inner.startswith('(') else ' '}{inner}" if sub else f"Σ {inner}"), MUL


@dataclass(frozen=True)
class Transposed:
    """``aᵀ``."""

    def render(self, args, params, fmt):
        return parenthesize(args[0], POW, fmt) + (r"^{\top}" if fmt == "latex" else "ᵀ"), POW


@dataclass(frozen=True)
class NormBars:
    """The Euclidean norm ``‖a‖``."""

    def render(self, args, params, fmt):
        inner = args[0][0]
        return (rf"\left\lVert {inner} \right\rVert" if fmt == "latex" else f"‖{inner}‖"), ATOM
