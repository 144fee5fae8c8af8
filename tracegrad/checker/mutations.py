"""Likely mistakes, each a *mutated computation*.

A :class:`Mutation` changes how the graph computes: some nodes get another rule
(``overrides``: the activation derivative replaced by 1, the loss derivative
doubled, the update fed the transposed gradient …), or the whole problem is
solved again with a slipped optimizer (no bias correction, ε inside the square
root …). The checker replays each mutation, alone and with the student's own
earlier answers pinned, and names it when it reproduces a wrong number at the
written precision. Nothing here is a table of wrong numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import TraceGradError
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
    the whole problem brings its own ``trace`` and ``quantities`` (same names)."""

    key: str
    args: tuple = ()
    overrides: dict = field(default_factory=dict)
    pins: dict = field(default_factory=dict)
    reads: dict = field(default_factory=dict)
    trace: Trace | None = None
    quantities: dict | None = None


def _scaled(trace, indices, factor: float) -> dict:
    """Overrides multiplying each node's own result by ``factor`` (a constant's: its value)."""
    nodes = trace.nodes
    return {i: (lambda v, rec=nodes[i]: factor * (rec.data if rec.is_leaf else op_value(rec, v))) for i in indices}


# --- generic: any trace with named quantities --------------------------------------


def rounding_mutations(subject, decimals) -> tuple:
    """Rounding too early: every printed value rounded to fewer decimals than written."""
    printed = subject.printed
    coarser = sorted({n for d in decimals for n in range(1, d)}, reverse=True)
    return tuple(Mutation("rounded_early", (("n", n),), pins={i: NumberFormat(decimals=n).round for i in printed})
                 for n in coarser)


# --- networks ---------------------------------------------------------------------

def network_mutations(worked, optimizer_factory=None) -> tuple:
    """Every diagnosis that applies to a worked network problem."""
    return (*_activation_derivative(worked), *_loss_derivative(worked), *_transposed(worked),
            *_overwritten(worked), *_optimizer(worked, optimizer_factory))


def _activation_derivative(worked):
    qs = worked.quantities
    for k, layer in enumerate(worked.layers, start=1):
        name = f"da{k}/dz{k}"
        if name not in qs:
            continue
        grads, zs, acts = qs[name].indices(), qs[f"z{k}"].indices(), qs[f"a{k}"].indices()
        args = (("f", layer.spec.symbol(layer.alpha).text), ("k", sub(k)))
        yield Mutation("act_grad_forgotten", args, overrides={i: (lambda v: 1.0) for i in grads})
        yield Mutation("act_grad_as_f", args, overrides={i: (lambda v, a=a: v[a]) for i, a in zip(grads, acts)})
        if layer.spec.from_output:  # derivatives written in terms of the output
            spec = OPS[layer.spec.op]
            at_z = {i: (lambda v, z=z, spec=spec: spec.partials((v[z],), v[z], ())[0]) for i, z in zip(grads, zs)}
            yield Mutation("act_grad_at_z", args, overrides=at_z)


def _loss_derivative(worked):
    qs, trace, p = worked.quantities, worked.trace, worked.problem
    first = qs["dL/dy_hat"] if "dL/dy_hat" in qs else qs[f"delta{worked.depth}"]
    nodes = first.indices()
    yield Mutation("loss_grad_doubled", overrides=_scaled(trace, nodes, 2.0))
    yield Mutation("loss_grad_halved", overrides=_scaled(trace, nodes, 0.5))
    yield Mutation("loss_grad_sign", overrides=_scaled(trace, nodes, -1.0))
    if p.batch:
        n = len(p.x)
        yield Mutation("batch_summed", (("n", n),), overrides=_scaled(trace, nodes, float(n)))
    outputs = len(p.y[0])
    if outputs > 1:
        if LOSSES[p.loss].sums_outputs:
            yield Mutation("outputs_averaged", (("n", outputs),), overrides=_scaled(trace, nodes, 1.0 / outputs))
        else:
            yield Mutation("outputs_summed", (("n", outputs),), overrides=_scaled(trace, nodes, float(outputs)))


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


# --- optimizer slips: the problem solved again with a mutated optimizer -------------


def _optimizer(worked, base_factory):
    from ..nn.optim import OPTIMIZERS
    from ..problem.solve import solve

    problem, opt = worked.problem, worked.optimizer
    slips = [("update_sign", _set("lr", lambda o: -o.lr)), ("lr_twice", _set("lr", lambda o: o.lr ** 2))]
    if opt.lr != 1:
        slips.append(("lr_missing", _set("lr", lambda o: 1.0)))
    if getattr(opt, "momentum", 0):
        slips.append(("momentum_omitted", _set("momentum", lambda o: 1.0)))
    if hasattr(opt, "bias_correction"):
        slips += [("adam_no_bias_correction", _set("bias_correction", lambda o: False)),
                  ("betas_swapped", _swap_betas),
                  ("step_count_ahead", _shift_step_count(1)),
                  ("step_count_behind", _shift_step_count(-1))]
    if hasattr(opt, "eps_inside_root"):
        slips.append(("eps_inside_sqrt", _set("eps_inside_root", lambda o: True)))
    if opt.weight_decay and opt.name != "adamw":
        slips.append(("weight_decay_coupled" if opt.decoupled else "weight_decay_decoupled",
                      _set("decoupled", lambda o: not o.decoupled)))
    for key, slip in slips:
        def factory(params, settings, slip=slip):
            o = base_factory(params, settings) if base_factory else OPTIMIZERS[problem.optimizer](params, **settings)
            slip(o)
            return o

        try:
            mutated = solve(problem, optimizer_factory=factory)
        except (TraceGradError, ArithmeticError, ValueError):
            continue  # the slip cannot even be computed (e.g. step counter 0)
        yield Mutation(key, trace=mutated.trace, quantities={n: q.nodes for n, q in mutated.quantities.items()})


def _set(attribute: str, value):
    def slip(o):
        setattr(o, attribute, value(o))
    return slip


def _swap_betas(o):
    o.beta1, o.beta2 = o.beta2, o.beta1


def _shift_step_count(by: int):
    def slip(o):
        for state in o.state:
            state["t"] += by
    return slip
