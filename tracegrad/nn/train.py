"""The training loop, in the document's vocabulary (epoch, batch, iteration).

``fit`` runs ``epochs`` epochs; each epoch shuffles the training set (seeded)
and runs ⌈N / batch size⌉ iterations of forward → loss → backward → update:
``batch_size=None`` is batch gradient descent (the whole set per iteration),
1 is stochastic gradient descent, anything between is mini-batch. A tqdm
progress bar shows the iterations; it can be turned off and is off anyway when
standard error is not a terminal.
"""

from __future__ import annotations

import gc
import random
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import InputError
from .data import batches, check_batch_size, iterations_per_epoch
from .losses import Loss
from .losses import loss as _loss
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


def fit(model, data, loss="mse", optimizer="sgd", epochs: int = 1, batch_size: int | None = None, *,
        lr: float | None = None, test=None, shuffle: bool = True, seed: int = 0, l2: float = 0.0,
        l1: float = 0.0, clip_value: float | None = None, clip_norm: float | None = None,
        progress: bool = True, callback=None) -> History:
    """Train ``model`` on ``data = (X, y)``; returns the :class:`History`.

    ``loss`` is a name of :data:`LOSSES` or a ``Loss``; ``optimizer`` an
    optimizer or a name of :data:`OPTIMIZERS` (built over the model's
    parameters with ``lr``). ``l2``/``l1`` add penalties on the weights;
    ``clip_value``/``clip_norm`` clip gradients before each update; ``test``
    is a held-out ``(X, y)`` evaluated in eval mode after every epoch.
    ``callback(iteration, batch_indices)``, if given, runs before each iteration
    (numbered from 1), while the parameters are still those the iteration starts from.
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

    from tqdm import tqdm

    bar = tqdm(total=epochs * per_epoch, unit="it", disable=None if progress else True, leave=False)
    with bar, _collector_paused():
        for _ in range(epochs):
            model.train()
            total = 0.0
            for idx in batches(len(X), batch_size, shuffle=shuffle, rng=rng):
                if callback is not None:
                    callback(history.iterations + 1, idx)
                data_loss = loss(model.batch([X[i] for i in idx]), [y[i] for i in idx])
                objective = data_loss
                if l2:
                    objective = objective + l2_penalty(penalised, l2)
                if l1:
                    objective = objective + l1_penalty(penalised, l1)
                optimizer.zero_grad()
                objective.backward()
                if clip_value is not None:
                    clip_grad_value(optimizer.params, clip_value)
                if clip_norm is not None:
                    clip_grad_norm(optimizer.params, clip_norm)
                optimizer.step()
                history.iteration_loss.append(data_loss.data)
                total += data_loss.data * len(idx)
                bar.update(1)
                bar.set_postfix(loss=f"{data_loss.data:.4g}", refresh=False)
            history.epoch_loss.append(total / len(X))
            if test is not None:
                history.test_loss.append(evaluate(model, test, loss))
    return history

