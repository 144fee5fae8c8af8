"""``Value``: a scalar node of the graph, and the backward pass.

A node holds its ``data``, ``grad``, an optional ``label`` and ``role``, the
name of the op that produced it, the op's parameters and the *ordered* tuple of
its inputs (``a * a`` keeps ``a`` twice). Every op dispatches to the op table
(:mod:`tracegrad.core.ops`); nothing about an op is written here.

Node ids come from one counter, so inputs always have smaller ids than the
nodes made from them. The backward pass uses that: it visits nodes in
decreasing id order with a heap holding only the current frontier, so it needs
no recursion, no visited set and no topological list (a chain of a million
nodes costs next to nothing beyond the nodes themselves).
"""

from __future__ import annotations

import itertools
import math
from heapq import heappop, heappush
from operator import attrgetter

from . import ops as _ops
from .errors import DomainError

OPS = _ops.OPS
_ADD, _SUB, _MUL, _DIV, _NEG = (OPS[n] for n in ("add", "sub", "mul", "div", "neg"))
_POW, _VPOW = OPS["pow"], OPS["vpow"]

_next_id = itertools.count(1).__next__
_data = attrgetter("data")
_new = object.__new__
_isfinite = math.isfinite

# Recording state: lists while a tracegrad.record() block is active, else None.
_tape = None
_steps = None


def set_recording(tape, steps):
    """Install recording lists (or ``None``); returns the previous pair. Used by :func:`tracegrad.record`."""
    global _tape, _steps
    previous = (_tape, _steps)
    _tape, _steps = tape, steps
    return previous


OVERFLOW_FIX = ("numbers this large usually mean exploding gradients or unscaled inputs: lower the learning "
                "rate, clip gradients, or normalise the inputs")


def describe(node) -> str:
    """A short name for a node in messages: its label, or its op and id."""
    if node.label:
        return str(node.label)
    if node._op == "const":
        return "constant"
    return f"{node._op or 'leaf'}#{node._id}"


def _domain_error(spec, inputs, params, exc, what="") -> DomainError:
    operands = [(describe(x), x.data) for x in inputs]
    operands += [(name, value) for name, value in zip(spec.params, params)]
    if isinstance(exc, OverflowError) or "overflow" in str(exc) or "range" in str(exc):
        reason, fix = "the result overflows a 64-bit float", spec.fix or OVERFLOW_FIX
    else:
        reason, fix = (what and spec.derivative_domain) or spec.domain or str(exc), spec.fix
    return DomainError(what + spec.name, operands, reason, fix)


def _node(data, prev, op, params):
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = None
    v.role = None
    v._prev = prev
    v._op = op
    v._params = params
    v._id = _next_id()
    if _tape is not None:
        _tape.append(v)
    return v


def const(x) -> "Value":
    """A constant leaf (a number written into an expression)."""
    if isinstance(x, Value):
        return x
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        raise TypeError(f"tracegrad works on real numbers and Values, not {type(x).__name__} ({x!r})")
    return _node(float(x), (), "const", ())


def apply(spec, inputs, params=()) -> "Value":
    """Apply op ``spec`` (an :class:`~tracegrad.core.ops.OpSpec` or its name) to ``inputs``."""
    if isinstance(spec, str):
        spec = OPS[spec]
    inputs = tuple(x if isinstance(x, Value) else const(x) for x in inputs)
    if spec.arity is not None and len(inputs) != spec.arity:
        raise TypeError(f"{spec.name} takes {spec.arity} input(s), got {len(inputs)}")
    return _apply(spec, inputs, params)


def _apply(spec, inputs, params):
    xs = tuple(map(_data, inputs))
    try:
        out = spec.forward(xs, params)
    except (ArithmeticError, ValueError) as exc:
        raise _domain_error(spec, inputs, params, exc) from None
    if not _isfinite(out) and all(map(_isfinite, xs)):
        raise _domain_error(spec, inputs, params, OverflowError())
    return _node(float(out), inputs, spec.name, params)


class Value:
    """A scalar that remembers how it was computed (micrograd-compatible API)."""

    __slots__ = ("data", "grad", "label", "role", "_prev", "_op", "_params", "_id")

    def __init__(self, data, _children=(), _op="", label=None, role=None):
        if isinstance(data, Value) or isinstance(data, bool) or not isinstance(data, (int, float)):
            raise TypeError(f"Value(data) needs a real number, got {type(data).__name__} ({data!r})")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.role = role
        self._prev = tuple(_children)
        self._op = _op
        self._params = ()
        self._id = _next_id()
        if _tape is not None:
            _tape.append(self)

    # --- introspection -----------------------------------------------------------
    @property
    def op(self) -> str:
        """Name of the op that produced this node ('' for a leaf, 'const' for a constant)."""
        return self._op

    @property
    def inputs(self) -> tuple:
        """The ordered inputs (repeats kept)."""
        return self._prev

    @property
    def params(self) -> tuple:
        """The op's parameters (an exponent, a leaky slope ...)."""
        return self._params

    @property
    def id(self) -> int:
        """Creation counter: inputs always have smaller ids than their consumers."""
        return self._id

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # --- arithmetic ----------------------------------------------------------------
    def __add__(self, other):
        return _apply(_ADD, (self, other if isinstance(other, Value) else const(other)), ())

    def __radd__(self, other):
        return _apply(_ADD, (const(other), self), ())

    def __sub__(self, other):
        return _apply(_SUB, (self, other if isinstance(other, Value) else const(other)), ())

    def __rsub__(self, other):
        return _apply(_SUB, (const(other), self), ())

    def __mul__(self, other):
        return _apply(_MUL, (self, other if isinstance(other, Value) else const(other)), ())

    def __rmul__(self, other):
        return _apply(_MUL, (const(other), self), ())

    def __truediv__(self, other):
        return _apply(_DIV, (self, other if isinstance(other, Value) else const(other)), ())

    def __rtruediv__(self, other):
        return _apply(_DIV, (const(other), self), ())

    def __neg__(self):
        return _apply(_NEG, (self,), ())

    def __pow__(self, other):
        if isinstance(other, Value):
            return _apply(_VPOW, (self, other), ())
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            raise TypeError(f"exponent must be a number or a Value, not {type(other).__name__}")
        return _apply(_POW, (self,), (other,))

    def __rpow__(self, other):
        return _apply(_VPOW, (const(other), self), ())

    def __abs__(self):
        return self.abs()

    # --- functions -------------------------------------------------------------------
    def exp(self):
        return _apply(OPS["exp"], (self,), ())

    def log(self):
        return _apply(OPS["log"], (self,), ())

    def sqrt(self):
        return _apply(OPS["sqrt"], (self,), ())

    def tanh(self):
        return _apply(OPS["tanh"], (self,), ())

    def sigmoid(self):
        return _apply(OPS["sigmoid"], (self,), ())

    def relu(self):
        return _apply(OPS["relu"], (self,), ())

    def leaky_relu(self, alpha=0.01):
        return _apply(OPS["leaky_relu"], (self,), (float(alpha),))

    def abs(self):
        return _apply(OPS["abs"], (self,), ())

    def max(self, other):
        return apply("max", (self, other))

    def min(self, other):
        return apply("min", (self, other))

    # --- backward --------------------------------------------------------------------
    def backward(self, create_graph: bool = False, stop=()):
        """Accumulate d(self)/d(node) into ``node.grad`` for every node below ``self``.

        Gradients add up across calls (call :func:`tracegrad.zero_grad` between
        steps). With ``create_graph=True`` the pass also builds every local
        derivative and every upstream × local product as ``Value`` nodes and
        returns ``{node: gradient node}``, so backward quantities can be
        rendered, confirmed, pinned and replayed like forward ones; nodes in
        ``stop`` are then treated as leaves (their gradient is built, nothing
        flows below them: the parameters of a later step of a derivation).
        """
        if create_graph:
            return _backward_graph(self, set(map(id, stop)))
        steps = _steps
        if steps is not None:
            steps.append((self, None, None))  # a new pass starts here
        pending = {self: 1.0}
        heap = [(-self._id, self)]
        while heap:
            node = heappop(heap)[1]
            g = pending.pop(node)
            node.grad += g
            prev = node._prev
            if not prev:
                continue
            if not _isfinite(g):
                _raise_nonfinite(node, g)
            try:
                locs = OPS[node._op].partials(tuple(map(_data, prev)), node.data, node._params)
            except (ArithmeticError, ValueError) as exc:
                raise _domain_error(OPS[node._op], prev, node._params, exc, "derivative of ") from None
            if steps is not None:
                steps.append((node, g, locs))
            for inp, loc in zip(prev, locs):
                if inp._prev:
                    if inp in pending:
                        pending[inp] += g * loc
                    else:
                        pending[inp] = g * loc
                        heappush(heap, (-inp._id, inp))
                else:
                    inp.grad += g * loc
        return None


def _raise_nonfinite(node, g):
    raise DomainError(
        describe(node), [("gradient", g)], "the gradient is not finite (exploding gradients)",
        "clip gradients, lower the learning rate, or use a smaller initialisation",
    )


def _times(g, loc):
    if not isinstance(loc, Value):
        if loc == 1:
            return g
        if not isinstance(g, Value):
            return g * loc
        if loc == -1:
            return -g
    elif not isinstance(g, Value) and g == 1:
        return loc
    return g * loc


def _backward_graph(root, stop=frozenset()):
    steps = _steps
    if steps is not None:
        steps.append((root, None, None))
    grads = {}
    pending = {root: 1.0}
    heap = [(-root._id, root)]
    while heap:
        node = heappop(heap)[1]
        g = pending.pop(node)
        grads[node] = g if isinstance(g, Value) else const(g)
        node.grad += grads[node].data
        prev = node._prev
        if not prev or id(node) in stop:
            continue
        spec = OPS[node._op]
        try:
            locs = spec.partials(prev, node, node._params)
        except (ArithmeticError, ValueError) as exc:
            raise _domain_error(spec, prev, node._params, exc, "derivative of ") from None
        if steps is not None:
            steps.append((node, g, locs))
        for inp, loc in zip(prev, locs):
            c = _times(g, loc)
            if inp in pending:
                pending[inp] = pending[inp] + c
            else:
                pending[inp] = c
                heappush(heap, (-inp._id, inp))
    return grads


def nodes_below(*roots) -> list:
    """Every node reachable from ``roots`` (roots included), in creation order."""
    seen = {}
    stack = list(roots)
    while stack:
        v = stack.pop()
        if v._id not in seen:
            seen[v._id] = v
            stack.extend(v._prev)
    return [seen[k] for k in sorted(seen)]


def zero_grad(*roots) -> None:
    """Set ``grad`` to 0 on every node reachable from ``roots``."""
    for v in nodes_below(*roots):
        v.grad = 0.0


_ops._value_type.append(Value)
Value._apply = staticmethod(apply)
