"""The class summary: many answers files at once, for the teacher.

:func:`class_view` turns a :class:`~tracegrad.workflows.check.ClassReport` into a
:class:`ClassView` of ready strings: per student the counts and the score, per quantity
the share of each verdict and the most common likely mistake (the step the class gets
wrong). The ``check_class.<md|txt>.j2`` templates lay it out, :func:`~tracegrad.render.model.to_json`
dumps it, and :func:`grades_csv` writes one row per student for a gradebook.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..checker.verdicts import VERDICTS
from ..core.notation import Math
from .check_report import render_view

CSV_COLUMNS = ("file", "title", "answered", *VERDICTS, "carried_degenerate", "score", "error")


@dataclass(frozen=True)
class StudentRow:
    source: str
    title: str
    counts: dict  # verdict -> number of answers
    degenerate: int  # carried answers that follow from a degenerate earlier answer
    answered: int
    score: float | None  # 0 … 1; None for a refused file
    score_text: str
    error: str | None


@dataclass(frozen=True)
class QuantityRow:
    name: str
    symbol: Math
    answered: int  # elements, over every student
    counts: dict  # verdict -> number of elements
    shares: dict  # verdict -> "42 %"
    mistake: str  # the most common likely mistake of its wrong answers ("" when none)
    mistake_key: str
    mistake_count: int


@dataclass(frozen=True)
class ClassView:
    title: str
    lang: str
    problem: str
    rule: str
    policy: dict
    summary: str
    student_header: tuple
    students: tuple
    quantity_header: tuple
    quantities: tuple


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.0f} %" if total else ""


def class_view(report, lang: str | None = None, template_dir=None) -> ClassView:
    """The class summary of ``report`` as ready strings in one language."""
    from .environment import Catalog

    msg = Catalog(lang or report.subject.lang, template_dir)
    students = []
    for s in report.students:
        r = s.report
        if r is None:
            students.append(StudentRow(s.source, "", {k: 0 for k in VERDICTS}, 0, 0, None, "", s.error))
            continue
        students.append(StudentRow(s.source, r.answers.title, r.counts(), sum(bool(v.degenerate) for v in r),
                                   len(r), r.score, f"{100 * r.score:.1f}", None))
    quantities = []
    for name, counts, mistakes in report.quantities():
        total = sum(counts.values())
        text, key, n = "", "", 0
        if mistakes:
            (key, args), n = min(mistakes.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
            text = msg(f"check.mistake.{key}", **dict(args))
        symbol = report.subject.symbols.get(name) or Math(name, name)
        quantities.append(QuantityRow(name, symbol, total, counts, {k: _share(c, total) for k, c in counts.items()},
                                      text, key, n))
    graded = [s.score for s in students if s.score is not None]
    mean = sum(graded) / len(graded) if graded else 0.0
    summary = msg("check.class.summary", n=len(graded), mean=f"{100 * mean:.1f}")
    if report.errors:
        summary += msg("sentence_separator") + msg("check.class.refused", n=len(report.errors))
    verdicts = tuple(msg(f"check.verdict.{k}") for k in VERDICTS)
    student_header = (msg("check.class.file"), msg("check.class.answered"), *verdicts, msg("check.class.score"))
    quantity_header = (msg("check.column.answer"), msg("check.class.answered"), *verdicts, msg("check.class.mistake"))
    title = report.subject.title or msg("check.class.title")
    return ClassView(title, msg.lang, report.subject.source,
                     msg("sentence_separator").join(report.policy.describe(msg)), report.policy.to_dict(), summary,
                     student_header, tuple(students), quantity_header, tuple(quantities))


def render_class(report, format: str = "text", lang: str | None = None, template_dir=None) -> str:
    """The class summary as ``text``, ``markdown`` or ``json``."""
    return render_view("check_class", "a class summary", class_view, report, format, lang, template_dir)


def grades_csv(report) -> str:
    """One row per answers file, in the order given: the counts, the score in percent (one
    decimal) and, for a refused file, the message."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in class_view(report, "en").students:
        score = "" if s.score is None else s.score_text
        writer.writerow([_cell(s.source), _cell(s.title), s.answered, *(s.counts[k] for k in VERDICTS), s.degenerate,
                         score, _cell(s.error or "")])
    return out.getvalue()


def _cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: one starting with = + - @ (a formula to Excel and
    LibreOffice) gets a leading apostrophe, and control characters are dropped."""
    text = "".join(c for c in text if c.isprintable())
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
