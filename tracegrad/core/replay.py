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


def replay_floats(trace, pins: Mapping | None = None, overrides: Mapping | None = None) -> tuple:
    """The value each node computes from its inputs, *before* its own pin.

    ``pins`` maps a node to a number, or to ``f(computed value)``: later nodes use
    the pinned value. ``overrides`` maps a node to ``f(values) -> float`` that
    replaces its op (``values`` holds every earlier node's value, pins applied).
    A node whose op leaves its domain (a mutation that cannot happen, a student's
    value outside it) is NaN, and so is everything computed from it.
    """
    pins = pins or {}
    overrides = overrides or {}
    after: list = []
    before: list = []
    for rec in trace.nodes:
        override = overrides.get(rec.index)
        try:
            if override is not None:
                x = float(override(after))
            elif rec.is_leaf:
                x = rec.data
            else:
                x = float(OPS[rec.op].forward(tuple(after[i] for i in rec.inputs), rec.params))
        except (ArithmeticError, ValueError):
            x = math.nan
        before.append(x)
        pin = pins.get(rec.index)
        after.append(x if pin is None else float(pin(x) if callable(pin) else pin))
    return tuple(before)


def op_value(rec, values, inputs=None) -> float:
    """Node ``rec``'s op applied to ``values`` at its inputs (or at ``inputs`` instead)."""
    return OPS[rec.op].forward(tuple(values[i] for i in (inputs or rec.inputs)), rec.params)

