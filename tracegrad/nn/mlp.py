"""``MLP``: micrograd's multi-layer perceptron, or any stack of layers, with optional skips."""

from __future__ import annotations

import random

from .layers import Activation, Dense, Layer
from .module import Module, inputs, mark
from .norm import BatchNorm, Dropout


class MLP(Module):
    """``MLP(2, [16, 16, 1])``: micrograd's network (ReLU hidden layers, linear output,
    weights U(−1, 1)), seeded from its own ``random.Random(seed)``.

    ``init`` picks another scheme (:mod:`tracegrad.nn.init`) and ``gain`` scales
    it. With ``residual=True`` every layer except the last whose input and
    output widths are equal adds its input to its output (a skip connection;
    the sum is tagged ``h{layer}[j]``). Calling the network on one sample
    returns the output ``Value`` when there is one unit, else a list.
    """

    residual_block = True

    def __init__(self, nin: int, nouts: list, *, seed: int = 0, init: str = "uniform", gain: float = 1.0,
                 residual: bool = False):
        rng = random.Random(seed)
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1, rng=rng, init=init, gain=gain,
                             layer=i + 1) for i in range(len(nouts))]
        self.residual = residual

    @classmethod
    def from_layers(cls, layers: list, *, residual: bool = False) -> "MLP":
        """A network running ``layers`` in order (``Dense``, ``Layer``, ``Activation``,
        ``Dropout``, ``BatchNorm`` or a nested ``MLP`` as one block); widths are checked."""
        net = cls.__new__(cls)
        net.layers, net.residual = list(layers), residual
        width = None
        for position, layer in enumerate(net.layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layers[{position}] is a {type(layer).__name__}, not a tracegrad.nn module")
            if layer.n_in is not None:
                if width is not None:
                    layer.check_inputs(width, position)
                width = layer.n_out
        return net

    @classmethod
    def stack(cls, sizes: list, activation: str = "relu", output: str = "identity", *, init: str = "he",
              gain: float = 1.0, seed: int = 0, layout: str = "in_out", alpha: float = 0.01,
              batchnorm: bool = False, dropout: float = 0.0, residual: bool = False) -> "MLP":
        """A ``Dense`` network of widths ``sizes`` (inputs first): hidden layers use
        ``activation`` (after a ``BatchNorm`` when ``batchnorm``; followed by a
        ``Dropout`` when ``dropout`` > 0), the last layer ``output``."""
        rng = random.Random(seed)
        blocks = []
        for k in range(1, len(sizes)):
            last = k == len(sizes) - 1
            act = output if last else activation
            dense = Dense.random(sizes[k - 1], sizes[k], "identity" if batchnorm and not last else act,
                                 init=init, gain=gain, rng=rng, layout=layout, layer=k, alpha=alpha)
            parts = [dense]
            if batchnorm and not last:
                parts += [BatchNorm(sizes[k], layer=k), Activation(act, layer=k, alpha=alpha)]
            if dropout and not last:
                parts.append(Dropout(dropout, seed=rng.randrange(2**32), layer=k))
            blocks.append(dense if len(parts) == 1 else cls.from_layers(parts))
        return cls.from_layers(blocks, residual=residual)

    @property
    def n_in(self):
        return next((m.n_in for m in self.layers if m.n_in is not None), None)

    @property
    def n_out(self):
        return next((m.n_out for m in reversed(self.layers) if m.n_out is not None), None)

    @property
    def layer(self):
        """The layer number of the first layer that has one (a nested block's number)."""
        return next((m.layer for m in self.layers if getattr(m, "layer", None) is not None), None)

    def check_inputs(self, n_in: int, position: int | None = None) -> None:
        """Raise an :class:`InputError` unless the first weight layer takes ``n_in`` inputs."""
        first = next(m for m in self.layers if m.n_in is not None)
        first.check_inputs(n_in, position)

    def children(self) -> list:
        return self.layers

    def __call__(self, x, sample: int | None = None):
        out = self.forward(x, sample)
        return out[0] if len(out) == 1 else out

    def _skips(self) -> list:
        last = len(self.layers) - 1
        return [self.residual and k < last and m.residual_block and m.n_in == m.n_out
                for k, m in enumerate(self.layers)]

    def forward(self, x, sample: int | None = None) -> list:
        h = inputs(x, sample)
        for layer, skip in zip(self.layers, self._skips()):
            out = layer.forward(h, sample)
            h = _skip(out, h, layer, sample) if skip else out
        return h

    def batch(self, xs) -> list:
        xs = list(xs)
        n = len(xs)
        hs = [inputs(x, None if n == 1 else s) for s, x in enumerate(xs)]
        for layer, skip in zip(self.layers, self._skips()):
            outs = layer.batch(hs)
            hs = [_skip(o, h, layer, None if n == 1 else s) for s, (o, h) in enumerate(zip(outs, hs))] if skip else outs
        return hs

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def _skip(out: list, h: list, layer, sample) -> list:
    number = getattr(layer, "layer", None)
    return [mark(o + x, "h", number, (j,), sample) for j, (o, x) in enumerate(zip(out, h))]


def build_demo_mlp(seed: int = 1337) -> MLP:
    """micrograd's demo network, ``MLP(2, [16, 16, 1])``, for the benchmark."""
    return MLP(2, [16, 16, 1], seed=seed)
