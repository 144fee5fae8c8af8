"""A worked problem: the network of a problem file run forward, backward and
updated as **one graph**, for every iteration the problem asks for, with every
quantity a derivation prints named.

:func:`solve` builds the layers from the given numbers and, iteration by
iteration (each on its mini-batch), runs the samples forward (weighted sums,
BatchNorm, activations, dropout), computes the loss (with its L1/L2 terms), runs
``backward(create_graph=True)`` so that every backward quantity (∂L/∂ŷ, σ′(z₂),
δ₂, ∂L/∂W₂ …) is a node, clips the gradients and applies the optimizer's update
rule as nodes too; the next iteration computes with the updated parameters and
the optimizer's state nodes. The result is a :class:`Worked`: an immutable
:class:`~tracegrad.core.trace.Trace` of all of it plus a table of typed
:class:`~tracegrad.problem.quantity.Quantity` s (``z1``, ``dL/dW2``, ``m_W1``,
``W1_new@2`` …) pointing into the trace. Replaying the trace with pins gives
carry-rounding, error-carried-forward grading and the document's printed numbers,
with no second arithmetic path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Callable

from ..core.errors import InputError, in_file
from ..core.nested import flatten, map_nested
from ..core.roles import Role, tag
from ..core.trace import Trace, record
from ..core.value import Value, const
from ..nn.optim import CLIP_EPS
from .kinds import KINDS
from .quantity import Quantity
from .schema import Problem

SECTIONS = ("scale", "forward", "loss", "backward", "update")


@dataclass(frozen=True)
class Iteration:
    """One iteration of a derivation: its ``step`` (1-based), ``epoch`` and ``batch`` within
    the epoch, and the indices of the samples it computes with."""

    step: int
    epoch: int
    batch: int
    samples: tuple

    @property
    def batched(self) -> bool:
        return len(self.samples) > 1


class Worked:
    """A solved problem: ``trace``, ``quantities`` (ordered name → Quantity), the network
    (its first step's layers), the optimizer and the ``iterations``."""

    def __init__(self, problem: Problem, trace: Trace, quantities: dict, layers: list, optimizer,
                 iterations: tuple = (), parameters: dict | None = None):
        self.problem = problem
        self.trace = trace
        self.quantities = quantities
        self.layers = layers
        self.optimizer = optimizer
        self.iterations = iterations
        self.parameters = parameters or {}  # {step: {(parameter, layer): nested trace indices}}

    @property
    def depth(self) -> int:
        return len(self.layers)

    @cached_property
    def formulas(self):
        """Every quantity's symbol and formula, each built once
        (:class:`~tracegrad.problem.formulas.Formulas`)."""
        from .formulas import Formulas

        return Formulas(self)

    @property
    def steps(self) -> int:
        return len(self.iterations)

    def __getitem__(self, name: str) -> Quantity:
        if name not in self.quantities:
            raise InputError(f"unknown quantity {name!r}; known: {', '.join(self.quantities)}")
        return self.quantities[name]

    def of_step(self, step: int) -> list:
        """The quantities of one iteration, in order (step 1 includes the input scaling)."""
        return [q for q in self.quantities.values() if (q.step or 1) == step]

    def values(self, trace: Trace | None = None) -> dict:
        """``{name: nested floats}`` read from ``trace`` (default: the exact one)."""
        nodes = (trace or self.trace).nodes
        return {name: map_nested(q.nodes, lambda i: nodes[i].data) for name, q in self.quantities.items()}

    def value(self, name: str, trace: Trace | None = None):
        """One quantity's value(s) as nested floats."""
        nodes = (trace or self.trace).nodes
        return map_nested(self[name].nodes, lambda i: nodes[i].data)

    def printed_indices(self) -> list:
        """Every node a derivation prints on a line of its own, in execution order."""
        return sorted({i for q in self.quantities.values() if q.printed for i in q.indices()})

    def named_indices(self) -> list:
        """Every node a quantity names (printed or not), in execution order."""
        return sorted({i for q in self.quantities.values() for i in q.indices()})

    def carry(self, rounder: Callable[[float], float], derived: list | None = None) -> Trace:
        """The trace replayed with every printed node rounded by ``rounder`` as it is
        computed, so each later step uses the rounded value (as by hand). ``derived`` lists the
        quantities written by another formula than the graph's, in the order they are computed
        (``{node: f(nodes)}`` each, as :func:`tracegrad.problem.formulas.deltas_by_formula`
        gives): each is that formula of the carried numbers before it, rounded where printed."""
        given = {i for i, rec in enumerate(self.trace.nodes) if rec.is_leaf}
        pins = {i: rounder for i in self.printed_indices() if i not in given}
        trace = self.trace.replay(pins=pins)
        for group in derived or ():
            nodes = trace.nodes
            pins.update({i: rounder(f(nodes)) if i in pins else f(nodes) for i, f in group.items()})
            trace = self.trace.replay(pins=pins)
        return trace

    def node_trace(self, step: int = 1, names: dict | None = None) -> Trace:
        """The forward graph of one iteration down to its loss, its parameters as leaves,
        with a plain backward pass recorded (for the node view); ``names`` (``{node: Math}``,
        as :func:`tracegrad.problem.formulas.node_notation` gives) writes its nodes in the
        derivation's notation."""
        from ..core.trace import trace as trace_of

        loss = self.quantities["loss" if step == 1 else f"loss@{step}"].indices()[0]
        params = {i for nested in self.parameters.get(step, {}).values() for i in flatten(nested)}
        nodes = self.trace.nodes
        keep, stack = set(), [loss]
        while stack:
            i = stack.pop()
            if i not in keep:
                keep.add(i)
                if i not in params:
                    stack.extend(nodes[i].inputs)
        rebuilt = {}
        for i in sorted(keep):
            rec = nodes[i]
            if rec.is_leaf or i in params:
                v = const(rec.data) if rec.is_const else Value(rec.data)
            else:
                from ..core.ops import OPS
                from ..core.value import apply

                v = apply(OPS[rec.op], [rebuilt[j] for j in rec.inputs], rec.params)
            v.label, v.role = rec.label, rec.role
            rebuilt[i] = v
        out = trace_of(rebuilt[loss])
        return out.written_as({out.index(rebuilt[i]): m for i, m in names.items() if i in rebuilt}) if names else out

    def replay(self, pins: dict) -> Trace:
        """The trace replayed with quantities pinned: ``{name: nested values}`` (``None`` skips an element)."""
        flat = {}
        for name, values in pins.items():
            q = self[name]
            for i, v in zip(q.indices(), flatten(_as_tuples(values))):
                if v is not None:
                    flat[i] = v
        return self.trace.replay(pins=flat)


def _as_tuples(nested):
    if isinstance(nested, (list, tuple)):
        return tuple(_as_tuples(v) for v in nested)
    return nested


def solve(problem: Problem, *, optimizer_factory=None) -> Worked:
    """Build and run the problem's network as one graph, every iteration; name every printed quantity.
    Errors name the problem file and its keys (``data.y`` for the loss's targets)."""
    with in_file(problem.source, keys=(("targets", "data.y"),)):
        return _Solver(problem, optimizer_factory).run()


class _Solver:
    """The work of :func:`solve`, iteration by iteration."""

    def __init__(self, problem: Problem, optimizer_factory):
        from ..nn.layers import Dense
        from ..nn.losses import LOSSES

        self.problem = problem
        self.loss_fn = LOSSES[problem.loss]
        self.layers = [Dense(_lists(spec.weights), _lists(spec.bias), spec.activation, layout=problem.layout,
                             layer=k + 1, alpha=spec.alpha) for k, spec in enumerate(problem.layers)]
        self.optimizer_factory = optimizer_factory
        self.batch_file = problem.batch  # the file gave a batch: samples keep their index in labels
        self.named: list = []  # (Quantity without its nodes, nested Values)
        self.parameters: dict = {}

    # --- naming -----------------------------------------------------------------------
    def name(self, kind, nested, layer=None, parameter=None, state=None, step=None, batched=False):
        batch = batched and KINDS[kind].per_sample
        self.named.append((Quantity(kind, layer, parameter, state, step, batch=batch), nested))

    def sample_label(self, s: int):
        return s if self.batch_file else None

    # --- inputs -----------------------------------------------------------------------
    def inputs(self) -> list:
        """The input leaves of every sample, scaled first when the problem says so."""
        p = self.problem
        xs = [[tag(Value(v), Role("x", None, (i,), self.sample_label(s))) for i, v in enumerate(x)]
              for s, x in enumerate(p.x)]
        if p.scale is None:
            return xs
        given = dict(p.scale_stats)
        n, features = len(xs), len(xs[0])
        if p.scale == "minmax":
            lows = given.get("min") or tuple(min(x[i].data for x in xs) for i in range(features))
            highs = given.get("max") or tuple(max(x[i].data for x in xs) for i in range(features))
            for i, (lo, hi) in enumerate(zip(lows, highs)):
                if hi <= lo:
                    raise InputError(f"feature {i} has no spread (min = max = {lo!r}), so min-max scaling "
                                     "divides by zero; give [data] min and max, or leave the feature out",
                                     file=p.source, key="data.scale")
            lows = [tag(const(v), Role("x_min", None, (i,))) for i, v in enumerate(lows)]
            highs = [tag(const(v), Role("x_max", None, (i,))) for i, v in enumerate(highs)]
            scaled = [[(x[i] - lows[i]) / (highs[i] - lows[i]) for i in range(features)] for x in xs]
        else:
            if "mean" in given:
                mean = [tag(const(v), Role("x_mean", None, (i,))) for i, v in enumerate(given["mean"])]
                std = [tag(const(v), Role("x_std", None, (i,))) for i, v in enumerate(given["std"])]
            else:
                from ..core.functional import sum as total

                if n < 2:
                    raise InputError("z-score scaling needs at least 2 samples to compute a spread; give "
                                     "[data] mean and std", file=p.source, key="data.scale")
                mean = [tag(total([x[i] for x in xs]) / n, Role("x_mean", None, (i,))) for i in range(features)]
                std = [tag((total([(x[i] - mean[i]) ** 2 for x in xs]) / n).sqrt(), Role("x_std", None, (i,)))
                       for i in range(features)]
                if any(s.data == 0 for s in std):
                    raise InputError("a feature has standard deviation 0, so z-score scaling divides by zero; give "
                                     "[data] mean and std, or leave the feature out", file=p.source, key="data.scale")
                self.name("x_mean", mean)
                self.name("x_std", std)
            scaled = [[(x[i] - mean[i]) / std[i] for i in range(features)] for x in xs]
        for s, row in enumerate(scaled):
            for i, v in enumerate(row):
                tag(v, Role("x_scaled", None, (i,), self.sample_label(s)))
        self.name("x_scaled", scaled if self.batch_file else scaled[0], batched=self.batch_file)
        return scaled

    # --- one iteration ----------------------------------------------------------------
    def run(self) -> Worked:
        from ..nn.norm import BatchNorm, Dropout

        p = self.problem
        xs = self.inputs()
        ys = [self.loss_fn.targets(list(y), self.sample_label(s)) for s, y in enumerate(p.y)]
        params = {}
        self.norms, self.dropouts = {}, {}
        for k, (layer, spec) in enumerate(zip(self.layers, p.layers), start=1):
            params[("W", k)] = layer.weight_matrix
            params[("b", k)] = layer.bias_values
            if spec.batchnorm is not None:
                bn = BatchNorm(layer.n_out, momentum=spec.batchnorm.momentum, eps=spec.batchnorm.eps, layer=k)
                for values, attr in ((spec.batchnorm.gamma, "gamma"), (spec.batchnorm.beta, "beta")):
                    for v, node in zip(values or (), getattr(bn, attr)):
                        node.data = float(v)
                bn.running_mean = list(spec.batchnorm.running_mean or bn.running_mean)
                bn.running_var = list(spec.batchnorm.running_var or bn.running_var)
                bn.train(p.mode == "train")
                self.norms[k] = bn
                params[("gamma", k)], params[("beta", k)] = bn.gamma, bn.beta
            if spec.dropout and p.mode == "train":
                self.dropouts[k] = Dropout(spec.dropout, seed=spec.seed, layer=k)
        self.trainable = [key for key in params if not self._frozen(key)]
        first = [v for key in self.trainable for v in flatten(params[key])]
        settings = dict(p.settings)
        if self.optimizer_factory is None:
            from ..nn.optim import OPTIMIZERS

            optimizer = OPTIMIZERS[p.optimizer](first, **settings)
        else:
            optimizer = self.optimizer_factory(first, settings)
        iterations = tuple(Iteration(*it) for it in p.training.iterations(len(p.x)))
        states, roots = None, []
        for it in iterations:
            self.parameters[it.step] = dict(params)
            loss, params, states = self.iteration(it, xs, ys, params, optimizer, states)
            roots.append(loss)
        trace = Trace(roots + [v for _, nested in self.named for v in flatten(nested)])
        quantities = {}
        for q, nested in self.named:
            q = replace(q, nodes=map_nested(nested, trace.index))
            quantities[q.name] = q
        parameters = {step: {key: map_nested(nested, trace.index) for key, nested in used.items()}
                      for step, used in self.parameters.items()}
        return Worked(p, trace, quantities, self.layers, optimizer, iterations, parameters)

    def _frozen(self, key) -> bool:
        kind, k = key
        freeze = self.problem.layers[k - 1].freeze
        return (kind == "W" and "weights" in freeze) or (kind == "b" and "bias" in freeze)

    def iteration(self, it: Iteration, xs, ys, params, optimizer, states):
        p, step = self.problem, it.step
        label_step = None if step == 1 else step
        name = (lambda kind, nested, layer=None, parameter=None, state=None:
                self.name(kind, nested, layer, parameter, state, step, it.batched))

        def rows(values):
            return values if it.batched else values[0]

        labels = [self.sample_label(s) for s in it.samples]
        h = h_in = [xs[s] for s in it.samples]
        record_ = []  # per layer: {"z": rows, "a": rows, "out": rows, ...}
        for k, layer in enumerate(self.layers, start=1):
            dense = layer if step == 1 else layer.with_parameters(params[("W", k)], params[("b", k)])
            z = [dense.weighted_sums(x, s, label_step) for x, s in zip(h, labels)]
            r = {"z": z, "dense": dense}
            pre = z
            if k in self.norms:
                bn = self.norms[k]
                bn.gamma, bn.beta = list(params[("gamma", k)]), list(params[("beta", k)])
                if p.mode == "train" and len(z) < 2:
                    raise InputError("BatchNorm in training mode needs at least 2 samples per iteration (the "
                                     "variance of one sample is 0); give a batch, a larger batch_size, or mode = "
                                     "\"eval\"", file=p.source, key=f"layers[{k - 1}].batchnorm")
                pre = bn.batch(z, step=label_step)
                r["bn"] = pre
                r["zhat"] = [[v._prev[0]._prev[1] for v in row] for row in pre]
                if p.mode == "train":
                    r["mu"] = [_find(pre[0][j], "mu", k, label_step) for j in range(layer.n_out)]
                    r["var"] = [_find(pre[0][j], "var", k, label_step) for j in range(layer.n_out)]
            a = [dense.activate(v, s, label_step) for v, s in zip(pre, labels)]
            r["a"] = a
            out = a
            if k in self.dropouts:
                mask = p.layers[k - 1].mask
                drop = self.dropouts[k]
                keeps = [list(map(int, mask[s])) if mask else drop.draw(layer.n_out) for s in it.samples]
                out = [drop.apply(v, keep, s, label_step) for v, keep, s in zip(a, keeps, labels)]
                r["mask"], r["d"] = keeps, out
            r["out"] = out
            record_.append(r)
            h = out
        last = record_[-1]
        predictions = last.get("bn", last["z"]) if self.loss_fn.from_logits else last["a"]
        targets = [ys[s] for s in it.samples]
        data_loss = self.loss_fn(predictions if it.batched else predictions[0], targets if it.batched else targets[0])
        loss = data_loss
        penalty = self.penalty(params, label_step)
        if penalty is not None:
            tag(data_loss, Role("data_loss", step=label_step))
            loss = tag(data_loss + penalty, Role("loss", step=label_step))
        elif label_step is not None:
            tag(loss, Role("loss", step=label_step))
        current = [v for key in params for v in flatten(params[key])]
        with record() as rec:
            grads = loss.backward(create_graph=True, stop=current)
        locals_ = {id(node): locs for node, g, locs in rec.step_log if g is not None}

        def grad_of(v):
            g = grads.get(v)
            return g if g is not None else const(0.0)

        def local_of(v):
            locs = locals_.get(id(v))
            loc = locs[0] if locs else 1.0
            return loc if isinstance(loc, Value) else const(loc)

        # --- forward and loss quantities
        for k, layer in enumerate(self.layers, start=1):
            r = record_[k - 1]
            name("z", rows(r["z"]), k)
            if "bn" in r:
                if "mu" in r:
                    name("mu", r["mu"], k)
                    name("var", r["var"], k)
                name("zhat", rows(r["zhat"]), k)
                name("bn", rows(r["bn"]), k)
            if not layer.spec.is_identity:
                name("a", rows(r["a"]), k)
            if "d" in r:
                name("d", rows(r["d"]), k)
        name("y_hat", rows(last["a"]), self.depth)
        if penalty is not None:
            name("data_loss", data_loss)
            name("penalty", penalty)
        name("loss", loss)
        sample_losses = list(data_loss._prev[0]._prev) if it.batched else [data_loss]
        if it.batched:
            name("sample_loss", sample_losses)
        per_output = [_loss_terms(ls, len(targets[0])) for ls in sample_losses]
        if all(per_output):
            name("loss_term", rows(per_output))

        # --- backward quantities, from the output layer down
        simplified = self.simplified()
        for k in range(self.depth, 0, -1):
            layer, r = self.layers[k - 1], record_[k - 1]
            outermost = k == self.depth
            if outermost:
                if not self.loss_fn.from_logits and not simplified:
                    name("dL/dy_hat", rows([[grad_of(v) for v in row] for row in last["a"]]), k)
            else:
                if "d" in r:
                    name("dL/dd", rows([[grad_of(v) for v in row] for row in r["d"]]), k)
                elif self.layers[k].n_out > 1:  # ∂L/∂a_k[j] adds one contribution per unit i of the next layer
                    above = record_[k]["dense"]
                    name("dL/da_via", rows([_contributions(row, above, grads) for row in r["a"]]), k)
                name("dL/da", rows([[grad_of(v) for v in row] for row in r["a"]]), k)
            skip_act = outermost and (self.loss_fn.from_logits or simplified)
            if not layer.spec.is_identity and layer.spec.elementwise and not skip_act:
                name("act_grad", rows([[local_of(v) for v in row] for row in r["a"]]), k)
            if "bn" in r:
                name("dL/dbn", rows([[grad_of(v) for v in row] for row in r["bn"]]), k)
                name("dL/dgamma", [grad_of(g) for g in params[("gamma", k)]], k)
                name("dL/dbeta", [grad_of(b) for b in params[("beta", k)]], k)
                name("dL/dzhat", rows([[grad_of(v) for v in row] for row in r["zhat"]]), k)
            name("delta", rows([[grad_of(v) for v in row] for row in r["z"]]), k)
            if not self._frozen(("W", k)):
                name("dL/dW", [[grad_of(w) for w in row] for row in params[("W", k)]], k)
            if not self._frozen(("b", k)):
                name("dL/db", _bias_shape(layer, [grad_of(b) for b in params[("b", k)]]), k)

        name("dL/dx", rows([[grad_of(v) for v in x] for x in h_in]))

        # --- clipping and the update
        keys = self.trainable
        flat = [v for key in keys for v in flatten(params[key])]
        raw = [grad_of(v) for v in flat]
        used = self.clip(raw, name)
        new_values, terms = optimizer.graph_update(flat, used, states=states)
        new_by_id = dict(zip(map(id, flat), new_values))
        terms_by_id = dict(zip(map(id, flat), terms))
        if used is not raw:
            clipped_by_id = dict(zip(map(id, flat), used))
        shown = (["g"] if optimizer.weight_decay and not optimizer.decoupled else []) + \
            [s.key for s in optimizer.state_names]
        new_params = dict(params)
        for parameter, k in keys:
            layer = self.layers[k - 1]
            nested = params[(parameter, k)]
            shape = (lambda values: _bias_shape(layer, values)) if parameter == "b" else (lambda values: values)

            def each(f, nested=nested):
                return [[f(v) for v in row] for row in nested] if parameter == "W" else [f(v) for v in nested]
            if used is not raw:
                name("clipped", shape(each(lambda v: clipped_by_id[id(v)])), k, parameter)
            for key in shown:
                name("grad" if key == "g" else "state", shape(each(lambda v, key=key: terms_by_id[id(v)][key])), k,
                     parameter, None if key == "g" else key)
            steps = each(lambda v: _step_node(new_by_id[id(v)], v))
            if all(s is not None for s in flatten(steps)):
                name("step", shape(steps), k, parameter)
            new = each(lambda v: new_by_id[id(v)])
            name("new", shape(new), k, parameter)
            new_params[(parameter, k)] = new
        states = [optimizer.carried(t) for t in terms]
        return loss, new_params, states

    @property
    def depth(self) -> int:
        return len(self.layers)

    def simplified(self) -> bool:
        """Whether the output layer's δ is the loss's textbook simplification (softmax with
        cross-entropy, σ with BCE: δ = ŷ − y), so ∂L/∂ŷ and f′ are not steps of their own."""
        rule = self.loss_fn.simplified.get(self.layers[-1].spec.name)
        return rule is not None and rule.replaces_chain and rule.applies(self.problem.y)

    def penalty(self, params, label_step):
        """The L1/L2 term of the loss over the weights (and the biases when the problem says so)."""
        from ..core.functional import sum as total
        from ..nn.regularization import REGULARIZERS

        p = self.problem
        if not p.penalties:
            return None
        kinds = ("W", "b") if p.penalize_biases else ("W",)
        penalized = [v for (kind, k), nested in params.items() if kind in kinds for v in flatten(nested)]
        terms = [REGULARIZERS[name].build(penalized, lam) for name, lam in p.penalties]
        term = terms[0] if len(terms) == 1 else total(terms)
        return tag(term, Role("penalty", step=label_step))

    def clip(self, grads: list, name) -> list:
        """The gradients clipped by the problem's ``clip_norm`` (the global norm, scaled as PyTorch's
        ``clip_grad_norm_``) or ``clip_value``, as nodes; unchanged when the problem clips nothing."""
        from ..core.functional import dot

        p = self.problem
        if p.clip_norm is not None:
            norm = dot(grads, grads).sqrt()
            scale = (p.clip_norm / (norm + CLIP_EPS)).min(1.0)
            name("grad_norm", norm)
            name("clip_scale", scale)
            grads = [g * scale for g in grads]
        if p.clip_value is not None:
            c = p.clip_value
            grads = [g.max(-c).min(c) for g in grads]
        return grads


def _find(node: Value, quantity: str, layer: int, step: int | None) -> Value:
    """The node tagged ``quantity`` of ``layer`` and ``step`` below ``node`` (BatchNorm's batch statistics)."""
    stack, seen = [node], set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        role = v.role
        if role is not None and role.quantity == quantity and role.layer == layer and role.step == step:
            return v
        stack.extend(v._prev)
    raise LookupError(f"no {quantity}{layer} below {node.label}")


def _lists(nested):
    if isinstance(nested, tuple):
        return [_lists(v) for v in nested]
    return nested


def _bias_shape(layer, values: list):
    """A shared bias is one scalar; otherwise a vector."""
    return values[0] if layer.shared_bias else values


def _loss_terms(sample_loss: Value, outputs: int):
    """The per-output terms of one sample's loss (½(ŷₖ − yₖ)² …) when it adds or averages one term
    per output, else None."""
    node = sample_loss
    if node._op == "div" and node._prev[0]._op == "sum":
        node = node._prev[0]
    if outputs > 1 and node._op == "sum" and len(node._prev) == outputs:
        return list(node._prev)
    return None


def _contributions(activations: list, next_layer, grads: dict) -> list:
    """``[j][i]``: the part of ∂L/∂a[j] that comes through unit i of the next layer, δ[i]·W[j][i]
    (the node the backward pass added; ∂L/∂a[j] itself when only one path reaches it)."""
    m = next_layer.weight_matrix
    unit = {id(w): (j if next_layer.layout == "out_in" else i) for j, row in enumerate(m) for i, w in enumerate(row)}
    out = []
    for a in activations:
        parts, stack = {}, ([grads[a]] if grads.get(a) is not None else [])
        while stack:
            g = stack.pop()
            if g._op == "add":
                stack.extend(g._prev)
            elif g._op == "mul" and id(g._prev[1]) in unit:
                parts[unit[id(g._prev[1])]] = g
        out.append([parts.get(i, const(0.0)) for i in range(next_layer.n_out)])
    return out


def _step_node(new: Value, old: Value):
    """For an update of the form ``p − s`` the node ``s`` (η·∂L/∂W for SGD), else None."""
    if new._op == "sub" and new._prev[0] is old:
        return new._prev[1]
    return None


__all__ = ["Worked", "Iteration", "solve", "SECTIONS"]
