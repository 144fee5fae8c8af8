"""Homework checking: a student's written numbers judged against a worked problem.

>>> report = check("examples/seed.toml", "examples/seed_printed.toml")
>>> report["a1[1]"].verdict
'wrong'
>>> print(report.render("markdown", lang="zh"))

The pieces: :mod:`.answers` (reading answers with their written digits),
:mod:`.tolerance` (when two numbers agree), :mod:`.subject` (a trace with named
quantities: what can be checked), :mod:`.replay` (replays with pins and
overrides), :mod:`.mutations` (likely mistakes as mutated computations),
:mod:`.verdicts` (the judging) and :mod:`.report` (the views).
"""

from __future__ import annotations

from .answers import Answers, load_answers, parse_answers
from .report import Report
from .subject import Subject, load_subject, network_subject
from .verdicts import Verdict, judge


def check(problem, answers) -> Report:
    """Judge ``answers`` (a path, a parsed :class:`Answers`, or a dict ``{name: numbers}``)
    against ``problem`` (a path, a Problem, a Worked, or a :class:`Subject`)."""
    subject = problem if isinstance(problem, Subject) else (
        load_subject(problem) if isinstance(problem, (str, bytes)) or hasattr(problem, "__fspath__")
        else network_subject(problem))
    if isinstance(answers, dict):
        answers = parse_answers({"answers": answers}, source="")
    elif not isinstance(answers, Answers):
        answers = load_answers(answers)
    return Report(subject, answers, judge(subject, answers))


__all__ = ["check", "Report", "Verdict", "Answers", "Subject", "load_answers", "parse_answers",
           "network_subject", "load_subject"]
