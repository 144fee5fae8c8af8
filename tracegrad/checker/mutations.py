"""Likely mistakes, each a *mutated computation*.

A :class:`Mutation` changes how the graph computes: some nodes get another rule
(``overrides``: δ without the activation derivative, the loss derivative doubled,
z without its bias, the update fed the transposed gradient …), or the whole problem
is solved again with a slipped optimizer (no bias correction, ε inside the square
root …). The checker replays each mutation from the student's own earlier answers and
names it only when it reproduces the student's number at the precision it was written
with (:mod:`~tracegrad.checker.verdicts`). Nothing here is a table of wrong numbers, and
nothing names a loss or an optimizer: what applies is read from the spec tables (an
optimizer's slips from its own entry).

The list is in order of preference: specific mistakes of a network first, then the
slips any written number can suffer (a sign, a decimal point, rounding too early).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import TraceGradError
from ..core.nested import flatten
from ..core.ops import OPS
from ..core.notation import sub
from ..core.numbers import NumberFormat
from ..core.trace import Trace
from ..core.replay import op_value
from ..nn.losses import LOSSES


@dataclass(frozen=True)
class Mutation:
    """One way of getting numbers wrong. ``key`` names its message (``check.mistake.<key>``),
    ``args`` fill the message's placeholders. ``overrides`` replace nodes' rules
    (``f(values) -> float``), ``pins`` fix nodes' values (a number or ``f(computed)``),
    ``reads`` say which node's value an answer at a node is compared with. A mutation of
    the whole problem brings its own ``trace`` and ``quantities`` (same names).
    ``signature`` identifies the computation (two mutations with one signature are the
    same mistake under two names; the first, the more specific, is kept), and ``quantity``
    names the quantity a slip of one quantity is in."""

    key: str
    args: tuple = ()
    overrides: dict = field(default_factory=dict)
    pins: dict = field(default_factory=dict)
    reads: dict = field(default_factory=dict)
    trace: Trace | None = None
    quantities: dict | None = None
    signature: tuple | None = None
    quantity: str | None = None


def scaled(trace, indices, factor: float, key: str, args: tuple = (), quantity: str | None = None) -> Mutation:
    """Each node's own result multiplied by ``factor`` (a constant's: its value)."""
    nodes = trace.nodes
    overrides = {i: (lambda v, rec=nodes[i]: factor * (rec.data if rec.is_leaf else op_value(rec, v)))
                 for i in indices}
    return Mutation(key, args, overrides=overrides, signature=("scaled", tuple(indices), factor), quantity=quantity)


# --- generic: any trace with named quantities --------------------------------------

DECIMAL_SHIFTS = (1, -1, 2, -2)
"""Decimal points moved by this many places (×10, ×0.1, ×100, ×0.01)."""


def slip_mutations(subject) -> tuple:
    """The slips of one written quantity: its sign flipped, its decimal point moved."""
    out, records = [], subject.trace.nodes
    for name, nodes in subject.quantities.items():
        indices = [i for i in flatten(nodes) if not records[i].is_leaf]
        if not indices:
            continue
        q = subject.symbols[name].text if name in subject.symbols else name
        out.append(scaled(subject.trace, indices, -1.0, "sign_slip", (("q", q),), name))
        for places in DECIMAL_SHIFTS:
            factor = 10.0 ** places
            out.append(scaled(subject.trace, indices, factor, "decimal_moved",
                              (("q", q), ("factor", f"{factor:g}")), name))
    return tuple(out)


def rounding_mutations(subject, decimals) -> tuple:
    """Rounding too early: every printed value rounded to fewer decimals than written."""
    printed = subject.printed
    coarser = sorted({n for d in decimals for n in range(1, d)}, reverse=True)
    return tuple(Mutation("rounded_early", (("n", n),), pins={i: NumberFormat(decimals=n).round for i in printed})
                 for n in coarser)


# --- networks ---------------------------------------------------------------------

def network_mutations(worked, optimizer_factory=None) -> tuple:
    """Every diagnosis that applies to a worked network problem, in order of preference."""
    return (*_activation_derivative(worked), *_loss_derivative(worked), *_loss_factors(worked),
            *_bias_left_out(worked), *_transposed(worked), *_overwritten(worked), *_update(worked),
            *_optimizer(worked, optimizer_factory))


def _activation_derivative(worked):
    qs, nodes = worked.quantities, worked.trace.nodes
    for k, layer in enumerate(worked.layers, start=1):
        name = f"da{k}/dz{k}"
        if name not in qs:
            continue
        grads, zs, acts = qs[name].indices(), qs[f"z{k}"].indices(), qs[f"a{k}"].indices()
        args = (("f", layer.spec.symbol(layer.alpha).text), ("k", sub(k)))
        # δ = ∂L/∂a ⊙ f′(z) written without its second factor: each δ node is its upstream alone
        deltas = [i for i in qs[f"delta{k}"].indices() if nodes[i].op == "mul" and nodes[i].inputs[1] in grads]
        yield Mutation("act_grad_forgotten", args, overrides={i: (lambda v, up=nodes[i].inputs[0]: v[up])
                                                              for i in deltas})
        yield Mutation("act_grad_as_f", args, overrides={i: (lambda v, a=a: v[a]) for i, a in zip(grads, acts)})
        if layer.spec.from_output:  # derivatives written in terms of the output
            spec, params = OPS[layer.spec.op], nodes[acts[0]].params
            at_z = {i: (lambda v, z=z, spec=spec, params=params: spec.partials((v[z],), v[z], params)[0])
                    for i, z in zip(grads, zs)}
            yield Mutation("act_grad_at_z", args, overrides=at_z)
            # f′ evaluated at a instead of z: σ′(a) = σ(a)(1 − σ(a))
            of_a = {i: (lambda v, a=a, spec=spec, params=params:
                        spec.partials((v[a],), spec.forward((v[a],), params), params)[0]) for i, a in zip(grads, acts)}
            yield Mutation("act_grad_of_a", args, overrides=of_a)


def _first_backward(worked):
    """The first backward quantity: ∂L/∂ŷ, or δ of the output layer for a loss on logits."""
    qs = worked.quantities
    return "dL/dy_hat" if "dL/dy_hat" in qs else f"delta{worked.depth}"


def _loss_derivative(worked):
    qs, trace, p = worked.quantities, worked.trace, worked.problem
    loss = LOSSES[p.loss]
    first = _first_backward(worked)
    nodes = qs[first].indices()
    outputs = len(p.y[0])
    for key, factor in loss.derivative_slips:
        yield scaled(trace, nodes, factor(outputs), key)
    yield scaled(trace, nodes, -1.0, "loss_grad_sign")
    if p.batch:
        n = len(p.x)
        yield scaled(trace, nodes, float(n), "batch_summed", (("n", n),))
        total = trace.nodes[qs["loss"].indices()[0]]
        if total.op == "div" and not trace.nodes[total.inputs[0]].is_leaf:  # (1/N)·Σₛ Lₛ: the sum kept
            yield Mutation("loss_batch_summed", (("n", n),), overrides={total.index: lambda v, s=total.inputs[0]: v[s]})
    if outputs > 1:
        if loss.sums_outputs:
            yield scaled(trace, nodes, 1.0 / outputs, "outputs_averaged", (("n", outputs),))
        else:
            yield scaled(trace, nodes, float(outputs), "outputs_summed", (("n", outputs),))


def loss_factors(loss, outputs: int, depth: int = 2) -> tuple:
    """``(formula, factors)``: a loss's per-sample formula (its spec entry's ``formula``, over ŷ,
    or z of layer ``depth`` for a loss on logits) and its constant factors, read along its products
    from the outside in, each ``(value, factor as a formula or None for the minus sign, inside)``
    where ``inside`` says it multiplies each output's term (it stands inside the sum over the
    outputs). ½(ŷ − y)² has ½; (1/n)·Σ (ŷ − y)² has 1/n (for n > 1 outputs); −Σ y·log ŷ has the
    minus sign; −(1/n)·Σ […] both."""
    from ..core.formula import Binary, Frac, Neg, Num, Sym, Total

    prediction = Sym(f"z_{{{depth}}}", f"z{sub(depth)}", "p") if loss.from_logits else Sym(r"\hat{y}", "ŷ", "p")
    env = {"n": float(outputs)}
    found = []

    def constant(f):
        return not f.refs() & {"p", "y"}

    def walk(f, inside):
        if isinstance(f, Neg):
            found.append((-1.0, None, inside))
            walk(f.a, inside)
        elif isinstance(f, Total):
            walk(f.a, True)
        elif isinstance(f, Binary) and f.op == "*":
            for factor, rest in ((f.a, f.b), (f.b, f.a)):
                if constant(factor) and not constant(rest):
                    found.append((float(factor.evaluate(env)), factor, inside))
                    walk(rest, inside)
        elif isinstance(f, Frac) and constant(f.b) and not constant(f.a):
            found.append((1.0 / float(f.b.evaluate(env)), Frac(Num(1), f.b), inside))
            walk(f.a, inside)

    formula = loss.formula(prediction, Sym("y", "y", "y"), Sym("n", "n", "n"), outputs)
    walk(formula, False)
    return formula, tuple((value, factor, inside) for value, factor, inside in found if value not in (0.0, 1.0))


def _loss_factors(worked):
    """The loss's own constant factors slipped in L itself: each dropped or applied twice (the ½
    of ½(ŷ − y)² left out doubles L), the minus sign of a cross-entropy left out; in each sample's
    loss, or in each output's term for a factor of the terms (the sum of the terms follows)."""
    qs, trace, p = worked.quantities, worked.trace, worked.problem
    outputs = len(p.y[0])
    formula, factors = loss_factors(LOSSES[p.loss], outputs, worked.depth)
    whole = next(qs[name] for name in ("sample_loss", "data_loss", "loss") if name in qs).indices()
    terms = qs["loss_terms"].indices() if "loss_terms" in qs else None
    loss_text = formula.render("text")
    for value, factor, inside in factors:
        nodes = terms if inside and terms else whole
        if factor is None:
            yield scaled(trace, nodes, -1.0, "loss_sign_dropped", (("loss", loss_text),))
            continue
        text = factor.render("text").removeprefix("(").removesuffix(")")
        args = (("factor", text), ("loss", loss_text))
        yield scaled(trace, nodes, 1.0 / value, "loss_factor_dropped", args)
        yield scaled(trace, nodes, value, "loss_factor_twice", args)


def _bias_left_out(worked):
    """z = x·W without + b: each z node is its weighted sum alone."""
    nodes = worked.trace.nodes
    for k in range(1, worked.depth + 1):
        zs = [i for i in worked.quantities[f"z{k}"].indices() if nodes[i].op == "add"]
        if zs:
            yield Mutation("bias_left_out", (("k", sub(k)),), overrides={i: (lambda v, w=nodes[i].inputs[0]: v[w])
                                                                          for i in zs})


def _transposed(worked):
    """A square weight gradient read in the other layout: the answer itself, and the
    update that consumes it (the gradient subtracted position by position)."""
    qs, trace = worked.quantities, worked.trace
    for k in range(1, worked.depth + 1):
        grid = qs[f"dL/dW{k}"].nodes
        if len(grid) < 2 or any(len(row) != len(grid) for row in grid):
            continue
        swap = {grid[i][j]: grid[j][i] for i in range(len(grid)) for j in range(len(grid)) if i != j}
        overrides = {}
        for rec in trace.nodes:
            if rec.index not in swap and any(i in swap for i in rec.inputs):
                inputs = tuple(swap.get(i, i) for i in rec.inputs)
                overrides[rec.index] = lambda v, rec=rec, inputs=inputs: op_value(rec, v, inputs)
        yield Mutation("gradient_transposed", (("k", sub(k)),), overrides=overrides, reads=swap)


def _overwritten(worked):
    """The gradient of a value used several times set by its last use instead of summed."""
    nodes = worked.trace.nodes
    overrides = {}
    for q in worked.quantities.values():
        if q.kind in ("dL/dW", "dL/db", "dL/da"):
            for i in q.indices():
                if nodes[i].op == "add":
                    overrides[i] = lambda v, last=nodes[i].inputs[1]: v[last]
    if overrides:
        yield Mutation("accumulation_overwritten", overrides=overrides)


def _update(worked):
    """p + step instead of p − step, where the update has that form (the step is a quantity)."""
    nodes = worked.trace.nodes
    overrides = {}
    for q in worked.quantities.values():
        if q.kind == "new" and f"step_{q.parameter}{q.layer}" in worked.quantities:
            for i in q.indices():
                if nodes[i].op == "sub":
                    a, b = nodes[i].inputs
                    overrides[i] = lambda v, a=a, b=b: v[a] + v[b]
    if overrides:
        yield Mutation("update_sign", overrides=overrides)


# --- optimizer slips: the problem solved again with a mutated optimizer -------------


def _optimizer(worked, base_factory):
    """Each slip the optimizer declares (:meth:`~tracegrad.nn.optim.Optimizer.slips`): the
    problem solved again by an optimizer that makes it."""
    from ..nn.optim import OPTIMIZERS
    from ..problem.solve import solve

    problem = worked.problem
    stepped = any(q.kind == "step" for q in worked.quantities.values())  # a sign slip there: _update's override
    for slip in worked.optimizer.slips():
        if slip.key == "update_sign" and stepped:
            continue

        def factory(params, settings, slip=slip):
            o = base_factory(params, settings) if base_factory else OPTIMIZERS[problem.optimizer](params, **settings)
            slip.apply(o)
            return o

        try:
            mutated = solve(problem, optimizer_factory=factory)
        except (TraceGradError, ArithmeticError, ValueError):
            continue  # the slip cannot even be computed (e.g. step counter 0)
        yield Mutation(slip.key, slip.args, trace=mutated.trace,
                       quantities={n: q.nodes for n, q in mutated.quantities.items()})
