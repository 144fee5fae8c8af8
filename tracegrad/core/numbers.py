"""How numbers are printed, and the rounding policy.

A :class:`NumberFormat` rounds half away from zero (as a person does), to a
number of decimals or of significant figures, working on the shortest decimal
that round-trips the float (so 0.0425 rounds to 0.043, not to 0.042 because of
its binary representation). With ``min_sig_figs`` a small value keeps at least
that many significant figures (4 decimals and at least 3 figures: 0.8808, but
0.000364, not 0.0004, so that the printed operands of a line still give its printed
result). A value whose rounding changes it by no more than float noise is *exact*:
it is printed as the short decimal with ``=``; any other value is printed rounded,
with ``≈``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import math
from decimal import ROUND_HALF_UP, Context, Decimal

NOISE = 1e-9  # relative to one unit in the last printed place
MIN_SIG_FIGS = 2
"""Significant figures a small computed value keeps in a derivation printed to a number of decimals."""
_CONTEXT = Context(prec=800)  # enough digits for any float at any supported precision


@dataclass(frozen=True)
class NumberFormat:
    """``decimals`` or ``sig_figs`` (exactly one is set); with ``decimals``, a nonzero value
    keeps at least ``min_sig_figs`` significant figures."""

    decimals: int | None = 4
    sig_figs: int | None = None
    min_sig_figs: int = 0

    def __post_init__(self):
        if (self.decimals is None) == (self.sig_figs is None):
            raise ValueError("give decimals or sig_figs, not both or neither")

    def quantum(self, x: float) -> Decimal:
        """One unit in the last place ``x`` is printed with."""
        return self._quantum(x)

    def _quantum(self, x: float) -> Decimal:
        if self.decimals is not None:
            places = self.decimals
            if self.min_sig_figs and x != 0 and math.isfinite(x):
                places = max(places, self.min_sig_figs - 1 - Decimal(repr(abs(float(x)))).adjusted())
            return Decimal(1).scaleb(-places)
        if x == 0:
            return Decimal(1).scaleb(-(self.sig_figs - 1))
        exponent = Decimal(repr(abs(float(x)))).adjusted()
        return Decimal(1).scaleb(exponent - self.sig_figs + 1)

    def round_decimal(self, x: float) -> Decimal:
        """``x`` rounded half away from zero to the display precision, read as :func:`hand_decimal`
        reads it: 0.0045 × 0.7 is 0.0031499999999999996 in binary floating point, and 0.00315,
        which a person rounds to 0.0032, by hand."""
        q = self._quantum(x)
        d = hand_decimal(x, q).quantize(q, rounding=ROUND_HALF_UP, context=_CONTEXT)
        widened = self.decimals is not None and q.adjusted() < -self.decimals  # more decimals for a small value
        if (self.sig_figs is not None or widened) and d != 0 and d.adjusted() > Decimal(repr(abs(x))).adjusted():
            d = d.quantize(q.scaleb(1), rounding=ROUND_HALF_UP, context=_CONTEXT)  # 9.99995 → 10.0
        return d if d != 0 else abs(d)

    def round(self, x: float) -> float:
        """The rounded value as a float: what a person carries to the next step."""
        return self.printed(x).value

    def is_exact(self, x: float) -> bool:
        """True when the printed value equals ``x`` up to float noise."""
        return self.printed(x).exact

    def text(self, x: float) -> str:
        """The printed digits: short form when exact (``2.4``, ``2.0``), else rounded (``0.8808``);
        below 10⁻⁵ in scientific notation (``6.9e-7``)."""
        return self.printed(x).text

    def printed(self, x: float) -> "Printed":
        """``x`` as printed: its text, the value carried, whether it is exact, and half a unit in
        its last place (remembered: a derivation prints the same values many times)."""
        if not math.isfinite(x):
            return Printed(x, repr(x), True, 0.0, repr(x))
        return _printed(self, 0.0 if abs(x) < ZERO_BELOW else float(x))

    def describe(self, catalog) -> str:
        """The precision in words, from a message catalog: "4 decimals", "1 decimal", "3 significant figures"."""
        n = self.decimals if self.decimals is not None else self.sig_figs
        key = "note.decimals" if self.decimals is not None else "note.sig_figs"
        text = catalog(key + ("_one" if n == 1 else ""), n=n)
        if self.decimals is not None and self.min_sig_figs:
            text += catalog("note.min_sig_figs", n=self.min_sig_figs)
        return text

    def relation(self, x: float) -> str:
        """``=`` for an exact value, ``≈`` for a rounded one."""
        return "=" if self.is_exact(x) else "≈"


@dataclass(frozen=True)
class Printed:
    """A value as printed: ``value`` is what a person carries to the next step; ``half`` is
    half a unit in the last printed place (0 for an exact value). ``full`` is the text with
    every digit of the display precision (``0.0090`` where ``text`` is the short ``0.009``):
    how an exact value is written beside rounded ones."""

    value: float
    text: str
    exact: bool
    half: float
    full: str


@lru_cache(maxsize=1 << 16)
def _printed(fmt: NumberFormat, x: float) -> Printed:
    d = fmt.round_decimal(x)
    quantum = fmt.quantum(x)
    if abs(float(d) - x) <= NOISE * float(quantum):
        short = exact_text(float(d))
        short = short if "." in short or "e" in short else short + ".0"
        return Printed(float(d), short, True, 0.0, _padded(short, fmt))
    text = _scientific(d) if d != 0 and abs(d) < SCIENTIFIC_BELOW else _plain(d)
    return Printed(float(d), text, False, float(quantum) / 2, text)


def _padded(short: str, fmt: NumberFormat) -> str:
    """An exact value's short text with zeros up to the display precision (``0.009`` → ``0.0090``
    at four decimals, ``0.5`` → ``0.500`` at three significant figures), never fewer digits."""
    if "e" in short:
        return short
    whole, _, decimals = short.partition(".")
    if fmt.decimals is not None:
        return short + "0" * max(0, fmt.decimals - len(decimals))
    figures = len((whole.lstrip("-") + decimals).lstrip("0"))
    return short + "0" * max(0, fmt.sig_figs - figures) if figures else short


def exact_text(x: float) -> str:
    """A given number as written: ``1`` for an integer, else the shortest decimal (``0.5``, ``2.4``);
    below 10⁻⁵ in scientific notation (``1e-8``)."""
    if not math.isfinite(x):
        return repr(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    d = Decimal(repr(x))
    return _scientific(d) if abs(d) < SCIENTIFIC_BELOW else _plain(d)


def hand_decimal(x: float, quantum: Decimal) -> Decimal:
    """``x`` as the decimal a person computes, for rounding to ``quantum``: its 15 significant
    digits (float noise such as 0.0031499999999999996 for 0.00315 dropped), or its shortest
    form when 15 digits would not reach three places below ``quantum`` (a value of 10¹³)."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return Decimal(repr(x))
    fifteen = Decimal(f"{x:.15g}")
    return fifteen if fifteen.adjusted() - 14 <= quantum.adjusted() - 3 else Decimal(repr(x))


ZERO_BELOW = 1e-14
"""A computed value smaller than this in magnitude is float noise around zero (the bias
gradient before a BatchNorm, Σδ = 0): it is printed, and carried, as 0."""

SCIENTIFIC_BELOW = Decimal("1e-5")
"""Nonzero numbers smaller than this are written in scientific notation."""


def _scientific(d: Decimal) -> str:
    """``6.9e-7``: the digits of ``d`` (trailing zeros kept) times a power of ten."""
    sign, digits, _ = d.as_tuple()
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    return ("-" if sign else "") + f"{mantissa}e{d.adjusted()}"


def written(text: str) -> tuple:
    """``(LaTeX, plain text)`` of a printed number: a minus sign as −, scientific notation as
    ``6.9 \\times 10^{-7}`` and ``6.9×10⁻⁷``."""
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text, ("−" + text[1:] if text.startswith("-") else text)
    exponent = str(int(exponent))
    plain = mantissa if not mantissa.startswith("-") else "−" + mantissa[1:]
    powers = exponent.translate(str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))
    if mantissa.lstrip("-") == "1":  # 10⁻⁸, not 1×10⁻⁸
        sign = "-" if mantissa.startswith("-") else ""
        return rf"{sign}10^{{{exponent}}}", f"{'−' if sign else ''}10{powers}"
    return rf"{mantissa} \times 10^{{{exponent}}}", f"{plain}×10{powers}"


def half_unit(text: str) -> Decimal:
    """Half a unit in the last printed place of ``text`` (``0.8808`` → 0.00005, ``6.9e-7`` → 5e-9)."""
    mantissa, _, exponent = text.partition("e")
    places = len(mantissa.partition(".")[2])
    return Decimal(5).scaleb(-places - 1 + int(exponent or 0))


SCIENTIFIC = 16
"""Numbers of 10¹⁶ or more, or below 10⁻¹⁶, are written ``1.5e+308`` rather than with every digit."""


def _plain(d: Decimal) -> str:
    if d and not -SCIENTIFIC < d.adjusted() < SCIENTIFIC:
        if len(d.as_tuple().digits) > 17:
            d = d.normalize()
        mantissa, exponent = format(d, "E").split("E")
        return f"{mantissa}e{int(exponent):+d}"
    text = format(d, "f")
    return "0" + text[2:] if text.startswith("-0") and Decimal(text) == 0 else text
