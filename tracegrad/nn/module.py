"""``Module``: the base of every network piece (micrograd's, plus names, modes and batches).

A module maps one sample (a list of ``Value`` s) to a list of ``Value`` s with
:meth:`Module.forward`, and a batch (a list of samples) to a list of outputs
with :meth:`Module.batch`; modules that look across the batch (BatchNorm)
override ``batch``. ``sample`` is the position in the batch, recorded in the
nodes' roles (``z1[0]@3``); a batch of one sample is recorded as a single sample.
"""

from __future__ import annotations

import math
from functools import lru_cache
from numbers import Real

from ..core.errors import InputError
from ..core.roles import Role
from ..core.value import Value


class Module:
    """Parameters, ``zero_grad()``, train/eval mode, and per-sample/batch forward."""

    training = True
    n_in = n_out = None  # widths, for layers that have them
    residual_block = False  # may a skip connection go around it (MLP(residual=True))?

    def children(self) -> list:
        """The sub-modules, in forward order."""
        return []

    def named_parameters(self) -> list:
        """``[(label, Value), …]`` in a fixed order (weights before biases, layer by layer)."""
        return [pair for child in self.children() for pair in child.named_parameters()]

    def parameters(self) -> list:
        """The trainable ``Value`` s, in the order of :meth:`named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active, BatchNorm on batch statistics); returns ``self``."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        """Inference mode (dropout off, BatchNorm on running statistics); returns ``self``."""
        return self.train(False)

    def check_inputs(self, n_in: int, position: int | None = None) -> None:
        """Raise an :class:`InputError` unless the module takes ``n_in`` inputs."""
        if self.n_in is not None and n_in != self.n_in:
            where = "" if position is None else f"layers[{position}]"
            raise InputError(f"{type(self).__name__} takes {self.n_in} inputs, the previous layer gives {n_in}",
                             key=where or None)

    def forward(self, x, sample: int | None = None) -> list:
        """One sample in, a list of output ``Value`` s out."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, x, sample: int | None = None) -> list:
        return self.forward(x, sample)

    def batch(self, xs) -> list:
        """A list of samples in, a list of outputs (one list of ``Value`` s per sample) out."""
        xs = list(xs)
        if len(xs) == 1:
            return [self.forward(xs[0])]
        return [self.forward(x, s) for s, x in enumerate(xs)]


def inputs(x, sample: int | None = None) -> list:
    """A sample as ``Value`` s: numbers become leaves tagged ``x[i]``; ``Value`` s pass unchanged."""
    if isinstance(x, Value) or isinstance(x, Real):
        x = [x]
    out = []
    for i, xi in enumerate(x):
        if isinstance(xi, Value):
            out.append(xi)
        elif isinstance(xi, Real) and not isinstance(xi, bool) and math.isfinite(xi):
            out.append(mark(Value(float(xi)), "x", None, (i,), sample))
        else:
            where = "x" if sample is None else f"x[{sample}]"
            raise InputError(f"input {i} must be a finite number, got {xi!r}", key=where)
    return out


@lru_cache(maxsize=1 << 16)
def _role(quantity: str, layer, index: tuple, sample, step) -> tuple:
    role = Role(quantity, layer, index, sample, step)
    return role.label(), role


def mark(value: Value, quantity: str, layer: int | None = None, index: tuple = (), sample: int | None = None,
         step: int | None = None) -> Value:
    """Tag ``value`` with ``Role(quantity, layer, index, sample, step)`` and its label; returns it.
    Roles and labels are cached, since training tags the same positions in every batch."""
    value.label, value.role = _role(quantity, layer, index, sample, step)
    return value
