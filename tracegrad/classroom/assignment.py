"""An assignment: a problem (or one variant per student) with the teacher's settings.

Three kinds, by what ``tracegrad serve --assignment`` is given:

* a problem file: every student works the same numbers;
* a problem file with a ``[variants]`` table: each student works one of ``variants`` variants
  drawn with ``seed`` (the variants ``tracegrad variants PROBLEM --count N --seed S`` writes),
  the one :func:`~tracegrad.workflows.roster.variant_of` gives their identity with the
  assignment's id as the assignment seed: the same one every time;
* a variants directory written by ``tracegrad variants --roster`` (its ``assignment.csv``): each
  student of the roster works the variant assigned to them, by their code (the roster's id).

The asked elements (:class:`Element`, e.g. ``a1[1]``) are the same for every variant: the
graph is the same, only numbers change.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..checker.subject import network_subject
from ..core.errors import InputError
from ..core.files import resolve_inside
from ..core.nested import cells, shape_of
from ..core.notation import element as element_of
from ..problem.schema import load_problem, parse_problem, read_file
from ..problem.solve import solve
from ..render.environment import Catalog
from ..render.layer_view import line_positions, positions
from ..render.mathtext import Math
from ..workflows.check import check
from ..workflows.derive import derive
from ..workflows.roster import ASSIGNMENT, assignment_rows, read_roster, variant_of
from ..workflows.variants import generate, variant_stems
from .errors import NotFound
from .settings import Settings, parse_settings, stem_id
from .sheet import Sheet, sheet

MAX_NAME = 100
"""Characters of a typed name or code."""
MAX_NUMBER = 40
"""Characters of one typed number."""
CACHED_VARIANTS = 64
"""Variants whose solved problem and grader are kept (a class larger than this re-solves some)."""


@dataclass(frozen=True)
class Element:
    """One asked number: its answers-file name (``a1[1]``, ``dL/dW2[0]``: axes of length one left
    out), its quantity and trace node (the same in every variant), its symbol (a₁[1]) and its quantity's symbol and formula, and
    its place in derivation order (``index``)."""

    key: str
    name: str
    node: int
    label: Math
    symbol: Math
    formula: Math | None
    index: int


@dataclass(frozen=True)
class Student:
    """Who submits: ``id`` as stored (a roster's id, or the typed name folded: ``Li Wei`` and
    ``li  wei`` are one student), ``name`` as shown, and the label of their ``variant`` ("" when
    everyone works the same problem)."""

    id: str
    name: str
    variant: str


class _Variant:
    """A variant's solved problem and subject, and a lock for its grader."""

    def __init__(self, worked):
        self.worked = worked
        self.subject = network_subject(worked)
        self.lock = threading.Lock()
        self.sheets: dict = {}


class Assignment:
    """A served assignment (see the module docstring). ``source`` is what the teacher named."""

    def __init__(self, source: Path, settings: Settings, problems: dict, roster: dict | None, drawn: bool):
        self.source = source
        self.settings = settings
        self.id = settings.id
        self._problems = problems  # variant label → problem table (parsed file), "" for the one problem
        self._roster = roster  # folded id → (id, name, variant), or None: any typed name
        self.drawn = drawn
        self._variants: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        first = self._variant(next(iter(problems)))
        self.title = first.worked.problem.title or source.stem
        self.elements = _elements(first.worked, first.subject, settings)

    @property
    def by_roster(self) -> bool:
        """Students identify with a roster's code, not any name."""
        return self._roster is not None

    @property
    def variants(self) -> tuple:
        """The variants' labels ("" alone when everyone works the same problem)."""
        return tuple(self._problems)

    @property
    def per_student(self) -> bool:
        """Students work different numbers: a page must know who they are before it shows them."""
        return len(self._problems) > 1

    # --- who ------------------------------------------------------------------------

    def identify(self, typed) -> Student:
        """The student a typed name (or roster code) stands for; one message when it is empty, too long,
        or not on the roster."""
        if not isinstance(typed, str):
            raise InputError("expected your name or student ID as a text", key="student")
        name = " ".join(unicodedata.normalize("NFKC", typed).split())
        if not name:
            raise InputError("type your name or student ID", key="student")
        if len(name) > MAX_NAME or not name.isprintable():
            raise InputError(f"a name or ID of at most {MAX_NAME} printable characters, please", key="student")
        if self._roster is not None:
            found = self._roster.get(name.casefold())
            if found is None:
                raise InputError("not on this assignment's roster; type the code (student ID) your teacher gave you",
                                 key="student")
            return Student(*found)
        folded = name.casefold()
        labels = list(self._problems)
        variant = labels[variant_of(folded, len(labels), self.id) - 1] if self.drawn else ""
        return Student(folded, name, variant)

    # --- the problem of a variant ---------------------------------------------------

    def _variant(self, label: str) -> _Variant:
        with self._lock:
            found = self._variants.get(label)
            if found is not None:
                self._variants.move_to_end(label)
                return found
        if label not in self._problems:
            raise NotFound(f"no variant {label!r} in assignment {self.id}")
        made = _Variant(solve(parse_problem(self._problems[label], str(self._path(label)))))
        with self._lock:
            found = self._variants.setdefault(label, made)
            while len(self._variants) > CACHED_VARIANTS:
                self._variants.popitem(last=False)
        return found

    def _path(self, label: str) -> Path:
        return self.source if not label or self.source.is_file() else self.source / f"{label}.toml"

    def subject(self, variant: str):
        """The checker's subject of a variant ("" for the assignment's one problem)."""
        return self._variant(variant).subject

    def grade(self, variant: str, answers: dict):
        """The check :class:`~tracegrad.workflows.check.Report` of ``answers`` (element key → Decimal,
        at least one) against a variant, under the problem's grading policy."""
        v = self._variant(variant)
        with v.lock:  # a grader fills its caches on first use
            return check(v.subject, answers)

    def sheet(self, variant: str, lang: str) -> Sheet:
        """The student's sheet of a variant in ``lang``."""
        v = self._variant(variant)
        with v.lock:
            if lang not in v.sheets:
                model = derive(v.worked, format="json", lang=lang, view="layer").model
                v.sheets[lang] = sheet(model, v.worked, self.elements, Catalog(lang)("serve.homework.more"))
            return v.sheets[lang]

    def solution(self, variant: str, lang: str):
        """The worked derivation of a variant (layer view, the problem's rounding) in ``lang``."""
        return derive(self._variant(variant).worked, format="json", lang=lang, view="layer").model

    def lang(self) -> str:
        """The problem's language (its ``[render] lang``)."""
        return self._variant(next(iter(self._problems))).worked.problem.render.lang

    # --- what was typed -------------------------------------------------------------

    def read_answers(self, raw) -> dict:
        """Typed answers (``{element key: number or text}``) as ``{key: Decimal}`` with the digits as
        typed; blank boxes are left out. A name that is no box, or a text that is no number, is one
        message naming the box."""
        if not isinstance(raw, dict):
            raise InputError("expected an object of answers, e.g. {\"a1[1]\": \"0.9084\"}", key="answers")
        keys = {e.key for e in self.elements}
        out = {}
        for key, value in raw.items():
            where = f"answers.{key}" if isinstance(key, str) and len(key) <= 60 else "answers"
            if key not in keys:
                raise InputError("not a box of this assignment", key=where)
            number = _number(value, where)
            if number is not None:
                out[key] = number
        return out


def _number(value, where: str) -> Decimal | None:
    """A typed number: ``0.9084``, ``-1.2e-3``, ``−0,5`` (a minus sign, a decimal comma), full-width
    digits; None for a blank box."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise InputError("expected a number", key=where)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace("−", "-").replace("－", "-")
        if not text:
            return None
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")
        if len(text) > MAX_NUMBER or not all(c in "0123456789.+-eE" for c in text):
            raise InputError("not a number; write digits with a decimal point, e.g. 0.9084", key=where)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InputError("not a number; write digits with a decimal point, e.g. 0.9084", key=where) from None
    else:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or abs(number.adjusted()) > 300:
        raise InputError("not a number a derivation writes", key=where)
    return number


def _elements(worked, subject, settings: Settings) -> tuple:
    """The asked elements in derivation order (asked quantities no line prints, after the others)."""
    quantities = subject.quantities
    model = derive(worked, format="json", view="layer").model
    where = line_positions(model, worked)
    if settings.asked is None:  # the quantities of the derivation's own lines
        names = list(dict.fromkeys(line.name for _, _, _, line in positions(model) if line.name in quantities))
    else:
        for name in settings.asked:
            if name not in quantities:
                shown = ", ".join(list(quantities)[:12]) + (", …" if len(quantities) > 12 else "")
                raise InputError(f"no quantity {name!r}; the problem has {shown} (tracegrad quantities PROBLEM "
                                 "lists them)", file=str(subject.source), key="assignment.asked")
        names = list(settings.asked)
    order = {name: k for k, name in enumerate(quantities)}
    names.sort(key=lambda name: (where.get(name, (float("inf"),)), order[name]))
    out = []
    for name in names:
        grid = quantities[name]
        shape = shape_of(grid)
        symbol = subject.symbols.get(name) or Math(name, name)
        formula = subject.formulas.get(name)
        for position, node in cells(grid):
            kept = tuple(i for i, n in zip(position, shape) if n != 1)
            key = name + "".join(f"[{i}]" for i in kept)
            out.append(Element(key, name, node, element_of(symbol, kept), symbol, formula, len(out)))
    return tuple(out)


# --- loading ----------------------------------------------------------------------------

def load_assignment(path) -> Assignment:
    """The assignment a problem file (with or without ``[variants]``) or a variants directory (with
    its ``assignment.csv``) describes; every mistake is one message naming the file and the key."""
    path = Path(path)
    if path.is_dir():
        return _from_directory(path)
    source = str(path)
    data = read_file(path)
    if "expression" in data:
        raise InputError("an assignment is a network problem file (an expression problem is checked with "
                         "tracegrad check)", file=source)
    problem = load_problem(path)
    settings = parse_settings(dict(problem.extra).get("assignment"), source, stem_id(path.stem))
    roster = None
    if settings.roster is not None:
        roster_path = resolve_inside(settings.roster, path.parent, file=source, key="assignment.roster")
        roster = {}
        for s in read_roster(roster_path):
            roster[s.id.casefold()] = (s.id, s.name or s.id, "")
    if "variants" not in dict(problem.extra):
        for key in ("variants", "seed"):
            if key in (dict(problem.extra).get("assignment") or {}):
                raise InputError("only for a problem with a [variants] table (each student then works a variant)",
                                 file=source, key=f"assignment.{key}")
        return Assignment(path, settings, {"": data}, roster, drawn=False)
    variants = generate(path, settings.variants, settings.seed)
    stems = variant_stems(path.stem, len(variants))
    problems = {stem: v.data for stem, v in zip(stems, variants)}
    if roster is not None:
        roster = {k: (sid, name, stems[variant_of(sid, len(stems), settings.id) - 1])
                  for k, (sid, name, _) in roster.items()}
    return Assignment(path, settings, problems, roster, drawn=True)


def _from_directory(folder: Path) -> Assignment:
    """A variants directory written by ``tracegrad variants --roster``."""
    table = folder / ASSIGNMENT
    if not table.is_file():
        raise InputError(f"a variants directory needs its {ASSIGNMENT} (tracegrad variants PROBLEM --roster "
                         "students.csv -o DIR writes it), or give a problem file", file=str(folder))
    roster, problems = {}, {}
    for number, row in assignment_rows(table):
        where = f"row {number}"
        if Path(row["problem"]).name != row["problem"] or not row["problem"].endswith(".toml") \
                or row["problem"][:-5] != row["variant"]:
            raise InputError("expected the variant's file name, without a directory", file=str(table), key=where)
        if row["variant"] not in problems:
            problems[row["variant"]] = read_file(folder / row["problem"])
        if row["id"].casefold() in roster:
            raise InputError(f"id {row['id']!r} appears twice", file=str(table), key=where)
        roster[row["id"].casefold()] = (row["id"], row["name"] or row["id"], row["variant"])
    if not roster:
        raise InputError("no students: expected one row per student after the header", file=str(table))
    first = next(iter(problems))
    raw = problems[first].get("assignment")
    settings = parse_settings(raw, str(folder / f"{first}.toml"), stem_id(folder.name))
    if settings.roster is not None:
        raise InputError(f"a variants directory's roster is its {ASSIGNMENT}; leave roster out",
                         file=str(folder / f"{first}.toml"), key="assignment.roster")
    for label, data in problems.items():
        if data.get("assignment") != raw:
            raise InputError(f"the [assignment] table differs from {first}.toml's; every variant has the same "
                             "settings", file=str(folder / f"{label}.toml"), key="assignment")
    return Assignment(folder, settings, problems, roster, drawn=False)


__all__ = ["Assignment", "Element", "Student", "load_assignment"]
