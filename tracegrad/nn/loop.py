"""The training loop, in the document's vocabulary (epoch, batch, iteration).

``fit`` runs ``epochs`` epochs; each epoch shuffles the training set (seeded)
and runs ⌈N / batch size⌉ iterations of forward → loss → backward → update:
``batch_size=None`` is batch gradient descent (the whole set per iteration),
1 is stochastic gradient descent, anything between is mini-batch. A tqdm
progress bar shows the iterations; it can be turned off and is off anyway when
standard error is not a terminal.

With ``compiled=True`` the loop records one step's graph per batch size and
replays later steps of that size through compiled code
(:func:`tracegrad.compile.compile_trace`): same losses, same updates, without
building ``Value`` s. That needs a *fixed graph*, one that every batch of a size
builds alike with only the numbers changing (:func:`fixed_graph` says why not).
"""

from __future__ import annotations

import gc
import random
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..core.errors import InputError
from .data import batches, check_batch_size, iterations_per_epoch
from .losses import LOSSES, Loss
from .losses import loss as _loss
from .module import Module, inputs
from .optim import OPTIMIZERS, Optimizer, clip_grad_norm, clip_grad_value
from .regularization import l1_penalty, l2_penalty, weights


@dataclass
class History:
    """What ``fit`` measured: the data loss (penalties excluded) of every iteration, its
    sample-weighted mean per epoch, and the test loss (eval mode) after each epoch."""

    iterations_per_epoch: int
    iteration_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)

    @property
    def iterations(self) -> int:
        """Iterations run so far."""
        return len(self.iteration_loss)


def _split(data, key: str):
    if not isinstance(data, (list, tuple)) or len(data) != 2:
        raise InputError("data must be a pair (X, y): a list of samples and a list of targets", key=key)
    X, y = list(data[0]), list(data[1])
    if len(X) != len(y) or not X:
        raise InputError(f"{len(X)} samples but {len(y)} targets", key=key)
    return X, y


def _as_loss(loss) -> Loss:
    return _loss(loss) if isinstance(loss, str) else loss


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector: a graph holds no reference cycles (inputs
    are always older nodes), so reference counting frees it, and the collector's repeated
    scans of a large graph cost about a third of a training step."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evaluate(model, data, loss) -> float:
    """The loss of ``model`` on ``data`` in eval mode (no backward; the mode is restored)."""
    X, y = _split(data, "data")
    was_training = model.training
    model.eval()
    try:
        return _as_loss(loss)(model.batch(X), y).data
    finally:
        model.train(was_training)


def predict(model, X) -> list:
    """Outputs as plain numbers (one list per sample), in eval mode (the mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        return [[v.data for v in out] for out in model.batch(list(X))]
    finally:
        model.train(was_training)


def fixed_graph(model, loss) -> str | None:
    """``None`` when training ``model`` on ``loss`` builds the same graph for every batch of a
    size (only the numbers change), else the reason it does not.

    Fixed: networks of tracegrad.nn's layers and activations (dense, ReLU/tanh/…, residual
    connections, dropout with p = 0) and every built-in loss but ``cce``; the L1/L2
    penalties and gradient clipping too (kinks such as ``abs`` and ReLU are branches
    inside ops, which compiled code keeps). Not fixed: dropout (a new mask every
    step), BatchNorm in training mode (running statistics are updated outside the
    graph), ``cce`` (which terms exist depends on which targets are 0 or 1), and
    modules or losses defined outside tracegrad.nn (their code may branch on the data).
    """
    from .norm import BatchNorm, Dropout

    stack = [model]
    while stack:
        module = stack.pop()
        if not isinstance(module, Module) or not type(module).__module__.startswith("tracegrad.nn."):
            return f"{type(module).__name__} is not a tracegrad.nn module (its graph may depend on the data)"
        if isinstance(module, Dropout) and module.p > 0:
            return "dropout draws a new mask every step"
        if isinstance(module, BatchNorm):
            return "BatchNorm in training mode updates its running statistics outside the graph"
        stack.extend(module.children())
    loss = _as_loss(loss)
    if LOSSES.get(loss.name) is not loss:
        return f"the loss {loss.name!r} is not one of tracegrad.nn's (its graph may depend on the data)"
    if loss.name == "cce":
        return "cce leaves out the terms whose target is 0, so its graph depends on the targets (use cce_logits)"
    return None


class _CompiledSteps:
    """One compiled step per batch size: the graph of the first batch of that size, recorded
    while the engine runs it, compiled with the parameters and the batch's input and target
    leaves as inputs; the objective and the data loss as outputs; the parameters as wrt."""

    def __init__(self, model, loss, optimizer):
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.steps: dict = {}

    def run(self, xs: list, ys: list, objective_of) -> float:
        """One step on the batch ``xs``, ``ys``: set every parameter's ``grad`` (the optimizer's
        ``step`` is the caller's); returns the data loss. ``objective_of(data_loss)`` adds the penalties."""
        step = self.steps.get(len(xs))
        if step is None:
            return self._record(xs, ys, objective_of)
        compiled, params, wrt, leaves = step
        values = [p.data for p in params]
        for sample in (xs, ys):
            for row in sample:
                values.extend(row)
        (_, data_loss), grads = compiled.forward_backward(values if leaves is None else
                                                          [v for v, keep in zip(values, leaves) if keep])
        self.optimizer.zero_grad()
        for p, g in zip(wrt, grads):
            p.grad = g
        return data_loss

    def _record(self, xs, ys, objective_of) -> float:
        from ..compile.runtime import compile_trace
        from ..core.trace import record

        n = len(xs)
        with record() as rec:
            x_leaves = [inputs(x, None if n == 1 else s) for s, x in enumerate(xs)]
            y_leaves = [self.loss.targets(y, None if n == 1 else s) for s, y in enumerate(ys)]
            data_loss = self.loss(self.model.batch(x_leaves), y_leaves)
            objective = objective_of(data_loss)
            self.optimizer.zero_grad()
            objective.backward()
        trace = rec.trace
        present = {rec_.id for rec_ in trace.nodes}
        params = [p for p in self.model.parameters() if p._id in present]
        params += [p for p in self.optimizer.params if p._id in present and all(p is not q for q in params)]
        wrt = [p for p in self.optimizer.params if p._id in present]
        batch = [v for sample in (x_leaves, y_leaves) for row in sample for v in row]
        keep = [p._id in present for p in params] + [v._id in present for v in batch]
        leaves = None if all(keep) else keep
        compiled = compile_trace(trace, inputs=params + [v for v in batch if v._id in present],
                                 outputs=[objective, data_loss], wrt=wrt)
        self.steps[n] = (compiled, params, wrt, leaves)
        return data_loss.data


def _rows(values) -> list:
    return [[float(v) for v in (row if isinstance(row, (list, tuple)) else [row])] for row in values]


def fit(model, data, loss="mse", optimizer="sgd", epochs: int = 1, batch_size: int | None = None, *,
        lr: float | None = None, test=None, shuffle: bool = True, seed: int = 0, l2: float = 0.0,
        l1: float = 0.0, clip_value: float | None = None, clip_norm: float | None = None,
        progress: bool = True, callback=None, compiled: bool = False) -> History:
    """Train ``model`` on ``data = (X, y)``; returns the :class:`History`.

    ``loss`` is a name of :data:`LOSSES` or a ``Loss``; ``optimizer`` an
    optimizer or a name of :data:`OPTIMIZERS` (built over the model's
    parameters with ``lr``). ``l2``/``l1`` add penalties on the weights;
    ``clip_value``/``clip_norm`` clip gradients before each update; ``test``
    is a held-out ``(X, y)`` evaluated in eval mode after every epoch.
    ``callback(iteration, batch_indices)``, if given, runs before each iteration
    (numbered from 1), while the parameters are still those the iteration starts from.
    ``compiled=True`` runs the steps through compiled code, one compiled step per batch
    size (the first batch of each size runs on the engine while its graph is recorded);
    the results are the engine's. It needs a fixed graph (:func:`fixed_graph`), else
    an :class:`InputError` says why.
    """
    X, y = _split(data, "data")
    loss = _as_loss(loss)
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}",
                             key="optimizer")
        optimizer = OPTIMIZERS[optimizer](model.parameters(), **({} if lr is None else {"lr": lr}))
    if not isinstance(optimizer, Optimizer):
        raise InputError("optimizer must be a name or a tracegrad.nn optimizer", key="optimizer")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise InputError(f"epochs must be a positive integer, got {epochs!r}", key="epochs")
    per_epoch = iterations_per_epoch(len(X), check_batch_size(batch_size, len(X)))
    history = History(per_epoch)
    rng = random.Random(seed)
    penalised = weights(model) if (l1 or l2) else []

    def objective_of(data_loss):
        objective = data_loss
        if l2:
            objective = objective + l2_penalty(penalised, l2)
        if l1:
            objective = objective + l1_penalty(penalised, l1)
        return objective

    steps = None
    if compiled:
        reason = fixed_graph(model, loss)
        if reason is not None:
            raise InputError(f"compiled=True needs a fixed graph: {reason}", key="compiled")
        for s, (x, t) in enumerate(zip(X, y)):  # checked once here: the compiled steps take plain numbers
            inputs(x, s)
            loss.targets(t if isinstance(t, (list, tuple)) else [t], s)
        X, y = _rows(X), _rows(y)
        steps = _CompiledSteps(model, loss, optimizer)

    from tqdm import tqdm

    bar = tqdm(total=epochs * per_epoch, unit="it", disable=None if progress else True, leave=False)
    with bar, _collector_paused():
        for _ in range(epochs):
            model.train()
            total = 0.0
            for idx in batches(len(X), batch_size, shuffle=shuffle, rng=rng):
                if callback is not None:
                    callback(history.iterations + 1, idx)
                if steps is not None:
                    value = steps.run([X[i] for i in idx], [y[i] for i in idx], objective_of)
                else:
                    data_loss = loss(model.batch([X[i] for i in idx]), [y[i] for i in idx])
                    objective = objective_of(data_loss)
                    optimizer.zero_grad()
                    objective.backward()
                    value = data_loss.data
                if clip_value is not None:
                    clip_grad_value(optimizer.params, clip_value)
                if clip_norm is not None:
                    clip_grad_norm(optimizer.params, clip_norm)
                optimizer.step()
                history.iteration_loss.append(value)
                total += value * len(idx)
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4g}", refresh=False)
            history.epoch_loss.append(total / len(X))
            if test is not None:
                history.test_loss.append(evaluate(model, test, loss))
    return history

