"""Feedback a student sees: the check report, per box, cut to what the teacher's settings allow.

:func:`feedback` reads a :class:`~tracegrad.workflows.check.Report` (through its view in the
student's language) and gives, for every asked element in derivation order, its verdict as
words, the notes, where a carried number comes from (``follows from your a₁[1] = 0.9084``: the
nearest earlier answers that depart from the correct values), and as the ``hints`` setting
allows the likely mistake (``mistake``) and the step's formula without numbers (``step``). Only
when the reveal rule allows (``revealed``) does it add the correct value and the worked step.
This is the one place the withheld is withheld: every door (page, API) sends what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..checker.verdicts import VERDICTS
from ..core.numbers import NumberFormat
from ..core.notation import Math
from ..render.environment import Catalog

UNANSWERED = "unanswered"
KINDS = (*VERDICTS, UNANSWERED)


@lru_cache(maxsize=None)
def catalog(lang: str) -> Catalog:
    """The shipped message catalog of ``lang``, read once."""
    return Catalog(lang)


@dataclass(frozen=True)
class Feedback:
    """What a student is told about one Check: ``boxes`` (per asked element, in derivation order),
    ``counts`` per verdict (and unanswered), the points ``given`` of ``maximum``, the first box that
    needs work, a summary sentence, and whether the solution is ``revealed``."""

    boxes: tuple
    counts: dict
    given: float
    maximum: int
    first: str | None
    summary: str
    revealed: bool

    def to_json(self) -> dict:
        return {"revealed": self.revealed, "counts": self.counts,
                "score": {"given": self.given, "maximum": self.maximum}, "first": self.first,
                "summary": self.summary, "boxes": list(self.boxes)}


def feedback(report, elements: tuple, hints: str, revealed: bool, lang: str) -> Feedback:
    """The feedback of ``report`` (a check of some of ``elements``) under the ``hints`` setting."""
    msg = catalog(lang)
    rows = {row.key: row for row in report.view(lang).rows}
    sources = _sources(report)
    labels = {e.key: e.label.text for e in elements}
    display = NumberFormat(*report.subject.precision)
    nodes = report.subject.trace.nodes
    boxes, counts, given, first = [], {k: 0 for k in KINDS}, 0.0, None
    for e in elements:
        row = rows.get(e.key)
        box = {"key": e.key, "label": e.label.text, "written": None, "verdict": UNANSWERED,
               "text": msg("serve.homework.unanswered"), "credit": 0.0, "notes": [], "mistakes": [], "also": []}
        if row is not None:
            box.update(written=row.written, verdict=row.verdict, text=row.verdict_text, credit=row.credit,
                       notes=_notes(row, revealed, msg))
            if hints != "none":
                box["mistakes"] = [m.text for m in row.mistakes if m.likely]
                box["also"] = [m.text for m in row.mistakes if not m.likely]
                if row.verdict == "wrong" and not row.mistakes:
                    box["notes"].append(msg("serve.homework.recompute"))
            shown = [f"{labels.get(key, key)} = {written}" for key, written in sources.get(e.key, ())]
            if shown:
                box["notes"].insert(0, msg("serve.homework.follows_from",
                                           answers=msg("check.list_separator").join(shown)))
        if hints == "step" and box["verdict"] in ("wrong", UNANSWERED) and e.formula is not None \
                and e.formula.text != e.symbol.text:
            formula = e.symbol + Math(" = ", " = ") + e.formula
            box["formula"] = {"latex": formula.latex, "text": formula.text}
        if revealed:
            box["correct"] = row.expected_text if row is not None else display.text(nodes[e.node].data)
            if row is not None and row.step is not None:
                box["worked"] = {"latex": row.step.latex, "text": row.step.text}
        counts[box["verdict"]] += 1
        given += box["credit"]
        if first is None and box["credit"] < 1:
            first = e.key
        boxes.append(box)
    maximum = len(elements)
    given = round(given, 6)
    if first is None:
        summary = msg("serve.homework.all_right", n=maximum)
    else:
        summary = msg("serve.homework.to_do", given=f"{given:g}", maximum=maximum,
                      n=sum(1 for b in boxes if b["credit"] < 1), first=labels[first])
    return Feedback(tuple(boxes), counts, given, maximum, first, summary, revealed)


def _notes(row, revealed: bool, msg) -> list:
    """The report's notes a student may read. The report's "follows from your own earlier answers"
    is said better by :func:`_sources`; before the reveal, no note that quotes the correct value or
    the value the student's own earlier answers give (for earlier answers that are right, that is
    the correct value)."""
    dropped = {msg("check.note.carried", value=row.carried_text)}
    if not revealed:
        dropped.add(msg("check.note.own_answers", value=row.carried_text))
    return [note for note in row.notes
            if note not in dropped and (revealed or row.expected_text not in note)]


def _sources(report) -> dict:
    """For each carried answer, the nearest earlier answers (up the graph) whose numbers depart from
    the correct ones, as ``(key, written)`` in the report's order: what the carried number follows from."""
    nodes = report.subject.trace.nodes
    by_node: dict = {}
    for v in report.verdicts:
        by_node.setdefault(v.answer.node, v)
    order = {v.answer.key: k for k, v in enumerate(report.verdicts)}
    out = {}
    for v in report.verdicts:
        if v.verdict != "carried":
            continue
        same = by_node[v.answer.node]
        if same is not v:  # answered before under another name (∂L/∂b₂ is δ₂): it follows from that answer
            out[v.answer.key] = ((same.answer.key, str(same.answer.written)),) if _departs(same) else ()
            continue
        found, seen, stack = {}, {v.answer.node}, list(nodes[v.answer.node].inputs)
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            answered = by_node.get(i)
            if answered is None:
                stack.extend(nodes[i].inputs)
            elif _departs(answered):
                found[answered.answer.key] = str(answered.answer.written)
            # an answered node stops the walk: what lies above it reaches here only through the student's number
        out[v.answer.key] = tuple(sorted(found.items(), key=lambda item: order[item[0]]))
    return out


def _departs(verdict) -> bool:
    """The student's number is not the correct one (a carried, imprecise or wrong one, or one unit off)."""
    return verdict.verdict != "correct" or verdict.last_digit
