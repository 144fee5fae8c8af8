"""Homework variants: the same network with new numbers, and their answer keys.

A problem file's ``[variants]`` table declares what to randomise and how::

    [variants]
    weights = { low = -1, high = 1, decimals = 1 }   # every weight of every layer
    bias = { low = -0.5, high = 0.5, decimals = 1 }
    x = { low = -2, high = 2, decimals = 0 }
    y = { low = 0, high = 1, decimals = 1 }
    exclude = ["relu_at_zero", "zero_gradient", "saturated"]

Each variant replays the recorded graph of the original problem with new leaf
values (the graph is the same; only numbers change), so the answer key is every
quantity of the derivation. A variant that hits an excluded degenerate case is
drawn again. Output is deterministic for a seed.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError
from ..core.escape import csv_cell
from ..core.files import OutputSet
from ..problem.schema import Problem, read_file, is_finite_number, parse_problem
from .derive import number_format
from ..compile.runtime import compile_trace
from ..core.nested import map_nested
from ..problem.solve import solve

TARGETS = ("weights", "bias", "x", "y")
EXCLUSIONS = {
    "relu_at_zero": "a ReLU or leaky ReLU input that is 0 at the printed precision",
    "zero_gradient": "a weight or bias gradient that rounds to 0 at the printed precision",
    "saturated": "a sigmoid or tanh output that rounds to its limit (0, 1 or ±1)",
}
MAX_TRIES = 1000
MAX_MAGNITUDE = 1_000_000
"""The largest number a range may draw: homework numbers, far from overflowing a float."""


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    decimals: int

    def draw(self, rng: random.Random) -> float:
        value = round(rng.uniform(self.low, self.high), self.decimals)
        return value + 0.0  # no negative zero


@dataclass(frozen=True)
class Variant:
    """One variant: its problem table and its answer key (``{name: nested floats}``)."""

    number: int
    data: dict
    key: dict


def _spec(problem: Problem, source: str) -> tuple:
    table = dict(problem.extra).get("variants")
    if not isinstance(table, dict):
        raise InputError("no [variants] table: declare the ranges to draw from (see the README)", file=source,
                         key="variants")
    ranges = {}
    for name in TARGETS:
        if name not in table:
            continue
        entry = table[name]
        key = f"variants.{name}"
        if not isinstance(entry, dict) or set(entry) - {"low", "high", "decimals"} or not {"low", "high"} <= set(entry):
            raise InputError("expected { low = …, high = …, decimals = … }", file=source, key=key)
        low, high, decimals = entry["low"], entry["high"], entry.get("decimals", 1)
        if not all(is_finite_number(v) for v in (low, high)) or low >= high:
            raise InputError("low and high must be numbers with low < high", file=source, key=key)
        if max(abs(low), abs(high)) > MAX_MAGNITUDE:
            raise InputError(f"low and high must lie within ±{MAX_MAGNITUDE:,}, so that no variant overflows",
                             file=source, key=key)
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
            raise InputError("decimals must be a whole number from 0 to 6", file=source, key=f"{key}.decimals")
        ranges[name] = Range(float(low), float(high), decimals)
    unknown = set(table) - set(TARGETS) - {"exclude"}
    if unknown:
        raise InputError(f"unknown key; expected one of {', '.join(TARGETS)}, exclude", file=source,
                         key=f"variants.{sorted(unknown)[0]}")
    if not ranges:
        raise InputError(f"nothing to vary: give at least one of {', '.join(TARGETS)}", file=source, key="variants")
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list) or any(e not in EXCLUSIONS for e in exclude):
        raise InputError(f"expected a list of {', '.join(EXCLUSIONS)}", file=source, key="variants.exclude")
    return ranges, tuple(exclude)


def _leaf_indices(worked) -> dict:
    """Trace indices of the given numbers, by kind: weights, bias, x, y."""
    kinds = {"W": "weights", "b": "bias", "x": "x", "y": "y"}
    out = {name: [] for name in TARGETS}
    for rec in worked.trace.nodes:
        if rec.is_leaf and not rec.is_const and rec.role is not None and rec.role.quantity in kinds:
            out[kinds[rec.role.quantity]].append(rec.index)
    return out


def _degenerate(worked, value, exclude, fmt) -> str | None:
    """The first excluded case the values (``value(node index)``) fall into, or None."""
    for name in exclude:
        if name == "relu_at_zero":
            for k, layer in enumerate(worked.layers, start=1):
                if layer.activation in ("relu", "leaky_relu"):
                    if any(fmt.round(value(i)) == 0 for i in worked[f"z{k}"].indices()):
                        return name
        elif name == "zero_gradient":
            for q in worked.quantities.values():
                if q.kind in ("dL/dW", "dL/db") and any(fmt.round(value(i)) == 0 for i in q.indices()):
                    return name
        elif name == "saturated":
            for k, layer in enumerate(worked.layers, start=1):
                limits = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(layer.activation)
                if limits and f"a{k}" in worked.quantities:
                    if any(fmt.round(value(i)) in limits for i in worked[f"a{k}"].indices()):
                        return name
    return None


def _replace_numbers(raw: dict, values: dict) -> dict:
    """A copy of the problem table with the drawn numbers written in, in the file's own shapes."""
    data = json.loads(json.dumps(raw))  # a deep copy of plain TOML data
    data.pop("variants", None)
    it = {name: iter(v) for name, v in values.items()}

    def fill(shape, name):
        if isinstance(shape, list):
            return [fill(item, name) for item in shape]
        return next(it[name])

    for layer in data["layers"]:
        if "weights" in values:
            layer["weights"] = fill(layer["weights"], "weights")
        if "bias" in values:
            layer["bias"] = fill(layer["bias"], "bias")
    for name in ("x", "y"):
        if name in values:
            data["data"][name] = fill(data["data"][name], name)
    return data


def generate(path, count: int, seed: int) -> list:
    """``count`` variants of the problem at ``path``, drawn with ``random.Random(seed)``."""
    source = str(path)
    raw = read_file(Path(path))
    problem = parse_problem(raw, source)
    ranges, exclude = _spec(problem, source)
    worked = solve(problem)
    fmt = number_format(problem=problem)
    leaves = _leaf_indices(worked)
    varied = [i for name in ranges for i in leaves[name]]
    printed = worked.named_indices()
    # the graph is the same for every variant: compile it once, replay it with new leaves
    compiled = compile_trace(worked.trace, inputs=varied, outputs=printed, wrt=())
    rng = random.Random(seed)
    variants = []
    for number in range(1, count + 1):
        for _ in range(MAX_TRIES):
            drawn = {name: [ranges[name].draw(rng) for _ in leaves[name]] for name in ranges}
            outputs, _ = compiled.forward_backward([v for name in ranges for v in drawn[name]])
            computed = dict(zip(printed, outputs))
            if _degenerate(worked, computed.__getitem__, exclude, fmt) is None:
                break
        else:
            raise InputError(f"no variant without {', '.join(exclude)} in {MAX_TRIES} draws; widen the ranges "
                             "or drop an exclusion", file=source, key="variants")
        # the leaves were drawn in trace order; write them back in the file's order
        by_index = {i: v for name in drawn for i, v in zip(leaves[name], drawn[name])}
        ordered = {name: [by_index[i] for i in _file_order(worked, name)] for name in drawn}
        key = {name: map_nested(q.nodes, computed.__getitem__) for name, q in worked.quantities.items()}
        variants.append(Variant(number, _replace_numbers(raw, ordered), key))
    return variants


def _file_order(worked, name: str) -> list:
    """Leaf indices in the order the problem file lists them (layer by layer, row by row)."""
    index = worked.trace.index
    if name == "weights":
        return [index(p) for layer in worked.layers for row in _as_written(layer) for p in row]
    if name == "bias":
        return [index(b) for layer in worked.layers for b in layer.bias_values]
    by_role = sorted((rec.role.sample or 0, rec.role.index, rec.index) for rec in worked.trace.nodes
                     if rec.is_leaf and rec.role is not None and rec.role.quantity == name)
    return [i for _, _, i in by_role]


def _as_written(layer) -> list:
    """The weight rows as the file writes them (a flat list for a one-unit layer given flat)."""
    if getattr(layer, "flat", False):
        return [[row[0] for row in layer.weight_matrix]] if layer.layout == "in_out" else layer.weight_matrix
    return layer.weight_matrix


def variant_stems(problem_name: str, count: int) -> list:
    """The file stems of ``count`` variants: ``NAME-001`` … (wider when there are more than 999),
    the name made safe for file names (:func:`file_stem`)."""
    name = file_stem(problem_name)
    width = max(3, len(str(count)))
    return [f"{name}-{number:0{width}d}" for number in range(1, count + 1)]


def write(variants: list, directory, *, problem_name: str = "variant", inputs=(), extra=()) -> list:
    """Write each variant's problem file and answer key, plus ``key.csv``, ``key.json`` and the
    ``extra`` files (``(name, text or bytes)``: a question bank, a roster's assignment), as one set
    (:class:`~tracegrad.core.files.OutputSet`: into an empty folder or over the set an earlier run
    wrote there, whole or not at all; never into the folder of an ``inputs`` file); returns the paths."""
    import tomli_w

    rows, combined = [], {}
    with OutputSet(directory, "variants", inputs=inputs) as out:
        for v, stem in zip(variants, variant_stems(problem_name, len(variants))):
            out.write(f"{stem}.toml", tomli_w.dumps(v.data))
            answers = {key: _plain(value) for key, value in v.key.items()}
            out.write(f"{stem}.key.toml", f"# answer key of {stem}.toml: check a student's answers with\n"
                                          f"#   tracegrad check {stem}.toml ANSWERS.toml\n"
                                          + tomli_w.dumps({"answers": answers}))
            combined[stem] = answers
            for quantity, value in answers.items():
                for position, x in _cells(value):
                    rows.append((csv_cell(stem), csv_cell(quantity), position, repr(x)))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("variant", "quantity", "position", "value"))
        writer.writerows(rows)
        out.write("key.csv", buffer.getvalue())
        out.write("key.json", json.dumps(combined, ensure_ascii=False, indent=1) + "\n")
        for name, content in extra:
            out.write(name, content)
        return out.commit()


def file_stem(name: str) -> str:
    """A problem's name made safe for file names, TOML comments and CSV cells: letters, digits,
    ``_``, ``.`` and ``-`` only, not starting with ``.`` or ``-``."""
    return re.sub(r"[^\w.-]+", "_", name).lstrip(".-") or "variant"


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _cells(value, prefix=""):
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from _cells(v, f"{prefix}[{i}]")
    else:
        yield prefix, value
