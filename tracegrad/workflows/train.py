"""Training from a problem file: the ``[training]`` table names a dataset and the loop.

::

    [training]
    dataset = "moons"        # xor, moons, spirals, linear, or a CSV file (path relative to the problem)
    samples = 200            # generated datasets
    noise = 0.1
    seed = 0                 # data, split and shuffling
    epochs = 100
    batch_size = 20          # omit for batch gradient descent (the whole set per iteration)
    test_split = 0.25        # held out, evaluated after every epoch in eval mode
    scale = "zscore"         # none, zscore or minmax (fitted on the training part)
    target_columns = 1       # CSV: the last columns are the targets
    l2 = 0.0001              # also l1, clip_norm, clip_value

The network (its initial weights), loss and optimizer are the problem's own.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError, in_file
from ..core.files import read_text, resolve_inside
from ..core.limits import check
from ..problem.schema import TRAINING_KEYS, Problem, is_finite_number, load_problem

GENERATED = ("xor", "moons", "spirals", "linear")


@dataclass(frozen=True)
class TrainingSpec:
    dataset: str
    samples: int = 200
    noise: float = 0.1
    seed: int = 0
    epochs: int = 100
    batch_size: int | None = None
    test_split: float = 0.25
    scale: str = "none"
    target_columns: int = 1
    l1: float = 0.0
    l2: float = 0.0
    clip_norm: float | None = None
    clip_value: float | None = None


def training_spec(problem: Problem) -> TrainingSpec:
    """The validated ``[training]`` table of a problem."""
    raw = dict(problem.extra).get("training")
    source = problem.source
    if not isinstance(raw, dict):
        raise InputError("no [training] table: name a dataset and the loop (see the README)", file=source,
                         key="training")

    def fail(key, message):
        raise InputError(message, file=source, key=f"training.{key}")

    for key in raw:
        if key not in TRAINING_KEYS:
            fail(key, f"unknown key; expected one of {', '.join(TRAINING_KEYS)}")
    if "dataset" not in raw or not isinstance(raw["dataset"], str):
        fail("dataset", f"give one of {', '.join(GENERATED)} or the path of a CSV file")
    values = {"dataset": raw["dataset"]}
    for key, low, high in (("samples", 2, 10**6), ("seed", 0, 2**32), ("epochs", 1, 10**6),
                           ("batch_size", 1, 10**6), ("target_columns", 1, 1000)):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                fail(key, f"expected a whole number from {low} to {high}, got {v!r}")
            values[key] = v
    check("dataset_rows", values.get("samples", 0), file=source, key="training.samples")
    for key, low, high in (("noise", 0, 100), ("test_split", 0, 0.9), ("l1", 0, 1e6), ("l2", 0, 1e6),
                           ("clip_norm", 1e-12, 1e12), ("clip_value", 1e-12, 1e12)):
        if key in raw:
            v = raw[key]
            if not is_finite_number(v) or not low <= v <= high:
                fail(key, f"expected a number from {low} to {high}, got {v!r}")
            values[key] = float(v)
    if "scale" in raw:
        if raw["scale"] not in ("none", "zscore", "minmax"):
            fail("scale", f"expected none, zscore or minmax, got {raw['scale']!r}")
        values["scale"] = raw["scale"]
    return TrainingSpec(**values)


def dataset_path(problem: Problem, spec: TrainingSpec, data_dirs=()) -> Path | None:
    """Where a CSV dataset is (None for a generated one): inside the problem's folder, or inside
    one of ``data_dirs`` (``--data-dir``), after following symbolic links; refused otherwise."""
    if spec.dataset in GENERATED:
        return None
    return resolve_inside(spec.dataset, Path(problem.source).parent, allowed=data_dirs, file=problem.source,
                          key="training.dataset", flag="--data-dir DIR")


def load_dataset(problem: Problem, spec: TrainingSpec, data_dirs=()):
    """``(X, targets)`` with targets shaped for the problem's loss (one list per sample)."""
    from ..nn import data as nn_data

    path = dataset_path(problem, spec, data_dirs)
    if path is None:
        make = getattr(nn_data, spec.dataset)
        X, y = make(spec.samples, noise=spec.noise, seed=spec.seed)
        targets = [[float(v)] for v in y]
    else:
        shown = str(Path(problem.source).parent / spec.dataset)
        X, targets = _read_csv(path, shown, spec.target_columns, problem.source)
    n_in, n_out = problem.sizes[0], problem.sizes[-1]
    if len(X[0]) != n_in:
        raise InputError(f"the dataset has {len(X[0])} features but the network takes {n_in} inputs",
                         file=problem.source, key="training.dataset")
    from ..nn.losses import LOSSES

    return X, _shape_targets(targets, LOSSES[problem.loss], n_out, problem.source)


def _read_csv(path: Path, shown: str, target_columns: int, source: str):
    try:
        text = read_text(path, bytes_limit="dataset_bytes")
    except InputError as exc:  # named as the problem names it, under the key that names it
        raise InputError(f"{shown}: {exc.message}", file=source, key="training.dataset") from None
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]  # a header
    check("dataset_rows", len(rows), file=source, key="training.dataset")
    if len(rows) < 2:
        raise InputError(f"{shown}: expected at least two rows of numbers", file=source, key="training.dataset")
    X, y = [], []
    for n, row in enumerate(rows, start=1):
        if not _numeric(row) or len(row) != len(rows[0]) or len(row) <= target_columns:
            raise InputError(f"{shown}: row {n} is not {len(rows[0])} numbers", file=source, key="training.dataset")
        numbers = [float(c) for c in row]
        X.append(numbers[:-target_columns])
        y.append(numbers[-target_columns:])
    return X, y


def _numeric(row) -> bool:
    try:
        return all(math.isfinite(float(c)) for c in row)
    except ValueError:
        return False


def _shape_targets(targets, loss, n_out: int, source: str):
    """Class labels become what the loss takes (its ``labels``): one-hot rows, or ±1."""
    if loss.labels == "one_hot" and n_out < 2:
        raise InputError(f"{loss.name} needs one output unit per class (at least 2 output units); the network has "
                         f"{n_out}", file=source, key="loss")
    if loss.labels == "one_hot" and n_out > 1 and all(len(t) == 1 for t in targets):
        if any(t[0] != int(t[0]) for t in targets):
            raise InputError("class labels must be whole numbers 0, 1, 2 …", file=source, key="training.dataset")
        labels = [int(t[0]) for t in targets]
        if min(labels) < 0 or max(labels) >= n_out:
            raise InputError(f"class labels must be 0 … {n_out - 1} for {n_out} output units", file=source,
                             key="training.dataset")
        return [[1.0 if k == c else 0.0 for k in range(n_out)] for c in labels]
    if loss.labels == "sign":
        return [[1.0 if t[0] > 0 else -1.0] for t in targets]
    if any(len(t) != n_out for t in targets):
        raise InputError(f"expected {n_out} target value(s) per sample", file=source, key="training.dataset")
    return targets


@dataclass
class Result:
    """What a training run produced."""

    history: object
    train_loss: float
    test_loss: float | None
    train_accuracy: float | None
    test_accuracy: float | None
    model: object


def run(path, *, epochs: int | None = None, progress: bool = True, trace_step: int | None = None,
        compiled: bool | None = None, data_dirs=()) -> tuple:
    """Train the problem's network; returns ``(Result, problem at iteration trace_step or None)``.

    The steps run through compiled replay (``fit(compiled=True)``) whenever the network's
    graph is fixed (:func:`tracegrad.nn.loop.fixed_graph`); ``compiled=False`` runs them
    on the engine, ``True`` requires compiled replay. The numbers are the same either way.
    A CSV dataset is read from inside the problem's folder or one of ``data_dirs``; errors
    name the problem file."""
    problem = load_problem(path)
    with in_file(problem.source):
        return _run(problem, epochs, progress, trace_step, compiled, data_dirs)


def _run(problem, epochs, progress, trace_step, compiled, data_dirs) -> tuple:
    from ..nn import MLP, Dense
    from ..nn.data import MinMaxScaler, StandardScaler, train_test_split
    from ..nn.losses import LOSSES
    from ..nn.optim import OPTIMIZERS
    from ..nn.loop import evaluate, fit, fixed_graph

    spec = training_spec(problem)
    X, y = load_dataset(problem, spec, data_dirs)
    if spec.test_split > 0:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=spec.test_split, seed=spec.seed)
    else:
        X_train, y_train, X_test, y_test = X, y, None, None
    key, epochs = ("training.epochs", spec.epochs) if epochs is None else ("--epochs", epochs)
    check("iterations", epochs * -(-len(X_train) // (spec.batch_size or len(X_train))), file=problem.source,
          key=key)
    if spec.scale != "none":
        scaler = (StandardScaler() if spec.scale == "zscore" else MinMaxScaler()).fit(X_train)
        X_train = scaler.transform(X_train)
        X_test = scaler.transform(X_test) if X_test else None
    layers = [Dense([list(r) if isinstance(r, tuple) else r for r in spec_.weights],
                    list(spec_.bias) if isinstance(spec_.bias, tuple) else spec_.bias, spec_.activation,
                    layout=problem.layout, layer=k + 1, alpha=spec_.alpha)
              for k, spec_ in enumerate(problem.layers)]
    model = MLP.from_layers(layers)
    optimizer = OPTIMIZERS[problem.optimizer](model.parameters(), **dict(problem.settings))
    loss = LOSSES[problem.loss]
    if compiled is None:
        compiled = fixed_graph(model, loss) is None
    snapshot = {}

    def watch(iteration, batch):
        if iteration == trace_step:
            snapshot["weights"] = [([[p.data for p in row] for row in layer.weight_matrix],
                                    [b.data for b in layer.bias_values]) for layer in layers]
            snapshot["batch"] = ([X_train[i] for i in batch], [y_train[i] for i in batch])

    history = fit(model, (X_train, y_train), loss, optimizer, epochs, spec.batch_size,
                  test=(X_test, y_test) if X_test else None, seed=spec.seed, l1=spec.l1, l2=spec.l2,
                  clip_value=spec.clip_value, clip_norm=spec.clip_norm, progress=progress,
                  callback=watch if trace_step is not None else None, compiled=compiled)
    if trace_step is not None and not snapshot:
        raise InputError(f"--trace-step {trace_step}: the run has iterations 1 … {history.iterations}")
    result = Result(history, evaluate(model, (X_train, y_train), loss),
                    evaluate(model, (X_test, y_test), loss) if X_test else None,
                    _accuracy(model, X_train, y_train, loss),
                    _accuracy(model, X_test, y_test, loss) if X_test else None, model)
    return result, (_step_problem(problem, snapshot) if snapshot else None)


def _accuracy(model, X, y, loss):
    """Share of samples classified right (classification losses only)."""
    if not loss.classification:
        return None
    from ..nn.loop import predict

    outputs = predict(model, X)
    right = 0
    for out, target in zip(outputs, y):
        if len(out) > 1:
            right += max(range(len(out)), key=out.__getitem__) == max(range(len(target)), key=target.__getitem__)
        else:
            right += (out[0] > loss.decision) == (target[0] > (0 if loss.labels == "sign" else 0.5))
    return right / len(y)


def _step_problem(problem: Problem, snapshot: dict) -> Problem:
    """The problem of one iteration: the weights before it and the batch it used."""
    from dataclasses import replace

    layers = tuple(replace(spec, weights=_tuples(w), bias=_tuples(b) if isinstance(spec.bias, tuple) else b[0])
                   for spec, (w, b) in zip(problem.layers, snapshot["weights"]))
    X, y = snapshot["batch"]
    return replace(problem, layers=layers, x=_tuples(X), y=_tuples(y), batch=len(X) > 1, extra=())


def _tuples(nested):
    return tuple(_tuples(v) for v in nested) if isinstance(nested, (list, tuple)) else float(nested)


def history_files(result: Result) -> dict:
    """``{"history.csv": text, "history.json": text}``: the loss per iteration and per epoch."""
    h = result.history
    rows = ["iteration,epoch,loss"]
    for i, value in enumerate(h.iteration_loss):
        rows.append(f"{i + 1},{i // h.iterations_per_epoch + 1},{value!r}")
    data = {"iterations_per_epoch": h.iterations_per_epoch, "iteration_loss": h.iteration_loss,
            "epoch_loss": h.epoch_loss, "test_loss": h.test_loss, "train_loss": result.train_loss,
            "test_final": result.test_loss, "train_accuracy": result.train_accuracy,
            "test_accuracy": result.test_accuracy}
    return {"history.csv": "\n".join(rows) + "\n", "history.json": json.dumps(data, indent=1) + "\n"}
