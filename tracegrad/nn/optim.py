"""Optimizers, each update rule written once over plain arithmetic.

``rule(p, g, state) -> (new_p, new_state)`` uses only ``+ − × ÷ **`` and
:func:`_sqrt`, so the same function updates floats (:meth:`Optimizer.step`) and
builds ``Value`` nodes (:meth:`Optimizer.graph_step`), the way the op table's
partials do: a derivation can then print W_new = W − η·∂L/∂W as nodes.

Weight decay λ is applied around the rule: coupled (``decoupled=False``, the
default) adds λ·p to the gradient, which is exactly an L2 penalty ½λ‖p‖² in
the loss; decoupled (AdamW's) subtracts η·λ·p from the parameter after the
rule. For SGD the two coincide; for Momentum, RMSprop and Adam they differ.
"""

from __future__ import annotations

import math
from numbers import Real

from ..core.errors import DomainError, InputError
from ..core.roles import Role, tag
from ..core.value import Value, const


def _sqrt(x):
    """√x on a float or a ``Value``."""
    return x.sqrt() if isinstance(x, Value) else math.sqrt(x)


def _check(name: str, value, low: float = 0.0, high: float = math.inf, *, strict_low: bool = False,
           strict_high: bool = False) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if strict_low else value >= low) and (value < high if strict_high else value <= high)
    if not ok:
        lo, hi = ("(" if strict_low else "["), (")" if strict_high else "]")
        raise InputError(f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}", key=f"optimizer.{name}")
    return float(value)


class Optimizer:
    """Base class: parameters, per-parameter ``state`` (readable), ``step()``, ``zero_grad()``, ``graph_step()``."""

    name = ""

    def __init__(self, params, lr: float, weight_decay: float = 0.0, decoupled: bool = False):
        self.params = list(params)
        if not self.params or not all(isinstance(p, Value) for p in self.params):
            raise InputError("the optimizer needs a non-empty list of parameter Values "
                             "(pass model.parameters())", key="optimizer")
        self.lr = _check("lr", lr, strict_low=True)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.decoupled = bool(decoupled)
        self.state = [self.initial_state() for _ in self.params]
        self.iterations = 0

    def initial_state(self) -> dict:
        """A parameter's state before the first step."""
        return {}

    def rule(self, p, g, state: dict):
        """The optimizer's update on one parameter: ``(new_p, new_state)``."""
        raise NotImplementedError

    def update(self, p, g, state: dict):
        """:meth:`rule` with weight decay around it (coupled or decoupled)."""
        if self.weight_decay and not self.decoupled:
            g = g + self.weight_decay * p
        new_p, state = self.rule(p, g, state)
        if self.weight_decay and self.decoupled:
            new_p = new_p - self.lr * self.weight_decay * p
        return new_p, state

    def state_of(self, p: Value) -> dict:
        """The state of parameter ``p`` (moments, step counter)."""
        return self.state[self._position(p)]

    def _position(self, p: Value) -> int:
        for i, q in enumerate(self.params):
            if q is p:
                return i
        raise InputError(f"{p.label or 'this Value'} is not a parameter of this optimizer", key="optimizer")

    def step(self) -> None:
        """Update every parameter's ``data`` from its ``grad``."""
        for i, p in enumerate(self.params):
            if not math.isfinite(p.grad):
                raise DomainError(p.label or "parameter", [("gradient", p.grad)], "the gradient is not finite",
                                  "clip gradients, lower the learning rate, or use a smaller initialisation")
            p.data, self.state[i] = self.update(p.data, p.grad, self.state[i])
        self.iterations += 1

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for p in self.params:
            p.grad = 0.0

    def graph_update(self, params=None, grads=None):
        """The update as ``Value`` nodes, mutating nothing: ``(new parameters, new states)``.

        ``grads`` are gradient ``Value`` s in the order of ``params`` (default:
        the optimizer's; ``None`` for a parameter the loss does not depend on),
        or the mapping ``loss.backward(create_graph=True)`` returns. The current state enters as constants labelled ``m(W1[0][0])``.
        """
        params = self.params if params is None else list(params)
        if isinstance(grads, dict):
            grads = [grads.get(p) or const(0.0) for p in params]
        grads = list(grads or [])
        if len(grads) != len(params):
            raise InputError(f"{len(params)} parameters but {len(grads)} gradients", key="grads")
        new_params, new_states = [], []
        for p, g in zip(params, grads):
            state = {k: tag(const(v), Role(k), label=f"{k}({p.label})") if isinstance(v, float) else v
                     for k, v in self._current(p).items()}
            g = g if isinstance(g, Value) else const(0.0 if g is None else g)  # None: p does not reach the loss
            new_p, new_state = self.update(p, g, state)
            new_params.append(new_p)
            new_states.append(new_state)
        return new_params, new_states

    def graph_step(self, params=None, grads=None) -> list:
        """The new parameters as ``Value`` nodes (see :meth:`graph_update`)."""
        return self.graph_update(params, grads)[0]

    def _current(self, p: Value) -> dict:
        for i, q in enumerate(self.params):
            if q is p:
                return self.state[i]
        return self.initial_state()


class SGD(Optimizer):
    """Gradient descent: p ← p − η·g; with ``momentum`` μ: v ← μ·v + g, p ← p − η·v
    (``nesterov``: p ← p − η·(g + μ·v))."""

    name = "sgd"

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.momentum = _check("momentum", momentum, 0.0, 1.0, strict_high=True)
        self.nesterov = bool(nesterov)
        if self.nesterov and not self.momentum:
            raise InputError("Nesterov momentum needs momentum > 0", key="optimizer.nesterov")
        super().__init__(params, lr, weight_decay, decoupled)

    def initial_state(self) -> dict:
        return {"v": 0.0} if self.momentum else {}

    def rule(self, p, g, state):
        if not self.momentum:
            return p - self.lr * g, state
        v = self.momentum * state["v"] + g
        direction = g + self.momentum * v if self.nesterov else v
        return p - self.lr * direction, {"v": v}


class Momentum(SGD):
    """Classical momentum (SGD with μ = 0.9 by default), optionally Nesterov's."""

    name = "momentum"

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, nesterov: bool = False,
                 weight_decay: float = 0.0, decoupled: bool = False):
        if not momentum:
            raise InputError("Momentum needs momentum > 0 (use SGD for plain gradient descent)",
                             key="optimizer.momentum")
        super().__init__(params, lr, momentum, nesterov, weight_decay, decoupled)


class RMSprop(Optimizer):
    """s ← α·s + (1 − α)·g², p ← p − η·g / (√s + ε)."""

    name = "rmsprop"

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.alpha = _check("alpha", alpha, 0.0, 1.0, strict_high=True)
        self.eps = _check("eps", eps, strict_low=True)
        super().__init__(params, lr, weight_decay, decoupled)

    def initial_state(self) -> dict:
        return {"s": 0.0}

    def rule(self, p, g, state):
        s = self.alpha * state["s"] + (1 - self.alpha) * g ** 2
        return p - self.lr * g / (_sqrt(s) + self.eps), {"s": s}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction:
    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
    p ← p − η·m̂/(√v̂ + ε). ``decoupled=True`` with ``weight_decay`` is AdamW."""

    name = "adam"

    def __init__(self, params, lr: float = 0.001, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise InputError(f"betas must be two numbers (β₁, β₂), got {betas!r}", key="optimizer.betas")
        self.beta1 = _check("beta1", betas[0], 0.0, 1.0, strict_high=True)
        self.beta2 = _check("beta2", betas[1], 0.0, 1.0, strict_high=True)
        self.eps = _check("eps", eps, strict_low=True)
        super().__init__(params, lr, weight_decay, decoupled)

    def initial_state(self) -> dict:
        return {"t": 0, "m": 0.0, "v": 0.0}

    def rule(self, p, g, state):
        t = state["t"] + 1
        m = self.beta1 * state["m"] + (1 - self.beta1) * g
        v = self.beta2 * state["v"] + (1 - self.beta2) * g ** 2
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        return p - self.lr * m_hat / (_sqrt(v_hat) + self.eps), {"t": t, "m": m, "v": v}


OPTIMIZERS = {cls.name: cls for cls in (SGD, Momentum, RMSprop, Adam)}
"""Optimizer classes by name."""


def clip_grad_value(params, clip: float) -> None:
    """Clip every gradient into [−clip, clip]."""
    clip = _check("clip", clip, strict_low=True)
    for p in params:
        p.grad = min(max(p.grad, -clip), clip)


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients by max_norm/‖g‖ when the global norm ‖g‖ exceeds ``max_norm``; returns ‖g‖ before."""
    max_norm = _check("max_norm", max_norm, strict_low=True)
    params = list(params)
    norm = math.sqrt(math.fsum(p.grad * p.grad for p in params))
    if not math.isfinite(norm):
        raise DomainError("gradient norm", [("norm", norm)], "the gradient is not finite",
                          "lower the learning rate or use a smaller initialisation; clipping cannot repair inf/NaN")
    if norm > max_norm:
        scale = max_norm / norm
        for p in params:
            p.grad *= scale
    return norm
