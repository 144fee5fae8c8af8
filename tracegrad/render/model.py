"""View models: plain frozen dataclasses holding ready strings and numbers.

Templates lay these out and decide nothing; :func:`to_json` dumps them as the
stable JSON format.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .mathtext import Math


@dataclass(frozen=True)
class Line:
    """One printed step: ``symbol = formula = expansion (=|≈) value``."""

    name: str
    caption: str
    symbol: Math
    formula: Math | None
    expansion: Math | None
    relation: str
    value: Math
    values: object  # nested floats as computed (carry-rounded under carry)
    exact: bool
    check: Math | None = None  # a correct value shown beside a departing printed one (as-printed mode)
    connector: str = "="  # between the symbol and what follows: "=" or "←" (updates)
    closed: Math | None = None  # the general formula SymPy derived (--symbolic)
    cells: object = None  # the expansion as data: per element an arithmetic tree (op, args) over printed numbers
    texts: object = None  # the printed result, per element
    rows: tuple = ()  # the line laid out in rows no wider than a page, when it is too wide (render.breaking.Row)

    def chain(self) -> list:
        """``[(None, symbol), (connector, formula), ("=", closed form), ("=", expansion), (relation, value)]``,
        skipping absent parts."""
        items = [(None, self.symbol)]
        connector = self.connector
        for piece in (self.formula, self.closed, self.expansion):
            if piece is not None:
                items.append((connector, piece))
                connector = "="
        if self.value.text:
            items.append((self.relation if connector == "=" else connector, self.value))
        return items


@dataclass(frozen=True)
class Block:
    heading: str
    lines: tuple
    note: str = ""  # a paragraph under the heading (why a step reads as it does, what is left out)


@dataclass(frozen=True)
class Table:
    """A table of ready cells: ``header`` of strings (words) and Math (symbols), ``rows`` of Math."""

    heading: str
    header: tuple
    rows: tuple


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    intro: tuple
    blocks: tuple
    table: Table | None = None  # printed before the blocks (the gradient summary, losses per step …)


@dataclass(frozen=True)
class GradientRow:
    """A row of the gradient summary table."""

    parameter: Math
    gradient: Math
    relation: str


@dataclass(frozen=True)
class Confirmation:
    """A row of the --verify table: a derivative, its symbolic form, SymPy's value and the engine's,
    written in the derivation's notation."""

    name: str  # the derivative as text: ∂L/∂W₁[0][1]
    of: str  # the same as LaTeX
    formula: str  # LaTeX
    formula_text: str
    symbolic: str
    engine: str
    agree: bool
    key: str = ""  # its answers-file name: dL/dW1[0][1]


@dataclass(frozen=True)
class DerivationView:
    """A whole derivation, ready for a template."""

    title: str
    lang: str
    view: str
    rounding: str
    precision: str
    note: str
    sections: tuple
    table: tuple = ()
    table_header: tuple = ()
    summary: tuple = ()  # (caption, Math) pairs
    extra: dict = field(default_factory=dict)  # rendered sections added by options (--graph)
    confirmations: tuple = ()  # --verify
    checked: tuple = ()  # --verify: what the line verifier found, as sentences (every line true as printed)


def to_json(model) -> str:
    """The view model as stable, indented JSON (keys in declaration order)."""
    return json.dumps(asdict(model), ensure_ascii=False, indent=2) + "\n"
