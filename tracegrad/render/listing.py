"""The list of named quantities (``tracegrad quantities``): what an answers file can answer."""

from __future__ import annotations

from dataclasses import dataclass

from . import mathtext as mt
from .mathtext import Math
from ..core.nested import shape_of
from ..core.nested import flatten


@dataclass(frozen=True)
class Entry:
    name: str
    shape: list
    shape_text: str
    symbol: Math
    formula: Math | None  # None when it would only repeat the symbol
    relation: str  # "=" for an exact value, "≈" for a rounded one
    value: Math
    values: object  # nested floats


@dataclass(frozen=True)
class Listing:
    title: str
    lang: str
    problem: str
    intro: str
    usage: str
    header: tuple
    entries: tuple


def listing(subject, fmt, lang: str | None = None, template_dir=None) -> Listing:
    """Every quantity of ``subject`` with its shape, symbol, formula and value (displayed with ``fmt``)."""
    from .environment import Catalog

    msg = Catalog(lang or subject.lang, template_dir)
    nodes = subject.trace.nodes
    entries = []
    for name, grid in subject.quantities.items():
        values = _values(grid, nodes)
        shape = shape_of(grid)
        symbol = subject.symbols.get(name) or Math(name, name)
        formula = subject.formulas.get(name)
        if formula is not None and formula.text == symbol.text:
            formula = None
        relation = "=" if all(fmt.is_exact(nodes[i].data) for i in flatten(grid)) else "≈"
        shape_text = "×".join(map(str, shape)) if shape else msg("quantities.number")
        entries.append(Entry(name, list(shape), shape_text, symbol, formula, relation,
                             mt.grid(values, lambda x: mt.number(x, fmt)), values))
    header = tuple(msg(f"quantities.{c}") for c in ("name", "shape", "symbol", "formula", "value"))
    return Listing(subject.title or msg("quantities.title"), msg.lang, subject.source, msg("quantities.intro"),
                   msg("quantities.usage"), header, tuple(entries))


def _values(grid, nodes):
    if isinstance(grid, tuple):
        return [_values(g, nodes) for g in grid]
    return nodes[grid].data


def render_listing(subject, format: str, lang: str | None, fmt, template_dir=None) -> str:
    """The listing as ``text``, ``markdown`` or ``json``."""
    from .environment import Catalog, render
    from .model import to_json

    view = listing(subject, fmt, lang, template_dir)
    if format == "json":
        return to_json(view)
    return render("quantities", format, template_dir, view.lang, q=view, msg=Catalog(view.lang, template_dir))
