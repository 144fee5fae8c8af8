"""Dropout and BatchNorm: modules that behave differently in training and inference.

The document's table: in training mode dropout drops units at random and
BatchNorm normalises with the batch's statistics; in inference mode dropout is
the identity and BatchNorm uses running statistics gathered during training.
"""

from __future__ import annotations

import math
import random

from ..core.errors import InputError
from ..core.functional import sum as _sum
from ..core.value import Value, const
from .module import Module, inputs, mark


class Dropout(Module):
    """Inverted dropout: in training mode each unit is kept with probability 1 − p and
    scaled by 1/(1 − p), else multiplied by 0. The mask enters the graph as constants
    tagged ``mask{layer}[j]`` (so a trace records it) and is kept in ``last_mask``
    (one list per sample of the latest call). In eval mode: the identity."""

    def __init__(self, p: float = 0.5, *, seed: int = 0, layer: int | None = None):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise InputError(f"dropout probability must be in [0, 1), got {p!r}", key="dropout")
        self.p, self.layer = float(p), layer
        self.rng = random.Random(seed)
        self.last_mask: list = []

    def draw(self, n: int) -> list:
        """A mask of ``n`` units from the module's generator: 1 kept, 0 dropped."""
        return [0 if self.rng.random() < self.p else 1 for _ in range(n)]

    def _apply(self, x: list, sample, keep: list | None = None, step: int | None = None) -> list:
        """``x`` with the mask ``keep`` (0/1 per unit; drawn when None) applied and the kept
        units scaled by 1/(1 − p): each unit times a constant tagged ``mask{layer}[j]``."""
        scale = 1.0 / (1.0 - self.p)
        mask = [k * scale for k in (self.draw(len(x)) if keep is None else keep)]
        self.last_mask.append(mask)
        return [mark(v * mark(const(m), "mask", self.layer, (j,), sample, step), "d", self.layer, (j,), sample, step)
                for j, (v, m) in enumerate(zip(x, mask))]

    def apply(self, x: list, keep: list, sample=None, step: int | None = None) -> list:
        """``x`` (Values) through the given mask ``keep`` (0/1 per unit), as in training mode."""
        return self._apply(list(x), sample, keep, step)

    def forward(self, x, sample: int | None = None) -> list:
        x = inputs(x, sample)
        if not self.training or self.p == 0:
            return x
        self.last_mask = []
        return self._apply(x, sample)

    def batch(self, xs) -> list:
        xs = list(xs)
        if not self.training or self.p == 0:
            return [inputs(x) for x in xs]
        self.last_mask = []
        n = len(xs)
        return [self._apply(inputs(x), None if n == 1 else s) for s, x in enumerate(xs)]

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class BatchNorm(Module):
    """Batch normalisation of each of ``n`` units over a batch of scalars:
    ŷ = γ·(x − μ)/√(σ² + ε) + β.

    Training mode (:meth:`batch`): μ and σ² are the batch mean and (biased)
    variance, built as nodes (tagged ``mu``, ``var``) so gradients flow through
    them; ``running_mean``/``running_var`` move towards them with ``momentum``
    (the running variance uses the unbiased batch variance, as PyTorch does).
    Eval mode: the running statistics enter as constants. γ and β are parameters
    ``gamma{layer}[j]``, ``beta{layer}[j]``; outputs are tagged ``bn{layer}[j]``.
    """

    residual_block = False

    def __init__(self, n: int, *, momentum: float = 0.1, eps: float = 1e-5, layer: int | None = None):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"BatchNorm needs a positive number of units, got {n!r}", key="batchnorm")
        if not 0 < momentum <= 1 or not eps > 0:
            raise InputError(f"BatchNorm needs 0 < momentum ≤ 1 and eps > 0, got {momentum!r}, {eps!r}",
                             key="batchnorm")
        self.n_in = self.n_out = n
        self.momentum, self.eps, self.layer = float(momentum), float(eps), layer
        self.gamma = [mark(Value(1.0), "gamma", layer, (j,)) for j in range(n)]
        self.beta = [mark(Value(0.0), "beta", layer, (j,)) for j in range(n)]
        self.running_mean = [0.0] * n
        self.running_var = [1.0] * n

    def named_parameters(self) -> list:
        return [(p.label, p) for p in self.gamma + self.beta]

    def forward(self, x, sample: int | None = None) -> list:
        if self.training:
            raise InputError("BatchNorm in training mode needs a whole batch: call model.batch(samples), "
                             "or switch to inference with model.eval()", key="batchnorm")
        return self._eval(inputs(x, sample), sample)

    def _eval(self, x: list, sample, step: int | None = None) -> list:
        """Normalised with the running statistics, which enter as constants."""
        x = self._checked(x)
        out = []
        for j, v in enumerate(x):
            mu = mark(const(self.running_mean[j]), "running_mean", self.layer, (j,))
            sd = mark(const(math.sqrt(self.running_var[j] + self.eps)), "running_sd", self.layer, (j,))
            out.append(self._affine(j, mark((v - mu) / sd, "zhat", self.layer, (j,), sample, step), sample, step))
        return out

    def batch(self, xs, step: int | None = None) -> list:
        xs = list(xs)
        n = len(xs)
        if not self.training:
            return [self._eval(inputs(x, None if n == 1 else s), None if n == 1 else s, step) for s, x in enumerate(xs)]
        if n < 2:
            raise InputError("BatchNorm in training mode needs at least 2 samples per batch (the variance of "
                             "one sample is 0); use a larger batch or model.eval()", key="batch_size")
        xs = [self._checked(inputs(x, s)) for s, x in enumerate(xs)]
        out = [[None] * self.n_out for _ in xs]
        for j in range(self.n_out):
            column = [x[j] for x in xs]
            mu = mark(_sum(column) / n, "mu", self.layer, (j,), step=step)
            centred = [v - mu for v in column]
            var = mark(_sum([d ** 2 for d in centred]) / n, "var", self.layer, (j,), step=step)
            sd = (var + self.eps).sqrt()
            for s, d in enumerate(centred):
                out[s][j] = self._affine(j, mark(d / sd, "zhat", self.layer, (j,), s, step), s, step)
            m = self.momentum
            self.running_mean[j] = (1 - m) * self.running_mean[j] + m * mu.data
            self.running_var[j] = (1 - m) * self.running_var[j] + m * var.data * n / (n - 1)
        return out

    def _checked(self, x: list) -> list:
        if len(x) != self.n_in:
            raise InputError(f"BatchNorm of layer {self.layer} normalises {self.n_in} units, got {len(x)}",
                             key="batchnorm")
        return x

    def _affine(self, j: int, xhat: Value, sample, step: int | None = None) -> Value:
        return mark(self.gamma[j] * xhat + self.beta[j], "bn", self.layer, (j,), sample, step)

    def __repr__(self) -> str:
        return f"BatchNorm({self.n_in})"
