"""As-printed replay: a derivation with a document's printed numbers pinned.

``tracegrad derive PROBLEM --as-printed ANSWERS`` replays the worked problem
with every number of the answers file pinned where it was printed, so the
derivation reproduces the document's own numbers from its carried values. Where
a printed number departs from the arithmetic of the numbers before it (at the
precision it was printed with), the value that arithmetic gives is shown beside
it (:attr:`~tracegrad.render.model.Line.check`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..render import mathtext as mt
from ..render.mathtext import Math
from ..trace import Trace
from ..worked import map_nested
from .answers import Answers, bind, load_answers
from .replay import evaluate
from .subject import flat, network_subject
from .verdicts import student_pins


@dataclass(frozen=True)
class AsPrinted:
    """The pinned trace; per quantity the values its (pinned) inputs give (``reference``),
    and for each quantity with a departing printed number the ``check`` shown beside it."""

    trace: Trace
    reference: dict
    checks: dict
    source: str


def as_printed(worked, answers, fmt, msg, rounder=None) -> AsPrinted:
    """Pin ``answers`` (a path or :class:`Answers`) into ``worked``; ``rounder`` carry-rounds
    the printed values the answers leave out. ``fmt`` and ``msg`` write the checks."""
    if not isinstance(answers, Answers):
        answers = load_answers(answers)
    subject = network_subject(worked)
    bound = bind(answers, subject)
    pins = {i: rounder for i in subject.printed} if rounder else {}
    pins.update(student_pins(bound))
    recomputed = evaluate(worked.trace, pins)  # NaN where a printed number leaves an op's domain
    departing = {a.node for a in bound if not answers.tolerance.matches(a.written, recomputed[a.node])}
    reference = {name: map_nested(grid, recomputed.__getitem__) for name, grid in subject.quantities.items()}
    parts: dict = {}  # line name -> [(symbol or None, values)]
    for name, grid in subject.quantities.items():
        if departing.intersection(flat(grid)):
            if name.startswith("step_"):  # a step has no line: it is shown inside its update
                parts.setdefault(name[5:] + "_new", []).insert(0, (subject.symbols[name], reference[name]))
            else:
                parts.setdefault(name, []).append((None, reference[name]))
    label = msg("check.as_printed.correct")
    checks = {}
    for name, items in parts.items():
        if len(items) > 1:
            items = [(symbol or subject.symbols[name], values) for symbol, values in items]
        shown = Math("", "")
        for n, (symbol, values) in enumerate(items):
            cell = mt.grid(values, lambda x: mt.number(x, fmt))
            shown += Math(r";\ " if n else "", "; " if n else "")
            shown += (symbol + Math(" = ", " = ") + cell) if symbol else cell
        checks[name] = Math(r"\quad \left(\text{" + label + "} " + shown.latex + r"\right)",
                            f"   ({label} {shown.text})")
    return AsPrinted(worked.trace.replay(pins=pins), reference, checks, answers.source)


