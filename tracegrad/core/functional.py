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


def _shifted(z):
    z = _values(z, "softmax")
    m = z[0].data
    for v in z[1:]:
        m = v.data if v.data > m else m
    # shifting by the (constant) max changes no value and no gradient, but keeps exp finite
    return [v - m for v in z] if m != 0 else z


def softmax(z) -> list:
    """Stable softmax: exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z)."""
    e = [v.exp() for v in _shifted(z)]
    total = sum(e)
    return [v / total for v in e]


def log_softmax(z) -> list:
    """Stable log-softmax: (zᵢ − max z) − log Σⱼ exp(zⱼ − max z)."""
    s = _shifted(z)
    log_total = sum([v.exp() for v in s]).log()
    return [v - log_total for v in s]
