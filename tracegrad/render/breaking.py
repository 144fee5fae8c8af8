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

import re
from dataclasses import dataclass, replace

from ..core import arithmetic as ar
from ..core.nested import cells, flatten
from ..core.notation import Math, element

WIDTH = 60
"""Characters of plain text the right-hand side of one row may take."""

ROW_WIDTH = 85
"""Characters a row broken at its outer operators may take before deeper ones are used: a page
holds some 80 (rows are filled to :data:`WIDTH`, but a single term may run longer)."""

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
    r"""``piece`` in rows at its + and − (one row when it fits, or cannot be broken): at the top
    level, or inside parentheses, ``1/N (L₀ + L₁ + …)``, each row then closing the parentheses
    still open with ``\right.`` and the next opening them again with ``\left.``. A piece that is
    one long square root is broken as ``\left(…\right)^{1/2}`` (a root's bar cannot span rows)."""
    if len(piece.text) <= WIDTH:
        return [Row(left, connector, piece)]
    terms = _terms(_unrooted(piece))
    if len(terms) < 2:
        return [Row(left, connector, piece)]
    deepest = max(t[2] for t in terms)
    for depth in range(deepest + 1):  # the outermost operators that give rows within the width
        groups = _groups(terms, depth)
        if all(sum(len(t[1]) for t in group) <= ROW_WIDTH for group in groups):
            break
    rows = []
    for k, group in enumerate(groups):
        opened = group[0][2]
        still_open = groups[k + 1][0][2] if k + 1 < len(groups) else 0
        latex = r"\left. " * opened + "".join(t[0] for t in group).strip() + r" \right." * still_open
        text = "".join(t[1] for t in group).strip()
        if k:
            latex, text = r"\quad " + latex, "  " + text
        rows.append(Row(left if k == 0 else None, connector if k == 0 else "", Math(latex, text)))
    return rows


def _groups(terms: list, depth: int) -> list:
    """``terms`` in rows within the width, cut only before terms at most ``depth`` parentheses
    deep: the pieces between such cuts, as many to a row as fit."""
    pieces: list = []
    for term in terms:
        if pieces and term[2] > depth:
            pieces[-1].append(term)
        else:
            pieces.append([term])
    groups, current = [], []
    for piece in pieces:
        if current and sum(len(t[1]) for t in current + piece) > WIDTH:
            groups.append(current)
            current = list(piece)
        else:
            current += piece
    groups.append(current)
    return groups


def _unrooted(piece: Math) -> Math:
    r"""``\sqrt{X}`` (``√(X)``) as ``\left(X\right)^{1/2}``, so that X can be broken; else ``piece``."""
    latex, text = piece.latex, piece.text
    if latex.startswith(r"\sqrt{") and latex.endswith("}") and text.startswith("√(") and text.endswith(")"):
        inner, inner_text = latex[len(r"\sqrt{"):-1], text[2:-1]
        if _balanced(inner, "{", "}") and _balanced(inner_text, "(", ")"):
            return Math(r"\left(" + inner + r"\right)^{1/2}", "√(" + inner_text + ")")
    return piece


def _balanced(s: str, opening: str, closing: str) -> bool:
    depth = 0
    for c in s:
        depth += (c == opening) - (c == closing)
        if depth < 0:
            return False
    return depth == 0


_NUMBERS = re.compile(r"\d+\.\d+")  # the printed decimals (½, ² and \frac{1}{2} write integers differently)


def _terms(piece: Math) -> list:
    r"""``[(latex, text, open parentheses before it)]``: ``piece`` cut before each `` + `` and
    `` − `` of its LaTeX that lies at the top level or inside parentheses only (``\left(`` …
    ``\right)``; never inside braces, brackets or an environment), and its text at the same
    operators, found between the same printed numbers; not cut at all when they cannot be
    matched."""
    latex = _latex_cuts(piece.latex)
    whole = [(piece.latex, piece.text, 0)]
    numbers = list(_NUMBERS.finditer(piece.text))
    if len(latex) < 2 or len(numbers) != len(_NUMBERS.findall(piece.latex)):
        return whole
    cuts, before = [], 0
    for (fragment, _), (following, _) in zip(latex, latex[1:]):
        before += len(_NUMBERS.findall(fragment))
        low = numbers[before - 1].end() if before else 0
        high = numbers[before].start() if before < len(numbers) else len(piece.text)
        operator = " + " if following.startswith(" + ") else " − "
        at = piece.text.find(operator, max(low, cuts[-1] + 1 if cuts else 0), high)
        if at < 0:
            return whole
        cuts.append(at)
    bounds = [0, *cuts, len(piece.text)]
    texts = [piece.text[i:j] for i, j in zip(bounds, bounds[1:])]
    return [(lat, txt, depth) for (lat, depth), txt in zip(latex, texts)]


def _latex_cuts(s: str) -> list:
    """``[(fragment, open \\left( before it)]`` of LaTeX ``s``."""
    parts, stack, start, depth_at_start, i = [], [], 0, 0, 0
    while i < len(s):
        opening = s.startswith(r"\left", i)
        j = i + len(r"\left" if opening else r"\right")
        if (opening or s.startswith(r"\right", i)) and not s[j:j + 1].isalpha():  # not \leftarrow
            if opening:
                stack.append("(" if s.startswith("(", j) else "|")
            elif stack:
                stack.pop()
            m = re.match(r"\\[A-Za-z]+|\\.|.", s[j:])  # the delimiter: ( . \lVert \{
            i = j + (m.end() if m else 0)
            continue
        if s.startswith(r"\begin", i) or s[i] in "{[(":
            stack.append("{")
        elif s.startswith(r"\end", i) or s[i] in "}])":
            if stack:
                stack.pop()
        elif i > start and all(c == "(" for c in stack) and (s.startswith(" + ", i) or s.startswith(" - ", i)):
            parts.append((s[start:i], depth_at_start))
            start, depth_at_start = i, len(stack)
        i += 1
    parts.append((s[start:], depth_at_start))
    return parts


def _relation(relation: str) -> Math:
    return Math({"≈": r" \approx ", "←": r" \leftarrow "}.get(relation, f" {relation} "), f" {relation} ")
