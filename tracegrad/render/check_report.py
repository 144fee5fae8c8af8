"""The check report: verdicts laid out for people (text, Markdown) and programs (JSON).

:func:`check_view` turns a :class:`~tracegrad.workflows.check.Report` into a
:class:`CheckView` of ready strings and numbers in one language, which the
``check.<md|txt>.j2`` templates lay out and :func:`~tracegrad.render.model.to_json`
dumps as stable JSON (:func:`render_check`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError
from . import mathtext as mt
from ..core.notation import Math
from ..core.numbers import NumberFormat, exact_text
from ..checker.verdicts import VERDICTS, findings

FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True)
class Mistake:
    """A diagnosed mistake; ``likely`` for the first group (the mutations giving the same
    numbers as the best explanation), else it is only consistent with the numbers too."""

    key: str
    text: str
    likely: bool = True


@dataclass(frozen=True)
class FindingView:
    """One likely mistake, counted once: its sentence (the explanations the numbers cannot tell
    apart said together), the mistakes it merges, and the wrong answers it explains."""

    text: str
    mistakes: tuple  # Mistake
    keys: tuple  # as the answers file addresses them
    labels: tuple  # Math


@dataclass(frozen=True)
class DegenerateView:
    """Why an answer makes what follows from it degenerate: ``kind`` ``value`` (0, ±1 or a given
    number copied) or ``effect`` (it makes what follows trivial: ``trivial`` of the ``following``
    numbers after it); ``value`` the number copied, or the answer's value from the student's
    earlier answers."""

    kind: str
    value: float | None
    value_text: str
    trivial: tuple = ()
    following: int = 0


@dataclass(frozen=True)
class CheckRow:
    """One written number and its verdict, ready to print."""

    key: str  # as the answers file addresses it: a1[1]
    label: Math  # a₁[1]
    written: str
    verdict: str  # correct | carried | imprecise | wrong
    last_digit: bool
    by_carry: bool
    verdict_text: str
    expected: float
    expected_text: str  # at the written precision
    carried: float | None
    carried_text: str
    notes: tuple  # sentences
    step: Math | None  # how the correct value is computed, with the numbers (wrong answers)
    formula: Math | None  # the quantity's formula
    mistakes: tuple  # Mistake
    credit: float = 1.0
    degenerate: tuple = ()  # keys of the degenerate earlier answers a carried value follows from
    likely_mistake: str = ""  # the likely mistake as one sentence ("" when none is found)
    also_consistent: tuple = ()  # sentences: the other mistakes the numbers allow
    finding: int | None = None  # index of the likely mistake in CheckView.findings
    same_as: Math | None = None  # the first answer of that finding, when this is not it
    degenerate_source: DegenerateView | None = None  # this answer is degenerate: why
    coincides: str = ""  # the given number this wrong answer equals only by its slip


@dataclass(frozen=True)
class Count:
    verdict: str
    text: str
    count: int
    last_digit: int
    degenerate: int = 0


@dataclass(frozen=True)
class CheckView:
    """A whole report in one language."""

    title: str
    lang: str
    problem: str
    answers: str
    rule: str
    policy: dict
    header: tuple
    rows: tuple
    counts: tuple
    summary: str
    passed: bool
    score: float
    score_text: str
    findings: tuple = ()  # FindingView, each likely mistake once


def _label(subject, answer) -> Math:
    symbol = subject.symbols.get(answer.name) or Math(answer.name, answer.name)
    index = "".join(f"[{i}]" for i in answer.position)
    return Math(symbol.latex + index, symbol.text + index)


def _row(subject, v, policy, msg, context) -> CheckRow:
    """``context``: ``(verdicts by key, finding index by key, the findings)``."""
    a = v.answer
    by_key, finding_of, found = context
    fmt = policy.format_for(a.written)
    label = _label(subject, a)
    expected_text = (policy.minimum if v.verdict == "imprecise" else fmt).text(v.expected)
    carried_text = fmt.text(v.carried) if v.carried is not None else ""
    verdict_text = msg(f"check.verdict.{v.verdict}")
    if v.last_digit:
        verdict_text = msg("check.verdict.last_digit", verdict=verdict_text)
    notes = []
    if v.by_carry:
        notes.append(msg("check.note.by_carry", precision=fmt.describe(msg)))
    if v.verdict == "carried":
        notes.append(msg("check.note.carried", value=carried_text))
    if v.degenerate:
        why = [msg(f"check.note.degenerate_{by_key[k].source.kind}", answer=k) for k in v.degenerate]
        notes.append(msg("check.note.degenerate", answers=msg("check.list_separator").join(why)))
    if v.verdict == "imprecise":
        notes.append(msg("check.note.imprecise", precision=policy.minimum.describe(msg)))
    if (v.verdict == "carried" and v.credit < 1) or (v.verdict == "imprecise" and v.credit > 0):
        notes.append(msg("check.note.credit", credit=f"{v.credit:g}"))
    source = _source(subject, v, fmt, msg, notes)
    coincides = ""
    if v.coincides is not None:
        coincides = exact_text(v.coincides)
        notes.append(msg("check.note.coincides", value=coincides))
    step = formula = None
    if v.verdict == "wrong":
        if v.carried is not None and carried_text != expected_text:
            notes.append(msg("check.note.own_answers", value=carried_text))
        symbol = subject.symbols.get(a.name) or Math(a.name, a.name)
        formula = subject.formulas.get(a.name)
        if formula is not None and formula.text != symbol.text:
            formula = symbol + Math(" = ", " = ") + formula
        else:
            formula = None
        step = _step(subject, a, v.expected, fmt, label)
    mistakes = tuple(Mistake(m.key, _mistake_text(m, msg), k < v.equivalent) for k, m in enumerate(v.mistakes))
    index = finding_of.get(a.key)
    sentence, same_as = "", None
    if index is not None:
        sentence = found[index].text
        first = found[index].keys[0]
        same_as = None if first == a.key else found[index].labels[0]
    likely_texts = {m.text for m in mistakes if m.likely}
    also = tuple(dict.fromkeys(m.text for m in mistakes if not m.likely and m.text not in likely_texts))
    return CheckRow(a.key, label, str(a.written), v.verdict, v.last_digit, v.by_carry, verdict_text, v.expected,
                    expected_text, v.carried, carried_text, tuple(notes), step, formula, mistakes, v.credit,
                    v.degenerate, sentence, also, index, same_as, source, coincides)


def _mistake_text(m, msg) -> str:
    return msg(f"check.mistake.{m.key}", **dict(m.args))


def _sentence(group: tuple, msg) -> str:
    """Mistakes the numbers cannot tell apart, as one sentence."""
    texts = list(dict.fromkeys(_mistake_text(m, msg) for m in group))
    if len(texts) == 1:
        return texts[0]
    either = msg("check.either_separator").join(texts[:-1]) + msg("check.either_last") + texts[-1]
    return msg("check.merged", mistakes=either)


SHOWN_TRIVIAL = 4
"""Trivial numbers named in the note of the answer that makes them so (the rest counted)."""


def _source(subject, v, fmt: NumberFormat, msg, notes: list):
    """Why ``v``'s answer makes what follows from it degenerate: a note, and the view."""
    d = v.source
    if d is None:
        return None
    if d.kind == "value":
        value_text = exact_text(d.value)
        notes.append(msg("check.note.source_value", value=value_text))
    else:
        value_text = fmt.text(d.value)
        names = list(d.trivial[:SHOWN_TRIVIAL]) + (["…"] if len(d.trivial) > SHOWN_TRIVIAL else [])
        notes.append(msg("check.note.source_effect", n=len(d.trivial), m=d.following, value=value_text,
                         answers=msg("check.list_separator").join(names),
                         label=_label(subject, v.answer).text))
    return DegenerateView(d.kind, d.value, value_text, d.trivial, d.following)


def _step(subject, answer, expected: float, fmt: NumberFormat, label: Math) -> Math:
    """``label = the node's op with its operands' numbers ≈ the correct value``; operands are
    shown to at least five significant figures, so the arithmetic can be followed."""
    finer = NumberFormat(decimals=None, sig_figs=max(5, len(answer.written.as_tuple().digits) + 1))
    printed = subject.printed - {answer.node}
    expansion = mt.expand(subject.trace, answer.node, printed, finer)
    value = mt.number(expected, fmt)
    relation = fmt.relation(expected)
    out = label
    if expansion is not None:
        out += Math(" = ", " = ") + expansion
    rel = Math(r" \approx ", " ≈ ") if relation == "≈" else Math(" = ", " = ")
    return out + rel + value


def check_view(report, lang: str | None = None, template_dir=None) -> CheckView:
    """The report of ``report`` (subject, answers, verdicts) as ready strings in one language."""
    from .environment import Catalog

    msg = Catalog(lang or report.subject.lang, template_dir)
    policy = report.policy
    by_key = {}
    for v in report.verdicts:
        by_key.setdefault(v.answer.key, v)
    found = tuple(FindingView(_sentence(f.mistakes, msg),
                              tuple(Mistake(m.key, _mistake_text(m, msg)) for m in f.mistakes), f.keys,
                              tuple(_label(report.subject, by_key[k].answer) for k in f.keys))
                  for f in findings(report.verdicts))
    finding_of = {k: i for i, f in enumerate(found) for k in f.keys}
    rows = tuple(_row(report.subject, v, policy, msg, (by_key, finding_of, found)) for v in report.verdicts)
    counts = []
    for name in VERDICTS:
        of_kind = [v for v in report.verdicts if v.verdict == name]
        counts.append(Count(name, msg(f"check.verdict.{name}"), len(of_kind), sum(v.last_digit for v in of_kind),
                            sum(bool(v.degenerate) for v in of_kind)))
    parts = []
    for c in counts:
        part = msg("check.count", n=c.count, verdict=c.text)
        if c.last_digit:
            part += msg("check.count_last_digit", n=c.last_digit)
        if c.degenerate:
            part += msg("check.count_degenerate", n=c.degenerate)
        if c.verdict == "wrong" and found:
            part += msg("check.count_findings" + ("_one" if len(found) == 1 else ""), n=len(found))
        parts.append(part)
    score_text = msg("check.score", score=f"{100 * report.score:.1f}")
    failed = "check.failed" if any(v.verdict == "wrong" for v in report.verdicts) else "check.short"
    summary = msg("sentence_separator").join((msg("check.summary", counts=msg("check.list_separator").join(parts)),
                                              score_text, msg("check.passed" if report.passed else failed)))
    header = tuple(msg(f"check.column.{c}") for c in ("answer", "written", "verdict", "correct", "details"))
    title = report.answers.title or report.subject.title or msg("check.title")
    rule = msg("sentence_separator").join(policy.describe(msg))
    return CheckView(title, msg.lang, report.subject.source, report.answers.source, rule, policy.to_dict(), header,
                     rows, tuple(counts), summary, report.passed, report.score, score_text, found)


def render_check(report, format: str = "text", lang: str | None = None, template_dir=None) -> str:
    """The report as ``text``, ``markdown`` or ``json``."""
    return render_view("check", "a check report", check_view, report, format, lang, template_dir)


def render_view(template: str, what: str, view_of, report, format: str, lang, template_dir) -> str:
    """``view_of(report, lang, template_dir)`` as JSON, or laid out by ``<template>.<ext>.j2`` (which
    reads the view as ``r``)."""
    from .environment import Catalog, render
    from .model import to_json

    if format not in FORMATS:
        raise InputError(f"unknown format {format!r} for {what}; choose one of {', '.join(FORMATS)}")
    view = view_of(report, lang, template_dir)
    if format == "json":
        return to_json(view)
    return render(template, format, template_dir, view.lang, r=view, msg=Catalog(view.lang, template_dir))
