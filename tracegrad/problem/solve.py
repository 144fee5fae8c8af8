"""A worked problem: the network of a problem file run forward, backward and
updated as **one graph**, with every quantity a derivation prints named.

:func:`solve` builds the layers from the given numbers, runs every sample
forward, computes the loss, runs ``backward(create_graph=True)`` so that every
backward quantity (∂L/∂ŷ, σ'(z₂), δ₂, ∂L/∂W₂ …) is a node, and applies the
optimizer's update rule as nodes too. The result is a :class:`Worked`: an
immutable :class:`~tracegrad.core.trace.Trace` of all of it plus a table of named
:class:`Quantity` s (``z1``, ``a1``, ``dL/dW2``, ``W1_new`` …) pointing into the
trace. Replaying the trace with pins gives carry-rounding, error-carried-forward
grading and the document's printed numbers, with no second arithmetic path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ..core.errors import InputError
from ..core.nested import flatten, map_nested
from .quantity import KINDS, Quantity
from .schema import Problem
from ..core.roles import Role, tag
from ..core.trace import Trace, record
from ..core.value import Value, const

SECTIONS = ("forward", "loss", "backward", "update")


class Worked:
    """A solved problem: ``trace``, ``quantities`` (ordered name → Quantity) and the network."""

    def __init__(self, problem: Problem, trace: Trace, quantities: dict, layers: list, optimizer):
        self.problem = problem
        self.trace = trace
        self.quantities = quantities
        self.layers = layers
        self.optimizer = optimizer

    @property
    def depth(self) -> int:
        return len(self.layers)

    def __getitem__(self, name: str) -> Quantity:
        if name not in self.quantities:
            raise InputError(f"unknown quantity {name!r}; known: {', '.join(self.quantities)}")
        return self.quantities[name]

    def values(self, trace: Trace | None = None) -> dict:
        """``{name: nested floats}`` read from ``trace`` (default: the exact one)."""
        nodes = (trace or self.trace).nodes
        return {name: map_nested(q.nodes, lambda i: nodes[i].data) for name, q in self.quantities.items()}

    def value(self, name: str, trace: Trace | None = None):
        """One quantity's value(s) as nested floats."""
        nodes = (trace or self.trace).nodes
        return map_nested(self[name].nodes, lambda i: nodes[i].data)

    def printed_indices(self) -> list:
        """Every node a derivation prints, in execution order."""
        return sorted({i for q in self.quantities.values() if q.printed for i in q.indices()})

    def named_indices(self) -> list:
        """Every node a quantity names (printed or not), in execution order."""
        return sorted({i for q in self.quantities.values() for i in q.indices()})

    def carry(self, rounder: Callable[[float], float]) -> Trace:
        """The trace replayed with every printed node rounded by ``rounder`` as it is
        computed, so each later step uses the rounded value (as by hand)."""
        given = {i for i, rec in enumerate(self.trace.nodes) if rec.is_leaf}
        return self.trace.replay(pins={i: rounder for i in self.printed_indices() if i not in given})

    def node_trace(self) -> Trace:
        """The forward graph down to the loss with a plain backward pass recorded (for the node view)."""
        from ..core.trace import trace as trace_of

        rebuilt = self.trace.rebuild()
        return trace_of(rebuilt[self.quantities["loss"].indices()[0]])

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
    """Build and run the problem's network as one graph; name every printed quantity."""
    from ..nn.layers import Dense
    from ..nn.losses import LOSSES
    from ..nn.optim import OPTIMIZERS

    layers = [Dense(_lists(spec.weights), _lists(spec.bias), spec.activation, layout=problem.layout,
                    layer=k + 1, alpha=spec.alpha) for k, spec in enumerate(problem.layers)]
    loss_fn = LOSSES[problem.loss]
    batch = problem.batch
    samples = []  # per sample: {"x": [...], "z": [[...] per layer], "a": [...]}
    for s, x in enumerate(problem.x):
        sample = s if batch else None
        h = [tag(Value(v), Role("x", None, (i,), sample)) for i, v in enumerate(x)]
        record_ = {"x": h, "z": [], "a": []}
        for layer in layers:
            out = layer(h, sample)
            record_["a"].append(out)
            record_["z"].append(_pre_activations(out, layer))
            h = out
        samples.append(record_)
    last = len(layers) - 1
    predictions = [r["z"][last] if loss_fn.from_logits else r["a"][last] for r in samples]
    targets = [list(y) for y in problem.y]
    loss = loss_fn(predictions if batch else predictions[0], targets if batch else targets[0])
    with record() as rec:
        grads = loss.backward(create_graph=True)
    locals_ = {id(node): locs for node, g, locs in rec.step_log if g is not None}

    params = [p for layer in layers for row in layer.weight_matrix for p in row]
    params += [b for layer in layers for b in layer.bias_values]
    settings = dict(problem.settings)
    if optimizer_factory is None:
        optimizer = OPTIMIZERS[problem.optimizer](params, **settings)
    else:
        optimizer = optimizer_factory(params, settings)
    new_values, terms = optimizer.graph_update(params, [grads.get(p) for p in params])
    new_params = dict(zip(map(id, params), new_values))
    terms = dict(zip(map(id, params), terms))

    named: list = []  # (Quantity without its nodes, nested Values)

    def name(kind, nested, layer=None, parameter=None, state=None):
        named.append((Quantity(kind, layer, parameter, state, batch=batch and KINDS[kind].per_sample), nested))

    def per_sample(get):
        rows = [get(r) for r in samples]
        return rows if batch else rows[0]

    def grad_of(v):
        g = grads.get(v)
        return g if g is not None else const(0.0)

    def local_of(a):
        locs = locals_.get(id(a))
        loc = locs[0] if locs else 1.0
        return loc if isinstance(loc, Value) else const(loc)

    for k, layer in enumerate(layers, start=1):
        name("z", per_sample(lambda r: r["z"][k - 1]), k)
        if not layer.spec.is_identity:
            name("a", per_sample(lambda r: r["a"][k - 1]), k)
    name("y_hat", per_sample(lambda r: r["a"][last]), len(layers))
    name("loss", loss)
    sample_losses = list(loss._prev[0]._prev) if batch else [loss]
    if batch:
        name("sample_loss", sample_losses)
    per_output = [_loss_terms(ls, len(targets[0])) for ls in sample_losses]
    if all(per_output):
        name("loss_term", per_output if batch else per_output[0])

    for k in range(len(layers), 0, -1):
        layer = layers[k - 1]
        has_a = not layer.spec.is_identity
        if k == len(layers):
            if not loss_fn.from_logits:
                name("dL/dy_hat", per_sample(lambda r: [grad_of(v) for v in r["a"][last]]), k)
        else:
            if layers[k].n_out > 1:  # ∂L/∂a_k[j] adds one contribution per unit i of the next layer
                name("dL/da_via", per_sample(lambda r: _contributions(r["a"][k - 1], layers[k], grads)), k)
            name("dL/da", per_sample(lambda r: [grad_of(v) for v in r["a"][k - 1]]), k)
        if has_a and layer.spec.elementwise and not (k == len(layers) and loss_fn.from_logits):
            name("act_grad", per_sample(lambda r: [local_of(v) for v in r["a"][k - 1]]), k)
        name("delta", per_sample(lambda r: [grad_of(v) for v in r["z"][k - 1]]), k)
        name("dL/dW", [[grad_of(p) for p in row] for row in layer.weight_matrix], k)
        name("dL/db", _bias_shape(layer, [grad_of(b) for b in layer.bias_values]), k)
    name("dL/dx", per_sample(lambda r: [grad_of(v) for v in r["x"]]))

    shown = (["g"] if optimizer.weight_decay and not optimizer.decoupled else []) + \
        [s.key for s in optimizer.state_names]
    for k, layer in enumerate(layers, start=1):
        for key in shown:  # the gradient the rule used and the optimizer's states, W then b
            name("grad" if key == "g" else "state", [[terms[id(p)][key] for p in row] for row in layer.weight_matrix],
                 k, "W", None if key == "g" else key)
        for key in shown:
            name("grad" if key == "g" else "state", _bias_shape(layer, [terms[id(b)][key] for b in layer.bias_values]),
                 k, "b", None if key == "g" else key)
        new_w = [[new_params[id(p)] for p in row] for row in layer.weight_matrix]
        new_b = [new_params[id(b)] for b in layer.bias_values]
        steps_w = [[_step_node(new_params[id(p)], p) for p in row] for row in layer.weight_matrix]
        steps_b = [_step_node(new_params[id(b)], b) for b in layer.bias_values]
        if all(s is not None for row in steps_w for s in row) and all(s is not None for s in steps_b):
            name("step", steps_w, k, "W")
            name("step", _bias_shape(layer, steps_b), k, "b")
        name("new", new_w, k, "W")
        name("new", _bias_shape(layer, new_b), k, "b")

    trace = Trace([loss] + [v for _, nested in named for v in flatten(nested)])
    quantities = {}
    for q, nested in named:
        q = replace(q, nodes=map_nested(nested, trace.index))
        quantities[q.name] = q
    return Worked(problem, trace, quantities, layers, optimizer)


def _lists(nested):
    if isinstance(nested, tuple):
        return [_lists(v) for v in nested]
    return nested


def _bias_shape(layer, values: list):
    """A shared bias is one scalar; otherwise a vector."""
    return values[0] if layer.shared_bias else values


def _pre_activations(out: list, layer) -> list:
    """The z nodes of a layer's output (for identity the outputs themselves): a search from
    the outputs that stops at the z nodes, so it never walks the layers below."""
    if layer.spec.is_identity:
        return list(out)
    found, stack, seen = {}, list(out), set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        role = v.role
        if role is not None and role.quantity == "z" and role.layer == layer.layer:
            found[role.index] = v
        else:
            stack.extend(v._prev)
    return [found[(j,)] for j in range(layer.n_out)]


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
        parts, stack = {}, [grads[a]]
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
