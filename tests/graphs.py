"""Random expression graphs for property tests: a program is a list of (op, i, j) steps,
each applied to earlier nodes (so later steps reuse earlier ones: shared subexpressions).
The same program runs on Values or on plain floats (an independent computation)."""

import math

from hypothesis import strategies as st

import tracegrad as tg
from tracegrad import Value

UNARY = ("tanh", "sigmoid", "exp", "square", "neg", "softplus", "relu", "leaky_relu", "abs")
BINARY = ("add", "sub", "mul", "div", "max", "min")

programs = st.lists(st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 50), st.integers(0, 50)),
                    min_size=1, max_size=14)
points = st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3)

_VALUE = {
    "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(), "exp": lambda a, b: (a * 0.3).exp(),
    "square": lambda a, b: a**2, "neg": lambda a, b: -a, "softplus": lambda a, b: (1 + (a * 0.5).exp()).log(),
    "relu": lambda a, b: a.relu(), "leaky_relu": lambda a, b: a.leaky_relu(0.1), "abs": lambda a, b: abs(a),
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1), "max": tg.max, "min": tg.min,
}
_FLOAT = {
    "tanh": lambda a, b: math.tanh(a), "sigmoid": lambda a, b: 1 / (1 + math.exp(-a)),
    "exp": lambda a, b: math.exp(a * 0.3), "square": lambda a, b: a**2, "neg": lambda a, b: -a,
    "softplus": lambda a, b: math.log(1 + math.exp(a * 0.5)), "relu": lambda a, b: max(a, 0.0),
    "leaky_relu": lambda a, b: a if a > 0 else 0.1 * a, "abs": lambda a, b: abs(a),
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1), "max": max, "min": min,
}


def build(program, leaves, override=None):
    """Every node of the program's graph (Values if ``leaves`` are Values, else floats), labelled
    ``n<k>``; ``override = (k, v)`` makes node k a leaf of value v."""
    values = isinstance(leaves[0], Value)
    table = _VALUE if values else _FLOAT
    nodes = list(leaves)
    for kind, i, j in program:
        k = len(nodes)
        if override is not None and override[0] == k:
            r = Value(override[1])
        else:
            r = table[kind](nodes[i % k], nodes[j % k])
        if values:
            r.label = f"n{k}"
        nodes.append(r)
    return nodes


def leaves_of(xs):
    return [Value(x, label=f"x{i}") for i, x in enumerate(xs)]


def on_a_kink(program, xs) -> bool:
    """Whether some step of the program evaluates a kinked op exactly at its kink at ``xs``."""
    nodes = list(xs)
    for kind, i, j in program:
        k = len(nodes)
        a, b = nodes[i % k], nodes[j % k]
        if (kind in ("relu", "leaky_relu", "abs") and a == 0) or (kind in ("max", "min") and a == b):
            return True
        nodes.append(_FLOAT[kind](a, b))
    return False
