"""The teacher's grading policy: how a written number is compared, how many digits it must
carry, and what each verdict earns.

A problem file's ``[grading]`` table (or a policy file with one, ``tracegrad check
--policy FILE``) sets it; every key is optional:

.. code-block:: toml

    [grading]
    decimals = 3                 # compare after rounding to 3 decimals; or sig_figs = n, or
                                 # absolute = a and/or relative = r; default: the written precision
    min_decimals = 4             # or min_sig_figs = n: fewer digits is "imprecise"; default: the
                                 # tolerance's decimals/sig_figs, else the problem's display precision
    carry_rounding = true        # a value computed with every earlier result rounded counts as correct
    last_digit = "auto"          # one unit off in the last digit: "auto" (from 3 significant figures),
                                 # "always" or "never" (the written-precision rule only)
    student_tolerance = "refuse" # a [tolerance] in an answers file: "refuse", or "narrow" (it may only
                                 # make the comparison stricter)
    [grading.credit]             # what a verdict earns (correct earns 1, wrong 0)
    carried = 1.0                # error carried forward
    degenerate = 0.0             # carried from a degenerate earlier answer (0, ±1, a given number)
    imprecise = 0.0

:class:`Policy` is the one source of every tolerance: the checker's verdicts use
:meth:`Policy.matches` / :meth:`Policy.near`, and a question bank asks for answers at
:attr:`Policy.answer_format` within :meth:`Policy.tolerance_for` of the value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..core.errors import InputError
from ..core.numbers import NumberFormat, exact_text
from .tolerance import SIGNIFICANT, Tolerance, decimals_written, parse_tolerance

LAST_DIGIT = ("auto", "always", "never")
STUDENT_TOLERANCE = ("refuse", "narrow")
CREDITS = ("carried", "degenerate", "imprecise")
KEYS = ("decimals", "sig_figs", "absolute", "relative", "min_decimals", "min_sig_figs", "carry_rounding",
        "last_digit", "student_tolerance", "credit")
LAST_DIGIT_SIG_FIGS = 3
"""With ``last_digit = "auto"``, one unit off is accepted from this many significant figures on."""


def sig_figs_written(written: Decimal) -> int:
    """Significant figures as written: 3 for ``0.0430``, 1 for ``0.0008``, 0 for ``0``."""
    return 0 if written == 0 else len(written.as_tuple().digits)


@dataclass(frozen=True)
class Policy:
    """How answers are judged and credited (see the module docstring). ``minimum`` is the
    precision an answer must carry (0 decimals: any); ``source`` names where the policy was
    read (a problem or policy file), for messages."""

    tolerance: Tolerance = field(default_factory=Tolerance)
    minimum: NumberFormat = field(default_factory=NumberFormat)
    carry_rounding: bool = True
    last_digit: str = "auto"
    student_tolerance: str = "refuse"
    credit: dict = field(default_factory=lambda: {"carried": 1.0, "degenerate": 0.0, "imprecise": 0.0})
    source: str = ""

    # --- comparing --------------------------------------------------------------------

    def format_for(self, written: Decimal) -> NumberFormat:
        """The precision a value is shown (and carry-rounded) at beside this written number."""
        return self.tolerance.format_for(written)

    def matches(self, written: Decimal, value: float, student: Tolerance | None = None) -> bool:
        """``written`` equals ``value`` under the policy (and under the student's own narrower
        ``[tolerance]``, when the policy lets one narrow it)."""
        return self.tolerance.matches(written, value) and (student is None or student.matches(written, value))

    def near(self, written: Decimal, value: float, student: Tolerance | None = None) -> bool:
        """One unit off in the last written digit, where the policy accepts that."""
        if not self.last_digit_accepted(written) or (student is not None and not student.is_written):
            return False
        return self.tolerance.near(written, value)

    def last_digit_accepted(self, written: Decimal) -> bool:
        if not self.tolerance.is_written or self.last_digit == "never":
            return False
        return self.last_digit == "always" or sig_figs_written(written) >= LAST_DIGIT_SIG_FIGS

    def precise(self, written: Decimal, value: float) -> bool:
        """``written`` carries the minimum precision, or the digits it leaves out are zeros of
        ``value`` at that precision (``2.0`` for 2.0000, ``0.5`` for 0.50001 at four decimals)."""
        m = self.minimum
        if m.decimals is not None and decimals_written(written) >= m.decimals:
            return True
        if m.sig_figs is not None and sig_figs_written(written) >= m.sig_figs:
            return True
        return math.isfinite(value) and written == m.round_decimal(value)

    def admit(self, answers) -> Tolerance | None:
        """The student's own ``[tolerance]`` if the policy lets it narrow the comparison (``None``
        without one); an :class:`InputError` naming the answers file when the policy refuses it."""
        if answers.tolerance.is_written:
            return None
        if self.student_tolerance == "refuse":
            where = f" ({self.source})" if self.source else ""
            raise InputError(f"the tolerance is the teacher's: the grading policy{where} sets it; remove the "
                             "[tolerance] table", file=answers.source, key="tolerance")
        return answers.tolerance

    # --- for question banks -----------------------------------------------------------

    @property
    def answer_format(self) -> NumberFormat:
        """The precision answers are asked for: the minimum precision."""
        return self.minimum

    def tolerance_for(self, value: float) -> float:
        """The ± within which an answer to ``value``, written at :attr:`answer_format`, is accepted:
        ``max(absolute, relative·|value|)``; half a unit of the compared precision; with one unit
        off in the last digit accepted, one and a half units."""
        t = self.tolerance
        if t.absolute is not None or t.relative is not None:
            return max(t.absolute or 0.0, (t.relative or 0.0) * abs(value))
        if t.sig_figs is not None:
            shown = NumberFormat(decimals=None, sig_figs=t.sig_figs).round_decimal(value)
        elif t.decimals is not None:
            shown = NumberFormat(decimals=t.decimals).round_decimal(value)
        else:
            shown = self.answer_format.round_decimal(value)
        unit = Decimal(1).scaleb(shown.as_tuple().exponent)
        return float(unit * (Decimal("1.5") if self.last_digit_accepted(shown) else Decimal("0.5")))

    # --- crediting --------------------------------------------------------------------

    def credit_of(self, verdict: str, degenerate: bool = False) -> float:
        """What a verdict earns: correct 1, wrong 0, the others as the policy says."""
        if verdict == "correct":
            return 1.0
        if verdict == "wrong":
            return 0.0
        if verdict == "carried" and degenerate:
            return self.credit["degenerate"]
        return self.credit[verdict]

    # --- in words ---------------------------------------------------------------------

    def describe(self, msg) -> tuple:
        """The rule as sentences from the catalog ``msg``, for the top of a report."""
        t = self.tolerance
        lines = [t.describe(msg)]
        if t.is_written:
            lines.append(msg("check.policy.significant_written", n=SIGNIFICANT))
            lines.append(msg(f"check.policy.last_digit_{self.last_digit}", n=LAST_DIGIT_SIG_FIGS))
        elif t.decimals is not None or t.sig_figs is not None:
            lines.append(msg("check.policy.significant", n=SIGNIFICANT))
        if self.minimum.decimals or self.minimum.sig_figs:
            lines.append(msg("check.policy.minimum", precision=self.minimum.describe(msg)))
        lines.append(msg("check.policy.carry_on" if self.carry_rounding else "check.policy.carry_off"))
        parts = [msg(f"check.policy.credit_{k}", credit=_credit_text(self.credit[k], msg)) for k in CREDITS]
        lines.append(msg("check.policy.credit", credits=msg("check.list_separator").join(parts)))
        return tuple(lines)

    def to_dict(self) -> dict:
        """The policy as plain data (for JSON reports and exporters)."""
        t = self.tolerance
        return {"tolerance": {k: getattr(t, k) for k in ("decimals", "sig_figs", "absolute", "relative")
                              if getattr(t, k) is not None} or "written",
                "minimum": {"decimals": self.minimum.decimals} if self.minimum.decimals is not None else
                {"sig_figs": self.minimum.sig_figs},
                "carry_rounding": self.carry_rounding, "last_digit": self.last_digit,
                "student_tolerance": self.student_tolerance, "credit": dict(self.credit)}


def _credit_text(credit: float, msg) -> str:
    if credit == 1:
        return msg("check.policy.full")
    if credit == 0:
        return msg("check.policy.none")
    return msg("check.policy.share", share=exact_text(credit))


def parse_policy(raw, source: str, precision: tuple = (4, None), key: str = "grading") -> Policy:
    """The ``[grading]`` table ``raw`` (``None``: the default policy) of file ``source``;
    ``precision`` is the problem's display precision ``(decimals, sig_figs)``, the default minimum."""
    if raw is None:
        return Policy(minimum=_format(*precision), source=source)
    if not isinstance(raw, dict):
        raise InputError("expected a table: [grading] with decimals, sig_figs, absolute, relative, min_decimals, "
                         "min_sig_figs, carry_rounding, last_digit, student_tolerance or [grading.credit]",
                         file=source, key=key)
    for name in raw:
        if name not in KEYS:
            raise InputError(f"unknown key; expected one of {', '.join(KEYS)}", file=source, key=f"{key}.{name}")
    compared = {k: raw[k] for k in ("decimals", "sig_figs", "absolute", "relative") if k in raw}
    tolerance = parse_tolerance(compared, source, key) if compared else Tolerance()
    if "min_decimals" in raw and "min_sig_figs" in raw:
        raise InputError("give min_decimals or min_sig_figs, not both", file=source, key=key)
    if "min_decimals" in raw:
        minimum = NumberFormat(decimals=_whole(raw["min_decimals"], 0, 15, source, f"{key}.min_decimals"))
    elif "min_sig_figs" in raw:
        minimum = NumberFormat(decimals=None, sig_figs=_whole(raw["min_sig_figs"], 1, 17, source, f"{key}.min_sig_figs"))
    elif tolerance.decimals is not None or tolerance.sig_figs is not None:
        minimum = _format(tolerance.decimals, tolerance.sig_figs)
    else:
        minimum = _format(*precision)
    carry = raw.get("carry_rounding", True)
    if not isinstance(carry, bool):
        raise InputError(f"expected true or false, got {carry!r}", file=source, key=f"{key}.carry_rounding")
    last = _choice(raw.get("last_digit", "auto"), LAST_DIGIT, source, f"{key}.last_digit")
    student = _choice(raw.get("student_tolerance", "refuse"), STUDENT_TOLERANCE, source, f"{key}.student_tolerance")
    credit = {"carried": 1.0, "degenerate": 0.0, "imprecise": 0.0}
    given = raw.get("credit", {})
    if not isinstance(given, dict):
        raise InputError("expected a table: [grading.credit] with carried, degenerate, imprecise",
                         file=source, key=f"{key}.credit")
    for name, value in given.items():
        if name not in CREDITS:
            raise InputError(f"unknown key; expected one of {', '.join(CREDITS)}", file=source,
                             key=f"{key}.credit.{name}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise InputError(f"expected a share of a point from 0 to 1, got {value!r}", file=source,
                             key=f"{key}.credit.{name}")
        credit[name] = float(value)
    return Policy(tolerance, minimum, carry, last, student, credit, source)


def problem_policy(problem) -> Policy:
    """The grading policy of a :class:`~tracegrad.problem.schema.Problem`: its ``[grading]`` table,
    with its display precision as the default minimum."""
    return parse_policy(dict(problem.extra).get("grading"), problem.source,
                        (problem.render.decimals, problem.render.sig_figs))


def policy_of(subject) -> Policy:
    """The subject's own policy (its problem file's ``[grading]``), else the default one at
    its display precision."""
    return subject.policy or parse_policy(None, subject.source, subject.precision)


def load_policy(path, precision: tuple = (4, None)) -> Policy:
    """A policy file: TOML (or JSON) holding a ``[grading]`` table."""
    from ..problem.schema import read_file

    data = read_file(Path(path))
    for name in data:
        if name != "grading":
            raise InputError("unknown key; a policy file holds one [grading] table", file=str(path), key=name)
    if "grading" not in data:
        raise InputError("missing: a policy file holds one [grading] table", file=str(path), key="grading")
    return parse_policy(data["grading"], str(path), precision)


def _format(decimals, sig_figs) -> NumberFormat:
    return NumberFormat(decimals=None, sig_figs=sig_figs) if sig_figs is not None else NumberFormat(decimals=decimals)


def _whole(value, low: int, high: int, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"expected a whole number from {low} to {high}, got {value!r}", file=source, key=key)
    return value


def _choice(value, options, source: str, key: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise InputError(f"expected one of {', '.join(options)}, got {value!r}", file=source, key=key)
    return value
