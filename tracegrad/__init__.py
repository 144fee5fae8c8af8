"""tracegrad: a scalar autodiff engine that records every operation and renders
it as a step-by-step backpropagation derivation.

``import tracegrad`` loads only the engine; SymPy, Jinja and the renderers are
imported when first used.
"""

from __future__ import annotations

from .core.errors import DomainError, InputError, TraceGradError
from .core.functional import dot, log_softmax, max, min, softmax, sum
from .core.ops import OPS, OpSpec
from .core.roles import Role, tag
from .core.trace import BackwardStep, NodeRecord, Trace, record, trace
from .core.value import Value, nodes_below, zero_grad
from . import extensions  # noqa: F401  (display and to_sympy, attached from above)

__version__ = "0.1.0"

_LAZY = {"parse": "expressions", "parse_program": "expressions", "read_program": "expressions",
         "from_sympy": "symbolic", "derive": "workflows.derive", "load_problem": "problem",
         "solve": "problem", "explain": "workflows.explain", "check": "workflows.check"}
"""Public names loaded on first use: name → module."""


def load_ipython_extension(ipython) -> None:
    """``%load_ext tracegrad``: the ``%%tracegrad`` cell magic (see :mod:`tracegrad.notebook`)."""
    from .notebook import register_magic

    register_magic(ipython)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'tracegrad' has no attribute {name!r}")


__all__ = [
    "OPS", "OpSpec", "Value", "Role", "tag", "Trace", "NodeRecord", "BackwardStep", "record", "trace",
    "nodes_below", "zero_grad", "sum", "dot", "max", "min", "softmax", "log_softmax",
    "TraceGradError", "DomainError", "InputError", "__version__", "parse", "parse_program", "read_program", "explain",
    "from_sympy", "derive", "check", "load_problem", "solve",
]
