"""Replaying a trace in plain floats, with pins and overridden nodes.

The checker asks one question many times: *what does node i come to, given
these values upstream?* — for the carry-rounded computation, for the student's
own earlier answers (error carried forward), and for each mutated computation
of the likely-mistake diagnosis. :func:`replay_floats` answers it for every node at
once, through the op table's forward functions, in trace order.
"""

from __future__ import annotations

import math
from typing import Mapping

from .ops import OPS


def replay_floats(trace, pins: Mapping | None = None, overrides: Mapping | None = None, start: int = 0,
                  prefix: tuple = ((), ())) -> tuple:
    """The value each node computes from its inputs, *before* its own pin.

    ``pins`` maps a node to a number, or to ``f(computed value)``: later nodes use
    the pinned value. ``overrides`` maps a node to ``f(values) -> float`` that
    replaces its op (``values`` holds every earlier node's value, pins applied).
    A node whose op leaves its domain (a mutation that cannot happen, a student's
    value outside it) is NaN, and so is everything computed from it. With ``start``,
    the nodes before it are not recomputed: ``prefix`` gives their values before and
    after their pins.
    """
    pins = pins or {}
    overrides = overrides or {}
    before, after = list(prefix[0][:start]), list(prefix[1][:start])
    for rec in trace.nodes[start:]:
        x = node_value(rec, after, overrides.get(rec.index))
        before.append(x)
        after.append(pinned(x, pins.get(rec.index)))
    return tuple(before)


def node_value(rec, values, override=None) -> float:
    """What node ``rec`` computes from ``values`` (indexable by node; pins applied): its override
    ``f(values)``, its data for a leaf, else its op; NaN where that leaves the op's domain."""
    try:
        if override is not None:
            return float(override(values))
        if rec.is_leaf:
            return rec.data
        return float(OPS[rec.op].forward(tuple(values[i] for i in rec.inputs), rec.params))
    except (ArithmeticError, ValueError):
        return math.nan


def pinned(x: float, pin) -> float:
    """A computed value after its pin: unchanged (``None``), a number, or ``pin(x)``."""
    return x if pin is None else float(pin(x) if callable(pin) else pin)


def op_value(rec, values, inputs=None) -> float:
    """Node ``rec``'s op applied to ``values`` at its inputs (or at ``inputs`` instead)."""
    return OPS[rec.op].forward(tuple(values[i] for i in (inputs or rec.inputs)), rec.params)

