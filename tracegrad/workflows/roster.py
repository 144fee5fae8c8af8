"""Per-student variants: a roster of students, each assigned one variant.

A roster is a CSV file with a header row naming a column ``id`` (and optionally
``name``; other columns are ignored). Student ``id`` gets variant

    1 + (first 8 bytes of SHA-256("<assignment seed>\\n<id>") as a big-endian number) mod N

so the assignment depends only on the student's id, the assignment seed and the number
of variants: not on the roster's order, on other students, or on Python's ``hash``.
:func:`write_assignment` writes the teacher's mapping, ``assignment.csv`` (id, name,
variant, problem, key), next to the variants; :func:`student_problem` reads it back
for ``tracegrad check --student``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError

ASSIGNMENT = "assignment.csv"
COLUMNS = ("id", "name", "variant", "problem", "key")


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""


def _rows(path, required: tuple) -> list:
    """The rows of a CSV file as dicts with lower-cased headers, numbered from 2 (after the header)."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the CSV file as UTF-8", file=source) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file ({exc})", file=source) from None
    if not rows:
        raise InputError("empty; expected a header row naming the columns " + ", ".join(required), file=source)
    header = [h.strip().lower() for h in rows[0]]
    for column in required:
        if column not in header:
            raise InputError(f"no column named {column!r} in the header row (found: {', '.join(header)})",
                             file=source, key="header")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if any(cell.strip() for cell in row):
            out.append((number, {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}))
    return out


def read_roster(path) -> tuple:
    """The students of a roster CSV; an empty or repeated id is refused, naming its row."""
    students, seen = [], set()
    for number, row in _rows(path, ("id",)):
        sid = row["id"]
        if not sid:
            raise InputError("empty id", file=str(path), key=f"row {number}")
        if sid in seen:
            raise InputError(f"id {sid!r} appears twice", file=str(path), key=f"row {number}")
        seen.add(sid)
        students.append(Student(sid, row.get("name", "")))
    if not students:
        raise InputError("no students: expected one row per student after the header", file=str(path))
    return tuple(students)


def variant_of(student_id: str, count: int, seed: str) -> int:
    """The variant (1 … ``count``) of a student, from the student's id and the assignment seed."""
    digest = hashlib.sha256(f"{seed}\n{student_id}".encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def assignment_csv(students, stems: list, seed: str) -> str:
    """The text of ``assignment.csv`` (id, name, variant, problem, key), written with the variants."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in students:
        stem = stems[variant_of(s.id, len(stems), seed) - 1]
        writer.writerow((s.id, s.name, stem, f"{stem}.toml", f"{stem}.key.toml"))
    return buffer.getvalue()


def assignment_rows(path) -> list:
    """The rows of an ``assignment.csv`` as ``(row number, {column: text})``, its columns checked."""
    return _rows(path, COLUMNS)


def student_problem(problem, student_id: str, assignment=None) -> Path:
    """The problem file of a student's variant, from ``assignment`` (an ``assignment.csv``)
    or, when that is not given, from ``problem`` being the variants directory. When
    ``problem`` is a problem file, the assigned variant must be one of its variants."""
    problem = Path(problem)
    if assignment is None:
        if not problem.is_dir():
            raise InputError("--student needs --roster ASSIGNMENT.csv (written by tracegrad variants --roster), "
                             "or the variants directory as PROBLEM", file=str(problem))
        assignment = problem / ASSIGNMENT
    assignment = Path(assignment)
    if not assignment.is_file():
        raise InputError("no such assignment file; tracegrad variants --roster writes it", file=str(assignment))
    for number, row in assignment_rows(assignment):
        if row["id"] == student_id:
            if not problem.is_dir() and not row["variant"].startswith(problem.stem + "-"):
                raise InputError(f"variant {row['variant']} is not a variant of {problem.name}",
                                 file=str(assignment), key=f"row {number}")
            if Path(row["problem"]).name != row["problem"]:
                raise InputError("expected the variant's file name, without a directory", file=str(assignment),
                                 key=f"row {number}")
            path = assignment.parent / row["problem"]
            if not path.is_file():
                raise InputError(f"the variant file {path} of student {student_id!r} does not exist",
                                 file=str(assignment), key=f"row {number}")
            return path
    raise InputError(f"no student with id {student_id!r}", file=str(assignment))
