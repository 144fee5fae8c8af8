"""Recorded traces: an immutable record of a computation, and replay.

A :class:`Trace` holds every node of a computation in execution order (op,
inputs, parameters, label, role, value and gradient at the time it was
recorded) and every backward step (per edge: upstream gradient, local
derivative, contribution and the running total). Changing the live ``Value``
graph afterwards does not change a trace.

:meth:`Trace.replay` re-executes the recorded graph through the same op table,
forward and backward, with new leaf values and with chosen nodes *pinned*: a
pinned node takes the given value (or a function of its freshly computed value,
which is how carry-rounding works) and everything downstream is recomputed
from it. Replay returns a new trace and leaves the original untouched.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any, Iterator, Mapping

from . import value as _value
from .errors import InputError
from .notation import Math, node_key, node_symbol, unnamed_prefix
from .ops import OPS
from .value import Value, apply, const, nodes_below

LEAF_OPS = ("", "const")


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """One recorded node. ``inputs`` are indices into the trace."""

    index: int
    id: int
    op: str
    inputs: tuple
    params: tuple
    label: Any
    role: Any
    data: float
    grad: float

    @property
    def is_leaf(self) -> bool:
        return self.op in LEAF_OPS

    @property
    def is_const(self) -> bool:
        return self.op == "const"


@dataclass(frozen=True, slots=True)
class BackwardStep:
    """One edge of a backward pass: ``contribution = upstream × local`` is added
    to the gradient of input ``input`` (position ``position`` of node ``node``);
    ``accumulated`` is that input's running total within the recording."""

    node: int
    position: int
    input: int
    upstream: float
    local: float
    contribution: float
    accumulated: float


def _as_float(x) -> float:
    return x.data if isinstance(x, Value) else float(x)


_get_data, _get_grad = attrgetter("data"), attrgetter("grad")
_get_label, _get_role = attrgetter("label"), attrgetter("role")


def _closure(values: list) -> list:
    """``values`` plus everything they depend on, in creation order, without duplicates."""
    known = {id(v) for v in values}
    outside = [p for p in set(chain.from_iterable(map(attrgetter("_prev"), values))) if id(p) not in known]
    merged = {v._id: v for v in values}
    if outside:
        merged.update((v._id, v) for v in nodes_below(*outside))
    return [merged[k] for k in sorted(merged)]


class Trace:
    """An immutable record of nodes and backward steps; see the module docstring.

    Construction only snapshots what can change later (values, gradients,
    labels); node records and backward steps are assembled when first read.
    """

    __slots__ = ("_values", "_data", "_grad", "_label", "_role", "_log", "_nodes", "_steps",
                 "_roots", "_by_id", "_by_label", "_unnamed", "_repeats", "_symbols")

    def __init__(self, values, step_log=()):
        values = _closure(list(values) + [entry[0] for entry in step_log])
        self._values = values
        self._data = list(map(_get_data, values))
        self._grad = list(map(_get_grad, values))
        self._label = list(map(_get_label, values))
        self._role = list(map(_get_role, values))
        self._log = list(step_log)
        self._nodes = self._steps = self._roots = self._by_id = self._by_label = self._unnamed = None
        self._symbols: dict = {}  # index → Math: how a derivation writes a node (written_as)

    def _ids(self) -> dict:
        if self._by_id is None:
            self._by_id = {v._id: i for i, v in enumerate(self._values)}
        return self._by_id

    def _assemble_steps(self) -> None:
        by_id = self._ids()
        steps, roots, totals = [], [], {}
        for node, g, locs in self._log:
            n = by_id[node._id]
            if g is None:
                roots.append(n)
                continue
            upstream = _as_float(g)
            for position, (inp, loc) in enumerate(zip(node._prev, locs)):
                i = by_id[inp._id]
                local = _as_float(loc)
                contribution = upstream * local
                totals[i] = totals.get(i, 0.0) + contribution
                steps.append(BackwardStep(n, position, i, upstream, local, contribution, totals[i]))
        self._steps = tuple(steps)
        self._roots = tuple(roots)

    # --- reading ---------------------------------------------------------------------
    @property
    def nodes(self) -> tuple:
        """Every node, in execution order."""
        if self._nodes is None:
            by_id = self._ids()
            self._nodes = tuple(
                NodeRecord(i, v._id, v._op, tuple(by_id[p._id] for p in v._prev), v._params,
                           self._label[i], self._role[i], self._data[i], self._grad[i])
                for i, v in enumerate(self._values)
            )
        return self._nodes

    @property
    def steps(self) -> tuple:
        """Every backward step, in the order the backward pass took them."""
        if self._steps is None:
            self._assemble_steps()
        return self._steps

    @property
    def roots(self) -> tuple:
        """Indices of the nodes ``backward()`` was called on, in order."""
        if self._roots is None:
            self._assemble_steps()
        return self._roots

    @property
    def labels(self) -> dict:
        """``{label: index}`` for every labelled node (the first one, if a label repeats;
        :meth:`index` refuses a repeated label)."""
        if self._by_label is None:
            labels: dict = {}
            self._repeats = set()
            for i, label in enumerate(self._label):
                if label is not None:
                    if label in labels:
                        self._repeats.add(label)
                    labels.setdefault(label, i)
            self._by_label = labels
        return self._by_label

    @property
    def unnamed(self) -> str:
        """The letter unlabelled nodes are named with (``v`` for v₃; another one when a label
        reads as ``v`` and a number, see :func:`~tracegrad.core.notation.unnamed_prefix`)."""
        if self._unnamed is None:
            self._unnamed = unnamed_prefix(self._label)
        return self._unnamed

    def symbol(self, i: int) -> Math:
        """Node ``i``'s name in a derivation: as :meth:`written_as` says, else its label, or v₁₂
        after its index."""
        named = self._symbols.get(i)
        return named if named is not None else node_symbol(self._label[i], i, self.unnamed)

    def written_as(self, names: Mapping) -> "Trace":
        """The same trace with nodes written as ``names`` says (``{index: Math}``): a problem's
        nodes in its derivation's notation, W₁[0][1] for the node labelled ``W1[0][1]``. Kept
        by :meth:`replay`."""
        out = copy.copy(self)
        out._symbols = {**self._symbols, **names}
        return out

    def key(self, i: int) -> str:
        """Node ``i``'s name in an answers file: its label (``c₂`` written ``c_2``), or ``v12``."""
        return node_key(self._label[i], i, self.unnamed)

    @property
    def output(self) -> NodeRecord:
        """The first backward root, or the last node when there was no backward pass."""
        return self.nodes[self.roots[0]] if self.roots else self.nodes[-1]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[NodeRecord]:
        return iter(self.nodes)

    def __repr__(self) -> str:
        return f"Trace({len(self)} nodes, {len(self.steps)} backward steps)"

    def index(self, key) -> int:
        """Index of a node given as an index, a label, a ``Value`` or a ``NodeRecord``."""
        if isinstance(key, NodeRecord):
            key = key.index
        if isinstance(key, Value):
            if key._id in self._ids():
                return self._by_id[key._id]
            raise InputError(f"node {_value.describe(key)} is not part of this trace")
        if isinstance(key, int) and not isinstance(key, bool):
            if 0 <= key < len(self):
                return key
            raise InputError(f"node index {key} out of range (the trace has {len(self)} nodes)")
        if key in self.labels:
            if key in self._repeats:
                repeats = [i for i, label in enumerate(self._label) if label == key]
                raise InputError(f"the label {key!r} names {len(repeats)} nodes (indices "
                                 f"{', '.join(map(str, repeats[:5]))}); give a node index or the Value instead")
            return self.labels[key]
        known = ", ".join(sorted(map(str, self.labels))[:20])
        raise InputError(f"no node labelled {key!r} in this trace (labels: {known or 'none'})")

    def __getitem__(self, key) -> NodeRecord:
        return self.nodes[self.index(key)]

    def steps_into(self, key) -> list:
        """The backward steps that feed the gradient of one node."""
        i = self.index(key)
        return [s for s in self.steps if s.input == i]

    # --- replay ----------------------------------------------------------------------
    def rebuild(self, values: Mapping | None = None, pins: Mapping | None = None) -> list:
        """Re-execute the forward pass as fresh ``Value`` nodes (one per record).

        ``values`` gives new leaf values; ``pins`` fixes any node to a value, or to
        ``f(computed value)`` when the pin is callable.
        """
        new_leaf = {self.index(k): float(v) for k, v in (values or {}).items()}
        nodes = self.nodes
        for i in new_leaf:
            if not nodes[i].is_leaf:
                raise InputError(f"node {nodes[i].label or i} is not a leaf; pin it instead")
        pinned = {self.index(k): v for k, v in (pins or {}).items()}
        out: list = []
        for rec in nodes:
            data = new_leaf.get(rec.index, rec.data)
            if rec.is_const:
                v = const(data)
            elif rec.is_leaf:
                v = Value(data)
            else:
                v = apply(OPS[rec.op], [out[i] for i in rec.inputs], rec.params)
            v.label, v.role = rec.label, rec.role
            pin = pinned.get(rec.index)
            if pin is not None:
                v.data = float(pin(v.data)) if callable(pin) else float(pin)
            out.append(v)
        return out

    def replay(self, values: Mapping | None = None, pins: Mapping | None = None) -> "Trace":
        """A new trace: forward with new leaf ``values`` and ``pins``, then the same backward passes."""
        rebuilt = self.rebuild(values, pins)
        with record() as rec:
            for r in self.roots:
                rebuilt[r].backward()
        out = Trace(rebuilt, rec.step_log)
        out._symbols = self._symbols
        return out


class Recording:
    """What a :func:`record` block saw; ``trace`` is available after the block."""

    def __init__(self):
        self.nodes: list = []
        self.step_log: list = []
        self.trace: Trace | None = None


@contextmanager
def record() -> Iterator[Recording]:
    """Record every node created and every backward pass run inside the block.

    >>> with record() as rec:
    ...     loss = (a * b).tanh(); loss.backward()
    >>> rec.trace.steps
    """
    rec = Recording()
    previous = _value.set_recording(rec.nodes, rec.step_log)
    try:
        yield rec
    finally:
        _value.set_recording(*previous)
    rec.trace = Trace(rec.nodes, rec.step_log)


def trace(root: Value, backward: bool = True, create_graph: bool = False) -> Trace:
    """Trace everything below ``root``; with ``backward`` (default) run ``root.backward()``
    while recording, so the trace holds the backward steps too."""
    grads = None
    with record() as rec:
        if backward:
            grads = root.backward(create_graph=create_graph)
    extra = list(grads.values()) if grads else []
    return Trace([root, *rec.nodes, *extra], rec.step_log)
