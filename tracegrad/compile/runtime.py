"""Compiled replay, the runtime: a recorded :class:`~tracegrad.core.trace.Trace` as
one Python function (and, on request, a numpy one over a batch), one local variable per
node, forward then backward.

The graph of a training step or of a homework problem is the same every time; only the
numbers change. No op's math is written here: the code of each op is derived from the
op table (:mod:`.tracing`) and written out by :mod:`.codegen`. Results equal the engine's
(the same operations in the same order). Whenever the compiled code meets a domain error
or a non-finite result, the call is re-run through the engine, which raises its
:class:`~tracegrad.core.errors.DomainError` naming the node, or returns the engine's numbers.
"""

from __future__ import annotations

import builtins
import math
from numbers import Real

from ..core.errors import DomainError, InputError
from ..core.trace import Trace
from .codegen import escape_label, generate

__all__ = ["Compiled", "compile_trace"]


def _fail():
    raise ValueError("outside the op's domain")


def stack_rows(xs):
    """Numbers and batch arrays as one array with a row per item: ``(k, 1)`` when every item is
    a number, ``(k, batch)`` otherwise (numbers repeated along the batch)."""
    import numpy as np

    try:
        a = np.array(xs, dtype=float)
    except ValueError:  # numbers among batch arrays
        a = np.array(np.broadcast_arrays(*xs), dtype=float)
    return a.reshape(len(xs), -1)


class Compiled:
    """A compiled trace. ``forward_backward(values)`` returns ``(outputs, grads)``:
    the values of the ``outputs`` nodes and d outputs[0] / d ``wrt`` for new
    values of the ``inputs`` leaves; :meth:`batched` does the same over arrays.
    ``source`` is the Python listing, ``numpy_source`` the batched one."""

    def __init__(self, trace: Trace, inputs: tuple, outputs: tuple, wrt: tuple):
        self.trace = trace
        self.inputs, self.outputs, self.wrt = inputs, outputs, wrt
        self.source, _ = generate(trace, inputs, outputs, wrt, numpy=False)
        self._fn = _load(self.source, "forward_backward", {"math": math, "INF": math.inf, "NAN": math.nan,
                                                           "_fail": _fail})
        self._batched = self._numpy_source = None

    @property
    def numpy_source(self) -> str:
        """The batched (numpy) listing."""
        self._numpy()
        return self._numpy_source

    def _numpy(self):
        if self._batched is None:
            import numpy as np

            self._numpy_source, rows = generate(self.trace, self.inputs, self.outputs, self.wrt, numpy=True)
            namespace = {"np": np, "INF": math.inf, "NAN": math.nan, "_stack": stack_rows}
            namespace.update((f"_I{k}", np.array(positions)) for k, positions in enumerate(rows))
            self._batched = _load(self._numpy_source, "batched", namespace)
        return self._batched

    # --- running --------------------------------------------------------------------
    def forward_backward(self, values) -> tuple:
        """``(outputs, grads)`` for ``values`` of the inputs (a sequence in ``inputs`` order)."""
        values = self._check(values)
        try:
            outputs, grads = self._fn(values)
        except (ArithmeticError, ValueError):
            return self._engine(values)
        if all(map(math.isfinite, outputs)) and all(map(math.isfinite, grads)):
            return outputs, grads
        return self._engine(values)

    def batched(self, arrays) -> tuple:
        """``(outputs, grads)`` over a batch: 2-D arrays with one row per output (per
        ``wrt`` node) and one column per sample, for ``arrays`` of the inputs (each a
        number shared by every sample, or a 1-D array; the arrays share one length).
        ``grads.sum(axis=1)`` is the gradient of the summed outputs[0]."""
        import numpy as np

        fn = self._numpy()
        columns = self._columns(arrays, np)
        n = builtins.max((a.shape[0] for a in columns if a.ndim), default=1)
        with np.errstate(all="ignore"):
            outputs, grads = fn(columns, n)
        result = np.empty((len(outputs) + len(grads), n))
        for row, v in zip(result, outputs):
            row[...] = v
        result[len(outputs):] = grads
        for s in np.flatnonzero(~np.isfinite(result).all(axis=0)):  # re-run these as forward_backward does
            try:
                out, grad = self.forward_backward([float(a[s]) if a.ndim else float(a) for a in columns])
            except DomainError as exc:
                raise DomainError(exc.op, exc.operands, f"{exc.reason} (batch sample {s})", exc.fix) from None
            result[:, s] = out + grad
        return result[:len(outputs)], result[len(outputs):]

    def _columns(self, arrays, np) -> list:
        arrays = list(arrays)
        self._check_count(arrays)
        columns, sizes = [], set()
        for k, a in enumerate(arrays):
            if type(a) is float or type(a) is np.float64:
                columns.append(np.float64(a))
                continue
            a = np.asarray(a)
            if a.dtype.kind not in "iuf" or a.ndim > 1:
                raise InputError(f"the batch of input {self._name(k)} must be a number or a 1-D array of numbers, "
                                 f"got {a.dtype} with shape {a.shape}")
            columns.append(a.astype(np.float64))
            if a.ndim:
                sizes.add(a.shape[0])
        if len(sizes) > 1:
            raise InputError(f"batched arrays have different lengths {sorted(sizes)}; "
                             "give every 1-D input the batch length")
        return columns

    def _name(self, k: int) -> str:
        rec = self.trace.nodes[self.inputs[k]]
        return escape_label(rec.label) if rec.label is not None else f"#{rec.index}"

    def _check_count(self, values):
        if len(values) != len(self.inputs):
            raise InputError(f"expected {len(self.inputs)} input values (one per compiled input), got {len(values)}")

    def _check(self, values):
        values = values if isinstance(values, (list, tuple)) else list(values)
        self._check_count(values)
        if all(type(v) is float for v in values):
            return values
        for k, v in enumerate(values):
            if not isinstance(v, Real) or isinstance(v, bool):
                raise InputError(f"the value of input {self._name(k)} must be a real number, got {v!r}")
        return [float(v) for v in values]

    def _engine(self, values):
        """The engine's answer (or its DomainError) for ``values``."""
        rebuilt = self.trace.rebuild(values=dict(zip(self.inputs, values)))
        rebuilt[self.outputs[0]].backward()
        return tuple(rebuilt[i].data for i in self.outputs), tuple(rebuilt[i].grad for i in self.wrt)


def _load(source: str, name: str, namespace: dict):
    code = compile(source, f"<tracegrad compiled {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated code; user text only appears in escaped comments
    return namespace[name]


def compile_trace(trace: Trace, inputs=(), outputs=None, wrt=None) -> Compiled:
    """Compile ``trace`` into straight-line code.

    ``inputs``: the leaves whose values change between calls (labels, indices,
    ``Value`` s or records), in the order ``forward_backward`` takes them; every
    other leaf keeps its recorded value. ``outputs``: the nodes whose values are
    returned (default: the trace's output); the gradients are those of
    ``outputs[0]``. ``wrt``: the nodes whose gradients are returned (default:
    ``inputs``).
    """
    inputs = tuple(trace.index(k) for k in inputs)
    outputs = (trace.output.index,) if outputs is None else tuple(trace.index(k) for k in outputs)
    wrt = inputs if wrt is None else tuple(trace.index(k) for k in wrt)
    if not outputs:
        raise InputError("compile_trace needs at least one output node")
    for i in inputs:
        rec = trace.nodes[i]
        if not rec.is_leaf:
            name = escape_label(rec.label) if rec.label is not None else f"{rec.op} #{i}"
            raise InputError(f"node {name} is not a leaf; only leaves can be compiled inputs")
    if len(set(inputs)) != len(inputs):
        raise InputError("an input node is listed twice")
    return Compiled(trace, inputs, outputs, wrt)
