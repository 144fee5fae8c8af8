"""Vector helpers on lists of ``Value`` s (each a node, or a few, of the op table)."""

from __future__ import annotations

from .value import Value, apply, const


def _values(xs, what: str) -> list:
    xs = [x if isinstance(x, Value) else const(x) for x in xs]
    if not xs:
        raise ValueError(f"{what} of an empty list")
    return xs


def sum(xs) -> Value:  # noqa: A001 - mirrors numpy.sum
    """One n-ary ``sum`` node: x₁ + x₂ + … + xₙ."""
    return apply("sum", _values(xs, "sum"))


def dot(a, b) -> Value:
    """One n-ary ``dot`` node: a₁b₁ + … + aₙbₙ."""
    a, b = _values(a, "dot"), _values(b, "dot")
    if len(a) != len(b):
        raise ValueError(f"dot of vectors of different lengths ({len(a)} and {len(b)})")
    return apply("dot", a + b)


def max(a, b) -> Value:  # noqa: A001
    """The larger of two values (gradient to ``a`` on a tie)."""
    return apply("max", (a, b))


def min(a, b) -> Value:  # noqa: A001
    """The smaller of two values (gradient to ``a`` on a tie)."""
    return apply("min", (a, b))


SHIFT_BEYOND = 50.0
"""Softmax and log-softmax shift by the largest logit only when it lies beyond ±50: below,
every e^{z} and its sum are finite and exact to float precision (e^{50} ≈ 5·10²¹)."""


def _shifted(z):
    z = _values(z, "softmax")
    m = z[0].data
    for v in z[1:]:
        m = v.data if v.data > m else m
    # shifting by the (constant) max changes no value and no gradient, but keeps exp finite; a
    # graph of moderate logits is left as the textbook writes it, e^{zᵢ} / Σⱼ e^{zⱼ}
    return [v - m for v in z] if abs(m) > SHIFT_BEYOND else z



def softmax(z) -> list:
    """Softmax exp(zᵢ) / Σⱼ exp(zⱼ), stable: shifted by max z for logits beyond :data:`SHIFT_BEYOND`."""
    e = [v.exp() for v in _shifted(z)]
    total = sum(e)
    return [v / total for v in e]


def log_softmax(z) -> list:
    """Log-softmax zᵢ − log Σⱼ exp(zⱼ), stable: shifted by max z for logits beyond :data:`SHIFT_BEYOND`."""
    s = _shifted(z)
    log_total = sum([v.exp() for v in s]).log()
    return [v - log_total for v in s]
