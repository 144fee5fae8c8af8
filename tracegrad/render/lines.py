"""The line verifier: every printed line true as printed.

A line ``symbol = formula = expansion ≈ value`` makes three claims, and each is checked:

* the **formula** is the one for this step: evaluated on the quantities' values (exact, or
  carried under carry rounding) it gives the line's value before display rounding
  (:func:`tracegrad.problem.formulas.formula`, checked by :func:`formula_problems`);
* the **expansion** is that formula with these numbers, and the **result** is its arithmetic:
  the expansion's cells (:mod:`tracegrad.core.arithmetic`) evaluated on the printed operands
  give the printed result, exactly at its digits under carry rounding (the operands are the
  rounded values a person carries), and within the declared display rule otherwise (each
  printed operand stands for the interval of values that round to it).

:func:`verify_lines` runs over a whole view model; ``tracegrad derive --verify`` prints what
it found, and the tests run it over a generated matrix of problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..core import arithmetic as ar
from ..core.nested import flatten
from ..core.numbers import NOISE, half_unit


@dataclass(frozen=True)
class LineProblem:
    """A claim of a printed line that does not hold."""

    line: str  # the line's quantity name
    element: int  # which element of the line, in reading order
    kind: str  # "arithmetic" or "formula"
    printed: str  # what the line prints
    found: str  # what the check found instead


@dataclass(frozen=True)
class LineCheck:
    """What the verifier found: lines and numbers checked, and the problems."""

    lines: int
    numbers: int
    problems: tuple

    @property
    def ok(self) -> bool:
        return not self.problems


def shown_number(text: str, rounded: bool) -> ar.Number:
    """A printed result as a number and the interval it stands for (an exact one: float noise)."""
    half = float(half_unit(text))
    return ar.Number(float(Decimal(text)), text, half if rounded else half * 2 * NOISE)


def verify_lines(view, carried: bool, extra=()) -> LineCheck:
    """Check every line of ``view`` (a :class:`~tracegrad.render.model.DerivationView`) that
    carries its expansion as data; ``extra`` adds problems found elsewhere (formulas)."""
    lines = numbers = 0
    problems = list(extra)
    for section in view.sections:
        for block in section.blocks:
            for line in block.lines:
                if line.cells is None:
                    continue
                lines += 1
                for k, (cell, text) in enumerate(zip(flatten(line.cells), flatten(line.texts))):
                    numbers += 1
                    shown = shown_number(text, not line.exact)
                    if not ar.agrees(cell, shown, carried):
                        got = ar.evaluate(cell)
                        problems.append(LineProblem(line.name, k, "arithmetic", f"{ar.write(cell).text} ≈ {text}",
                                                    repr(got)))
    return LineCheck(lines, numbers, tuple(problems))


def formula_problems(worked, trace, fmt, carried: bool) -> list:
    """The quantities whose formula, evaluated on the values of ``trace`` (exact, or carried),
    does not give the quantity's value: exactly up to float noise, or under carry rounding
    within the rounding of the printed value."""
    import numpy as np

    from ..problem.formulas import formula_mismatches

    def within_rounding(got, want) -> bool:
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        if got.shape != want.shape and got.size == want.size:
            got = got.reshape(want.shape)
        half = np.vectorize(lambda v: float(fmt.quantum(v)) / 2)(want)
        return got.shape == want.shape and bool(np.all(np.abs(got - want) <= half * (1 + 1e-9) + 1e-12))

    found = formula_mismatches(worked, trace, within_rounding) if carried else formula_mismatches(worked, trace)
    return [LineProblem(name, 0, "formula", text, repr(np.asarray(got, dtype=float).tolist()))
            for name, text, got, _ in found]


def summary(check: LineCheck, msg) -> tuple:
    """What the verifier found, as sentences from the catalog ``msg``: one when everything
    holds, else one per problem after the count."""
    if check.ok:
        return (msg("verify.lines_ok", lines=check.lines, numbers=check.numbers),)
    out = [msg("verify.lines_bad", n=len(check.problems), lines=check.lines)]
    for p in check.problems:
        out.append(msg(f"verify.line_{p.kind}", name=p.line, printed=p.printed, found=p.found))
    return tuple(out)
