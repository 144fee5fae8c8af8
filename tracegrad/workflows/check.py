"""``check``: a student's answers judged against a problem, as a report."""

from __future__ import annotations

from dataclasses import dataclass

from ..checker.answers import Answers, load_answers, parse_answers
from ..checker.expression import program_subject
from ..checker.load import load_subject
from ..checker.subject import Subject, network_subject
from ..checker.policy import Policy, load_policy, policy_of
from ..checker.verdicts import VERDICTS, Grader
from ..expressions.program import Program


class Report:
    """The verdicts of one answers file against one problem under a grading policy;
    ``exit_code`` is 0 when every answer earns full credit, 1 otherwise. Displays itself in
    Jupyter."""

    def __init__(self, subject, answers, verdicts: tuple, policy: Policy | None = None):
        self.subject = subject
        self.answers = answers
        self.verdicts = verdicts
        self.policy = policy or policy_of(subject)

    def __iter__(self):
        return iter(self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def __getitem__(self, key: str):
        """The verdict of one element, by its key as written: ``report["a1[1]"]``."""
        for v in self.verdicts:
            if v.answer.key == key:
                return v
        raise KeyError(key)

    @property
    def passed(self) -> bool:
        return all(v.ok for v in self.verdicts)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def counts(self) -> dict:
        """``{verdict: number of answers}`` for every verdict, in order."""
        return {name: sum(v.verdict == name for v in self.verdicts) for name in VERDICTS}

    @property
    def score(self) -> float:
        """The share of the credit earned, from 0 to 1 (every answer counts alike)."""
        return sum(v.credit for v in self.verdicts) / len(self.verdicts) if self.verdicts else 0.0

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.counts().items())
        return f"Report({counts})"

    def __str__(self) -> str:
        return self.render("text")

    def _repr_markdown_(self) -> str:
        return self.render("markdown")

    def view(self, lang: str | None = None, template_dir=None):
        """The report as ready strings in one language (:class:`~tracegrad.render.check_report.CheckView`)."""
        from ..render.check_report import check_view

        return check_view(self, lang, template_dir)

    def render(self, format: str = "text", lang: str | None = None, template_dir=None) -> str:
        """The report as ``text``, ``markdown`` or ``json``."""
        from ..render.check_report import render_check

        return render_check(self, format, lang, template_dir)


def subject_of(problem) -> Subject:
    """``problem`` (a path, a Problem, a Worked, a :class:`~tracegrad.expressions.Program` or a
    :class:`Subject`) as a subject."""
    if isinstance(problem, Subject):
        return problem
    if isinstance(problem, Program):
        return program_subject(problem)
    if isinstance(problem, (str, bytes)) or hasattr(problem, "__fspath__"):
        return load_subject(problem)
    return network_subject(problem)


def grader_for(subject: Subject, policy=None) -> Grader:
    """The grader of ``subject`` under ``policy`` (a :class:`Policy`, a policy file, or ``None``
    for the problem's own)."""
    if policy is None:
        return subject.grader
    if not isinstance(policy, Policy):
        policy = load_policy(policy, subject.precision)
    return Grader(subject, policy)


def check(problem, answers, policy=None) -> Report:
    """Judge ``answers`` (a path, a parsed :class:`Answers`, or a dict ``{name: numbers}``)
    against ``problem`` (a path, a Problem, a Worked, a :class:`~tracegrad.expressions.Program`
    or a :class:`Subject`) under ``policy`` (a :class:`~tracegrad.checker.policy.Policy` or a
    policy file; default: the problem's ``[grading]``)."""
    subject = subject_of(problem)
    grader = grader_for(subject, policy)
    if isinstance(answers, dict):
        answers = parse_answers({"answers": answers}, source="")
    elif not isinstance(answers, Answers):
        answers = load_answers(answers)
    return Report(subject, answers, grader.judge(answers), grader.policy)


@dataclass(frozen=True)
class Student:
    """One answers file of a class: its :class:`Report`, or the message that refused it."""

    source: str
    report: Report | None = None
    error: str | None = None


class ClassReport:
    """Many answers files judged against one problem under one policy, in the order given.
    ``exit_code``: 2 when a file was refused, 1 when some answer of some student does not
    earn full credit, 0 otherwise."""

    def __init__(self, subject, policy: Policy, students: tuple):
        self.subject = subject
        self.policy = policy
        self.students = students

    @property
    def reports(self) -> list:
        return [s.report for s in self.students if s.report is not None]

    @property
    def errors(self) -> list:
        return [s for s in self.students if s.error is not None]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 0 if all(r.passed for r in self.reports) else 1

    def quantities(self) -> list:
        """Per quantity answered by anyone, in the problem's order: ``(name, {verdict: count},
        Counter of the likely mistakes of its wrong answers)``, the verdicts over every student's
        elements, each student's likely mistake in a quantity counted once (a sign slip in a vector
        is one mistake, not one per element)."""
        from collections import Counter

        table = {name: ({k: 0 for k in VERDICTS}, Counter()) for name in self.subject.quantities}
        for report in self.reports:
            seen = set()
            for v in report.verdicts:
                counts, mistakes = table[v.answer.name]
                counts[v.verdict] += 1
                if v.mistakes and (v.answer.name, v.mistakes[0].key, v.mistakes[0].args) not in seen:
                    seen.add((v.answer.name, v.mistakes[0].key, v.mistakes[0].args))
                    mistakes[v.mistakes[0].key, v.mistakes[0].args] += 1
        return [(name, counts, mistakes) for name, (counts, mistakes) in table.items() if sum(counts.values())]

    def render(self, format: str = "text", lang: str | None = None, template_dir=None) -> str:
        """The class summary as ``text``, ``markdown`` or ``json``."""
        from ..render.class_report import render_class

        return render_class(self, format, lang, template_dir)

    def csv(self) -> str:
        """One row per answers file: counts, score, and the error for a refused file."""
        from ..render.class_report import grades_csv

        return grades_csv(self)


def check_class(problem, answers_files, policy=None) -> ClassReport:
    """Judge every answers file in ``answers_files`` against ``problem`` with one grader: what
    is per problem (the subject, the carry-rounded replays, the prepared mistakes) is computed
    once. A file that cannot be read or bound is reported, not fatal."""
    from ..core.errors import InputError

    subject = subject_of(problem)
    grader = grader_for(subject, policy)
    students = []
    for path in answers_files:
        source = path.source if isinstance(path, Answers) else str(path)
        try:
            answers = path if isinstance(path, Answers) else load_answers(path)
            students.append(Student(source, Report(subject, answers, grader.judge(answers), grader.policy)))
        except InputError as exc:
            students.append(Student(source, error=str(exc)))
    return ClassReport(subject, grader.policy, tuple(students))
