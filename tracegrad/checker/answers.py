"""Answers files: the numbers of a hand derivation, read with their digits as written.

.. code-block:: toml

    title = "Homework 3"             # optional, shown in the report
    [answers]
    z1 = [2.0, 2.4]
    "dL/dy_hat" = 0.2657             # names with '/' are quoted
    [tolerance]                      # refused, unless the teacher's grading policy lets it narrow
    decimals = 3                     # or sig_figs, or absolute and/or relative
    [layout]
    transposed = ["dL/dW1"]          # matrices written transposed (rows = units for in_out)

A key names a quantity (``z1``) or one of its elements or rows (``"z1[0]"``).
Numbers are kept as the decimal text the file wrote (TOML and JSON floats go
through :class:`~decimal.Decimal`), so ``0.0430`` keeps its four decimals. A
vector of one element may be written as a number, a matrix with one row or one
column as a flat list. :func:`bind` matches the answers to a subject's names and
shapes; every mistake is an :class:`~tracegrad.core.errors.InputError` naming the
file, the key and the valid names and shapes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from ..core.errors import InputError
from ..core.files import read_document
from ..core.limits import check
from ..core.nested import flatten, shape_of
from .tolerance import Tolerance, parse_tolerance

TOP_KEYS = ("title", "answers", "tolerance", "layout")


@dataclass(frozen=True)
class Answers:
    """A parsed answers file: ``values`` maps names to nested lists of :class:`Decimal`."""

    source: str
    title: str
    values: dict
    tolerance: Tolerance
    transposed: tuple = ()


@dataclass(frozen=True)
class Answer:
    """One written number bound to a trace node; ``position`` indexes the answer as written."""

    name: str
    position: tuple
    written: Decimal
    node: int

    @property
    def key(self) -> str:
        """``a1[1]``, ``dL/dW1[0][1]``: the element as the answers file addresses it."""
        return self.name + "".join(f"[{i}]" for i in self.position)


def load_answers(path, ignore=()) -> Answers:
    """Read an answers file (TOML, or JSON when the name ends in ``.json``); top-level keys in
    ``ignore`` belong to something else in the same file (an expression problem's own keys)."""
    data = read_document(path, decimal=True)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in ignore}
    return parse_answers(data, str(path))


def parse_answers(data, source: str = "<answers>") -> Answers:
    """Validate an already-parsed answers table. Floats given directly (Python) count with
    their shortest decimal form; pass :class:`Decimal` to keep trailing zeros."""
    if not isinstance(data, dict):
        raise InputError("expected a table at the top level", file=source)
    for key in data:
        if key not in TOP_KEYS:
            raise InputError(f"unknown key; expected one of {', '.join(TOP_KEYS)}", file=source, key=key)
    title = data.get("title", "")
    if not isinstance(title, str):
        raise InputError("expected a text", file=source, key="title")
    raw = data.get("answers")
    if not isinstance(raw, dict) or not raw:
        raise InputError("missing or empty: give an [answers] table of name = number or list "
                         "(tracegrad quantities PROBLEM lists the names)", file=source, key="answers")
    values, count = {}, 0
    for name, value in raw.items():
        values[name] = _numbers(value, source, _key(name))
        count += sum(1 for _ in flatten(values[name]))
        check("answers", count, file=source, key=_key(name))
    tolerance = parse_tolerance(data.get("tolerance"), source)
    layout = data.get("layout", {})
    if not isinstance(layout, dict):
        raise InputError("expected a table: [layout] with transposed = [names]", file=source, key="layout")
    for key in layout:
        if key != "transposed":
            raise InputError("unknown key; expected transposed = [names of matrices written transposed]",
                             file=source, key=f"layout.{key}")
    transposed = layout.get("transposed", [])
    if not isinstance(transposed, list) or not all(isinstance(n, str) for n in transposed):
        raise InputError("expected a list of quantity names", file=source, key="layout.transposed")
    for name in transposed:
        if name not in values:
            raise InputError(f"{name!r} is not among the answers; list only names answered as matrices",
                             file=source, key="layout.transposed")
    return Answers(source, title, values, tolerance, tuple(transposed))


def _key(name: str) -> str:
    return f'answers."{name}"' if any(c in name for c in "/.[@") else f"answers.{name}"


MAX_DEPTH = 4
"""Lists nested deeper than this are refused (quantities are at most matrices, or batches of vectors)."""


def _numbers(value, source: str, key: str, depth: int = 0):
    """Nested lists of Decimal, as written."""
    if isinstance(value, list):
        if not value:
            raise InputError("empty list; write the numbers", file=source, key=key)
        if depth == MAX_DEPTH:
            raise InputError(f"lists nested more than {MAX_DEPTH} deep; answers are numbers, vectors or matrices",
                             file=source, key=key)
        return [_numbers(v, source, f"{key}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        hint = "; write numbers without quotes" if isinstance(value, str) else ""
        raise InputError(f"expected a number, got {_describe(value)}{hint}", file=source, key=key)
    number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    if not number.is_finite() or not math.isfinite(float(number)):
        raise InputError(f"expected a finite number, got {value}", file=source, key=key)
    return number


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) < 40 else "a text"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


# --- binding answers to a subject's quantities ------------------------------------


def describe_shape(shape: tuple) -> str:
    """``a number``, ``2 numbers``, ``2×1 (or a flat list of 2)``."""
    squeezed = _squeeze(shape)
    if not squeezed:
        return "a number"
    if len(shape) == 1:
        return f"{shape[0]} numbers"
    text = "×".join(map(str, shape))
    return f"{text} (or a flat list of {squeezed[0]})" if len(squeezed) == 1 else text


def _squeeze(shape: tuple) -> tuple:
    return tuple(n for n in shape if n != 1)


def _layout(nested):
    """``(shape, numbers, positions)`` of nested lists, in reading order; None when they are not
    regular (every list at one depth the same length, holding the same kind of thing)."""
    if not isinstance(nested, list):
        return (), [nested], [()]
    parts = [_layout(item) for item in nested]
    if any(part is None for part in parts) or len({part[0] for part in parts}) != 1:
        return None
    return ((len(nested),) + parts[0][0], [x for part in parts for x in part[1]],
            [(i,) + pos for i, part in enumerate(parts) for pos in part[2]])


_ELEMENT = re.compile(r"^(?P<name>.+?)(?P<index>(?:\[\d+\])+)$")


def _element(key: str, quantities: dict, source: str):
    """``(quantity name, index)`` of an element key such as ``z1[0]`` or ``dL/dW1[0][1]``, or None."""
    m = _ELEMENT.match(key)
    if m is None or m.group("name") not in quantities:
        return None
    name, index = m.group("name"), tuple(int(i) for i in re.findall(r"\d+", m.group("index")))
    nodes = quantities[name]
    for depth, i in enumerate(index):
        if not isinstance(nodes, tuple):
            raise InputError(f"{name} has {depth} ax{'i' if depth == 1 else 'e'}s, this key indexes {len(index)}",
                             file=source, key=_key(key))
        if i >= len(nodes):
            raise InputError(f"index {i} out of range: axis {depth} of {name} has {len(nodes)} element"
                             f"{'s' * (len(nodes) != 1)} (0 to {len(nodes) - 1})", file=source, key=_key(key))
        nodes = nodes[i]
    return name, index


def bind(answers: Answers, subject) -> tuple:
    """Every written number as an :class:`Answer`, in the subject's order of quantities. A key
    may name a quantity (``z1``) or one of its elements or rows (``"z1[0]"``, ``"dL/dW1[1]"``)."""
    quantities = subject.quantities
    keyed: dict = {name: [] for name in quantities}  # quantity -> [(answers key, index)]
    for key in answers.values:
        if key in quantities:
            keyed[key].append((key, ()))
            continue
        element = _element(key, quantities, answers.source)
        if element is None:
            valid = "; ".join(f"{name} ({describe_shape(shape_of(nodes))})" for name, nodes in quantities.items())
            raise InputError(f"unknown quantity {key!r}; valid names: {valid} (an element: name[i], e.g. z1[0])",
                             file=answers.source, key=_key(key))
        if element[0] in answers.transposed:
            raise InputError(f"{element[0]} is answered element by element; give element keys in the problem's "
                             "layout and remove it from [layout] transposed", file=answers.source, key=_key(key))
        keyed[element[0]].append((key, element[1]))
    layouts = getattr(subject, "layouts", None)
    bound = []
    for name, nodes in quantities.items():
        written = {}  # element node -> (answers key, Answer), in the file's order
        for key, index in keyed[name]:
            whole = layouts[name] if layouts is not None and not index and name not in answers.transposed else None
            for a in _bind_one(answers, name, key, index, nodes, whole):
                if a.node in written:
                    raise InputError(f"{a.key} is answered twice, here and by {written[a.node][0]!r}",
                                     file=answers.source, key=_key(key))
                written[a.node] = (key, a)
        bound += sorted((a for _, a in written.values()), key=lambda a: a.position)
    return tuple(bound)


def _bind_one(answers: Answers, name: str, answer_key: str, index: tuple, nodes, whole=None) -> list:
    """The numbers written under one key: the quantity ``name``, or its element or row ``index``;
    ``whole`` is the quantity's layout when the key names all of it in the problem's layout."""
    written = answers.values[answer_key]
    key = _key(answer_key)
    laid_out = _layout(written)
    if laid_out is None:
        raise InputError("lists of different lengths or depths", file=answers.source, key=key)
    got, values, positions = laid_out
    if whole is not None and _squeeze(got) == whole[1]:
        return [Answer(name, position, value, node) for position, value, node in zip(positions, values, whole[2])]
    for i in index:
        nodes = nodes[i]
    shape = shape_of(nodes)
    if name in answers.transposed:
        if len(shape) != 2:
            raise InputError(f"{name} is not a matrix ({describe_shape(shape)}); remove it from "
                             "[layout] transposed", file=answers.source, key="layout.transposed")
        nodes = tuple(zip(*nodes))
        shape = shape[::-1]
    if _squeeze(got) != _squeeze(shape):
        hint = ""
        if len(shape) == 2 and got == shape[::-1] and name not in answers.transposed:
            hint = f'; if it is written transposed, add [layout] transposed = ["{name}"]'
        got_text = "a number" if not got else "×".join(map(str, got))
        raise InputError(f"expected {describe_shape(shape)}, got {got_text}{hint}", file=answers.source, key=key)
    return [Answer(name, index + position, value, node)
            for position, value, node in zip(positions, values, flatten(nodes))]
