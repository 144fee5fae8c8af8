"""The student's sheet: the derivation's view model with the asked numbers taken out.

:func:`sheet` keeps the derivation's first section (the problem: network, given numbers, loss,
optimizer) as it is, and of the sections that compute (forward pass, loss, backward pass,
update) every asked line with its caption, symbol and formula but **no** expansion and no value,
each element of it an answer :class:`Box`; lines nobody asked for, block notes that quote computed
numbers, the gradient table and the closing sections are left out. What is not in the model
cannot reach a page, so the pages render it with the derivation's own template.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..render.layer_view import line_positions
from ..render.model import Block, DerivationView, Line, Section
from ..render.mathtext import Math

PROBLEM_SECTION = "network"
"""The section stating the problem: everything in it is given."""
COMPUTING = ("scale", "forward", "loss", "backward", "update")
"""Sections whose lines compute: only asked lines stay, without their numbers."""


@dataclass(frozen=True)
class Box:
    """An answer box: the element's answers-file name (``a1[1]``), its symbol as text and LaTeX
    (a₁[1]), and its place among the boxes (derivation order, from 0)."""

    key: str
    label: Math
    index: int

    @classmethod
    def of(cls, element) -> "Box":
        return cls(element.key, element.label, element.index)


@dataclass(frozen=True)
class Sheet:
    """The problem section, the withheld derivation with its lines' boxes (``boxes[(section, block,
    line)]``, positions in ``derivation``), and every box in derivation order."""

    problem: Section
    derivation: DerivationView
    boxes: dict
    order: tuple


def sheet(derivation: DerivationView, worked, elements: tuple, more: str) -> Sheet:
    """The sheet of ``derivation`` (the layer view of ``worked``) asking ``elements`` (the
    assignment's :class:`~tracegrad.classroom.assignment.Element` s); asked quantities that no line
    prints get lines of their own in a last section headed ``more``."""
    where = line_positions(derivation, worked)
    asked: dict = {}
    for element in elements:
        asked.setdefault(where.get(element.name), []).append(element)
    sections, boxes = [], {}
    for s, section in enumerate(derivation.sections):
        if section.key not in COMPUTING:
            continue
        blocks = []
        for b, block in enumerate(section.blocks):
            lines, marks = [], []
            for i, line in enumerate(block.lines):
                found = asked.pop((s, b, i), None)
                if found is None and (line.name in worked.quantities or line.formula is not None):
                    continue  # computed (or a rule) and not asked: left out
                lines.append(_withheld(line) if found else line)
                marks.append(found or [])
            if lines:
                position = (len(sections), len(blocks))
                for i, found in enumerate(marks):
                    if found:
                        boxes[position + (i,)] = tuple(map(Box.of, found))
                blocks.append(Block(block.heading, tuple(lines)))
        if blocks:
            sections.append(Section(section.key, section.heading, (), tuple(blocks)))
    rest = [e for found in asked.values() for e in found]  # asked quantities no line prints
    if rest:
        lines = []
        for name in dict.fromkeys(e.name for e in rest):
            mine = [e for e in rest if e.name == name]
            lines.append(Line(name, "", mine[0].symbol, mine[0].formula, None, "=", Math("", ""), None, True))
            boxes[(len(sections), 0, len(lines) - 1)] = tuple(map(Box.of, mine))
        sections.append(Section("more", more, (), (Block("", tuple(lines)),)))
    problem = next(section for section in derivation.sections if section.key == PROBLEM_SECTION)
    withheld = DerivationView(derivation.title, derivation.lang, derivation.view, derivation.rounding,
                              derivation.precision, derivation.note, tuple(sections))
    order = tuple(sorted((box for found in boxes.values() for box in found), key=lambda box: box.index))
    return Sheet(problem, withheld, boxes, order)


def _withheld(line: Line) -> Line:
    """The line as a question: caption, symbol and formula; no expansion, no value, no numbers."""
    return Line(line.name, line.caption, line.symbol, line.formula, None, "=", Math("", ""), None, True,
                connector=line.connector)


__all__ = ["Box", "Sheet", "sheet"]
