"""Optimizers, one class per optimizer in one table, each update rule written once.

Every optimizer declares its **settings** (name, default, range and symbol: η, μ, α, β₁,
β₂, ε, λ), its **named state** (v; s; m, v, m̂, v̂ with the step counter t), its **slips**
(the mistakes a student makes applying it, each a change to how it computes, which the
checker replays and names: ε inside the root, no bias correction …) and its update rule
twice, from one source each:

* ``rule(p, g, state) -> (new_p, terms)`` over plain arithmetic (``+ − × ÷ **`` and
  :func:`sqrt`), so the same function updates floats (:meth:`Optimizer.step`) and builds
  ``Value`` nodes (:meth:`Optimizer.graph_update`), the way the op table's partials do:
  a derivation prints every state as nodes, and replays and checks them;
* ``formulas(names)``: the same rule as textbook lines (``m ← β₁·m + (1 − β₁)·g`` …),
  :class:`~tracegrad.core.formula.Formula` s that are written and evaluated, so a printed
  update formula is always the optimizer's own.

Weight decay λ is applied around the rule: coupled (``decoupled=False``, the default)
adds λ·p to the gradient, which is exactly an L2 penalty ½λ‖p‖² in the loss; decoupled
(AdamW's) subtracts η·λ·p from the parameter after the rule. For SGD the two coincide;
for Momentum, RMSprop and Adam they differ.

To add an optimizer: a subclass with ``name``, ``settings``, ``state_names``,
``initial_state``, ``rule``, ``formulas`` and (if it has slips of its own) ``own_slips``,
added to :data:`OPTIMIZERS`, plus its tests against the update written out by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Callable

from ..core.errors import DomainError, InputError
from ..core.formula import Formula, Sym
from ..core.formula import sqrt as _root
from ..core.roles import Role, tag
from ..core.value import Value, const

def sqrt(x):
    """√x on a float, a ``Value`` or a :class:`~tracegrad.core.formula.Formula`."""
    if isinstance(x, Value):
        return x.sqrt()
    if isinstance(x, Formula):
        return _root(x)
    return math.sqrt(x)


@dataclass(frozen=True)
class Setting:
    """One setting of an optimizer: its keyword (and problem-file key), default, range and
    symbol. ``kind`` is ``number``, ``flag`` (true/false) or ``pair`` (β₁, β₂)."""

    name: str
    default: object
    latex: str = ""
    text: str = ""
    low: float = 0.0
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    kind: str = "number"

    def check(self, value, key: str | None = None):
        """``value`` validated (an :class:`InputError` naming ``key`` otherwise)."""
        key = key or f"optimizer.{self.name}"
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise InputError(f"{self.name} must be true or false, got {value!r}", key=key)
            return value
        if self.kind == "pair":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise InputError(f"{self.name} must be two numbers (β₁, β₂), got {value!r}", key=key)
            return tuple(self._number(v, f"{key}[{i}]") for i, v in enumerate(value))
        return self._number(value, key)

    def _number(self, value, key: str) -> float:
        ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and (value > self.low if self.open_low else value >= self.low)
        ok = ok and (value < self.high if self.open_high else value <= self.high)
        if not ok:
            lo, hi = ("(" if self.open_low else "["), (")" if self.open_high else "]")
            raise InputError(f"{self.name} must be a number in {lo}{self.low}, {self.high}{hi}, got {value!r}",
                             key=key)
        return float(value)

    def symbol(self, ref: str | None = None) -> Sym:
        return Sym(self.latex, self.text, ref)


LR = Setting("lr", 0.01, r"\eta", "η", open_low=True)
WEIGHT_DECAY = Setting("weight_decay", 0.0, r"\lambda", "λ")
DECOUPLED = Setting("decoupled", False, kind="flag")
MOMENTUM = Setting("momentum", 0.0, r"\mu", "μ", high=1.0, open_high=True)
NESTEROV = Setting("nesterov", False, kind="flag")
EPS = Setting("eps", 1e-8, r"\epsilon", "ε", open_low=True)
ALPHA = Setting("alpha", 0.99, r"\alpha", "α", high=1.0, open_high=True)
BETAS = Setting("betas", (0.9, 0.999), kind="pair", high=1.0, open_high=True)
BETA1 = Setting("beta1", 0.9, r"\beta_{1}", "β₁", high=1.0, open_high=True)
BETA2 = Setting("beta2", 0.999, r"\beta_{2}", "β₂", high=1.0, open_high=True)


@dataclass(frozen=True)
class StateName:
    """A named part of an optimizer's update: ``key`` (``m``, ``v_hat``), its symbol, and
    whether it is carried to the next step (m, v) or only computed in this one (m̂, v̂)."""

    key: str
    latex: str
    text: str
    caption: str  # its caption in the message catalogs: caption.state_<caption>
    carried: bool = True

    def symbol(self, ref: str | None = None) -> Sym:
        return Sym(self.latex, self.text, ref)


@dataclass(frozen=True)
class Slip:
    """A mistake in applying an optimizer: ``key`` names its message (``check.mistake.<key>``),
    ``args`` fill the message's placeholders, ``apply(optimizer)`` makes an optimizer compute
    with the mistake (the checker solves the problem again with it)."""

    key: str
    apply: Callable
    args: tuple = ()


def _set(attribute: str, value: Callable) -> Callable:
    def apply(o):
        setattr(o, attribute, value(o))
    return apply


def _swap_betas(o) -> None:
    o.beta1, o.beta2 = o.beta2, o.beta1


def _shift_step_count(by: int) -> Callable:
    def apply(o):
        for state in o.state:
            state["t"] += by
    return apply


class Optimizer:
    """Base class: parameters, per-parameter ``state`` (readable), ``step()``, ``zero_grad()``,
    ``graph_update()``; see the module docstring."""

    name = ""
    settings: tuple = (LR, WEIGHT_DECAY, DECOUPLED)
    state_names: tuple = ()
    decay_slip = True  # weight decay applied the other way (coupled, decoupled) is a slip of its own

    def __init__(self, params, lr: float, weight_decay: float = 0.0, decoupled: bool = False):
        self.params = list(params)
        if not self.params or not all(isinstance(p, Value) for p in self.params):
            raise InputError("the optimizer needs a non-empty list of parameter Values "
                             "(pass model.parameters())", key="optimizer")
        self.lr = LR.check(lr)
        self.weight_decay = WEIGHT_DECAY.check(weight_decay)
        self.decoupled = bool(decoupled)
        self.state = [self.initial_state() for _ in self.params]
        self.iterations = 0

    def initial_state(self) -> dict:
        """A parameter's state before the first step."""
        return {}

    def hyperparameters(self) -> dict:
        """``{setting name: value}`` of the numbers its formulas use (η, μ, β₁ …)."""
        values = {"lr": self.lr}
        if self.weight_decay:
            values["weight_decay"] = self.weight_decay
        return values

    def rule(self, p, g, state: dict):
        """The update of one parameter: ``(new_p, terms)``; ``terms`` holds every named
        state (:attr:`state_names`) in order, the carried ones among them."""
        raise NotImplementedError

    def formulas(self, names: dict) -> list:
        """The rule as textbook lines ``[(key, Formula), …]`` in the order the rule computes
        them, ending with ``("new", …)``. ``names`` maps ``p``, ``g``, each state key (this
        step's value) and ``prev_<key>`` (the state it starts from) and each setting's name
        to a :class:`~tracegrad.core.formula.Sym`."""
        raise NotImplementedError

    def update(self, p, g, state: dict):
        """:meth:`rule` with weight decay around it (coupled or decoupled): ``(new_p, terms)``;
        with coupled decay ``terms`` starts with ``g``, the decayed gradient the rule used."""
        decayed = {}
        if self.weight_decay and not self.decoupled:
            g = g + self.weight_decay * p
            decayed["g"] = g
        new_p, terms = self.rule(p, g, state)
        if self.weight_decay and self.decoupled:
            new_p = new_p - self.lr * self.weight_decay * p
        return new_p, {**decayed, **terms}

    def update_formulas(self, names: dict) -> list:
        """:meth:`formulas` with weight decay shown: coupled, as the gradient line
        ``g = ∂L/∂W + λW`` first (``names["dL"]`` the raw gradient); decoupled, as its own
        term of the update."""
        lines = []
        if self.weight_decay and not self.decoupled:
            lines.append(("g", names["dL"] + names["weight_decay"] * names["p"]))
        lines += self.formulas(names)
        if self.weight_decay and self.decoupled:
            key, new = lines[-1]
            lines[-1] = (key, new - names["lr"] * names["weight_decay"] * names["p"])
        return lines

    def carried(self, terms: dict) -> dict:
        """The part of ``terms`` carried to the next step."""
        return {k: terms[k] for k in self.initial_state()}

    def slips(self) -> tuple:
        """The mistakes a student can make applying this optimizer, most specific last but the
        learning rate's first: a flipped sign, η squared or left out, the optimizer's own
        (:meth:`own_slips`), and weight decay applied the other way."""
        out = [Slip("update_sign", _set("lr", lambda o: -o.lr)), Slip("lr_twice", _set("lr", lambda o: o.lr ** 2))]
        if self.lr != 1:
            out.append(Slip("lr_missing", _set("lr", lambda o: 1.0)))
        out += self.own_slips()
        if self.weight_decay and self.decay_slip:
            out.append(Slip("weight_decay_coupled" if self.decoupled else "weight_decay_decoupled",
                            _set("decoupled", lambda o: not o.decoupled)))
        return tuple(out)

    def own_slips(self) -> list:
        """The slips of this optimizer's own rule (none for the base class)."""
        return []

    def state_text(self, key: str) -> str:
        """How state ``key`` is written (v̂, s …)."""
        return next(s.text for s in self.state_names if s.key == key)

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
            p.data, terms = self.update(p.data, p.grad, self.state[i])
            self.state[i] = self.carried(terms)
        self.iterations += 1

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for p in self.params:
            p.grad = 0.0

    def graph_update(self, params=None, grads=None, states=None):
        """The update as ``Value`` nodes, mutating nothing: ``(new parameters, terms)``, one
        ``terms`` dict (every named state, as nodes) per parameter.

        ``grads`` are gradient ``Value`` s in the order of ``params`` (default: the
        optimizer's; ``None`` for a parameter the loss does not depend on), or the mapping
        ``loss.backward(create_graph=True)`` returns. ``states`` gives each parameter's
        starting state (nodes of an earlier step's update); by default the current state
        enters as constants labelled ``m(W1[0][0])``.
        """
        params = self.params if params is None else list(params)
        if isinstance(grads, dict):
            grads = [grads.get(p) or const(0.0) for p in params]
        grads = list(grads or [])
        if len(grads) != len(params):
            raise InputError(f"{len(params)} parameters but {len(grads)} gradients", key="grads")
        new_params, all_terms = [], []
        for k, (p, g) in enumerate(zip(params, grads)):
            if states is not None:
                state = states[k]
            else:
                state = {key: tag(const(v), Role(key), label=f"{key}({p.label})") if isinstance(v, float) else v
                         for key, v in self._current(p).items()}
            g = g if isinstance(g, Value) else const(0.0 if g is None else g)  # None: p does not reach the loss
            new_p, terms = self.update(p, g, state)
            new_params.append(new_p)
            all_terms.append(terms)
        return new_params, all_terms

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
    settings = (LR, MOMENTUM, NESTEROV, WEIGHT_DECAY, DECOUPLED)
    state_names = (StateName("v", "v", "v", "velocity"),)

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.momentum = MOMENTUM.check(momentum)
        self.nesterov = bool(nesterov)
        if self.nesterov and not self.momentum:
            raise InputError("Nesterov momentum needs momentum > 0", key="optimizer.nesterov")
        if not self.momentum:
            self.state_names = ()
        super().__init__(params, lr, weight_decay, decoupled)

    def initial_state(self) -> dict:
        return {"v": 0.0} if self.momentum else {}

    def hyperparameters(self) -> dict:
        values = super().hyperparameters()
        if self.momentum:
            values["momentum"] = self.momentum
        return values

    def own_slips(self):
        return [Slip("momentum_omitted", _set("momentum", lambda o: 1.0))] if self.momentum else []

    def rule(self, p, g, state):
        if not self.momentum:
            return p - self.lr * g, {}
        v = self.momentum * state["v"] + g
        direction = g + self.momentum * v if self.nesterov else v
        return p - self.lr * direction, {"v": v}

    def formulas(self, names):
        p, g, lr = names["p"], names["g"], names["lr"]
        if not self.momentum:
            return [("new", p - lr * g)]
        mu, v = names["momentum"], names["v"]
        direction = g + mu * v if self.nesterov else v
        return [("v", mu * names["prev_v"] + g), ("new", p - lr * direction)]


class Momentum(SGD):
    """Classical momentum (SGD with μ = 0.9 by default), optionally Nesterov's."""

    name = "momentum"
    settings = (LR, Setting("momentum", 0.9, r"\mu", "μ", high=1.0, open_high=True, open_low=True), NESTEROV,
                WEIGHT_DECAY, DECOUPLED)

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, nesterov: bool = False,
                 weight_decay: float = 0.0, decoupled: bool = False):
        if not momentum:
            raise InputError("Momentum needs momentum > 0 (use SGD for plain gradient descent)",
                             key="optimizer.momentum")
        super().__init__(params, lr, momentum, nesterov, weight_decay, decoupled)


class RMSprop(Optimizer):
    """s ← α·s + (1 − α)·g², p ← p − η·g / (√s + ε). ``eps_inside_root`` moves ε under the
    root (a slip the checker can diagnose)."""

    name = "rmsprop"
    settings = (LR, ALPHA, EPS, WEIGHT_DECAY, DECOUPLED)
    state_names = (StateName("s", "s", "s", "mean_square"),)

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.alpha = ALPHA.check(alpha)
        self.eps = EPS.check(eps)
        self.eps_inside_root = False
        super().__init__(params, lr, weight_decay, decoupled)

    def initial_state(self) -> dict:
        return {"s": 0.0}

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "alpha": self.alpha, "eps": self.eps}

    def own_slips(self):
        return [Slip("eps_inside_sqrt", _set("eps_inside_root", lambda o: True), (("v", self.state_text("s")),))]

    def rule(self, p, g, state):
        s = self.alpha * state["s"] + (1 - self.alpha) * g ** 2
        scale = sqrt(s + self.eps) if self.eps_inside_root else sqrt(s) + self.eps
        return p - self.lr * g / scale, {"s": s}

    def formulas(self, names):
        alpha, s, g = names["alpha"], names["s"], names["g"]
        return [("s", alpha * names["prev_s"] + (1 - alpha) * g ** 2),
                ("new", names["p"] - names["lr"] * g / (sqrt(s) + names["eps"]))]


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction:
    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
    p ← p − η·m̂/(√v̂ + ε). ``decoupled=True`` with ``weight_decay`` is AdamW.
    ``bias_correction`` and ``eps_inside_root`` switch parts of the rule (slips the
    checker can diagnose)."""

    name = "adam"
    settings = (Setting("lr", 0.001, r"\eta", "η", open_low=True), BETAS, EPS, WEIGHT_DECAY, DECOUPLED)
    state_names = (StateName("m", "m", "m", "first_moment"), StateName("v", "v", "v", "second_moment"),
                   StateName("m_hat", r"\hat{m}", "m̂", "first_moment_hat", carried=False),
                   StateName("v_hat", r"\hat{v}", "v̂", "second_moment_hat", carried=False))

    def __init__(self, params, lr: float = 0.001, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.beta1, self.beta2 = BETAS.check(betas)
        self.eps = EPS.check(eps)
        self.bias_correction = True
        self.eps_inside_root = False
        super().__init__(params, lr, weight_decay, decoupled)

    def initial_state(self) -> dict:
        return {"t": 0, "m": 0.0, "v": 0.0}

    def carried(self, terms: dict) -> dict:
        return {k: terms[k] for k in ("t", "m", "v")}

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def own_slips(self):
        return [Slip("adam_no_bias_correction", _set("bias_correction", lambda o: False)),
                Slip("betas_swapped", _swap_betas), Slip("step_count_ahead", _shift_step_count(1)),
                Slip("step_count_behind", _shift_step_count(-1)),
                Slip("eps_inside_sqrt", _set("eps_inside_root", lambda o: True), (("v", self.state_text("v_hat")),))]

    def rule(self, p, g, state):
        t = state["t"] + 1
        m = self.beta1 * state["m"] + (1 - self.beta1) * g
        v = self.beta2 * state["v"] + (1 - self.beta2) * g ** 2
        if self.bias_correction:
            m_hat, v_hat = m / (1 - self.beta1 ** t), v / (1 - self.beta2 ** t)
        else:
            m_hat, v_hat = m, v
        scale = sqrt(v_hat + self.eps) if self.eps_inside_root else sqrt(v_hat) + self.eps
        return p - self.lr * m_hat / scale, {"t": t, "m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat}

    def formulas(self, names):
        b1, b2, g, t = names["beta1"], names["beta2"], names["g"], names["t"]
        return [("m", b1 * names["prev_m"] + (1 - b1) * g),
                ("v", b2 * names["prev_v"] + (1 - b2) * g ** 2),
                ("m_hat", names["m"] / (1 - b1 ** t)),
                ("v_hat", names["v"] / (1 - b2 ** t)),
                ("new", names["p"] - names["lr"] * names["m_hat"] / (sqrt(names["v_hat"]) + names["eps"]))]


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p ← p − η·m̂/(√v̂ + ε) − η·λ·p."""

    name = "adamw"
    settings = (Setting("lr", 0.001, r"\eta", "η", open_low=True), BETAS, EPS,
                Setting("weight_decay", 0.01, r"\lambda", "λ"))
    decay_slip = False  # decoupled by definition

    def __init__(self, params, lr: float = 0.001, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay, decoupled=True)


OPTIMIZERS = {cls.name: cls for cls in (SGD, Momentum, RMSprop, Adam, AdamW)}
"""Optimizer classes by name."""


def clip_grad_value(params, clip: float) -> None:
    """Clip every gradient into [−clip, clip]."""
    clip = Setting("clip", 1.0, open_low=True).check(clip, key="clip_value")
    for p in params:
        p.grad = min(max(p.grad, -clip), clip)


CLIP_EPS = 1e-6
"""Added to the norm before dividing, as PyTorch's ``clip_grad_norm_`` does."""


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients by min(1, max_norm/(‖g‖ + 10⁻⁶)), ‖g‖ the global norm, as PyTorch's
    ``clip_grad_norm_``; returns ‖g‖ before."""
    max_norm = Setting("max_norm", 1.0, open_low=True).check(max_norm, key="clip_norm")
    params = list(params)
    norm = math.sqrt(math.fsum(p.grad * p.grad for p in params))
    if not math.isfinite(norm):
        raise DomainError("gradient norm", [("norm", norm)], "the gradient is not finite",
                          "lower the learning rate or use a smaller initialisation; clipping cannot repair inf/NaN")
    scale = max_norm / (norm + CLIP_EPS)
    if scale < 1:
        for p in params:
            p.grad *= scale
    return norm


__all__ = ["Optimizer", "SGD", "Momentum", "RMSprop", "Adam", "AdamW", "OPTIMIZERS", "Setting", "StateName", "Slip",
           "clip_grad_value", "clip_grad_norm", "sqrt"]
