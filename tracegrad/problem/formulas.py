"""The formulas of a worked problem, built once and evaluated.

Each quantity's symbol and formula come from the kind table (:mod:`tracegrad.problem.kinds`),
built once per problem (:class:`Formulas`, ``worked.formulas``). So do the general formulas a
derivation also prints: each activation's definition (σ(x) = 1/(1 + e^(−x))), the optimizer's
rule over θ, the summary of the backpropagation recursion (δₖ = (δₖ₊₁·Wₖ₊₁ᵀ) ⊙ f′(zₖ)) and the
gradient norms of a deep network; each is the formula of a concrete layer or parameter written
generally, so it is evaluated like the rest (:class:`Identity`).

Evaluating: :func:`environment` gives every value a formula can name, read from a trace;
:func:`formula_mismatches` the formulas (and general formulas) that do not give the values
printed beside them, which the line verifier reports; :class:`Recomputed` is the one evaluator
of quantities recomputed by their printed formula where the graph takes another path
(softmax with cross-entropy's δ = ŷ − y, BatchNorm's δ), shared by the checker (from a
student's numbers, :func:`by_formula`) and the carry replay (from the carried numbers,
:func:`deltas_by_formula`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.formula import Axes, Formula, Norm, Sym, is_close
from ..core.nested import cells, flatten, map_nested
from ..core.notation import Math, element
from .kinds import (KINDS, Step, at, delta_formula, loss_formula as _loss_formula, parameter_symbol, trainable,
                    update_names)


class Formulas:
    """Every quantity's symbol and formula of one worked problem, each built once from the kind
    table (a problem's checker, line verifier, carry replay and views share them)."""

    def __init__(self, worked):
        self.worked = worked
        self._symbols: dict = {}
        self._formulas: dict = {}
        self._steps: dict = {}

    def _step(self, q) -> Step:
        if q.step not in self._steps:
            self._steps[q.step] = Step(self.worked, q.step)
        return self._steps[q.step]

    def symbol(self, q) -> Math:
        if q.name not in self._symbols:
            self._symbols[q.name] = KINDS[q.kind].symbol(self._step(q), q).math()
        return self._symbols[q.name]

    def formula(self, q) -> Formula | None:
        if q.name not in self._formulas:
            self._formulas[q.name] = KINDS[q.kind].formula(self._step(q), q)
        return self._formulas[q.name]


def symbol(worked, q) -> Math:
    """The symbol of quantity ``q``: z₁, σ′(z₁), δ₂, ∂L/∂W₁ …"""
    return worked.formulas.symbol(q)


def formula(worked, q) -> Formula | None:
    """The formula of quantity ``q`` in the problem's layout, or ``None`` for a value with none."""
    return worked.formulas.formula(q)


def loss_formula(worked, step: int | None = None) -> Formula:
    """L of the problem's loss, per sample, averaged over a batch, with its L1/L2 terms."""
    return _loss_formula(Step(worked, step))


def delta_chain(worked, k: int, step: int | None = None) -> Formula:
    """δ of layer k (at ``step``) by the chain rule from the quantities before it: ∂L/∂a ⊙ f′(z),
    the activation's Jacobian form (softmax), or the loss's derivative by the logits; never a
    loss's simplified form (δ = ŷ − y)."""
    return delta_formula(Step(worked, step), k, simplify=False)


# --- general formulas: written with k, L, θ, f; bound to a concrete layer or parameter ------


@dataclass(frozen=True)
class Identity:
    """A printed general formula as it holds in this problem: ``formula`` (bound to the problem's
    values, and to ``given`` names: a definition's variable ``x`` is the quantity of that name,
    its slope ``alpha`` a number) gives the values of quantity ``name``; ``label`` says what it is."""

    label: str
    name: str
    formula: Formula
    given: dict = field(default_factory=dict)


@dataclass(frozen=True)
class General:
    """A general formula a derivation prints, ``symbol = formula``, and its :class:`Identity` s
    (every layer or parameter it stands for); ``key`` says which (a catalog key's last part)."""

    key: str
    symbol: Math
    formula: Formula
    identities: tuple = ()
    carried: bool = False  # an optimizer state carried to the next step (written ←)

    def math(self) -> Math:
        return self.symbol + Math(" = ", " = ") + self.formula.math()


def definitions(worked) -> list:
    """Each activation of the problem with a definition, once, in the order the layers use them:
    ``f(x) = definition`` (:meth:`~tracegrad.nn.activations.ActivationSpec.defined`), holding for
    every layer's activations with x its activation's input."""
    out: dict = {}
    for k, layer in enumerate(worked.layers, start=1):
        defined = layer.spec.defined()
        if defined is None:
            continue
        head, body = defined
        general = out.setdefault(layer.spec.name, General(layer.spec.name, head, body))
        made = f"a{k}" if f"a{k}" in worked.quantities else "y_hat"
        source = f"bn{k}" if f"bn{k}" in worked.quantities else f"z{k}"
        identity = Identity(f"{head.text} = {body.math().text} (layer {k})", made, body,
                            {"x": source, "alpha": layer.alpha})
        out[layer.spec.name] = General(general.key, head, body, general.identities + (identity,))
    return list(out.values())


_ORDER = ("output", "hidden", "weights", "bias")


def recursion(worked) -> list:
    """The summary of the backpropagation recursion: the problem's own δ of the output layer
    (δ_L), δ of a hidden layer by the next one's (δₖ = (δₖ₊₁·Wₖ₊₁ᵀ) ⊙ f′(zₖ): the derivation's
    ∂L/∂aₖ written into δₖ's formula), ∂L/∂Wₖ and ∂L/∂bₖ, as :class:`General` formulas with
    layer indices k and L, one per distinct written form, each with every layer it stands for."""
    found: dict = {}

    def add(key: str, name: str, lhs: Sym, rhs: Formula):
        text = lhs.math().text + " = " + rhs.math().text
        general = found.setdefault((key, text), General(key, lhs.math(), rhs))
        found[(key, text)] = General(key, general.symbol, general.formula,
                                     general.identities + (Identity(text, name, rhs),))

    depth, qs = worked.depth, worked.quantities
    if f"delta{depth}" in qs:
        s = Step(worked, 1, layer=(depth, "L"))
        add("output", f"delta{depth}", s.delta(depth), _through_weights(s, depth))
    for k in range(depth - 1, 0, -1):
        if f"delta{k}" in qs:
            s = Step(worked, 1, layer=(k, "k"))
            add("hidden", f"delta{k}", s.delta(k), _through_weights(s, k))
    for k in range(depth, 0, -1):
        s = Step(worked, 1, layer=(k, "k"))
        for parameter, key in (("W", "weights"), ("b", "bias")):
            q = qs.get(f"dL/d{parameter}{k}")
            if q is not None:
                add(key, q.name, s.gradient(parameter, k), KINDS[q.kind].formula(s, q))
    return sorted(found.values(), key=lambda g: _ORDER.index(g.key))


def _through_weights(s: Step, k: int) -> Formula:
    """δ of layer k with the upstream of its activations (∂L/∂aₖ, through dropout ∂L/∂dₖ) written
    out, so it reads from the next layer's δ."""
    f = delta_formula(s, k)
    qs = s.worked.quantities
    for name in (f"dL/da{k}", f"dL/dd{k}"):
        if name in f.refs():
            f = f.substituted({name: KINDS[qs[name].kind].formula(s, qs[name])})
    return f


def rule(worked) -> list:
    """The optimizer's update rule over θ (its gradient g, its states m, v …), as
    :class:`General` formulas in the order the rule computes them, each the rule of the first
    parameter the problem updates written generally (a frozen network's: W₁'s, not checked)."""
    parameter, k = (trainable(worked) or [("W", 1)])[0]
    s = Step(worked, 1, rule=True)
    names = update_names(s, parameter, k)
    carried = {state.key: state.carried for state in worked.optimizer.state_names}
    out = []
    for key, f in worked.optimizer.update_formulas(names):
        target = names["p"] if key == "new" else names[key]
        name = f"{parameter}{k}_new" if key == "new" else f"{key}_{parameter}{k}"
        identities = (Identity(f"{target.text} = {f.math().text}", name, f),) if name in worked.quantities else ()
        out.append(General(key, target.math(), f, identities, key == "new" or carried.get(key, False)))
    return out


def norms(worked, values: dict) -> tuple:
    """The gradient norms per layer of a deep network, from the formulas its table is headed
    with: ``(header, rows)``, the header ‖δₖ‖, ‖∂L/∂Wₖ‖ and ‖∂L/∂Wₖ‖ / ‖∂L/∂Wₖ₊₁‖ (as
    :class:`Math`), a row ``(k, ‖δₖ‖, ‖∂L/∂Wₖ‖, the ratio)`` per layer from the output down, each
    formula evaluated on ``values`` (``None`` where a layer has no weight gradient or none above)."""
    env, axes = environment(worked, values=values), Axes.of(worked.problem.layout)
    general = Step(worked, 1, layer=(1, "k"))
    header = (Norm(general.delta(1)).math(), Norm(general.gradient("W", 1)).math(),
              (Norm(general.gradient("W", 1)) / Norm(general.gradient("W", 2))).math())
    s = Step(worked, 1)
    rows = []
    for k in range(worked.depth, 0, -1):
        weights = Norm(s.gradient("W", k)) if f"dL/dW{k}" in worked.quantities else None
        above = Norm(s.gradient("W", k + 1)) if f"dL/dW{k + 1}" in worked.quantities else None
        ratio = weights / above if weights is not None and above is not None and above.evaluate(env, axes) else None
        rows.append((k, *(f.evaluate(env, axes) if f is not None else None for f in (Norm(s.delta(k)), weights, ratio))))
    return header, rows


# --- evaluating formulas on a trace -------------------------------------------------------


def environment(worked, trace=None, values: dict | None = None) -> dict:
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
        per = q.per_sample
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
    for key in trainable(worked):
        parameter, k = key
        for state in opt.state_names:
            if state.carried:
                start = opt.initial_state()[state.key]
                env[f"start_{state.key}_{parameter}{k}"] = np.zeros(np.shape(env[f"{parameter}{k}"])) + start
    env["n"] = float(len(p.y[0]))
    return {k: v for k, v in env.items() if v is not None}


def _masks(worked, k: int, it) -> list:
    """The 0/1 dropout masks of layer k in iteration ``it`` (one row per sample), from the trace's
    mask constants (a kept unit is scaled by 1/(1 − p))."""
    q = worked.quantities[at(f"d{k}", it.step)]
    nodes = worked.trace.nodes
    rows = q.nodes if q.batch else (q.nodes,)
    masks = [[1.0 if nodes[nodes[i].inputs[1]].data != 0 else 0.0 for i in row] for row in rows]
    return masks if it.batched else masks[0]


def given_names(worked, env: dict) -> set:
    """The names of ``env`` that are given numbers (printed as written), not computed ones."""
    computed = set(worked.quantities)
    if "x_scaled" in worked.quantities:
        computed |= {at("x", it.step) for it in worked.iterations}
    return {name for name in env if name not in computed}


def _value_of(env: dict, given: dict, axes) -> dict:
    """``env`` with a general formula's ``given`` names bound (to a quantity's value, or a number)."""
    return {**env, **{name: env[ref] if isinstance(ref, str) else ref for name, ref in given.items()}}


def identities(worked) -> list:
    """Every general formula the derivation prints, as it holds in this problem."""
    return [i for group in (definitions(worked), recursion(worked), rule(worked)) for g in group for i in g.identities]


def formula_mismatches(worked, trace=None, agree=is_close) -> list:
    """The quantities whose formula, evaluated on the values of ``trace``, does not give the
    quantity's own value (``agree(formula's value, quantity's value)``, by default equal up to
    float noise), and the general formulas (definitions, the recursion, the rule) that do not
    hold on the exact values: ``[(name, formula text, formula's value, quantity's value)]``."""
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
    exact = env if trace is None else environment(worked)
    for identity in identities(worked):
        got = identity.formula.evaluate(_value_of(exact, identity.given, axes), axes)
        if not is_close(got, exact[identity.name]):
            bad.append((identity.name, identity.label, got, exact[identity.name]))
    return bad


class Recomputed:
    """Quantities recomputed by formulas (``{name: [Formula, …]}``) from the values of the
    quantities they read: the one evaluator of a quantity's printed formula where the graph
    computes it another way. :meth:`flat` gives one formula's value in the quantity's reading
    order; calling it on ``values`` (name → nested floats) gives every formula's."""

    def __init__(self, worked, formulas: dict):
        import numpy as np

        self.worked, self.formulas = worked, formulas
        self.axes = Axes.of(worked.problem.layout)
        counter = iter(range(10 ** 9))
        positions = {name: map_nested(q.nodes, lambda i: float(next(counter))) for name, q in worked.quantities.items()}
        where = environment(worked, values=positions)  # each element's place in its oriented array
        self._places = {name: where[name].astype(int).ravel() - int(min(flatten(positions[name]))) for name in formulas}
        self._shapes = {name: where[name].shape for name in formulas}
        self._np = np

    def flat(self, name: str, f: Formula, env: dict):
        """``f`` evaluated on ``env``, as quantity ``name``'s elements in reading order."""
        np = self._np
        got = np.broadcast_to(np.asarray(f.evaluate(env, self.axes), dtype=float), self._shapes[name])
        out = np.empty(got.size)
        out[self._places[name]] = got.ravel()
        return out

    def __call__(self, values: dict) -> dict:
        """``{name: [flat values, one per formula that could be evaluated]}`` on ``values``."""
        env = environment(self.worked, values=values)
        out: dict = {}
        for name, found in self.formulas.items():
            for f in found:
                try:
                    with self._np.errstate(all="ignore"):  # a number outside a domain gives NaN, never a match
                        out.setdefault(name, []).append(self.flat(name, f, env))
                except (ArithmeticError, ValueError, KeyError, TypeError):
                    continue
        return out


def by_formula(worked) -> Recomputed:
    """Every quantity whose printed formula reads other quantities (and for δ also the chain rule
    it simplifies, a ⊙ (g − Σ g·a) for softmax): what a student computes by the formulas of the
    derivation, where the graph may take another path to the same number."""
    qs = worked.quantities
    formulas = {}
    for name, q in qs.items():
        own = set(q.indices())
        found = [formula(worked, q)] + ([delta_chain(worked, q.layer, q.step)] if q.kind == "delta" else [])
        # a formula naming the quantity itself, or another name of its numbers (ŷ = a₂), says nothing
        found = [f for f in found if f is not None and
                 not any(ref in qs and own & set(qs[ref].indices()) for ref in f.refs())]
        if found:
            formulas[name] = found
    return Recomputed(worked, formulas)


def deltas_by_formula(worked) -> list:
    """Each δ the derivation writes by a formula of its own where the graph computes it another
    way (a loss's simplification δ = ŷ − y; the BatchNorm backward formula in training mode), as
    ``{node: f(nodes)}`` per quantity, in the order they are computed (by step, then from the
    output down): each element is the formula evaluated on the numbers of a trace's ``nodes``
    (by :class:`Recomputed`), so that under carry rounding it is the formula of the carried
    numbers the page shows (:meth:`Worked.carry`)."""
    names = [f"delta{k}" for k in range(worked.depth, 0, -1) if f"mu{k}" in worked.quantities]
    if "dL/dy_hat" not in worked.quantities and f"delta{worked.depth}" in worked.quantities:
        names.insert(0, f"delta{worked.depth}")
    qs = [worked.quantities[at(name, step)] for step in range(1, worked.steps + 1) for name in dict.fromkeys(names)]
    recomputed = Recomputed(worked, {q.name: [formula(worked, q)] for q in qs})
    exact = worked.values()
    groups = []
    for q in qs:
        f = formula(worked, q)
        reads = [r for r in f.refs() if r in worked.quantities]
        order = {i: k for k, i in enumerate(q.indices())}
        computed: dict = {}

        def evaluated(nodes, i, q=q, f=f, reads=reads, order=order, computed=computed):
            if computed.get("nodes") is not nodes:  # the whole quantity once per set of nodes
                values = {**exact, **{r: map_nested(worked.quantities[r].nodes, lambda j: nodes[j].data)
                                      for r in reads}}
                computed.update(nodes=nodes, flat=recomputed.flat(q.name, f, environment(worked, values=values)))
            return float(computed["flat"][order[i]])
        groups.append({i: (lambda nodes, i=i, evaluated=evaluated: evaluated(nodes, i)) for i in q.indices()})
    return groups


def node_notation(worked, step: int) -> dict:
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


def node_graph(worked, step: int = 1):
    """The node view's graph of iteration ``step`` (:meth:`Worked.node_trace`), its nodes written
    in the derivation's notation (:func:`node_notation`): W₁[0][1], z₁[0], ŷ[0]."""
    return worked.node_trace(step, node_notation(worked, step))
