"""A long chain: v ← tanh(a·v), built as ``Value`` nodes and differentiated.

Each link is two nodes (a ``mul`` and a ``tanh``), so ``links = nodes // 2``.
The gradient is checked against the same chain run on plain floats with the
chain rule written out, so the figure is for a correct backward pass.
"""

from __future__ import annotations

import math


def build_and_differentiate(nodes: int, a: float = 0.9, x: float = 0.5):
    """Build the chain from leaves ``x`` and ``a`` and run ``backward()``; returns the three Values."""
    from tracegrad import Value

    xv, av = Value(x), Value(a)
    v = xv
    for _ in range(nodes // 2):
        v = (av * v).tanh()
    v.backward()
    return v, xv, av


def by_hand(nodes: int, a: float = 0.9, x: float = 0.5) -> tuple:
    """``(value, d/dx, d/da)`` of the same chain on floats."""
    inputs = []
    v = x
    for _ in range(nodes // 2):
        inputs.append(v)
        v = math.tanh(a * v)
    out = v
    dx, da = 1.0, 0.0  # running d out / d (current v), and the accumulated d out / d a
    for u in reversed(inputs):
        t = math.tanh(a * u)
        local = 1.0 - t * t
        da += dx * local * u
        dx *= local * a
    return out, dx, da


def check(nodes: int) -> None:
    """Raise unless the engine's chain matches :func:`by_hand` to 1e-9."""
    v, xv, av = build_and_differentiate(nodes)
    for name, got, want in zip(("value", "d/dx", "d/da"), (v.data, xv.grad, av.grad), by_hand(nodes)):
        if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-300):
            raise AssertionError(f"chain of {nodes} nodes: {name} is {got!r}, by hand {want!r}")
