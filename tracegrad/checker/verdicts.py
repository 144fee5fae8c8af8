"""Verdicts: each written number judged the way a careful teacher would.

In this order, at the precision the number was written with (or the
``[tolerance]``):

1. ``correct`` — equal to the correct value, or to the carry-rounded value
   (every earlier printed value rounded to the same precision, as by hand);
2. ``carried`` — equal to the value recomputed from the student's **own earlier
   answers** (error carried forward: the graph replayed with them pinned);
3. ``correct`` / ``carried`` with ``last_digit`` — one unit off in the last
   written digit of either (the written-precision rule only);
4. ``wrong`` — with the likely mistakes: the mutated computations
   (:mod:`~tracegrad.checker.mutations`) that reproduce the number, alone or
   fed the student's earlier answers.

A precise match always beats a last-digit one: it is the better explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .answers import Answer, Answers, bind
from .mutations import Mutation, rounding_mutations
from ..core.replay import replay_floats
from ..core.nested import flatten
from .tolerance import decimals_written

VERDICTS = ("correct", "carried", "wrong")


@dataclass(frozen=True)
class Verdict:
    """The judgement of one written number. ``expected`` is the correct value,
    ``carried`` the value recomputed from the student's earlier answers (``None`` when
    they leave an op's domain), ``mistakes`` the mutations explaining a wrong number."""

    answer: Answer
    verdict: str
    expected: float
    carried: float | None
    last_digit: bool = False
    by_carry: bool = False
    mistakes: tuple = ()

    @property
    def ok(self) -> bool:
        return self.verdict != "wrong"


def student_pins(bound) -> dict:
    """``{node: written value}``; a node answered under two names keeps its first answer."""
    pins: dict = {}
    for a in bound:
        pins.setdefault(a.node, float(a.written))
    return pins


def judge(subject, answers: Answers) -> tuple:
    """A :class:`Verdict` per written number, in the subject's order of quantities."""
    bound = bind(answers, subject)
    tol = answers.tolerance
    trace = subject.trace
    printed = subject.printed
    carries: dict = {}

    def carry(fmt):
        if fmt not in carries:
            carries[fmt] = replay_floats(trace, pins={i: fmt.round for i in printed})
        return carries[fmt]

    pins = student_pins(bound)
    own = replay_floats(trace, pins=pins)
    verdicts = []
    for a in bound:
        w = a.written
        exact = trace.nodes[a.node].data
        candidates = [exact, carry(tol.format_for(w))[a.node]]
        carried = own[a.node] if math.isfinite(own[a.node]) else None
        if any(tol.matches(w, x) for x in candidates):
            v = Verdict(a, "correct", exact, carried, by_carry=not tol.matches(w, exact))
        elif carried is not None and tol.matches(w, carried):
            v = Verdict(a, "carried", exact, carried)
        elif any(tol.near(w, x) for x in candidates):
            v = Verdict(a, "correct", exact, carried, last_digit=True, by_carry=not tol.near(w, exact))
        elif carried is not None and tol.near(w, carried):
            v = Verdict(a, "carried", exact, carried, last_digit=True)
        else:
            v = Verdict(a, "wrong", exact, carried)
        verdicts.append(v)
    wrong = [v for v in verdicts if v.verdict == "wrong"]
    if wrong:
        explained = diagnose(subject, pins, [v.answer for v in wrong], tol)
        verdicts = [replace(v, mistakes=explained.get(v.answer, ())) if v.verdict == "wrong" else v
                    for v in verdicts]
    return tuple(verdicts)


def diagnose(subject, pins: dict, wrong: list, tol) -> dict:
    """``{answer: (mutation, …)}``: the mutations reproducing each wrong number, replayed
    alone and with the student's answers pinned."""
    decimals = {tol.format_for(a.written).decimals or decimals_written(a.written) for a in wrong}
    mutations = (*subject.mutations(), *rounding_mutations(subject, decimals))
    found: dict = {a: [] for a in wrong}
    for m in mutations:
        trace = m.trace or subject.trace
        where = _node_map(subject, m) if m.quantities else None
        mapped = {where[n]: x for n, x in pins.items() if n in where} if where is not None else pins
        runs = (replay_floats(trace, m.pins, m.overrides), replay_floats(trace, {**m.pins, **mapped}, m.overrides))
        for a in wrong:
            node = a.node if where is None else where.get(a.node)
            if node is None:
                continue
            node = m.reads.get(node, node)
            known = any(f.key == m.key for f in found[a])  # one diagnosis per kind: the first (finest) variant
            if not known and any(tol.matches(a.written, r[node]) for r in runs):
                found[a].append(m)
    return {a: tuple(ms) for a, ms in found.items() if ms}


def _node_map(subject, m: Mutation) -> dict:
    """Subject node → the same quantity element's node in a mutation's own trace."""
    where = {}
    for name, nodes in subject.quantities.items():
        if name in m.quantities:
            where.update(zip(flatten(nodes), flatten(m.quantities[name])))
    return where
