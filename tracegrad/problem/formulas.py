"""The symbol and the formula of every quantity a worked problem names: z₁ = X·W₁ + b₁,
δ₂ = ∂L/∂ŷ ⊙ σ′(z₂), W₁ ← W₁ − η·∂L/∂W₁ …, written the way the document writes them.

Nothing here names an activation, a loss or an optimizer: each formula is assembled from
the spec tables (:mod:`tracegrad.nn.activations`, :mod:`~tracegrad.nn.losses`,
:mod:`~tracegrad.nn.optim`) and the problem's layout, as a
:class:`~tracegrad.core.formula.Formula` whose symbols are bound to the quantities (and the
given values ``x``, ``y``, ``W1``, ``b1`` … and settings ``lr`` …) they stand for, so it can
be written and evaluated. The layer view prints them; the checker shows them beside a wrong
answer.
"""

from __future__ import annotations

from ..core.formula import Binary, Formula, Frac, Num, Sym, Total, Where, call, odot, sym
from ..core.notation import ETA, L, Math, Y_HAT, partial, sub, var
from .solve import Worked


def activation_symbol(worked: Worked, k: int) -> Math:
    """f of layer k: σ, tanh, ReLU …"""
    layer = worked.layers[k - 1]
    return layer.spec.symbol(layer.alpha)


def loss_formula(worked: Worked) -> Formula:
    """L of the problem's loss, per sample, averaged over a batch."""
    p, depth = worked.problem, worked.depth
    loss = _loss(worked)
    prediction = _z(depth) if loss.from_logits else _y_hat()
    outputs = len(p.y[0])
    per = loss.formula(prediction, Sym("y", "y", "y"), Sym("n", "n", "n"), outputs)
    if not p.batch:
        return per
    part = Sym("L_{s}", "Lₛ", "L_s")
    return Where(Frac(Num(1), _samples()) * Total(part, "samples", "s", "N"), part, per)


def _loss(worked: Worked):
    from ..nn.losses import LOSSES

    return LOSSES[worked.problem.loss]


def _samples() -> Sym:
    return Sym("N", "N", "N")


def _per_batch(worked: Worked, f: Formula) -> Formula:
    """``f`` of one sample, divided by N for a batch (the loss averages its samples)."""
    return Frac(Num(1), _samples()) * f if worked.problem.batch else f


def _y_hat() -> Sym:
    return sym(Y_HAT, "y_hat")


def _z(k: int) -> Sym:
    return sym(var("z", k), f"z{k}")


def _a(worked: Worked, k: int) -> Sym:
    """The activations of layer k: ŷ for the output layer."""
    return _y_hat() if k == worked.depth else sym(var("a", k), f"a{k}")


def _prev_a(worked: Worked, k: int) -> Sym:
    """The input of layer k: X, or the previous layer's output (its z when it has no activation)."""
    if k == 1:
        return Sym("X", "X", "x")
    return _z(k - 1) if worked.layers[k - 2].spec.is_identity else sym(var("a", k - 1), f"a{k - 1}")


def _delta(k) -> Sym:
    return Sym(rf"\delta_{{{k}}}", f"δ{sub(k)}", f"delta{k}")


def _act_grad(worked: Worked, k: int, glyph: str = "′") -> Sym:
    f = activation_symbol(worked, k)
    return Sym(rf"{f.latex}'\left(z_{{{k}}}\right)", f"{f.text}{glyph}(z{sub(k)})", f"da{k}/dz{k}")


def _param(p: str, k: int) -> Sym:
    return sym(var(p, k), f"{p}{k}")


def _gradient(p: str, k: int) -> Sym:
    return sym(partial(L, var(p, k)), f"dL/d{p}{k}")


def symbol(worked: Worked, q) -> Math:
    """The symbol of quantity ``q``: z₁, σ′(z₁), δ₂, ∂L/∂W₁ …"""
    k, kind = q.layer, q.kind
    if kind == "act_grad":
        return _act_grad(worked, k).math()
    if kind == "delta":
        return _delta(k).math()
    if kind == "step":
        return ETA + Math(r" \cdot ", "·") + partial(L, var(q.parameter, k))
    if kind == "new":
        return var(q.parameter, k)
    if kind in ("state", "grad"):
        return _state_symbol(worked, q.state or "g", q.parameter, k).math()
    if kind == "dL/da_via":  # [j][i]: the part through unit i of the next layer
        return partial(L, var("a", k)) + Math(r"\big|_{\delta_{%d}}" % (k + 1), f"|δ{sub(k + 1)}")
    return {
        "z": var("z", k), "a": var("a", k), "y_hat": Y_HAT, "loss": L, "dL/dy_hat": partial(L, Y_HAT),
        "dL/dW": partial(L, var("W", k)), "dL/db": partial(L, var("b", k)), "dL/da": partial(L, var("a", k)),
        "sample_loss": Math("L_{s}", "Lₛ"), "loss_term": Math("L_{o}", "Lₒ"), "dL/dx": partial(L, Math("x", "x")),
    }[kind]


def formula(worked: Worked, q) -> Formula | None:
    """The formula of quantity ``q`` in the problem's layout, or ``None`` for a value with none."""
    p = worked.problem
    k, kind = q.layer, q.kind
    in_out = p.layout == "in_out"
    if kind == "z":
        a, w, b = _prev_a(worked, k), _param("W", k), _param("b", k)
        return (a @ w if in_out else w @ a) + b
    if kind == "a":
        layer = worked.layers[k - 1]
        return call(layer.spec.name, activation_symbol(worked, k), _z(k), (layer.alpha,))
    if kind == "y_hat":
        return _z(k) if worked.layers[k - 1].spec.is_identity else sym(var("a", k), f"a{k}")
    if kind == "loss":
        return loss_formula(worked)
    if kind == "dL/dy_hat":
        loss = _loss(worked)
        return _per_batch(worked, loss.derivative(_y_hat(), Sym("y", "y", "y"), Sym("n", "n", "n"), len(p.y[0])))
    if kind == "act_grad":
        layer = worked.layers[k - 1]
        return layer.spec.derivative(_z(k), _a(worked, k), layer.alpha)
    if kind == "delta":
        return _delta_formula(worked, k)
    if kind == "dL/dW":
        a, d = _prev_a(worked, k), _delta(k)
        return a.T @ d if in_out else d @ a.T
    if kind == "dL/db":
        delta = Total(_delta(k), "samples", "s") if p.batch else _delta(k)
        return Total(delta, "units", "j") if worked.layers[k - 1].shared_bias else delta
    if kind in ("dL/da", "dL/dx"):
        k = k or 0  # ∂L/∂x: the input of layer 1
        d, w = _delta(k + 1), _param("W", k + 1)
        return d @ w.T if in_out else w.T @ d
    if kind == "step":
        return _step(_update(worked, q.parameter, k), _param(q.parameter, k))
    if kind == "new":
        return _update(worked, q.parameter, k)
    if kind in ("state", "grad"):
        return _update(worked, q.parameter, k, q.state or "g")
    return None


def _delta_formula(worked: Worked, k: int) -> Formula:
    p, layer, last = worked.problem, worked.layers[k - 1], k == worked.depth
    loss = _loss(worked)
    y, n, outputs = Sym("y", "y", "y"), Sym("n", "n", "n"), len(p.y[0])
    simplified = loss.simplified.get(layer.spec.name) if last and not loss.from_logits else None
    if simplified is not None and (simplified[2] is None or simplified[2](p.y)):
        return _per_batch(worked, simplified[0](_y_hat(), y, n, outputs))
    return delta_chain(worked, k)


def delta_chain(worked: Worked, k: int) -> Formula:
    """δ of layer k by the chain rule from the quantities before it: ∂L/∂a ⊙ f′(z), the
    activation's Jacobian form (softmax), or the loss's derivative by the logits; never a loss's
    simplified form (δ = ŷ − y)."""
    p, layer, last = worked.problem, worked.layers[k - 1], k == worked.depth
    loss = _loss(worked)
    y, n, outputs = Sym("y", "y", "y"), Sym("n", "n", "n"), len(p.y[0])
    if last and loss.from_logits:
        return _per_batch(worked, loss.derivative(_z(k), y, n, outputs))
    upstream = sym(partial(L, Y_HAT), "dL/dy_hat") if last else sym(partial(L, var("a", k)), f"dL/da{k}")
    if layer.spec.is_identity:
        return upstream
    if layer.spec.derivative is None:
        if layer.spec.jacobian is not None:
            return layer.spec.jacobian(upstream, _a(worked, k))
        return sym(partial(L, var("z", k)), f"delta{k}")
    return odot(upstream, _act_grad(worked, k, "'"))


def _step(update: Formula, p: Sym) -> Formula | None:
    """The step of an update ``p − step`` (η·∂L/∂W for SGD), or None for another form."""
    if isinstance(update, Binary) and update.op == "-" and isinstance(update.a, Sym) and update.a.ref == p.ref:
        return update.b
    return None


def _state_symbol(worked: Worked, key: str, parameter: str, k: int, ref: str | None = None) -> Sym:
    """An optimizer state of one parameter, m(W₁), v̂(b₂), or the gradient g(W₁) it uses."""
    state = next((s for s in worked.optimizer.state_names if s.key == key), None)
    latex, text = (state.latex, state.text) if state is not None else ("g", "g")
    return Sym(rf"{latex}_{{{parameter}_{{{k}}}}}", f"{text}({parameter}{sub(k)})", ref or f"{key}_{parameter}{k}")


def _update(worked: Worked, parameter: str, k: int, key: str = "new") -> Formula:
    """Line ``key`` (``new``, a state, or ``g``) of the parameter's update, from the optimizer's
    own rule."""
    opt = worked.optimizer
    gradient = _gradient(parameter, k)
    names = {"p": _param(parameter, k), "dL": gradient}
    names["g"] = _state_symbol(worked, "g", parameter, k) if opt.weight_decay and not opt.decoupled else gradient
    for setting in opt.settings:
        if setting.kind == "number":
            names[setting.name] = setting.symbol(setting.name)
    names.update(beta1=Sym(r"\beta_{1}", "β₁", "beta1"), beta2=Sym(r"\beta_{2}", "β₂", "beta2"),
                 t=Sym("t", "t", "t"))
    for state in opt.state_names:
        names[state.key] = _state_symbol(worked, state.key, parameter, k)
        names[f"prev_{state.key}"] = _state_symbol(worked, state.key, parameter, k, f"prev_{state.key}_{parameter}{k}")
    return dict(opt.update_formulas(names))[key]


def environment(worked: Worked, trace=None, values: dict | None = None) -> dict:
    """Every value a formula can name, read from ``trace`` (default: the exact one) or given as
    ``values`` (name → nested floats), as numpy
    arrays oriented for :class:`~tracegrad.core.formula.Axes` of the problem's layout: a
    layer's values of one sample are a row (``in_out``) or a column (``out_in``), a batch
    stacks them; matrices are as given. Keys: every quantity name, the given ``x``, ``y``,
    ``W1``, ``b1`` …, the optimizer's settings (``lr`` …), ``n`` (outputs) and ``N`` (samples)."""
    import numpy as np

    p = worked.problem
    in_out = p.layout == "in_out"
    values = worked.values(trace) if values is None else values

    def oriented(v, per_sample: bool):
        a = np.asarray(v, dtype=float)
        if per_sample:
            a = a if p.batch else a.reshape(1, -1)
            return a if in_out else a.T
        if a.ndim == 1:  # a bias vector: a row or a column like the layer's values
            return a.reshape(1, -1) if in_out else a.reshape(-1, 1)
        return a

    env = {name: oriented(values[name], q.batch or (not p.batch and _per_sample_kind(q.kind)))
           for name, q in worked.quantities.items()}
    env["x"] = oriented([list(s) for s in p.x] if p.batch else list(p.x[0]), True)
    env["y"] = oriented([list(s) for s in p.y] if p.batch else list(p.y[0]), True)
    for k, layer in enumerate(worked.layers, start=1):
        env[f"W{k}"] = np.array([[w.data for w in row] for row in layer.weight_matrix])
        biases = [b.data for b in layer.bias_values]
        env[f"b{k}"] = biases[0] if layer.shared_bias else oriented(biases, False)
    opt = worked.optimizer
    env.update(opt.hyperparameters())
    for k, layer in enumerate(worked.layers, start=1):
        for parameter in ("W", "b"):
            for state in opt.state_names:
                if state.carried and f"{state.key}_{parameter}{k}" in env:
                    # the state this step starts from: the optimizer's current state
                    start = [[opt.state_of(w)[state.key] for w in row] for row in layer.weight_matrix] \
                        if parameter == "W" else [opt.state_of(b)[state.key] for b in layer.bias_values]
                    if parameter == "b" and layer.shared_bias:
                        start = start[0]
                    env[f"prev_{state.key}_{parameter}{k}"] = start if parameter == "W" else oriented(start, False) \
                        if isinstance(start, list) else start
    if "t" in opt.initial_state():
        env["t"] = float(opt.state[0]["t"] + 1)
    env["n"], env["N"] = float(len(p.y[0])), float(len(p.x))
    return env


def _per_sample_kind(kind: str) -> bool:
    from .quantity import KINDS

    return KINDS[kind].per_sample


def formula_mismatches(worked: Worked, trace=None) -> list:
    """The quantities whose formula, evaluated on the values of ``trace``, does not give the
    quantity's own value: ``[(name, formula text, formula's value, quantity's value)]``."""
    from ..core.formula import Axes, is_close

    env = environment(worked, trace)
    axes = Axes.of(worked.problem.layout)
    bad = []
    for name, q in worked.quantities.items():
        f = formula(worked, q)
        if f is None:
            continue
        got = f.evaluate(env, axes)
        if not is_close(got, env[name], rel=1e-9, abs_=1e-12):
            bad.append((name, f.math().text, got, env[name]))
    return bad
