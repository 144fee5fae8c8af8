"""Layers: micrograd's ``Neuron`` and ``Layer``, ``Dense`` from given numbers, ``Activation``.

Every unit computes its weighted sum as one n-ary ``dot`` node (inputs first,
then weights, in input order) followed by one ``add`` node for the bias, the
``z`` of the document; the activation's node is its ``a``. Parameters and
outputs carry roles (:class:`tracegrad.Role`) so renderers can group scalars
back into vectors and matrices: ``W1[0][1]``, ``b1[0]``, ``z1[0]``, ``a1[0]``.
"""

from __future__ import annotations

import math
import random
from numbers import Real

from ..core.errors import InputError
from ..core.ops import OPS
from ..core.value import Value, _apply
from . import activations as _activations
from .init import unit_weights
from .module import Module, inputs, mark

_DOT, _ADD, _RELU = OPS["dot"], OPS["add"], OPS["relu"]

LAYOUTS = {"in_out": "z = x·W + b, W[i][j] connects input i to unit j (the document's)",
           "out_in": "z = W·x + b, W[j][i] connects input i to unit j (PyTorch's nn.Linear)"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _shape(layout: str, n_in: int, n_out: int) -> str:
    if layout == "in_out":
        return f"{_plural(n_in, 'row')} (inputs) × {_plural(n_out, 'column')} (units)"
    return f"{_plural(n_out, 'row')} (units) × {_plural(n_in, 'column')} (inputs)"


def _number(x) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x)


class Neuron(Module):
    """micrograd's neuron: ``relu(w·x + b)`` (``nonlin=True``) or ``w·x + b``.

    Weights are drawn from ``rng`` (or ``random.Random(seed)``) with scheme
    ``init`` (micrograd's U(−1, 1) by default); the bias starts at 0. Inside a
    layer, unit ``unit`` of layer ``layer`` has weights ``W{layer}[i][unit]`` and
    bias ``b{layer}[unit]`` (the document's in_out indexing).
    """

    residual_block = False

    def __init__(self, nin: int, nonlin: bool = True, *, rng: random.Random | None = None, seed: int = 0,
                 init: str = "uniform", gain: float = 1.0, layer: int | None = None, unit: int | None = None,
                 fan_out: int = 1):
        rng = rng if rng is not None else random.Random(seed)
        at = () if unit is None else (unit,)
        weights = unit_weights(init, rng, nin, fan_out, gain)
        self.w = [mark(Value(w), "W", layer, (i, *at)) for i, w in enumerate(weights)]
        self.b = mark(Value(0.0), "b", layer, at)
        self.nonlin = nonlin
        self.layer, self.n_in, self.n_out = layer, nin, 1
        self._w, self._at = tuple(self.w), at

    def __call__(self, x, sample: int | None = None) -> Value:
        return self._fire(self._inputs(x, sample), sample)

    def forward(self, x, sample: int | None = None) -> list:
        return [self(x, sample)]

    def _inputs(self, x, sample) -> tuple:
        xs = tuple(inputs(x, sample))
        if len(xs) != len(self._w):
            raise InputError(f"a neuron of layer {self.layer} takes {_plural(len(self._w), 'input')}, got {len(xs)}",
                             key="x")
        return xs

    def _fire(self, xs: tuple, sample) -> Value:
        z = mark(_apply(_ADD, (_apply(_DOT, xs + self._w, ()), self.b), ()), "z", self.layer, self._at, sample)
        if not self.nonlin:
            return z
        return mark(_apply(_RELU, (z,), ()), "a", self.layer, self._at, sample)

    def named_parameters(self) -> list:
        return [(p.label, p) for p in self.parameters()]

    def parameters(self) -> list:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """micrograd's layer of ``nout`` neurons; one unit returns the ``Value`` itself."""

    residual_block = True

    def __init__(self, nin: int, nout: int, nonlin: bool = True, *, rng: random.Random | None = None,
                 seed: int = 0, init: str = "uniform", gain: float = 1.0, layer: int | None = None):
        rng = rng if rng is not None else random.Random(seed)
        self.neurons = [Neuron(nin, nonlin, rng=rng, init=init, gain=gain, layer=layer, unit=j, fan_out=nout)
                        for j in range(nout)]
        self.layer = layer
        self.n_in, self.n_out = nin, nout

    def __call__(self, x, sample: int | None = None):
        out = self.forward(x, sample)
        return out[0] if len(out) == 1 else out

    def forward(self, x, sample: int | None = None) -> list:
        xs = self.neurons[0]._inputs(x, sample)
        return [n._fire(xs, sample) for n in self.neurons]

    def check_inputs(self, n_in: int, position: int) -> None:
        """Raise an :class:`InputError` unless the layer takes ``n_in`` inputs."""
        if n_in != self.n_in:
            raise InputError(f"layer {self.layer}: expected {n_in} inputs per neuron (the previous layer's "
                             f"width), got {self.n_in}", key=f"layers[{position}]")

    def named_parameters(self) -> list:
        return [pair for n in self.neurons for pair in n.named_parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class Dense(Module):
    """A fully connected layer built from given numbers; see the module docstring.

    ``weights``: a nested list in ``layout`` (``in_out``: n_in rows × n_out
    columns, z = x·W + b; ``out_in``: n_out rows × n_in columns, z = W·x + b),
    or a flat list: the weights of a one-unit layer, one per input.
    ``bias``: n_out numbers, or one number, a single bias ``Value`` shared by
    every unit. Calling the layer always returns a list, even for one unit.
    """

    residual_block = True

    def __init__(self, weights, bias, activation: str = "sigmoid", *, layout: str = "in_out",
                 layer: int = 1, alpha: float = 0.01):
        where = f"layers[{layer - 1}]"
        if layout not in LAYOUTS:
            choices = "; ".join(f"{k!r}: {v}" for k, v in LAYOUTS.items())
            raise InputError(f"layer {layer}: unknown layout {layout!r}; use {choices}", key=f"{where}.layout")
        self.spec = _activations.activation(activation, key=f"{where}.activation")
        if not _number(alpha):
            raise InputError(f"layer {layer}: alpha must be a finite number, got {alpha!r}", key=f"{where}.alpha")
        self.layout, self.layer, self.activation, self.alpha = layout, layer, activation, float(alpha)
        rows, self.flat = self._rows(weights, layer, f"{where}.weights")
        if self.flat:
            rows = [[w] for w in rows[0]] if layout == "in_out" else rows
        index = (lambda i, j: (i + j,)) if self.flat else (lambda i, j: (i, j))
        self.weight_matrix = [[mark(Value(float(w)), "W", layer, index(i, j)) for j, w in enumerate(row)]
                              for i, row in enumerate(rows)]
        m = self.weight_matrix
        if layout == "in_out":
            self.n_in, self.n_out = len(m), len(m[0])
            self._columns = [tuple(m[i][j] for i in range(self.n_in)) for j in range(self.n_out)]
        else:
            self.n_out, self.n_in = len(m), len(m[0])
            self._columns = [tuple(row) for row in m]
        self.bias_values, self.shared_bias = self._bias(bias, layer, f"{where}.bias")
        self._unit_bias = self.bias_values * self.n_out if self.shared_bias else self.bias_values

    @staticmethod
    def _rows(weights, layer: int, key: str):
        if not isinstance(weights, (list, tuple)) or not weights:
            raise InputError(f"layer {layer}: weights must be a non-empty list of numbers (one unit) or a list "
                             f"of rows of numbers, got {weights!r}", key=key)
        flat = all(not isinstance(r, (list, tuple)) for r in weights)
        rows = [list(weights)] if flat else weights
        for i, row in enumerate(rows):
            if not isinstance(row, (list, tuple)) or not row:
                raise InputError(f"layer {layer}: weights mix numbers and rows; give a list of numbers (one unit) "
                                 f"or a list of equally long rows", key=key)
            if len(row) != len(rows[0]):
                raise InputError(f"layer {layer}: row {i} has {len(row)} numbers but row 0 has {len(rows[0])}; "
                                 f"the weight matrix must be rectangular", key=key)
            for j, w in enumerate(row):
                if not _number(w):
                    at = f"[{j}]" if flat else f"[{i}][{j}]"
                    raise InputError(f"layer {layer}: weight {at} must be a finite number, got {w!r}", key=key + at)
        return rows, flat

    def _bias(self, bias, layer: int, key: str):
        if _number(bias):
            return [mark(Value(float(bias)), "b", layer, ())], True
        if (not isinstance(bias, (list, tuple)) or len(bias) != self.n_out
                or not all(_number(b) for b in bias)):
            got = f"{len(bias)} numbers" if isinstance(bias, (list, tuple)) else repr(bias)
            raise InputError(f"layer {layer}: expected {self.n_out} bias{'es' if self.n_out != 1 else ''} (one finite "
                             f"number per unit) or one shared number, got {got}", key=key)
        return [mark(Value(float(b)), "b", layer, (j,)) for j, b in enumerate(bias)], False

    @classmethod
    def random(cls, n_in: int, n_out: int, activation: str = "sigmoid", *, init: str = "xavier",
               gain: float = 1.0, seed: int = 0, rng: random.Random | None = None, layout: str = "in_out",
               layer: int = 1, alpha: float = 0.01) -> "Dense":
        """A layer with weights drawn by scheme ``init`` (times ``gain``) and zero biases."""
        rng = rng if rng is not None else random.Random(seed)
        units = [unit_weights(init, rng, n_in, n_out, gain) for _ in range(n_out)]
        weights = units if layout == "out_in" else [list(col) for col in zip(*units)]
        return cls(weights, [0.0] * n_out, activation, layout=layout, layer=layer, alpha=alpha)

    def check_inputs(self, n_in: int, position: int | None = None) -> None:
        """Raise an :class:`InputError` unless the layer takes ``n_in`` inputs."""
        if n_in == self.n_in:
            return
        if self.flat:
            got = f"a flat list of {_plural(self.n_in, 'weight')} (one unit with {_plural(self.n_in, 'input')})"
        else:
            got = f"{len(self.weight_matrix)} × {len(self.weight_matrix[0])}"
        count = self.n_in * self.n_out
        units = count // n_in if count % n_in == 0 else self.n_out  # the likely intended number of units
        hint = ""
        if not self.flat and self.n_in == units and self.n_out == n_in:
            other = "out_in" if self.layout == "in_out" else "in_out"
            hint = f"; the matrix looks transposed: transpose it or use layout {other}"
        raise InputError(f"layer {self.layer}: expected {_shape(self.layout, n_in, units)} for layout "
                         f"{self.layout}, got {got}{hint}", key=f"layers[{self.layer - 1}].weights")

    def __call__(self, x, sample: int | None = None) -> list:
        return self.forward(x, sample)

    def forward(self, x, sample: int | None = None) -> list:
        return self.activate(self.weighted_sums(x, sample), sample)

    def weighted_sums(self, x, sample: int | None = None, step: int | None = None) -> list:
        """The layer's z: one ``dot`` and one ``add`` node per unit, tagged ``z{layer}[j]``."""
        xs = tuple(inputs(x, sample))
        if len(xs) != self.n_in:
            raise InputError(f"layer {self.layer} takes {_plural(self.n_in, 'input')}, got {len(xs)}",
                             key=f"layers[{self.layer - 1}]")
        return [mark(_apply(_ADD, (_apply(_DOT, xs + w, ()), b), ()), "z", self.layer, (j,), sample, step)
                for j, (w, b) in enumerate(zip(self._columns, self._unit_bias))]

    def activate(self, z: list, sample: int | None = None, step: int | None = None) -> list:
        """The layer's activation applied to ``z`` (``z`` itself for identity), tagged ``a{layer}[j]``."""
        if self.spec.is_identity:
            return list(z)
        return [mark(v, "a", self.layer, (j,), sample, step) for j, v in enumerate(self.spec(z, self.alpha))]

    def with_parameters(self, weight_matrix, bias_values) -> "Dense":
        """The same layer computing with other parameter nodes (the weights after an update):
        ``weight_matrix`` in the layer's layout, ``bias_values`` one per unit (or the shared one)."""
        copy = object.__new__(Dense)
        copy.__dict__.update(self.__dict__)
        copy.weight_matrix = [list(row) for row in weight_matrix]
        m = copy.weight_matrix
        copy._columns = ([tuple(m[i][j] for i in range(self.n_in)) for j in range(self.n_out)]
                         if self.layout == "in_out" else [tuple(row) for row in m])
        copy.bias_values = list(bias_values)
        copy._unit_bias = copy.bias_values * self.n_out if self.shared_bias else copy.bias_values
        return copy

    def named_parameters(self) -> list:
        return [(p.label, p) for row in self.weight_matrix for p in row] + [(b.label, b) for b in self.bias_values]

    def __repr__(self) -> str:
        return f"Dense({self.n_in} → {self.n_out}, {self.activation}, layout={self.layout}, layer={self.layer})"


class Activation(Module):
    """An activation as a layer of its own (after a ``Dense`` with ``identity`` and a ``BatchNorm``)."""

    residual_block = False
    n_in = n_out = None

    def __init__(self, name: str, *, layer: int | None = None, alpha: float = 0.01):
        self.spec = _activations.activation(name, key="activation")
        self.name, self.layer, self.alpha = name, layer, float(alpha)

    def forward(self, x, sample: int | None = None) -> list:
        z = inputs(x, sample)
        if self.spec.is_identity:
            return z
        a = self.spec(z, self.alpha)
        return [mark(v, "a", self.layer, (j,), sample) for j, v in enumerate(a)]

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"
