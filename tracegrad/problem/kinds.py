"""Every kind of quantity a worked problem names, in one table: :data:`KINDS`.

A :class:`Kind` (``z``, ``delta``, ``dL/dW``, ``state`` …) says how its quantities are named in
an answers file (``pattern``), where a derivation prints them (``section``), whether they hold
one value per sample, and builds each quantity's **symbol** (z₁, σ′(z₁), δ₂, ∂L/∂W₁ …), its
**formula** (z₁ = X·W₁ + b₁, δ₂ = ∂L/∂ŷ ⊙ σ′(z₂), W₁ ← W₁ − η·∂L/∂W₁ …) and its **caption** (a
message-catalog key). Each symbol is written in one place, a method of :class:`Step`, and every
formula that names the quantity uses it.

Nothing here names an activation, a loss, an optimizer or a penalty: each formula is assembled
from the spec tables (:mod:`tracegrad.nn.activations`, :mod:`~tracegrad.nn.losses`,
:mod:`~tracegrad.nn.optim`, :mod:`~tracegrad.nn.regularization`) and the problem's layout, as a
:class:`~tracegrad.core.formula.Formula` whose symbols are bound to the quantities (and the given
values ``x``, ``y``, ``W1``, ``b1`` … and settings ``lr`` …) they stand for, so it can be
written, expanded with numbers and evaluated (:mod:`tracegrad.problem.formulas`).

In a derivation of several steps a formula of step t reads that step's quantities (``z1@2``)
and the parameters it starts from (the previous step's ``W1_new``). A :class:`Step` may also
write a *general* formula: its layer indices relative to one layer (δₖ = (δₖ₊₁·Wₖ₊₁ᵀ) ⊙ f′(zₖ),
``layer``) or its parameter as θ (θ ← θ − η·g, ``rule``); the tree is still that of the
concrete layer or parameter, bound to its quantities, so it is evaluated like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.formula import Binary, Formula, Frac, Num, Sym, Total, Where, maximum, minimum, odot, sqrt, sym
from ..core.notation import ETA, L, Index, Math, Y_HAT, partial, sub, var
from ..nn.optim import CLIP_EPS

PARAMETER_SYMBOLS = {"W": ("W", "W"), "b": ("b", "b"), "gamma": (r"\gamma", "γ"), "beta": (r"\beta", "β")}
"""How each kind of parameter is written."""


def at(name: str, step: int | None) -> str:
    """The name of quantity ``name`` in step ``step``: ``z1``, ``z1@2``."""
    return name if step in (None, 1) else f"{name}@{step}"


def parameter_symbol(parameter: str, k) -> Math:
    """W₁, b₂, γ₁ … (``k`` a layer, or a general :class:`~tracegrad.core.notation.Index`)."""
    latex, text = PARAMETER_SYMBOLS[parameter]
    return Math(f"{latex}_{{{k}}}", f"{text}{sub(k)}")


def parameter_ref(worked, parameter: str, k: int, step: int) -> str:
    """What parameter ``parameter`` of layer ``k`` is in step ``step``: the given value (``W1``)
    in the first step (and always, for a frozen one), else the previous step's update."""
    if step == 1 or f"{parameter}{k}_new" not in worked.quantities:
        return f"{parameter}{k}"
    return at(f"{parameter}{k}_new", step - 1)


def activation_symbol(worked, k: int) -> Math:
    """f of layer k: σ, tanh, ReLU …"""
    layer = worked.layers[k - 1]
    return layer.spec.symbol(layer.alpha)


def trainable(worked) -> list:
    """``(parameter, layer)`` of every parameter the problem updates."""
    return [(parameter, k) for k in range(1, worked.depth + 1) for parameter in PARAMETER_SYMBOLS
            if f"{parameter}{k}_new" in worked.quantities]


def _loss(worked):
    from ..nn.losses import LOSSES

    return LOSSES[worked.problem.loss]


GENERIC = Math("f", "f")
"""The activation as a general formula writes it: f′(zₖ)."""


class Step:
    """The symbols of one step of a worked problem, bound to that step's names; with ``layer``
    (``(k₀, letter)``) the layer indices are written relative to layer k₀ (k, k+1; L) and every
    activation as f; with ``rule`` the optimizer's parameter is written θ and its gradient g."""

    def __init__(self, worked, step: int | None, layer: tuple | None = None, rule: bool = False):
        self.worked, self.t = worked, step or 1
        self.it = worked.iterations[self.t - 1] if worked.iterations else None
        self.layer, self.rule = layer, rule

    def w(self, k: int):
        """Layer ``k`` as written: the number, or relative to the general formula's layer."""
        return k if self.layer is None else Index(self.layer[1], k - self.layer[0])

    def ref(self, name: str) -> str:
        return at(name, self.t)

    def has(self, name: str) -> bool:
        return self.ref(name) in self.worked.quantities

    def sym(self, m: Math, name: str) -> Sym:
        return sym(m, self.ref(name))

    @property
    def batched(self) -> bool:
        return self.it.batched if self.it is not None else self.worked.problem.batch

    # --- the symbols ----------------------------------------------------------------
    def samples(self) -> Sym:
        return Sym("N", "N", self.ref("N"))

    def per_batch(self, f: Formula) -> Formula:
        """``f`` of one sample, divided by N for a batch (the loss averages its samples)."""
        return Frac(Num(1), self.samples()) * f if self.batched else f

    def y_hat(self) -> Sym:
        return self.sym(Y_HAT, "y_hat")

    def y(self) -> Sym:
        return Sym("y", "y", self.ref("y"))

    def n(self) -> Sym:
        return Sym("n", "n", "n")

    def loss(self) -> Sym:
        return self.sym(L, "loss")

    def data_loss(self) -> Sym:
        return self.sym(Math(r"L_{\text{data}}", "L_data"), "data_loss")

    def penalty(self) -> Sym:
        return self.sym(Math(r"L_{\text{penalty}}", "L_penalty"), "penalty")

    def sample_loss(self) -> Sym:
        return self.sym(Math("L_{s}", "Lₛ"), "L_s")

    def raw_x(self) -> Sym:
        return Sym("X", "X", "x_raw")

    def x_mean(self) -> Sym:
        return Sym(r"\mu_{x}", "μₓ", "x_mean")

    def x_std(self) -> Sym:
        return Sym(r"\sigma_{x}", "σₓ", "x_std")

    def x_bound(self, end: str) -> Sym:
        return Sym(rf"x_{{\{end}}}", f"x_{end}", f"x_{end}")

    def x(self) -> Sym:
        scaled = "x_scaled" in self.worked.quantities
        return Sym(r"\tilde{X}" if scaled else "X", "X̃" if scaled else "X", self.ref("x"))

    def z(self, k: int) -> Sym:
        return self.sym(var("z", self.w(k)), f"z{k}")

    def mu(self, k: int) -> Sym:
        return self.sym(Math(rf"\mu_{{{self.w(k)}}}", f"μ{sub(self.w(k))}"), f"mu{k}")

    def var(self, k: int) -> Sym:
        return self.sym(Math(rf"\sigma^{{2}}_{{{self.w(k)}}}", f"σ²{sub(self.w(k))}"), f"var{k}")

    def zhat(self, k: int) -> Sym:
        return self.sym(Math(rf"\hat{{z}}_{{{self.w(k)}}}", f"ẑ{sub(self.w(k))}"), f"zhat{k}")

    def bn(self, k: int) -> Sym:
        return self.sym(Math(rf"\tilde{{z}}_{{{self.w(k)}}}", f"z̃{sub(self.w(k))}"), f"bn{k}")

    def d(self, k: int) -> Sym:
        return self.sym(var("d", self.w(k)), f"d{k}")

    def mask(self, k: int) -> Sym:
        return Sym(rf"m_{{{self.w(k)}}}", f"m{sub(self.w(k))}", self.ref(f"mask{k}"))

    def dropout(self, k: int) -> Sym:
        return Sym("p", "p", f"dropout{k}")

    def output(self, k: int) -> Sym:
        """What layer k hands on: d (after dropout), a, or z (no activation)."""
        if self.has(f"d{k}"):
            return self.d(k)
        if self.worked.layers[k - 1].spec.is_identity:
            return self.bn(k) if self.has(f"bn{k}") else self.z(k)
        return self.a(k)

    def activation_input(self, k: int) -> Sym:
        return self.bn(k) if self.has(f"bn{k}") else self.z(k)

    def a(self, k: int) -> Sym:
        """The activations of layer k: ŷ for the output layer."""
        return self.y_hat() if k == self.worked.depth else self.sym(var("a", self.w(k)), f"a{k}")

    def prev(self, k: int) -> Sym:
        """The input of layer k: X, or the previous layer's output (a general formula writes
        aₖ₋₁ for each, a₀ being X)."""
        given = self.x() if k == 1 else self.output(k - 1)
        if self.layer is None:
            return given
        written = var("a", self.w(k - 1))
        return Sym(written.latex, written.text, given.ref)

    def activation(self, k: int) -> Math:
        return activation_symbol(self.worked, k) if self.layer is None else GENERIC

    def delta(self, k: int) -> Sym:
        return Sym(rf"\delta_{{{self.w(k)}}}", f"δ{sub(self.w(k))}", self.ref(f"delta{k}"))

    def act_grad(self, k: int) -> Sym:
        f, k_ = self.activation(k), self.w(k)
        inner = (r"\tilde{z}", "z̃") if self.has(f"bn{k}") else ("z", "z")
        return Sym(rf"{f.latex}'\left({inner[0]}_{{{k_}}}\right)", f"{f.text}′({inner[1]}{sub(k_)})",
                   self.ref(f"da{k}/dz{k}"))

    def param(self, parameter: str, k: int) -> Sym:
        m = Math(r"\theta", "θ") if self.rule else parameter_symbol(parameter, self.w(k))
        return Sym(m.latex, m.text, parameter_ref(self.worked, parameter, k, self.t))

    def gradient(self, parameter: str, k: int) -> Sym:
        m = partial(L, Math(r"\theta", "θ") if self.rule else parameter_symbol(parameter, self.w(k)))
        return self.sym(m, f"dL/d{parameter}{k}")

    def grad_of(self, name: str, m: Math) -> Sym:
        """∂L/∂(m), bound to quantity ``dL/d<name>``."""
        return self.sym(partial(L, m), f"dL/d{name}")

    def grad_norm(self) -> Sym:
        return self.sym(Math(r"\left\lVert g \right\rVert", "‖g‖"), "grad_norm")

    def clip_scale(self) -> Sym:
        return self.sym(Math("c", "c"), "clip_scale")

    def state(self, key: str, parameter: str, k: int, name: str | None = None) -> Sym:
        """An optimizer state of one parameter, m(W₁), v̂(b₂) (the optimizer's own names); the
        gradient g(W₁) it uses; the clipped gradient ĝ(W₁); written m, g … in a rule."""
        state = next((s for s in self.worked.optimizer.state_names if s.key == key), None)
        latex, text = (state.latex, state.text) if state is not None else \
            ((r"\hat{g}", "ĝ") if key == "clipped" else ("g", "g"))
        ref = self.ref(name or f"{key}_{parameter}{k}")
        if self.rule:
            return Sym(latex, text, ref)
        p = parameter_symbol(parameter, self.w(k))
        return Sym(rf"{latex}_{{{p.latex}}}", f"{text}({p.text})", ref)


# --- formulas ------------------------------------------------------------------------------


def loss_formula(s: Step) -> Formula:
    """L of the problem's loss, per sample, averaged over a batch, with its L1/L2 terms."""
    if not s.has("penalty"):
        return _data_loss(s)
    return s.data_loss() + s.penalty()


def _data_loss(s: Step) -> Formula:
    worked = s.worked
    loss = _loss(worked)
    prediction = s.activation_input(worked.depth) if loss.from_logits else s.y_hat()
    per = loss.formula(prediction, s.y(), s.n(), len(worked.problem.y[0]))
    if not s.batched:
        return per
    part = s.sample_loss()
    return Where(Frac(Num(1), s.samples()) * Total(part, "samples", "s", "N"), part, per)


def _penalty(s: Step) -> Formula:
    """The L1/L2 terms: λ over the (penalised) weights of every layer."""
    from ..nn.regularization import REGULARIZERS

    p = s.worked.problem
    kinds = ("W", "b") if p.penalize_biases else ("W",)
    total = None
    for name, lam in p.penalties:
        for k in range(1, s.worked.depth + 1):
            for kind in kinds:
                term = REGULARIZERS[name].formula(_lambda(s.worked, name), s.param(kind, k))
                total = term if total is None else total + term
    return total


def _lambda(worked, name: str) -> Sym:
    """λ of penalty ``name``: λ alone, or λ₁ and λ₂ when the loss has both."""
    if len(worked.problem.penalties) == 1:
        return Sym(r"\lambda", "λ", f"lambda_{name}")
    return Sym(r"\lambda_{" + name[1] + "}", f"λ{sub(name[1])}", f"lambda_{name}")


def _x_scaled(s: Step, q) -> Formula:
    x = s.raw_x()
    if s.worked.problem.scale == "minmax":
        lo, hi = s.x_bound("min"), s.x_bound("max")
        return (x - lo) / (hi - lo)
    return (x - s.x_mean()) / s.x_std()


def _x_mean(s: Step, q) -> Formula:
    return Frac(Num(1), Sym("N", "N", "N_all")) * Total(s.raw_x(), "samples", "s", "N")


def _x_std(s: Step, q) -> Formula:
    centred = s.raw_x() - s.x_mean()
    return sqrt(Frac(Num(1), Sym("N", "N", "N_all")) * Total(centred ** 2, "samples", "s", "N"))


def _z(s: Step, q) -> Formula:
    k = q.layer
    a, w, b = s.prev(k), s.param("W", k), s.param("b", k)
    return (a @ w if s.worked.problem.layout == "in_out" else w @ a) + b


def _bn_statistics(s: Step, k: int):
    """μ and σ² of layer k's BatchNorm: the batch's in training mode, the running ones in eval mode."""
    if s.has(f"mu{k}"):
        return s.mu(k), s.var(k)
    return (Sym(rf"\bar{{\mu}}_{{{s.w(k)}}}", f"μ̄{sub(s.w(k))}", f"running_mean{k}"),
            Sym(rf"\bar{{\sigma}}^{{2}}_{{{s.w(k)}}}", f"σ̄²{sub(s.w(k))}", f"running_var{k}"))


def _bn_eps(k: int) -> Sym:
    return Sym(r"\epsilon", "ε", f"bn_eps{k}")


def _zhat(s: Step, q) -> Formula:
    k = q.layer
    mean, variance = _bn_statistics(s, k)
    return (s.z(k) - mean) / sqrt(variance + _bn_eps(k))


def _activated(s: Step, q) -> Formula:
    k = q.layer
    layer = s.worked.layers[k - 1]
    if q.kind == "y_hat" and layer.spec.is_identity:
        return s.output(k)
    return layer.spec.applied(s.activation_input(k), layer.alpha)


def _dropped(s: Step, q) -> Formula:
    k = q.layer
    return odot(s.a(k), s.mask(k)) / (1 - s.dropout(k))


def _loss_derivative(s: Step, q) -> Formula:
    p = s.worked.problem
    return s.per_batch(_loss(s.worked).derivative(s.y_hat(), s.y(), s.n(), len(p.y[0])))


def _act_grad(s: Step, q) -> Formula:
    k = q.layer
    layer = s.worked.layers[k - 1]
    return layer.spec.derivative(s.activation_input(k), s.a(k), layer.alpha)


def upstream_times_derivative(s: Step, k: int, simplify: bool = True) -> Formula:
    """∂L/∂(the activation's input): for the output layer the loss's derivative by the logits,
    or (``simplify``) its textbook simplification (softmax with cross-entropy: ŷ − y); otherwise
    upstream ⊙ f′ (the activation's Jacobian form for a softmax layer)."""
    worked = s.worked
    p, layer, last = worked.problem, worked.layers[k - 1], k == worked.depth
    loss = _loss(worked)
    y, n, outputs = s.y(), s.n(), len(p.y[0])
    if last and loss.from_logits:
        return s.per_batch(loss.derivative(s.activation_input(k), y, n, outputs))
    simplified = loss.simplified.get(layer.spec.name) if last and simplify else None
    if simplified is not None and simplified.replaces_chain and simplified.applies(p.y):
        return s.per_batch(simplified.formula(s.y_hat(), y, n, outputs))
    upstream = s.grad_of("y_hat", Y_HAT) if last else s.grad_of(f"a{k}", var("a", s.w(k)))
    if layer.spec.is_identity:
        return upstream
    if layer.spec.derivative is None:  # softmax: the Jacobian-vector product
        return layer.spec.jacobian(upstream, s.a(k))
    return odot(upstream, s.act_grad(k))


def delta_formula(s: Step, k: int, simplify: bool = True) -> Formula:
    """δ of layer k: through BatchNorm, or the upstream times the activation's derivative."""
    if s.has(f"bn{k}"):
        return _batchnorm_backward(s, k)
    return upstream_times_derivative(s, k, simplify)


def _batchnorm_backward(s: Step, k: int) -> Formula:
    """∂L/∂z through BatchNorm: through the batch statistics in training mode,
    δ = (1/N)/√(σ² + ε) ⊙ (N·∂L/∂ẑ − Σₛ∂L/∂ẑ − ẑ ⊙ Σₛ(∂L/∂ẑ ⊙ ẑ)); with running statistics
    (constants) simply ∂L/∂ẑ/√(σ̄² + ε)."""
    _, variance = _bn_statistics(s, k)
    dzhat = s.grad_of(f"zhat{k}", s.zhat(k).math())
    root = sqrt(variance + _bn_eps(k))
    if not s.has(f"mu{k}"):
        return dzhat / root
    zhat = s.zhat(k)
    n = s.samples()
    inner = n * dzhat - Total(dzhat, "samples", "s") - odot(zhat, Total(odot(dzhat, zhat), "samples", "s"))
    return Frac(Num(1), n * root) * inner


def _bn_grad(s: Step, k: int) -> Sym:
    return s.grad_of(f"bn{k}", s.bn(k).math())


def _dzhat(s: Step, q) -> Formula:
    return odot(_bn_grad(s, q.layer), s.param("gamma", q.layer))


def _dgamma(s: Step, q) -> Formula:
    product = odot(_bn_grad(s, q.layer), s.zhat(q.layer))
    return Total(product, "samples", "s") if s.batched else product


def _dbeta(s: Step, q) -> Formula:
    up = _bn_grad(s, q.layer)
    return Total(up, "samples", "s") if s.batched else up


def _penalized(s: Step, parameter: str, k: int, data: Formula) -> Formula:
    """A parameter's gradient with its L1/L2 terms (the biases only when they are penalised)."""
    from ..nn.regularization import REGULARIZERS

    p = s.worked.problem
    if parameter == "b" and not p.penalize_biases:
        return data
    for name, lam in p.penalties:
        data = data + REGULARIZERS[name].gradient(_lambda(s.worked, name), s.param(parameter, k))
    return data


def _dW(s: Step, q) -> Formula:
    k = q.layer
    a, d = s.prev(k), s.delta(k)
    return _penalized(s, "W", k, a.T @ d if s.worked.problem.layout == "in_out" else d @ a.T)


def _db(s: Step, q) -> Formula:
    k = q.layer
    delta = Total(s.delta(k), "samples", "s") if s.batched else s.delta(k)
    delta = Total(delta, "units", "j") if s.worked.layers[k - 1].shared_bias else delta
    return _penalized(s, "b", k, delta)


def _back_through_weights(s: Step, k: int) -> Formula:
    """∂L/∂(the input of layer k): δₖ·Wₖᵀ (or Wₖᵀ·δₖ)."""
    d, w = s.delta(k), s.param("W", k)
    return d @ w.T if s.worked.problem.layout == "in_out" else w.T @ d


def _dx(s: Step, q) -> Formula | None:
    """∂L/∂x of the input of layer 1 (before any scaling: none is written for it)."""
    return None if s.worked.problem.scale is not None else _back_through_weights(s, 1)


def _da(s: Step, q) -> Formula:
    k = q.layer
    if q.kind == "dL/da" and s.has(f"d{k}"):
        upstream = s.grad_of(f"d{k}", s.d(k).math())
        return odot(upstream, s.mask(k)) / (1 - s.dropout(k))
    return _back_through_weights(s, k + 1)


def _grad_norm(s: Step, q) -> Formula:
    squares = [Total(s.gradient(*key) ** 2, "all") for key in trainable(s.worked)]
    total = squares[0]
    for term in squares[1:]:
        total = total + term
    return sqrt(total)


def _clip_scale(s: Step, q) -> Formula:
    return minimum(1, Sym(r"\tau", "τ", "clip_norm") / (s.grad_norm() + Num(CLIP_EPS)))


def _clipped(s: Step, q) -> Formula:
    p = s.worked.problem
    g = s.gradient(q.parameter, q.layer)
    if p.clip_norm is not None:  # scaled to the global norm first, then (when asked) clipped by value
        g = s.clip_scale() * g
    if p.clip_value is None:
        return g
    bound = Sym(r"g_{\max}", "gₘₐₓ", "clip_value")
    return minimum(maximum(g, -bound), bound)


def update_names(s: Step, parameter: str, k: int) -> dict:
    """The symbols an optimizer's rule is written with, for parameter ``parameter`` of layer ``k``:
    ``p``, ``dL`` (the gradient, clipped when it is), ``g`` (with coupled weight decay, the decayed
    one), each number setting, the step t, each state and ``prev_<state>`` (the one it starts from)."""
    worked = s.worked
    opt = worked.optimizer
    gradient = s.state("clipped", parameter, k) if s.has(f"clipped_{parameter}{k}") else s.gradient(parameter, k)
    if s.rule:
        gradient = Sym(r"\frac{\partial L}{\partial \theta}", "∂L/∂θ", gradient.ref)
    names = {"p": s.param(parameter, k), "dL": gradient}
    decayed = opt.weight_decay and not opt.decoupled
    names["g"] = s.state("g", parameter, k) if decayed else \
        (Sym("g", "g", gradient.ref) if s.rule else gradient)
    for setting in opt.settings:
        if setting.kind == "number":
            names[setting.name] = setting.symbol(f"opt_{setting.name}")
    names.update(beta1=Sym(r"\beta_{1}", "β₁", "opt_beta1"), beta2=Sym(r"\beta_{2}", "β₂", "opt_beta2"),
                 t=Sym("t", "t", s.ref("t")))
    for state in opt.state_names:
        names[state.key] = s.state(state.key, parameter, k)
        prev = f"{state.key}_{parameter}{k}" if s.t > 1 else f"start_{state.key}_{parameter}{k}"
        names[f"prev_{state.key}"] = Sym(names[state.key].latex, names[state.key].text,
                                         at(prev, s.t - 1) if s.t > 1 else prev)
    return names


def _update(s: Step, parameter: str, k: int, key: str = "new") -> Formula:
    """Line ``key`` (``new``, a state, or ``g``) of the parameter's update, from the optimizer's
    own rule."""
    return dict(s.worked.optimizer.update_formulas(update_names(s, parameter, k)))[key]


def _step(update: Formula, p: Sym) -> Formula | None:
    """The step of an update ``p − step`` (η·∂L/∂W for SGD), or None for another form."""
    if isinstance(update, Binary) and update.op == "-" and isinstance(update.a, Sym) and update.a.ref == p.ref:
        return update.b
    return None


def _step_formula(s: Step, q) -> Formula | None:
    return _step(_update(s, q.parameter, q.layer), s.param(q.parameter, q.layer))


def _step_symbol(s: Step, q) -> Sym:
    """η·∂L/∂W where that is what is subtracted (SGD), else ΔW (Adam's η·m̂/(√v̂ + ε) …)."""
    m = parameter_symbol(q.parameter, s.w(q.layer))
    plain = ETA + Math(r" \cdot ", "·") + partial(L, m)
    f = _step_formula(s, q)
    shown = plain if f is not None and f.math().text == plain.text else Math(r"\Delta " + m.latex, "Δ" + m.text)
    return s.sym(shown, f"step_{q.parameter}{q.layer}")


# --- captions ------------------------------------------------------------------------------


def _caption(worked, q) -> tuple:
    return f"caption.{q.kind}", {} if q.layer is None else {"k": q.layer}


def _caption_a(worked, q) -> tuple:
    return ("caption.y_hat", {}) if q.layer == worked.depth else ("caption.a", {"k": q.layer})


def _caption_via(worked, q) -> tuple:
    return "caption.dL/da_via", {"k": q.layer, "next": q.layer + 1}


def _caption_act_grad(worked, q) -> tuple:
    return "caption.act_grad", {"f": activation_symbol(worked, q.layer).text}


def _caption_delta(worked, q) -> tuple:
    return ("caption.delta_output", {}) if q.layer == worked.depth else ("caption.delta_hidden", {"k": q.layer})


def _caption_parameter(worked, q) -> tuple:
    return f"caption.{q.kind}", {"p": parameter_symbol(q.parameter, q.layer).text}


def _caption_state(worked, q) -> tuple:
    state = next(s for s in worked.optimizer.state_names if s.key == q.state)
    return f"caption.state_{state.caption}", {"p": parameter_symbol(q.parameter, q.layer).text}


# --- the table -----------------------------------------------------------------------------


def _none(s: Step, q) -> None:
    return None


@dataclass(frozen=True)
class Kind:
    """A kind of quantity. ``pattern`` names one in an answers file, filled with ``k`` (the
    layer), ``p`` (the parameter) and ``s`` (the optimizer state); ``section`` is where a
    derivation prints it; ``per_sample``: one value per sample of a batch. A kind that is not
    ``printed`` has no line of its own in the layer view (its arithmetic is written inside
    another line, or only a published walkthrough prints it: per-output loss terms, per-path
    contributions): nameable in answers files, never carry-rounded. ``symbol(step, q)`` is the
    quantity's symbol, a :class:`~tracegrad.core.formula.Sym` bound to it; ``formula(step, q)``
    its formula (``None``: a value with none); ``caption(worked, q)`` the catalog key of its line
    and the key's placeholders."""

    pattern: str
    section: str
    per_sample: bool = False
    printed: bool = True
    symbol: Callable = _none
    formula: Callable = _none
    caption: Callable = _caption


def _layer(method: str) -> Callable:
    return lambda s, q: getattr(s, method)(q.layer)


def _named(method: str) -> Callable:
    return lambda s, q: getattr(s, method)()


def _grad_of(kind: str) -> Callable:
    """∂L/∂ of the symbol of layer k's ``kind`` (a, d, bn, zhat)."""
    return lambda s, q: s.grad_of(f"{kind}{q.layer}", getattr(s, kind)(q.layer).math())


def _parameter_gradient(s: Step, q) -> Sym:
    return s.gradient(q.kind[4:], q.layer)


def _via(s: Step, q) -> Sym:
    m = partial(L, var("a", s.w(q.layer))) + Math(r"\big|_{\delta_{%s}}" % s.w(q.layer + 1), f"|δ{sub(s.w(q.layer + 1))}")
    return s.sym(m, f"dL/da{q.layer}_via")


def _state_of(s: Step, q) -> Sym:
    key = q.state or ("g" if q.kind == "grad" else "clipped")
    return s.state(key, q.parameter, q.layer)


KINDS = {
    "x_mean": Kind("x_mean", "scale", symbol=_named("x_mean"), formula=_x_mean),
    "x_std": Kind("x_std", "scale", symbol=_named("x_std"), formula=_x_std),
    "x_scaled": Kind("x_scaled", "scale", True, symbol=lambda s, q: s.sym(Math(r"\tilde{X}", "X̃"), "x_scaled"),
                     formula=_x_scaled),
    "z": Kind("z{k}", "forward", True, symbol=_layer("z"), formula=_z),
    "mu": Kind("mu{k}", "forward", symbol=_layer("mu"),
               formula=lambda s, q: Frac(Num(1), s.samples()) * Total(s.z(q.layer), "samples", "s", "N")),
    "var": Kind("var{k}", "forward", symbol=_layer("var"),
                formula=lambda s, q: Frac(Num(1), s.samples()) * Total((s.z(q.layer) - s.mu(q.layer)) ** 2,
                                                                         "samples", "s", "N")),
    "zhat": Kind("zhat{k}", "forward", True, symbol=_layer("zhat"), formula=_zhat),
    "bn": Kind("bn{k}", "forward", True, symbol=_layer("bn"),
               formula=lambda s, q: odot(s.param("gamma", q.layer), s.zhat(q.layer)) + s.param("beta", q.layer)),
    "a": Kind("a{k}", "forward", True, symbol=lambda s, q: s.sym(var("a", s.w(q.layer)), f"a{q.layer}"), formula=_activated,
              caption=_caption_a),
    "d": Kind("d{k}", "forward", True, symbol=_layer("d"), formula=_dropped),
    "y_hat": Kind("y_hat", "forward", True, symbol=_named("y_hat"), formula=_activated),
    "data_loss": Kind("data_loss", "loss", symbol=_named("data_loss"), formula=lambda s, q: _data_loss(s)),
    "penalty": Kind("penalty", "loss", symbol=_named("penalty"), formula=lambda s, q: _penalty(s)),
    "loss": Kind("loss", "loss", symbol=_named("loss"), formula=lambda s, q: loss_formula(s)),
    "sample_loss": Kind("sample_loss", "loss", True, printed=False,
                        symbol=lambda s, q: s.sym(s.sample_loss().math(), "sample_loss")),
    "loss_term": Kind("loss_terms", "loss", True, printed=False,
                      symbol=lambda s, q: s.sym(Math("L_{o}", "Lₒ"), "loss_terms")),
    "dL/dy_hat": Kind("dL/dy_hat", "backward", True, symbol=lambda s, q: s.grad_of("y_hat", Y_HAT),
                      formula=_loss_derivative),
    "act_grad": Kind("da{k}/dz{k}", "backward", True, symbol=_layer("act_grad"), formula=_act_grad,
                     caption=_caption_act_grad),
    "delta": Kind("delta{k}", "backward", True, symbol=_layer("delta"), formula=lambda s, q: delta_formula(s, q.layer),
                  caption=_caption_delta),
    "dL/dW": Kind("dL/dW{k}", "backward", symbol=_parameter_gradient, formula=_dW),
    "dL/db": Kind("dL/db{k}", "backward", symbol=_parameter_gradient, formula=_db),
    "dL/dd": Kind("dL/dd{k}", "backward", True, symbol=_grad_of("d"), formula=_da),
    "dL/da_via": Kind("dL/da{k}_via", "backward", True, printed=False, symbol=_via, caption=_caption_via),
    "dL/da": Kind("dL/da{k}", "backward", True, symbol=_grad_of("a"), formula=_da),
    "dL/dbn": Kind("dL/dbn{k}", "backward", True, symbol=_grad_of("bn"),
                   formula=lambda s, q: upstream_times_derivative(s, q.layer)),
    "dL/dgamma": Kind("dL/dgamma{k}", "backward", symbol=_parameter_gradient, formula=_dgamma),
    "dL/dbeta": Kind("dL/dbeta{k}", "backward", symbol=_parameter_gradient, formula=_dbeta),
    "dL/dzhat": Kind("dL/dzhat{k}", "backward", True, symbol=_grad_of("zhat"), formula=_dzhat),
    "dL/dx": Kind("dL/dx", "backward", True, printed=False,
                  symbol=lambda s, q: s.sym(partial(L, Math("x", "x")), "dL/dx"), formula=_dx),
    "grad_norm": Kind("grad_norm", "update", symbol=_named("grad_norm"), formula=_grad_norm),
    "clip_scale": Kind("clip_scale", "update", symbol=_named("clip_scale"), formula=_clip_scale),
    "clipped": Kind("clipped_{p}{k}", "update", symbol=_state_of, formula=_clipped, caption=_caption_parameter),
    "grad": Kind("g_{p}{k}", "update", symbol=_state_of,
                 formula=lambda s, q: _update(s, q.parameter, q.layer, "g"), caption=_caption_parameter),
    "state": Kind("{s}_{p}{k}", "update", symbol=_state_of,
                  formula=lambda s, q: _update(s, q.parameter, q.layer, q.state), caption=_caption_state),
    "step": Kind("step_{p}{k}", "update", printed=False, symbol=_step_symbol, formula=_step_formula,
                 caption=_caption_parameter),
    "new": Kind("{p}{k}_new", "update", symbol=lambda s, q: s.param(q.parameter, q.layer),
                formula=lambda s, q: _update(s, q.parameter, q.layer), caption=_caption_parameter),
}
"""Every kind of quantity: how it is named, where it is printed, its symbol, formula and caption."""


def caption(worked, q) -> tuple:
    """``(catalog key, {placeholder: value})`` of the line of quantity ``q``."""
    return KINDS[q.kind].caption(worked, q)

