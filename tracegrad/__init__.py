"""tracegrad: a scalar autodiff engine that records every operation and renders
it as a step-by-step backpropagation derivation.

``import tracegrad`` loads only the engine; SymPy, Jinja and the renderers are
imported when first used.
"""

from __future__ import annotations

from .errors import DomainError, InputError, TraceGradError
from .functional import dot, log_softmax, max, min, softmax, sum
from .ops import OPS, OpSpec
from .roles import Role, tag
from .trace import BackwardStep, NodeRecord, Trace, record, trace
from .value import Value, nodes_below, zero_grad

__version__ = "0.1.0"

_LAZY = {"parse": "expr", "from_sympy": "symbolic", "derive": "render.derive", "load_problem": "problem",
         "solve": "worked", "explain": "expression", "check": "checker"}
"""Public names loaded on first use: name → module."""


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'tracegrad' has no attribute {name!r}")


__all__ = [
    "OPS", "OpSpec", "Value", "Role", "tag", "Trace", "NodeRecord", "BackwardStep", "record", "trace",
    "nodes_below", "zero_grad", "sum", "dot", "max", "min", "softmax", "log_softmax",
    "TraceGradError", "DomainError", "InputError", "__version__", "parse", "explain", "from_sympy", "derive", "check",
    "load_problem", "solve",
]
