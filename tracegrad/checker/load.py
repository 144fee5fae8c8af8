"""What a problem file is checked as: a network problem, an expression problem
(``expression = "…"`` with an ``[at]`` table), or a straight-line program (a name ending
in ``.py``). A new kind of problem is recognised here."""

from __future__ import annotations

from dataclasses import replace
from os import PathLike
from pathlib import Path

from ..core.errors import InputError
from ..expressions.program import read_program
from .expression import expression_subject, program_subject
from .policy import parse_policy
from .subject import Subject, network_subject

EXPRESSION_KEYS = ("title", "expression", "at", "answers", "tolerance", "layout", "grading")


def is_program(path) -> bool:
    """A name ending in ``.py`` is a straight-line program (:mod:`tracegrad.expressions.program`)."""
    return isinstance(path, (str, PathLike)) and Path(path).suffix.lower() == ".py"


def load_subject(path) -> Subject:
    """The subject of a problem file: a network problem, an expression problem
    (``expression = "…"`` with an ``[at]`` table of variable values), or a program (``.py``)."""
    from ..problem.schema import read_file, is_finite_number

    if is_program(path):
        return program_subject(read_program(path))
    data = read_file(Path(path))
    if "expression" not in data:
        return network_subject(path)

    source = str(path)
    for key in data:
        if key not in EXPRESSION_KEYS:
            raise InputError(f"unknown key; an expression problem has {', '.join(EXPRESSION_KEYS)}", file=source,
                             key=key)
    text, at, title = data["expression"], data.get("at", {}), data.get("title", "")
    if not isinstance(text, str):
        raise InputError("expected the expression as a text, e.g. expression = \"(x + y) * z\"", file=source,
                         key="expression")
    if not isinstance(at, dict):
        raise InputError("expected a table of variable values, e.g. [at] x = -2", file=source, key="at")
    for name, value in at.items():
        if not is_finite_number(value):
            raise InputError("expected a finite number", file=source, key=f"at.{name}")
    if not isinstance(title, str):
        raise InputError("expected a text", file=source, key="title")
    subject = expression_subject(text, {k: float(v) for k, v in at.items()}, title=title, source=source,
                                 file=source)
    if "grading" in data:
        subject = replace(subject, policy=parse_policy(data["grading"], source, subject.precision))
    return subject
