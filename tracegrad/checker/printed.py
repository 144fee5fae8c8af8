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

from ..core.trace import Trace
from ..core.nested import map_nested
from .answers import Answers, bind, load_answers
from ..core.replay import replay_floats
from ..core.nested import flatten
from .subject import network_subject
from .verdicts import student_pins


@dataclass(frozen=True)
class AsPrinted:
    """The pinned trace; per quantity the values its (pinned) inputs give (``reference``),
    and for each line with a departing printed number what the arithmetic gives instead
    (``checks``: line name → ``((symbol or None, values), …)``; a step is shown, with its
    symbol, inside the update that subtracts it)."""

    trace: Trace
    reference: dict
    checks: dict
    source: str
    pinned: frozenset = frozenset()  # the quantities the answers pin


def as_printed(worked, answers, rounder=None) -> AsPrinted:
    """Pin ``answers`` (a path or :class:`Answers`) into ``worked``; ``rounder`` carry-rounds
    the printed values the answers leave out."""
    if not isinstance(answers, Answers):
        answers = load_answers(answers)
    subject = network_subject(worked)
    bound = bind(answers, subject)
    pins = {i: rounder for i in subject.printed} if rounder else {}
    pins.update(student_pins(bound))
    recomputed = replay_floats(worked.trace, pins)  # NaN where a printed number leaves an op's domain
    departing = {a.node for a in bound if not answers.tolerance.matches(a.written, recomputed[a.node])}
    reference = {name: map_nested(grid, recomputed.__getitem__) for name, grid in subject.quantities.items()}
    checks: dict = {}  # line name -> [(symbol or None, values)]
    for name, grid in subject.quantities.items():
        if departing.intersection(flatten(grid)):
            if name.startswith("step_"):  # a step has no line: it is shown inside its update
                checks.setdefault(name[5:] + "_new", []).insert(0, (subject.symbols[name], reference[name]))
            else:
                checks.setdefault(name, []).append((None, reference[name]))
    checks = {name: tuple((symbol or (subject.symbols[name] if len(items) > 1 else None), values)
                          for symbol, values in items) for name, items in checks.items()}
    return AsPrinted(worked.trace.replay(pins=pins), reference, checks, answers.source,
                     frozenset(a.name for a in bound))
