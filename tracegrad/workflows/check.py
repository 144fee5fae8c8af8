"""``check``: a student's answers judged against a problem, as a report."""

from __future__ import annotations

from ..checker.answers import Answers, load_answers, parse_answers
from ..checker.expression import program_subject
from ..checker.load import load_subject
from ..checker.subject import Subject, network_subject
from ..checker.verdicts import VERDICTS, judge
from ..expressions.program import Program


class Report:
    """The verdicts of one answers file against one problem; ``exit_code`` is 0 when every
    answer is correct or carried, 1 otherwise. Displays itself in Jupyter."""

    def __init__(self, subject, answers, verdicts: tuple):
        self.subject = subject
        self.answers = answers
        self.verdicts = verdicts

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


def check(problem, answers) -> Report:
    """Judge ``answers`` (a path, a parsed :class:`Answers`, or a dict ``{name: numbers}``)
    against ``problem`` (a path, a Problem, a Worked, a :class:`~tracegrad.expressions.Program`
    or a :class:`Subject`)."""
    if isinstance(problem, Program):
        problem = program_subject(problem)
    subject = problem if isinstance(problem, Subject) else (
        load_subject(problem) if isinstance(problem, (str, bytes)) or hasattr(problem, "__fspath__")
        else network_subject(problem))
    if isinstance(answers, dict):
        answers = parse_answers({"answers": answers}, source="")
    elif not isinstance(answers, Answers):
        answers = load_answers(answers)
    return Report(subject, answers, judge(subject, answers))
