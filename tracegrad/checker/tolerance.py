"""When a written number counts as equal to a computed one.

The default rule is the **written precision**: ``0.0430`` was written to four
decimals, so it equals every value that rounds to it (either rounding of a tie
included), and it is *near* a value one unit away in its last digit. A grading
policy (:mod:`~tracegrad.checker.policy`, or an answers file's ``[tolerance]`` where
the policy lets it narrow) replaces that rule with one of: ``decimals = n``
(equal after rounding to n decimals), ``sig_figs = n`` (the same with n
significant figures of the computed value), ``absolute = a`` and/or
``relative = r`` (``|written − value| ≤ max(a, r·|value|)``). Explicit
tolerances have no separate "last digit" leniency.

A number written with more than :data:`SIGNIFICANT` (15) significant figures is
judged at 15: binary64 carries no more digits faithfully, and its last bits depend
on the order of operations (a program printing 17 digits is 1–6 units in the last
place off another's), which is no student's error. Under the written rule a number
of 15 significant figures or more matches a value within one unit of its 15th; a
rule of more decimals or significant figures compares at most 15 significant figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from ..core.errors import InputError
from ..problem.schema import is_finite_number
from ..core.numbers import NOISE, NumberFormat, exact_text

_CONTEXT = Context(prec=800)  # exact for any float and any written number
_HALF = Decimal("0.5") + Decimal(NOISE)
_ONE = Decimal(1) + Decimal(NOISE)
_ONE_AND_HALF = Decimal("1.5") + Decimal(NOISE)
SIGNIFICANT = 15
"""Significant figures a number is judged at, at most (binary64 carries 15 decimal digits faithfully)."""


def decimals_written(written: Decimal) -> int:
    """Decimals as written: 4 for ``0.0430``, 0 for ``2`` (and for ``1e2``)."""
    return max(0, -_exponent(str(written)))


def decimals_judged(written: Decimal) -> int:
    """Decimals a written number is judged at: as written, but no further than its 15th
    significant figure (15 for ``0.28847312622680066``)."""
    return max(0, -_exponent(str(written), True))


@lru_cache(maxsize=1 << 16)
def _exponent(text: str, judged: bool = False) -> int:
    """The exponent of the last written digit (of the last judged one: at most the 15th significant)."""
    d = Decimal(text)
    exponent = d.as_tuple().exponent
    if judged and d and d.adjusted() - exponent >= SIGNIFICANT:
        return d.adjusted() - SIGNIFICANT + 1
    return exponent


def at_significant(written: Decimal) -> bool:
    """Written with 15 significant figures or more: a program's binary64 number, not a hand's."""
    return _floats(str(written))[2]


def written_float(written: Decimal) -> tuple:
    """``(float, one unit in the last judged place)`` of a written number."""
    return _floats(str(written))[:2]


@lru_cache(maxsize=64)
def _format(decimals, sig_figs) -> NumberFormat:
    return NumberFormat(decimals=decimals, sig_figs=sig_figs)


@lru_cache(maxsize=1 << 16)
def _floats(text: str) -> tuple:
    """``(float, one unit in the last judged place, written with 15 significant figures or more)``,
    by the text (0.0430 and 0.043 are equal Decimals with different last places)."""
    d = Decimal(text)
    exponent = _exponent(text, True)
    over = bool(d) and d.adjusted() - d.as_tuple().exponent >= SIGNIFICANT - 1
    return float(d), 10.0 ** exponent if exponent < 300 else math.inf, over


def _clearly(written: Decimal, value: float, units: float):
    """Whether ``written`` is within ``units`` units of its last place of ``value``, decided in
    floats when the distance is far from the bound (``None``: too close to tell, use decimals)."""
    w, unit = written_float(written)
    distance, bound = abs(w - value), units * unit
    slack = 1e-6 * bound + 1e-12 * (abs(w) + abs(value))
    if distance > bound + slack:
        return False
    if distance < bound - slack:
        return True
    return None


@dataclass(frozen=True)
class Tolerance:
    """The comparison rule; all fields ``None`` means the written precision."""

    absolute: float | None = None
    relative: float | None = None
    decimals: int | None = None
    sig_figs: int | None = None

    @property
    def is_written(self) -> bool:
        return self.absolute is None and self.relative is None and self.decimals is None and self.sig_figs is None

    def format_for(self, written: Decimal) -> NumberFormat:
        """The precision a value is shown (and carry-rounded) at next to this written number."""
        if self.sig_figs is not None:
            return _format(None, min(self.sig_figs, SIGNIFICANT))
        if self.decimals is not None:
            return _format(self.decimals, None)
        return _format(decimals_judged(written), None)

    def _quantum(self, written: Decimal, value: Decimal) -> Decimal:
        if self.sig_figs is not None or self.decimals is not None:
            exponent = (value.adjusted() if value else 0) - SIGNIFICANT + 1  # the 15th significant figure
            if self.sig_figs is not None:
                exponent = max(exponent, (value.adjusted() if value else 0) - self.sig_figs + 1)
            else:
                exponent = max(exponent, -self.decimals)
            return Decimal(1).scaleb(exponent)
        return Decimal(1).scaleb(_exponent(str(written), True))

    def matches(self, written: Decimal, value: float) -> bool:
        """``written`` equals ``value`` under this rule."""
        if not math.isfinite(value):
            return False
        # a number written with 15 significant figures or more matches within one unit of its 15th
        over = self.is_written and at_significant(written)
        if self.is_written:
            quick = _clearly(written, value, 1.0 if over else 0.5)
            if quick is not None:
                return quick
        v = Decimal(repr(value))
        if self.absolute is not None or self.relative is not None:
            bound = max(self.absolute or 0.0, (self.relative or 0.0) * abs(value))
            return _distance(written, v) <= Decimal(repr(bound)) * (1 + Decimal(NOISE))
        q = self._quantum(written, v)
        if not self.is_written:
            written = written.quantize(q, rounding=ROUND_HALF_UP, context=_CONTEXT)
        return _distance(written, v) <= q * (_ONE if over else _HALF)

    def near(self, written: Decimal, value: float) -> bool:
        """One unit off in the last written digit (written precision only)."""
        if not self.is_written or not math.isfinite(value):
            return False
        quick = _clearly(written, value, 1.5)
        if quick is not None:
            return quick
        q = self._quantum(written, Decimal(0))
        return _distance(written, Decimal(repr(value))) <= q * _ONE_AND_HALF

    def describe(self, msg) -> str:
        """The rule in words, from the catalog ``msg``."""
        if self.is_written:
            return msg("check.rule.written")
        if self.decimals is not None:
            return msg("check.rule.decimals", n=self.decimals)
        if self.sig_figs is not None:
            return msg("check.rule.sig_figs", n=self.sig_figs)
        parts = []
        if self.absolute is not None:
            parts.append(msg("check.rule.absolute", a=exact_text(self.absolute)))
        if self.relative is not None:
            parts.append(msg("check.rule.relative", r=exact_text(self.relative)))
        return msg("check.rule.tolerance", rule=msg("check.rule.or").join(parts))


def _distance(a: Decimal, b: Decimal) -> Decimal:
    return abs(_CONTEXT.subtract(a, b))


def parse_tolerance(raw, source: str, key: str = "tolerance") -> Tolerance:
    """The ``[tolerance]`` table of an answers file (absent: the written precision); ``key``
    names the table in messages (``grading`` for a policy's comparison)."""
    if raw is None:
        return Tolerance()
    if not isinstance(raw, dict):
        raise InputError("expected a table: [tolerance] with decimals, sig_figs, absolute or relative",
                         file=source, key=key)
    allowed = ("absolute", "relative", "decimals", "sig_figs")
    for name in raw:
        if name not in allowed:
            raise InputError(f"unknown key; expected one of {', '.join(allowed)}", file=source, key=f"{key}.{name}")
    if not raw:
        raise InputError("empty: give decimals, sig_figs, absolute or relative (or leave the table out "
                         "to judge each number at the precision it was written with)", file=source, key=key)
    given = [k for k in allowed if k in raw]
    if len(given) > 1 and not set(given) <= {"absolute", "relative"}:
        raise InputError(f"give one of decimals, sig_figs, or absolute/relative; got {', '.join(given)}",
                         file=source, key=key)
    values = {}
    for name in given:
        v = raw[name]
        if name in ("decimals", "sig_figs"):
            low, high = (0, 15) if name == "decimals" else (1, 17)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise InputError(f"expected a whole number from {low} to {high}, got {v!r}",
                                 file=source, key=f"{key}.{name}")
            values[name] = v
        else:
            if not is_finite_number(v) or v < 0:
                raise InputError(f"expected a number ≥ 0, got {v!r}", file=source, key=f"{key}.{name}")
            values[name] = float(v)
    return Tolerance(**values)
