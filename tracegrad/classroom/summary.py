"""What the teacher sees of a class: each student's checks and scores, and the class summary.

The class summary is ``tracegrad check --summary`` of every student's latest answers: the same
:func:`~tracegrad.workflows.check.check_class` and :func:`~tracegrad.render.class_report.class_view`,
so its per-step error rates and most frequent likely mistakes are the numbers that command gives
for the same answers (students of different variants are judged each against their own).
"""

from __future__ import annotations

import csv
import io

from ..checker.answers import parse_answers
from ..core.escape import csv_cell
from ..render.class_report import class_view
from ..workflows.check import ClassReport, check_class

GRADES_COLUMNS = ("student", "variant", "attempts", "latest", "best")


def class_report(classroom, ident: str) -> ClassReport:
    """The class report of an assignment's latest answers, one student each (by name)."""
    a = classroom.assignment(ident)
    groups: dict = {}
    for s in classroom.store.latest_submissions(a.id):
        answers = parse_answers({"title": s.name, "answers": a.read_answers(s.answers)}, source=s.name)
        groups.setdefault(s.variant, []).append(answers)
    students = []
    for variant, answers in groups.items():
        students += check_class(a.subject(variant), answers).students
    students.sort(key=lambda s: s.source.casefold())
    base = a.subject(next(iter(groups), a.variants[0]))
    return ClassReport(base, base.grader.policy, tuple(students))


def summary(classroom, ident: str, lang: str | None = None):
    """The class summary (:class:`~tracegrad.render.class_report.ClassView`) of an assignment."""
    a = classroom.assignment(ident)
    return class_view(class_report(classroom, ident), lang or a.lang())


def grades_csv(classroom, ident: str) -> str:
    """One row per student: ``student, variant, attempts, latest, best`` (scores as fractions of 1,
    four decimals); a text a spreadsheet could take for a formula is quoted with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GRADES_COLUMNS)
    for s in classroom.store.standings(classroom.assignment(ident).id):
        writer.writerow((csv_cell(s.name), csv_cell(s.variant), s.checks, f"{s.latest:.4f}", f"{s.best:.4f}"))
    return out.getvalue()
