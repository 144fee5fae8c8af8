"""``check``: a student's answers judged against a problem, as a report."""

from __future__ import annotations

from ..checker.answers import Answers, load_answers, parse_answers
from ..checker.load import load_subject
from ..checker.subject import Subject, network_subject
from ..checker.policy import Policy, load_policy, policy_of
from ..checker.verdicts import VERDICTS, Grader


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
    """``problem`` (a path, a Problem, a Worked, or a :class:`Subject`) as a subject."""
    if isinstance(problem, Subject):
        return problem
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
    against ``problem`` (a path, a Problem, a Worked, or a :class:`Subject`) under ``policy``
    (a :class:`~tracegrad.checker.policy.Policy` or a policy file; default: the problem's
    ``[grading]``)."""
    subject = subject_of(problem)
    grader = grader_for(subject, policy)
    if isinstance(answers, dict):
        answers = parse_answers({"answers": answers}, source="")
    elif not isinstance(answers, Answers):
        answers = load_answers(answers)
    return Report(subject, answers, grader.judge(answers), grader.policy)
