"""Lines laid out in rows no wider than a page.

A line ``symbol = formula = expansion ≈ value`` of a wide network does not fit a page: the
expansion of z₁ for four units with three inputs each takes some 250 characters. Such a line
is laid out in :class:`Row` s for LaTeX (``align*``) and Markdown (``aligned``):

* a vector or matrix expansion is written **element by element**, ``z₁[0] = … ≈ 1.915``, one
  row per element, then the whole value;
* an expansion or formula longer than the width is **broken at its top-level + and −**, the
  continuation rows indented;
* a value wider than the width is written **row by row** (a matrix) and in **chunks** (a
  long vector).

Widths are counted in characters of the plain text, which a page of 11-point mathematics
(or a Markdown column rendered by KaTeX) holds about 80 of; :data:`WIDTH` leaves room for the
symbol on the left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core import arithmetic as ar
from ..core.nested import cells, flatten
from ..core.notation import Math, element

WIDTH = 60
"""Characters of plain text the right-hand side of one row may take."""

LINE_WIDTH = 90
"""Characters a whole line may take on one row of Markdown before it is laid out in rows."""


@dataclass(frozen=True)
class Row:
    """One row of a line laid out over several: ``left connector right``. ``left`` is the
    symbol (or an element's, ``z₁[0]``), ``None`` on a continuation; ``connector`` is ``=``,
    ``≈``, ``←`` or empty on a continuation row, whose ``right`` starts with its operator."""

    left: Math | None
    connector: str
    right: Math


def laid_out(line, elements=None):
    """``line`` with its :attr:`~tracegrad.render.model.Line.rows` when it is too wide for one
    row of Markdown or has a part wider than :data:`WIDTH`; unchanged otherwise. ``elements``
    is the value's elements as printed (nested :class:`Math`), for writing it row by row."""
    chain = line.chain()
    expansion = _map(line.cells, ar.write) if _is_grid(line.cells) else None

    def width(piece):
        if piece is line.expansion and expansion is not None:
            return _grid_width(expansion)
        if piece is line.value and _is_grid(elements):
            return _grid_width(elements)
        return len(piece.text)
    if sum(width(piece) + 3 for _, piece in chain) <= LINE_WIDTH and all(width(p) <= WIDTH for _, p in chain[1:]):
        return line
    symbol = chain[0][1]
    rows: list = []
    left = symbol
    for connector, piece in chain[1:]:
        if piece is line.expansion and expansion is not None and width(piece) > WIDTH:
            rows += _element_rows(line, symbol, "←" if line.connector == "←" else connector, elements)
            left = symbol  # the whole value follows, under the symbol again
        elif piece is line.value and _is_grid(elements) and width(piece) > WIDTH:
            rows += _grid_rows(left, connector, elements, symbol)
            left = None
        else:
            rows += _broken(left, connector, piece)
            left = None
    if line.check is not None:
        last = rows[-1]
        rows[-1] = Row(last.left, last.connector, last.right + line.check)
    return replace(line, rows=tuple(rows))


def table_rows(label: Math, relation: Math, elements) -> list:
    """``[(label, cell)]``: a table row of a vector or matrix value (``relation`` before it), or,
    when it is wider than :data:`WIDTH`, one row per matrix row (``W₁[0]``) and per chunk."""
    from .mathtext import grid

    if not _is_grid(elements) or _grid_width(elements) <= WIDTH:
        return [(label, relation + grid(elements, lambda m: m))]
    out = []
    for row in _grid_rows(label, "", elements, label):
        out.append((row.left or Math("", ""), (relation if row.left else Math("", "")) + row.right))
    return out


def _is_grid(nested) -> bool:
    return isinstance(nested, (list, tuple)) and len(list(flatten(nested))) > 1


def _map(nested, f):
    return [_map(item, f) for item in nested] if isinstance(nested, (list, tuple)) else f(nested)


def _grid_width(grid) -> int:
    """The width a vector or matrix of :class:`Math` takes on the page: a matrix as wide as its
    widest row (its rows stack), each gap between cells two characters."""
    if not isinstance(grid, (list, tuple)):
        return len(grid.text)
    if grid and isinstance(grid[0], (list, tuple)):
        if grid[0] and isinstance(grid[0][0], (list, tuple)):  # a batch of matrices, side by side
            return sum(_grid_width(m) + 2 for m in grid)
        return max(sum(len(c.text) + 2 for c in row) for row in grid) + 2
    return sum(len(c.text) + 2 for c in grid)


def _element_rows(line, symbol: Math, connector: str, elements) -> list:
    """One row per element: ``z₁[0] = 0.5 × 0.21 + … ≈ 1.915`` (broken further when long)."""
    rows = []
    values = list(flatten(elements)) if elements is not None else [None] * len(list(flatten(line.cells)))
    for (position, cell), value in zip(cells(line.cells), values):
        label = element(symbol, position)
        expansion = ar.write(cell)
        piece = expansion if value is None else expansion + _relation(line.relation) + value
        if len(piece.text) <= WIDTH:
            rows.append(Row(label, connector, piece))
            continue
        rows += _broken(label, connector, expansion)
        if value is not None:
            rows.append(Row(None, line.relation, value))
    return rows


def _grid_rows(left, connector: str, elements, symbol: Math) -> list:
    """A value too wide for a row: a matrix row by row (``W₁[0] = [...]``), a vector in chunks."""
    if isinstance(elements[0], (list, tuple)):
        rows = []
        for i, row in enumerate(elements):
            rows += _chunks(element(symbol, (i,)), connector, list(row))
        return rows
    return _chunks(left, connector, list(elements))


def _chunks(left, connector: str, items: list) -> list:
    """``[a, b, c, …]`` over as many rows as it needs, the brackets unpaired across rows."""
    rows, current = [], []
    for k, item in enumerate(items):
        candidate = current + [item]
        if current and sum(len(m.text) + 2 for m in candidate) + 2 > WIDTH:
            rows.append(current)
            current = [item]
        else:
            current = candidate
    rows.append(current)
    out = []
    for k, group in enumerate(rows):
        latex = ", ".join(m.latex for m in group)
        text = ", ".join(m.text for m in group)
        opening, closing = ("[" if k == 0 else ""), ("]" if k == len(rows) - 1 else ",")
        right = Math(("" if k == 0 else r"\quad ") + opening + latex + closing,
                     ("" if k == 0 else "  ") + opening + text + closing)
        out.append(Row(left if k == 0 else None, connector if k == 0 else "", right))
    return out


def _broken(left, connector: str, piece: Math) -> list:
    r"""``piece`` in rows at its top-level + and − (one row when it fits, or cannot be broken);
    a piece that is a factor times one long parenthesis, ``1/N (L₀ + L₁ + …)``, is broken
    inside the parenthesis (``\left(`` … ``\right.`` on the first row, ``\left.`` … ``\right)``
    on the last)."""
    if len(piece.text) <= WIDTH:
        return [Row(left, connector, piece)]
    terms = _terms(piece)
    if len(terms) >= 2:
        return _rows(left, connector, _groups(terms))
    wrapped = _wrapped(piece)
    if wrapped is None:
        return [Row(left, connector, piece)]
    (head_latex, head_text), inner, closing = wrapped
    groups = _groups(_terms(inner))
    if len(groups) < 2:
        return [Row(left, connector, piece)]
    last = len(groups) - 1
    framed = []
    for k, group in enumerate(groups):
        latex = "".join(t[0] for t in group).strip()
        text = "".join(t[1] for t in group).strip()
        latex = (head_latex + r"\left(" if k == 0 else r"\left. ") + latex + (closing if k == last else r"\right.")
        text = (head_text + "(" if k == 0 else "") + text + (")" if k == last else "")
        framed.append([(latex, text)])
    return _rows(left, connector, framed)


def _groups(terms: list) -> list:
    groups, current = [], []
    for term in terms:
        if current and sum(len(t[1]) for t in current) + len(term[1]) > WIDTH:
            groups.append(current)
            current = [term]
        else:
            current.append(term)
    groups.append(current)
    return groups


def _rows(left, connector: str, groups: list) -> list:
    rows = []
    for k, group in enumerate(groups):
        latex = "".join(t[0] for t in group).strip()
        text = "".join(t[1] for t in group).strip()
        if k:
            latex, text = r"\quad " + latex, "  " + text
        rows.append(Row(left if k == 0 else None, connector if k == 0 else "", Math(latex, text)))
    return rows


_OPENING, _CLOSING = "([{", ")]}"


def _wrapped(piece: Math):
    r"""``((head latex, head text), inner, closing)`` when ``piece`` ends in one parenthesis
    holding the rest (``\frac{1}{10}\left(…\right)``, ``1/10(…)``), or is one square root
    (``\sqrt{…}``, ``√(…)``: broken as ``\left(…\right)^{1/2}``, since a root's bar cannot span
    rows), else None."""
    latex, text = piece.latex, piece.text
    if latex.startswith(r"\sqrt{") and _matching_open(latex, "{", "}") == len(r"\sqrt") \
            and text.startswith("√(") and _matching_open(text, "(", ")") == 1:
        return ("", "√"), Math(latex[len(r"\sqrt{"):-1], text[2:-1]), r"\right)^{1/2}"
    if not (latex.endswith(r"\right)") and text.endswith(")")):
        return None
    lat = _matching_open(latex, r"\left(", r"\right)")
    txt = _matching_open(text, "(", ")")
    if lat is None or txt is None:
        return None
    return (latex[:lat], text[:txt]), Math(latex[lat + len(r"\left("):-len(r"\right)")], text[txt + 1:-1]), r"\right)"


def _matching_open(s: str, opening: str, closing: str):
    """The index of the ``opening`` that the final ``closing`` of ``s`` closes."""
    depth, i = 0, len(s) - len(closing)
    while i >= 0:
        if s.startswith(closing, i):
            depth += 1
        elif s.startswith(opening, i):
            depth -= 1
            if depth == 0:
                return i
        i -= 1
    return None


def _terms(piece: Math) -> list:
    """``[(latex, text)]``: ``piece`` cut before each top-level `` + `` and `` − ``, the same cuts
    in both notations (none when they do not agree)."""
    latex = _cut(piece.latex, (" + ", " - "), (r"\begin", r"\end"))
    text = _cut(piece.text, (" + ", " − "), ())
    return list(zip(latex, text)) if len(latex) == len(text) else [(piece.latex, piece.text)]


def _cut(s: str, operators: tuple, environments: tuple) -> list:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        if environments and s.startswith(environments[0], i):
            depth += 1
        elif environments and s.startswith(environments[1], i):
            depth -= 1
        c = s[i]
        if c in _OPENING:
            depth += 1
        elif c in _CLOSING:
            depth -= 1
        elif depth == 0 and i > start and any(s.startswith(op, i) for op in operators):
            parts.append(s[start:i])
            start = i
            i += 1
            continue
        i += 1
    parts.append(s[start:])
    return parts


def _relation(relation: str) -> Math:
    return Math({"≈": r" \approx ", "←": r" \leftarrow "}.get(relation, f" {relation} "), f" {relation} ")
