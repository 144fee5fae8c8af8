"""A class at work: assignments, their students' Checks, and the rules applied to each.

:class:`Classroom` is what every door calls (the page, the JSON API, later an LMS adapter):
:meth:`Classroom.submit` judges a student's answers, stores the Check in one transaction and
returns the :class:`Verdicts` the settings allow; :meth:`Classroom.resume` gives a student back
what they saved or checked from the same browser; :meth:`Classroom.solution` the worked derivation,
once the reveal rule allows it. Nothing here knows HTTP; errors are
:class:`~tracegrad.core.errors.InputError` (bad input), :class:`~tracegrad.classroom.errors.NotFound`
and :class:`~tracegrad.classroom.errors.Refused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..core.errors import InputError
from .errors import NotFound, Refused
from .feedback import Feedback, feedback
from .settings import Settings, override
from .store import utc


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Verdicts:
    """The reply to one Check: who and which variant, the attempt number and the checks left (None:
    unlimited), the :class:`~tracegrad.classroom.feedback.Feedback`, and the score that counts
    (the latest or the best check, as the settings say) in points of ``maximum``."""

    assignment: str
    student: str
    variant: str
    attempt: int
    attempts_left: int | None
    feedback: Feedback
    counted: float
    rule: str

    def to_json(self) -> dict:
        out = {"assignment": self.assignment, "student": self.student, "variant": self.variant,
               "attempt": self.attempt, "attempts_left": self.attempts_left}
        out.update(self.feedback.to_json())
        out["counted"] = {"rule": self.rule, "given": self.counted, "maximum": self.feedback.maximum}
        return out


class Classroom:
    """Assignments (by id) and the :class:`~tracegrad.classroom.store.Store` of their work."""

    def __init__(self, assignments, store):
        self.assignments = {}
        for a in assignments:
            if a.id in self.assignments:
                raise InputError(f"two assignments have the id {a.id!r}; give one an [assignment] id",
                                 file=str(a.source))
            self.assignments[a.id] = a
        self.store = store

    def assignment(self, ident: str):
        found = self.assignments.get(ident)
        if found is None:
            raise NotFound(f"no assignment {ident!r} here; check the link your teacher gave you")
        return found

    def settings(self, assignment) -> Settings:
        """The assignment's settings with the teacher's changes from the page."""
        changes = self.store.overrides(assignment.id)
        return override(assignment.settings, changes) if changes else assignment.settings

    def change_settings(self, ident: str, changes, when: datetime | None = None) -> Settings:
        """Apply the teacher's ``changes`` (checked as the file's settings are) for every process sharing
        the store."""
        a = self.assignment(ident)
        if not isinstance(changes, dict):
            raise InputError("expected an object of settings, e.g. {\"reveal\": \"after_submit\"}", key="settings")
        merged = {**self.store.overrides(a.id), **changes}
        settings = override(a.settings, merged)
        self.store.set_overrides(a.id, merged, when or now())
        return settings

    # --- the student's doors ------------------------------------------------------------

    def submit(self, ident: str, student, answers, *, browser: str = "", lang: str | None = None,
               when: datetime | None = None) -> Verdicts:
        """Judge ``answers`` (``{box name: number or text}``) of the student who typed ``student``,
        store the Check, and return what the settings allow them to see."""
        a = self.assignment(ident)
        who = a.identify(student)
        values = a.read_answers(answers)
        if not values:
            raise InputError("fill in at least one box before checking", key="answers")
        settings = self.settings(a)
        lang = lang or a.lang()
        report = a.grade(who.variant, values)
        rows = _stored_verdicts(report)
        given = round(sum(v["credit"] for v in rows), 6)
        when = when or now()
        recorded = self.store.record(a.id, who, browser, {k: str(v) for k, v in values.items()}, rows, given,
                                     len(a.elements), settings.attempts, when)
        revealed = settings.revealed(recorded.attempt, when)
        told = feedback(report, a.elements, settings.hints, revealed, lang)
        counted = recorded.scores[-1] if settings.score == "latest" else max(recorded.scores)
        left = None if settings.attempts is None else settings.attempts - recorded.attempt
        return Verdicts(a.id, who.name, who.variant, recorded.attempt, left, told, counted, settings.score)

    def save(self, ident: str, student, answers, *, browser: str = "", when: datetime | None = None) -> None:
        """Keep a student's typed answers without checking them (per browser)."""
        a = self.assignment(ident)
        who = a.identify(student)
        values = a.read_answers(answers)
        self.store.save_draft(a.id, who.id, browser, {k: str(v) for k, v in values.items()}, when or now())

    def resume(self, ident: str, student, *, browser: str = "", lang: str | None = None) -> dict:
        """What a student saved or checked last **from this browser** (a typed name opens nobody else's
        work), with the feedback of that check as the settings allow it now."""
        a = self.assignment(ident)
        who = a.identify(student)
        settings = self.settings(a)
        draft = self.store.draft(a.id, who.id, browser)
        latest = self.store.latest(a.id, who.id, browser)
        checks = self.store.checks(a.id, who.id)
        out = {"student": who.name, "variant": who.variant, "checks": checks,
               "attempts_left": None if settings.attempts is None else max(settings.attempts - checks, 0),
               "answers": {}, "check": None}
        if latest is not None:
            out["answers"] = dict(latest.answers)
            report = a.grade(who.variant, a.read_answers(latest.answers))
            revealed = settings.revealed(checks, now())
            out["check"] = feedback(report, a.elements, settings.hints, revealed, lang or a.lang()).to_json()
            out["check"]["attempt"] = latest.attempt
        if draft is not None and (latest is None or utc(draft.updated) >= utc(latest.created)):
            out["answers"] = dict(draft.answers)
        return out

    def revealed(self, ident: str, student=None, when: datetime | None = None) -> bool:
        """Whether the solution may be shown (to ``student``, for the rules that count their checks)."""
        a = self.assignment(ident)
        settings = self.settings(a)
        if student is None:
            return settings.revealed(0, when or now())
        return settings.revealed(self.store.checks(a.id, a.identify(student).id), when or now())

    def solution(self, ident: str, student=None, lang: str | None = None):
        """The worked derivation of the student's variant, once the reveal rule allows it;
        :class:`Refused` before."""
        a = self.assignment(ident)
        if a.per_student and student is None:
            raise InputError("type your name or student ID: your problem is your own", key="student")
        if not self.revealed(ident, student):
            raise Refused("the worked solution is not shown yet", key="solution")
        variant = a.identify(student).variant if student is not None else ""
        return a.solution(variant, lang or a.lang())


def _stored_verdicts(report) -> list:
    """Per judged element what the teacher's summaries read: key, verdict, credit, last digit,
    likely mistake (its catalog key and arguments)."""
    out = []
    for v in report.verdicts:
        mistake = [v.mistakes[0].key, dict(v.mistakes[0].args)] if v.mistakes else None
        out.append({"key": v.answer.key, "verdict": v.verdict, "credit": v.credit, "last_digit": v.last_digit,
                    "mistake": mistake})
    return out


__all__ = ["Classroom", "Verdicts", "NotFound", "Refused"]
