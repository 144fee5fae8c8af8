"""The symbol and the formula of every quantity a worked problem names: z₁ = X·W₁ + b₁,
δ₂ = ∂L/∂ŷ ⊙ σ′(z₂), W₁ ← W₁ − η·∂L/∂W₁ …, written the way the document writes them.

Nothing here names an activation, a loss, an optimizer or a penalty: each formula is
assembled from the spec tables (:mod:`tracegrad.nn.activations`, :mod:`~tracegrad.nn.losses`,
:mod:`~tracegrad.nn.optim`, :mod:`~tracegrad.nn.regularization`) and the problem's layout, as a
:class:`~tracegrad.core.formula.Formula` whose symbols are bound to the quantities (and the
given values ``x``, ``y``, ``W1``, ``b1`` … and settings ``lr`` …) they stand for, so it can be
written, expanded with numbers and evaluated (:func:`environment`). The layer view prints
them; the checker shows them beside a wrong answer.

In a derivation of several steps a formula of step t reads that step's quantities
(``z1@2``) and the parameters it starts from (the previous step's ``W1_new``).
"""

from __future__ import annotations

from ..core.formula import (Axes, Binary, Formula, Frac, Num, Sym, Total, Where, is_close, maximum, minimum, odot,
                            sqrt, sym)
from ..core.notation import ETA, L, Math, Y_HAT, element, partial, sub, var
from ..core.nested import cells, map_nested
from ..nn.optim import CLIP_EPS
from .solve import Worked

PARAMETER_SYMBOLS = {"W": ("W", "W"), "b": ("b", "b"), "gamma": (r"\gamma", "γ"), "beta": (r"\beta", "β")}
"""How each kind of parameter is written."""


def at(name: str, step: int | None) -> str:
    """The name of quantity ``name`` in step ``step``: ``z1``, ``z1@2``."""
    return name if step in (None, 1) else f"{name}@{step}"


def parameter_symbol(parameter: str, k: int) -> Math:
    """W₁, b₂, γ₁ …"""
    latex, text = PARAMETER_SYMBOLS[parameter]
    return Math(f"{latex}_{{{k}}}", f"{text}{sub(k)}")


def parameter_ref(worked: Worked, parameter: str, k: int, step: int) -> str:
    """What parameter ``parameter`` of layer ``k`` is in step ``step``: the given value (``W1``)
    in the first step (and always, for a frozen one), else the previous step's update."""
    if step == 1 or f"{parameter}{k}_new" not in worked.quantities:
        return f"{parameter}{k}"
    return at(f"{parameter}{k}_new", step - 1)


def activation_symbol(worked: Worked, k: int) -> Math:
    """f of layer k: σ, tanh, ReLU …"""
    layer = worked.layers[k - 1]
    return layer.spec.symbol(layer.alpha)


def _loss(worked: Worked):
    from ..nn.losses import LOSSES

    return LOSSES[worked.problem.loss]


class _Step:
    """The symbols of one step of a worked problem, bound to that step's names."""

    def __init__(self, worked: Worked, step: int | None):
        self.worked, self.t = worked, step or 1
        self.it = worked.iterations[self.t - 1] if worked.iterations else None

    def ref(self, name: str) -> str:
        return at(name, self.t)

    def sym(self, m: Math, name: str) -> Sym:
        return sym(m, self.ref(name))

    @property
    def batched(self) -> bool:
        return self.it.batched if self.it is not None else self.worked.problem.batch

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

    def z(self, k: int) -> Sym:
        return self.sym(var("z", k), f"z{k}")

    def output(self, k: int) -> Sym:
        """What layer k hands on: d (after dropout), a, or z (no activation)."""
        q = self.worked.quantities
        if self.ref(f"d{k}") in q:
            return self.sym(var("d", k), f"d{k}")
        if self.worked.layers[k - 1].spec.is_identity:
            return self.sym(var("bn", k), f"bn{k}") if self.ref(f"bn{k}") in q else self.z(k)
        return self.y_hat() if k == self.worked.depth else self.sym(var("a", k), f"a{k}")

    def activation_input(self, k: int) -> Sym:
        return self.sym(Math(rf"\tilde{{z}}_{{{k}}}", f"z̃{sub(k)}"), f"bn{k}") \
            if self.ref(f"bn{k}") in self.worked.quantities else self.z(k)

    def a(self, k: int) -> Sym:
        """The activations of layer k: ŷ for the output layer."""
        return self.y_hat() if k == self.worked.depth else self.sym(var("a", k), f"a{k}")

    def x(self) -> Sym:
        scaled = "x_scaled" in self.worked.quantities
        return Sym(r"\tilde{X}" if scaled else "X", "X̃" if scaled else "X", self.ref("x"))

    def prev(self, k: int) -> Sym:
        """The input of layer k: X, or the previous layer's output."""
        return self.x() if k == 1 else self.output(k - 1)

    def delta(self, k: int) -> Sym:
        return Sym(rf"\delta_{{{k}}}", f"δ{sub(k)}", self.ref(f"delta{k}"))

    def act_grad(self, k: int, glyph: str = "′") -> Sym:
        f = activation_symbol(self.worked, k)
        inner = "z" if self.ref(f"bn{k}") not in self.worked.quantities else r"\tilde{z}"
        text_inner = "z" if inner == "z" else "z̃"
        return Sym(rf"{f.latex}'\left({inner}_{{{k}}}\right)", f"{f.text}{glyph}({text_inner}{sub(k)})",
                   self.ref(f"da{k}/dz{k}"))

    def param(self, parameter: str, k: int) -> Sym:
        m = parameter_symbol(parameter, k)
        return Sym(m.latex, m.text, parameter_ref(self.worked, parameter, k, self.t))

    def gradient(self, parameter: str, k: int) -> Sym:
        return self.sym(partial(L, parameter_symbol(parameter, k)), f"dL/d{parameter}{k}")

    def grad_of(self, name: str, m: Math) -> Sym:
        """∂L/∂(m), bound to quantity ``dL/d<name>``."""
        return self.sym(partial(L, m), f"dL/d{name}")


def loss_formula(worked: Worked, step: int | None = None) -> Formula:
    """L of the problem's loss, per sample, averaged over a batch, with its L1/L2 terms."""
    s = _Step(worked, step)
    if s.ref("penalty") not in worked.quantities:
        return _data_loss(s)
    return (s.sym(Math(r"L_{\text{data}}", "L_data"), "data_loss")
            + s.sym(Math(r"L_{\text{penalty}}", "L_penalty"), "penalty"))


def _data_loss(s: _Step) -> Formula:
    worked = s.worked
    loss = _loss(worked)
    prediction = s.activation_input(worked.depth) if loss.from_logits else s.y_hat()
    per = loss.formula(prediction, s.y(), s.n(), len(worked.problem.y[0]))
    if not s.batched:
        return per
    part = Sym("L_{s}", "Lₛ", s.ref("L_s"))
    return Where(Frac(Num(1), s.samples()) * Total(part, "samples", "s", "N"), part, per)


def _penalty(s: _Step) -> Formula:
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


def _lambda(worked: Worked, name: str) -> Sym:
    """λ of penalty ``name``: λ alone, or λ₁ and λ₂ when the loss has both."""
    if len(worked.problem.penalties) == 1:
        return Sym(r"\lambda", "λ", f"lambda_{name}")
    return Sym(r"\lambda_{" + name[1] + "}", f"λ{sub(name[1])}", f"lambda_{name}")


def symbol(worked: Worked, q) -> Math:
    """The symbol of quantity ``q``: z₁, σ′(z₁), δ₂, ∂L/∂W₁ …"""
    s = _Step(worked, q.step)
    k, kind = q.layer, q.kind
    simple = {
        "x_mean": Math(r"\mu_{x}", "μₓ"), "x_std": Math(r"\sigma_{x}", "σₓ"), "x_scaled": Math(r"\tilde{X}", "X̃"),
        "z": var("z", k), "a": var("a", k), "y_hat": Y_HAT, "loss": L, "dL/dy_hat": partial(L, Y_HAT),
        "data_loss": Math(r"L_{\text{data}}", "L_data"), "penalty": Math(r"L_{\text{penalty}}", "L_penalty"),
        "mu": Math(rf"\mu_{{{k}}}", f"μ{sub(k)}"), "var": Math(rf"\sigma^{{2}}_{{{k}}}", f"σ²{sub(k)}"),
        "zhat": Math(rf"\hat{{z}}_{{{k}}}", f"ẑ{sub(k)}"), "bn": Math(rf"\tilde{{z}}_{{{k}}}", f"z̃{sub(k)}"),
        "d": var("d", k), "grad_norm": Math(r"\left\lVert g \right\rVert", "‖g‖"), "clip_scale": Math("c", "c"),
        "sample_loss": Math("L_{s}", "Lₛ"), "loss_term": Math("L_{o}", "Lₒ"), "dL/dx": partial(L, Math("x", "x")),
    }
    if kind in simple:
        return simple[kind]
    if kind == "act_grad":
        return s.act_grad(k).math()
    if kind == "delta":
        return s.delta(k).math()
    if kind in ("dL/dW", "dL/db", "dL/dgamma", "dL/dbeta"):
        return partial(L, parameter_symbol(kind[4:], k))
    if kind in ("dL/da", "dL/dd", "dL/dbn", "dL/dzhat"):
        return partial(L, symbol(worked, _like(q, kind[4:])))
    if kind == "dL/da_via":  # [j][i]: the part through unit i of the next layer
        return partial(L, var("a", k)) + Math(r"\big|_{\delta_{%d}}" % (k + 1), f"|δ{sub(k + 1)}")
    if kind == "step":  # η·∂L/∂W where that is what is subtracted (SGD), else ΔW (Adam's η·m̂/(√v̂ + ε) …)
        m = parameter_symbol(q.parameter, k)
        plain = ETA + Math(r" \cdot ", "·") + partial(L, m)
        f = formula(worked, q)
        return plain if f is not None and f.math().text == plain.text else Math(r"\Delta " + m.latex, "Δ" + m.text)
    if kind == "new":
        return parameter_symbol(q.parameter, k)
    if kind in ("state", "grad", "clipped"):
        return _state_symbol(worked, q.state or ("g" if kind == "grad" else "clipped"), q.parameter, k).math()
    raise KeyError(kind)


def _like(q, kind: str):
    from dataclasses import replace

    return replace(q, kind=kind)


def formula(worked: Worked, q) -> Formula | None:
    """The formula of quantity ``q`` in the problem's layout, or ``None`` for a value with none."""
    s = _Step(worked, q.step)
    p = worked.problem
    k, kind = q.layer, q.kind
    in_out = p.layout == "in_out"
    if kind == "x_scaled":
        x = Sym("X", "X", "x_raw")
        if p.scale == "minmax":
            lo, hi = Sym(r"x_{\min}", "x_min", "x_min"), Sym(r"x_{\max}", "x_max", "x_max")
            return (x - lo) / (hi - lo)
        return (x - Sym(r"\mu_{x}", "μₓ", "x_mean")) / Sym(r"\sigma_{x}", "σₓ", "x_std")
    if kind == "x_mean":
        return Frac(Num(1), Sym("N", "N", "N_all")) * Total(Sym("X", "X", "x_raw"), "samples", "s", "N")
    if kind == "x_std":
        centred = Sym("X", "X", "x_raw") - Sym(r"\mu_{x}", "μₓ", "x_mean")
        return sqrt(Frac(Num(1), Sym("N", "N", "N_all")) * Total(centred ** 2, "samples", "s", "N"))
    if kind == "z":
        a, w, b = s.prev(k), s.param("W", k), s.param("b", k)
        return (a @ w if in_out else w @ a) + b
    if kind == "mu":
        return Frac(Num(1), s.samples()) * Total(s.z(k), "samples", "s", "N")
    if kind == "var":
        mu = s.sym(Math(rf"\mu_{{{k}}}", f"μ{sub(k)}"), f"mu{k}")
        return Frac(Num(1), s.samples()) * Total((s.z(k) - mu) ** 2, "samples", "s", "N")
    if kind == "zhat":
        mean, variance = _bn_statistics(s, k)
        return (s.z(k) - mean) / sqrt(variance + _bn_eps(k))
    if kind == "bn":
        zhat = s.sym(Math(rf"\hat{{z}}_{{{k}}}", f"ẑ{sub(k)}"), f"zhat{k}")
        return odot(s.param("gamma", k), zhat) + s.param("beta", k)
    if kind == "a":
        layer = worked.layers[k - 1]
        return layer.spec.applied(s.activation_input(k), layer.alpha)
    if kind == "d":
        keep = Sym(rf"m_{{{k}}}", f"m{sub(k)}", s.ref(f"mask{k}"))
        prob = Sym("p", "p", f"dropout{k}")
        return odot(s.a(k) if k != worked.depth else s.y_hat(), keep) / (1 - prob)
    if kind == "y_hat":
        layer = worked.layers[k - 1]
        if layer.spec.is_identity:
            return s.output(k)
        return layer.spec.applied(s.activation_input(k), layer.alpha)
    if kind == "data_loss":
        return _data_loss(s)
    if kind == "penalty":
        return _penalty(s)
    if kind == "loss":
        return loss_formula(worked, q.step)
    if kind == "dL/dy_hat":
        loss = _loss(worked)
        return s.per_batch(loss.derivative(s.y_hat(), s.y(), s.n(), len(p.y[0])))
    if kind == "act_grad":
        layer = worked.layers[k - 1]
        return layer.spec.derivative(s.activation_input(k), s.a(k), layer.alpha)
    if kind == "delta":
        return _delta_formula(s, k)
    if kind == "dL/dbn":
        return _upstream_times_derivative(s, k)
    if kind == "dL/dzhat":
        return odot(s.grad_of(f"bn{k}", Math(rf"\tilde{{z}}_{{{k}}}", f"z̃{sub(k)}")), s.param("gamma", k))
    if kind == "dL/dgamma":
        up = s.grad_of(f"bn{k}", Math(rf"\tilde{{z}}_{{{k}}}", f"z̃{sub(k)}"))
        zhat = s.sym(Math(rf"\hat{{z}}_{{{k}}}", f"ẑ{sub(k)}"), f"zhat{k}")
        return Total(odot(up, zhat), "samples", "s") if s.batched else odot(up, zhat)
    if kind == "dL/dbeta":
        up = s.grad_of(f"bn{k}", Math(rf"\tilde{{z}}_{{{k}}}", f"z̃{sub(k)}"))
        return Total(up, "samples", "s") if s.batched else up
    if kind == "dL/dW":
        a, d = s.prev(k), s.delta(k)
        return _penalized(s, "W", k, a.T @ d if in_out else d @ a.T)
    if kind == "dL/db":
        delta = Total(s.delta(k), "samples", "s") if s.batched else s.delta(k)
        delta = Total(delta, "units", "j") if worked.layers[k - 1].shared_bias else delta
        return _penalized(s, "b", k, delta)
    if kind == "dL/dx":  # the input of layer 1 (before any scaling: none is written for it)
        if p.scale is not None:
            return None
        d, w = s.delta(1), s.param("W", 1)
        return d @ w.T if in_out else w.T @ d
    if kind in ("dL/da", "dL/dd"):
        if kind == "dL/da" and s.ref(f"d{k}") in worked.quantities:
            keep = Sym(rf"m_{{{k}}}", f"m{sub(k)}", s.ref(f"mask{k}"))
            upstream = s.grad_of(f"d{k}", var("d", k))
            return odot(upstream, keep) / (1 - Sym("p", "p", f"dropout{k}"))
        d, w = s.delta(k + 1), s.param("W", k + 1)
        return d @ w.T if in_out else w.T @ d
    if kind == "grad_norm":
        squares = [Total(s.gradient(*key) ** 2, "all") for key in _trainable(worked)]
        total = squares[0]
        for term in squares[1:]:
            total = total + term
        return sqrt(total)
    if kind == "clip_scale":
        norm = s.sym(Math(r"\left\lVert g \right\rVert", "‖g‖"), "grad_norm")
        return minimum(1, Sym(r"\tau", "τ", "clip_norm") / (norm + Num(CLIP_EPS)))
    if kind == "clipped":
        g = s.gradient(q.parameter, k)
        if p.clip_norm is not None:  # scaled to the global norm first, then (when asked) clipped by value
            g = s.sym(Math("c", "c"), "clip_scale") * g
        if p.clip_value is None:
            return g
        bound = Sym(r"g_{\max}", "gₘₐₓ", "clip_value")
        return minimum(maximum(g, -bound), bound)
    if kind == "step":
        return _step(_update(s, q.parameter, k), s.param(q.parameter, k))
    if kind == "new":
        return _update(s, q.parameter, k)
    if kind in ("state", "grad"):
        return _update(s, q.parameter, k, q.state or "g")
    return None


def _trainable(worked: Worked) -> list:
    return [(parameter, k) for k in range(1, worked.depth + 1) for parameter in PARAMETER_SYMBOLS
            if f"{parameter}{k}_new" in worked.quantities]


def _bn_statistics(s: _Step, k: int):
    """μ and σ² of layer k's BatchNorm: the batch's in training mode, the running ones in eval mode."""
    if s.ref(f"mu{k}") in s.worked.quantities:
        return (s.sym(Math(rf"\mu_{{{k}}}", f"μ{sub(k)}"), f"mu{k}"),
                s.sym(Math(rf"\sigma^{{2}}_{{{k}}}", f"σ²{sub(k)}"), f"var{k}"))
    return (Sym(rf"\bar{{\mu}}_{{{k}}}", f"μ̄{sub(k)}", f"running_mean{k}"),
            Sym(rf"\bar{{\sigma}}^{{2}}_{{{k}}}", f"σ̄²{sub(k)}", f"running_var{k}"))


def _bn_eps(k: int) -> Sym:
    return Sym(r"\epsilon", "ε", f"bn_eps{k}")


def _upstream_times_derivative(s: _Step, k: int, simplify: bool = True) -> Formula:
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
    upstream = s.sym(partial(L, Y_HAT), "dL/dy_hat") if last else s.grad_of(f"a{k}", var("a", k))
    if layer.spec.is_identity:
        return upstream
    if layer.spec.derivative is None:  # softmax: the Jacobian-vector product
        return layer.spec.jacobian(upstream, s.a(k))
    return odot(upstream, s.act_grad(k))


def _delta_formula(s: _Step, k: int, simplify: bool = True) -> Formula:
    if s.ref(f"bn{k}") in s.worked.quantities:
        return _batchnorm_backward(s, k)
    return _upstream_times_derivative(s, k, simplify)


def delta_chain(worked: Worked, k: int, step: int | None = None) -> Formula:
    """δ of layer k (at ``step``) by the chain rule from the quantities before it: ∂L/∂a ⊙ f′(z),
    the activation's Jacobian form (softmax), or the loss's derivative by the logits; never a
    loss's simplified form (δ = ŷ − y)."""
    return _delta_formula(_Step(worked, step), k, simplify=False)


def _batchnorm_backward(s: _Step, k: int) -> Formula:
    """∂L/∂z through BatchNorm: through the batch statistics in training mode,
    δ = (1/N)/√(σ² + ε) ⊙ (N·∂L/∂ẑ − Σₛ∂L/∂ẑ − ẑ ⊙ Σₛ(∂L/∂ẑ ⊙ ẑ)); with running statistics
    (constants) simply ∂L/∂ẑ/√(σ̄² + ε)."""
    _, variance = _bn_statistics(s, k)
    dzhat = s.grad_of(f"zhat{k}", Math(rf"\hat{{z}}_{{{k}}}", f"ẑ{sub(k)}"))
    root = sqrt(variance + _bn_eps(k))
    if s.ref(f"mu{k}") not in s.worked.quantities:
        return dzhat / root
    zhat = s.sym(Math(rf"\hat{{z}}_{{{k}}}", f"ẑ{sub(k)}"), f"zhat{k}")
    n = s.samples()
    inner = n * dzhat - Total(dzhat, "samples", "s") - odot(zhat, Total(odot(dzhat, zhat), "samples", "s"))
    return Frac(Num(1), n * root) * inner


def _penalized(s: _Step, parameter: str, k: int, data: Formula) -> Formula:
    """A parameter's gradient with its L1/L2 terms (the biases only when they are penalised)."""
    from ..nn.regularization import REGULARIZERS

    p = s.worked.problem
    if parameter == "b" and not p.penalize_biases:
        return data
    for name, lam in p.penalties:
        data = data + REGULARIZERS[name].gradient(_lambda(s.worked, name), s.param(parameter, k))
    return data


def _step(update: Formula, p: Sym) -> Formula | None:
    """The step of an update ``p − step`` (η·∂L/∂W for SGD), or None for another form."""
    if isinstance(update, Binary) and update.op == "-" and isinstance(update.a, Sym) and update.a.ref == p.ref:
        return update.b
    return None


def _state_symbol(worked: Worked, key: str, parameter: str, k: int, ref: str | None = None) -> Sym:
    """An optimizer state of one parameter, m(W₁), v̂(b₂); the gradient g(W₁) it uses; the
    clipped gradient ĝ(W₁)."""
    state = next((s for s in worked.optimizer.state_names if s.key == key), None)
    latex, text = (state.latex, state.text) if state is not None else \
        ((r"\hat{g}", "ĝ") if key == "clipped" else ("g", "g"))
    p = parameter_symbol(parameter, k)
    return Sym(rf"{latex}_{{{p.latex}}}", f"{text}({p.text})", ref or f"{key}_{parameter}{k}")


def _update(s: _Step, parameter: str, k: int, key: str = "new") -> Formula:
    """Line ``key`` (``new``, a state, or ``g``) of the parameter's update, from the optimizer's
    own rule."""
    worked = s.worked
    opt = worked.optimizer
    clipped = s.ref(f"clipped_{parameter}{k}") in worked.quantities
    gradient = s.sym(_state_symbol(worked, "clipped", parameter, k).math(), f"clipped_{parameter}{k}") \
        if clipped else s.gradient(parameter, k)
    names = {"p": s.param(parameter, k), "dL": gradient}
    decayed = opt.weight_decay and not opt.decoupled
    names["g"] = s.sym(_state_symbol(worked, "g", parameter, k).math(), f"g_{parameter}{k}") if decayed else gradient
    for setting in opt.settings:
        if setting.kind == "number":
            names[setting.name] = setting.symbol(f"opt_{setting.name}")
    names.update(beta1=Sym(r"\beta_{1}", "β₁", "opt_beta1"), beta2=Sym(r"\beta_{2}", "β₂", "opt_beta2"),
                 t=Sym("t", "t", s.ref("t")))
    for state in opt.state_names:
        names[state.key] = s.sym(_state_symbol(worked, state.key, parameter, k).math(),
                                 f"{state.key}_{parameter}{k}")
        prev = f"{state.key}_{parameter}{k}" if s.t > 1 else f"start_{state.key}_{parameter}{k}"
        names[f"prev_{state.key}"] = Sym(names[state.key].latex, names[state.key].text,
                                         at(prev, s.t - 1) if s.t > 1 else prev)
    return dict(opt.update_formulas(names))[key]


# --- evaluating formulas on a trace -------------------------------------------------------


def environment(worked: Worked, trace=None, values: dict | None = None) -> dict:
    """Every value a formula can name, read from ``trace`` (default: the exact one) or given as
    ``values`` (name → nested floats), as numpy
    arrays oriented for :class:`~tracegrad.core.formula.Axes` of the problem's layout: a
    layer's values of one sample are a row (``in_out``) or a column (``out_in``), a batch
    stacks them; matrices are as given. Keys: every quantity name; the given values (``x@t``,
    ``y@t`` of each step's samples, ``W1``, ``b1`` …, the optimizer's settings, λ, dropout
    masks and probabilities, BatchNorm's ε and running statistics), ``n`` (outputs),
    ``N@t`` (samples of step t); :func:`given_names` says which are given."""
    import numpy as np

    p = worked.problem
    in_out = p.layout == "in_out"
    values = worked.values(trace) if values is None else values
    from .quantity import KINDS

    def oriented(v, per_sample: bool, batched: bool):
        a = np.asarray(v, dtype=float)
        if per_sample:
            a = a if batched else a.reshape(1, -1)
            return a if in_out else a.T
        if a.ndim == 1:  # a vector over a layer's units: a row or a column like the layer's values
            return a.reshape(1, -1) if in_out else a.reshape(-1, 1)
        return a

    env = {}
    for name, q in worked.quantities.items():
        per = KINDS[q.kind].per_sample
        env[name] = oriented(values[name], per, q.batch) if per else oriented(values[name], False, False)
        if not per and q.kind in ("x_mean", "x_std"):
            env[name] = oriented(values[name], True, False)
    raw = [list(s) for s in p.x]
    env["x_raw"] = oriented(raw, True, True) if p.batch else oriented(raw[0], True, False)
    env["N_all"] = float(len(p.x))
    stats = dict(p.scale_stats)
    if p.scale == "minmax":
        env["x_min"] = oriented(stats.get("min") or np.min(raw, axis=0), True, False)
        env["x_max"] = oriented(stats.get("max") or np.max(raw, axis=0), True, False)
    if p.scale == "zscore" and "mean" in stats:
        env["x_mean"], env["x_std"] = oriented(stats["mean"], True, False), oriented(stats["std"], True, False)
    scaled = values.get("x_scaled")
    for it in worked.iterations:
        rows_x = [scaled[s] if p.batch else scaled for s in it.samples] if scaled is not None else \
            [list(p.x[s]) for s in it.samples]
        rows_y = [list(p.y[s]) for s in it.samples]
        env[at("x", it.step)] = oriented(rows_x if it.batched else rows_x[0], True, it.batched)
        env[at("y", it.step)] = oriented(rows_y if it.batched else rows_y[0], True, it.batched)
        env[at("N", it.step)] = float(len(it.samples))
        env[at("t", it.step)] = float(it.step)
        for k, spec in enumerate(p.layers, start=1):
            if spec.dropout and p.mode == "train" and at(f"d{k}", it.step) in worked.quantities:
                env[at(f"mask{k}", it.step)] = oriented(_masks(worked, k, it), True, it.batched)
    for k, (layer, spec) in enumerate(zip(worked.layers, p.layers), start=1):
        env[f"W{k}"] = np.array([[w.data for w in row] for row in layer.weight_matrix])
        biases = [b.data for b in layer.bias_values]
        env[f"b{k}"] = biases[0] if layer.shared_bias else oriented(biases, False, False)
        env[f"dropout{k}"] = float(spec.dropout)
        if spec.batchnorm is not None:
            units = layer.n_out
            bn = spec.batchnorm
            env[f"gamma{k}"] = oriented(bn.gamma or [1.0] * units, False, False)
            env[f"beta{k}"] = oriented(bn.beta or [0.0] * units, False, False)
            env[f"running_mean{k}"] = oriented(bn.running_mean or [0.0] * units, False, False)
            env[f"running_var{k}"] = oriented(bn.running_var or [1.0] * units, False, False)
            env[f"bn_eps{k}"] = float(bn.eps)
    opt = worked.optimizer
    env.update({f"opt_{name}": value for name, value in opt.hyperparameters().items()})
    for name, lam in p.penalties:
        env[f"lambda_{name}"] = float(lam)
    env["clip_norm"], env["clip_value"] = p.clip_norm, p.clip_value
    for key in _trainable(worked):
        parameter, k = key
        for state in opt.state_names:
            if state.carried:
                start = opt.initial_state()[state.key]
                env[f"start_{state.key}_{parameter}{k}"] = np.zeros(np.shape(env[f"{parameter}{k}"])) + start
    env["n"] = float(len(p.y[0]))
    return {k: v for k, v in env.items() if v is not None}


def _masks(worked: Worked, k: int, it) -> list:
    """The 0/1 dropout masks of layer k in iteration ``it`` (one row per sample), from the trace's
    mask constants (a kept unit is scaled by 1/(1 − p))."""
    q = worked.quantities[at(f"d{k}", it.step)]
    nodes = worked.trace.nodes
    rows = q.nodes if q.batch else (q.nodes,)
    masks = [[1.0 if nodes[nodes[i].inputs[1]].data != 0 else 0.0 for i in row] for row in rows]
    return masks if it.batched else masks[0]


def given_names(worked: Worked, env: dict) -> set:
    """The names of ``env`` that are given numbers (printed as written), not computed ones."""
    computed = set(worked.quantities)
    if "x_scaled" in worked.quantities:
        computed |= {at("x", it.step) for it in worked.iterations}
    return {name for name in env if name not in computed}


def formula_mismatches(worked: Worked, trace=None, agree=is_close) -> list:
    """The quantities whose formula, evaluated on the values of ``trace``, does not give the
    quantity's own value (``agree(formula's value, quantity's value)``, by default equal up to
    float noise): ``[(name, formula text, formula's value, quantity's value)]``."""
    env = environment(worked, trace)
    axes = Axes.of(worked.problem.layout)
    bad = []
    for name, q in worked.quantities.items():
        f = formula(worked, q)
        if f is None:
            continue
        got = f.evaluate(env, axes)
        if not agree(got, env[name]):
            bad.append((name, f.math().text, got, env[name]))
    return bad


def deltas_by_formula(worked: Worked) -> list:
    """Each δ the derivation writes by a formula of its own where the graph computes it another
    way (a loss's simplification δ = ŷ − y; the BatchNorm backward formula in training mode), as
    ``{node: f(nodes)}`` per quantity, in the order they are computed (by step, then from the
    output down): each element is the formula evaluated on the numbers of a trace's ``nodes``,
    so that under carry rounding it is the formula of the carried numbers the page shows
    (:meth:`Worked.carry`)."""
    import numpy as np

    names = [f"delta{k}" for k in range(worked.depth, 0, -1) if f"mu{k}" in worked.quantities]
    if "dL/dy_hat" not in worked.quantities and f"delta{worked.depth}" in worked.quantities:
        names.insert(0, f"delta{worked.depth}")
    axes = Axes.of(worked.problem.layout)
    exact = worked.values()
    groups = []
    for step in range(1, worked.steps + 1):
        for name in dict.fromkeys(names):
            q = worked.quantities[at(name, step)]
            f = formula(worked, q)
            # where each element sits in the formula's (oriented) array: evaluate on its own index
            order = environment(worked, values={**exact, q.name: map_nested(q.nodes, float)})[q.name]
            place = {int(i): k for k, i in enumerate(order.ravel())}
            reads = [r for r in f.refs() if r in worked.quantities]
            computed: dict = {}

            def evaluated(nodes, i, f=f, reads=reads, place=place, shape=order.shape, computed=computed):
                if computed.get("nodes") is not nodes:  # the whole array once per set of nodes
                    values = {**exact, **{r: map_nested(worked.quantities[r].nodes, lambda j: nodes[j].data)
                                          for r in reads}}
                    got = np.asarray(f.evaluate(environment(worked, values=values), axes), dtype=float)
                    computed.update(nodes=nodes, all=np.broadcast_to(got, shape).ravel())
                return float(computed["all"][place[i]])
            groups.append({i: (lambda nodes, i=i, evaluated=evaluated: evaluated(nodes, i)) for i in q.indices()})
    return groups


def node_notation(worked: Worked, step: int) -> dict:
    """``{trace index: Math}``: every node step ``step`` computes with, as its derivation writes
    it: the parameters it starts from, the inputs and targets of its samples, and each element
    of its forward quantities (ŷ, not a₂, for the output)."""
    names = {}
    for (parameter, k), nodes in worked.parameters[step].items():
        m = parameter_symbol(parameter, k)
        if parameter == "b" and worked.layers[k - 1].shared_bias:
            names[nodes[0]] = m
            continue
        names.update((i, element(m, position)) for position, i in cells(nodes))
    it = worked.iterations[step - 1]
    given = {"x": Math("X", "X"), "y": Math("y", "y")}
    for rec in worked.trace.nodes:
        role = rec.role
        if rec.is_leaf and role is not None and role.quantity in given and (role.sample or 0) in it.samples:
            sample = (it.samples.index(role.sample or 0),) if it.batched else ()
            names[rec.index] = element(given[role.quantity], sample + role.index)
    for q in worked.of_step(step):
        if q.section not in ("backward", "update"):
            m = symbol(worked, q)
            names.update((i, element(m, position)) for position, i in cells(q.nodes))
    return names


def node_graph(worked: Worked, step: int = 1):
    """The node view's graph of iteration ``step`` (:meth:`Worked.node_trace`), its nodes written
    in the derivation's notation (:func:`node_notation`): W₁[0][1], z₁[0], ŷ[0]."""
    return worked.node_trace(step, node_notation(worked, step))
