"""Problem files: a network, its data, loss and optimizer, described in TOML (or JSON).

:func:`load_problem` reads and validates a file; every mistake is reported as
one :class:`~tracegrad.core.errors.InputError` naming the file, the key path
(``layers[1].weights``) and what was expected. The result is a plain, frozen
:class:`Problem`; :mod:`tracegrad.problem.solve` turns it into a graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.files import read_document
from ..core.limits import check
from ..nn.activations import ACTIVATIONS
from ..nn.losses import LOSSES
from ..nn.optim import OPTIMIZERS

LAYOUTS = ("in_out", "out_in")
ROUNDINGS = ("exact", "carry")
LANGS = ("en", "zh")
FORMATS = ("markdown", "latex", "text", "json")
VIEWS = ("layer", "node")


@dataclass(frozen=True)
class LayerSpec:
    """One dense layer as written: weights in the problem's layout, bias list or scalar."""

    weights: tuple
    bias: Any  # tuple of numbers, or one number (a shared bias)
    activation: str
    alpha: float = 0.01
    dropout: float = 0.0  # the probability of dropping a unit (training mode)
    mask: tuple | None = None  # given dropout masks, 0/1 per unit, one row per sample
    seed: int = 0  # the seed of the masks drawn when none is given
    batchnorm: "BatchNormSpec | None" = None
    freeze: tuple = ()  # "weights" and/or "bias": kept out of the update


@dataclass(frozen=True)
class BatchNormSpec:
    """A layer's batch normalisation (after its weighted sum, before its activation)."""

    gamma: tuple | None = None  # default 1 per unit
    beta: tuple | None = None  # default 0 per unit
    running_mean: tuple | None = None  # default 0 (eval mode)
    running_var: tuple | None = None  # default 1 (eval mode)
    momentum: float = 0.1
    eps: float = 1e-5


@dataclass(frozen=True)
class Training:
    """How many iterations a derivation works through, and on which samples: ``steps``
    iterations, each on the next mini-batch of ``batch_size`` samples in file order (the whole
    data when ``batch_size`` is None), ``epochs`` passes over the data."""

    steps: int = 1
    batch_size: int | None = None
    epochs: int = 1

    def iterations(self, samples: int) -> list:
        """``[(step, epoch, batch, sample indices), …]`` in order, 1-based steps, epochs and batches."""
        size = self.batch_size or samples
        per_epoch = -(-samples // size)
        out = []
        for step in range(1, self.steps + 1):
            epoch, batch = divmod(step - 1, per_epoch)
            start = batch * size
            out.append((step, epoch + 1, batch + 1, tuple(range(start, min(start + size, samples)))))
        return out


@dataclass(frozen=True)
class RenderSettings:
    """Defaults for ``derive``; command-line options override them."""

    decimals: int | None = 4
    sig_figs: int | None = None
    rounding: str = "exact"
    lang: str = "en"
    format: str = "markdown"
    view: str = "layer"


@dataclass(frozen=True)
class Problem:
    """A validated problem. ``x`` and ``y`` are tuples of samples (tuples of floats);
    ``batch`` says whether the file gave a batch or a single sample."""

    source: str
    title: str
    layout: str
    layers: tuple
    x: tuple
    y: tuple
    batch: bool
    loss: str
    optimizer: str
    settings: tuple  # sorted (name, value) pairs
    render: RenderSettings = field(default_factory=RenderSettings)
    extra: tuple = ()  # other top-level tables (variants, training, grading, assignment), kept for their own readers
    mode: str = "train"  # or "eval": dropout off, BatchNorm on running statistics
    penalties: tuple = ()  # ("l2", λ) and/or ("l1", λ), added to the loss
    penalize_biases: bool = False
    clip_norm: float | None = None
    clip_value: float | None = None
    training: Training = field(default_factory=Training)
    scale: str | None = None  # "minmax" or "zscore": the inputs normalised first
    scale_stats: tuple = ()  # given statistics: ("min", (…)), ("max", (…)) or ("mean", …), ("std", …)

    def setting(self, name: str, default=None):
        """An optimizer setting, e.g. ``problem.setting("lr")``."""
        return dict(self.settings).get(name, default)

    @property
    def sizes(self) -> tuple:
        """Units per layer, input first: (2, 2, 1) for the seed example."""
        return (len(self.x[0]),) + tuple(_units(layer, self.layout) for layer in self.layers)


def _units(layer: LayerSpec, layout: str) -> int:
    w = layer.weights
    if not isinstance(w[0], tuple):  # a flat list: one unit
        return 1
    return len(w[0]) if layout == "in_out" else len(w)


def is_finite_number(value) -> bool:
    """Whether ``value`` (read from a file) is a real number that fits a finite 64-bit float;
    booleans are not numbers, and JSON integers of any length are (too long ones are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


class _Reader:
    """Validation helpers that know the file name and build key paths."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, message: str):
        raise InputError(message, file=self.source, key=key)

    def number(self, value, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, got {_describe(value)}")
        if not is_finite_number(value):
            shown = value if isinstance(value, float) else "an integer too long for a 64-bit float"
            self.fail(key, f"expected a finite number, got {shown}")
        return float(value)

    def choice(self, value, key: str, options) -> str:
        if not isinstance(value, str) or value not in options:
            self.fail(key, f"expected one of {', '.join(options)}; got {_describe(value)}")
        return value

    def integer(self, value, key: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, f"expected a whole number from {low} to {high}, got {_describe(value)}")
        return value

    def positive(self, value, key: str) -> float:
        v = self.number(value, key)
        if v <= 0:
            self.fail(key, f"expected a number above 0, got {value!r}")
        return v

    def flag(self, value, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {_describe(value)}")
        return value

    def table(self, value, key: str) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {_describe(value)}")
        return value

    def known_keys(self, table: dict, key: str, allowed) -> None:
        for name in table:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                self.fail(where, f"unknown key; expected one of {', '.join(allowed)}")

    def vector(self, value, key: str) -> tuple:
        if not isinstance(value, list) or not value:
            self.fail(key, f"expected a non-empty list of numbers, got {_describe(value)}")
        return tuple(self.number(v, f"{key}[{i}]") for i, v in enumerate(value))


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) < 40 else "a text"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _shape(value) -> str:
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        widths = {len(r) for r in value}
        return f"{len(value)} × {widths.pop()}" if len(widths) == 1 else f"{len(value)} ragged rows"
    if isinstance(value, list):
        return f"a flat list of {len(value)}"
    return _describe(value)


def read_file(path: Path) -> dict:
    """The table of a TOML (or ``.json``) file, read and parsed within the limits
    (:mod:`tracegrad.core.files`), or one clear InputError naming the file."""
    return read_document(path)


TOP_KEYS = ("title", "layout", "mode", "layers", "data", "loss", "optimizer", "render", "variants", "training",
            "grading", "assignment")
MODES = ("train", "eval")
DATA_KEYS = ("x", "y", "batch_size", "epochs", "scale", "min", "max", "mean", "std")
SCALES = {"minmax": ("min", "max"), "zscore": ("mean", "std")}
LAYER_KEYS = ("weights", "bias", "activation", "alpha", "dropout", "mask", "seed", "batchnorm", "gamma", "beta",
              "running_mean", "running_var", "momentum", "eps", "freeze")
BATCHNORM_KEYS = ("gamma", "beta", "running_mean", "running_var", "momentum", "eps")
LOSS_KEYS = ("name", "l1", "l2", "penalize_biases")
COMMON_OPTIMIZER_KEYS = ("clip_norm", "clip_value", "steps")
MAX_STEPS = 100
TRAINING_KEYS = ("dataset", "samples", "noise", "seed", "epochs", "batch_size", "test_split", "scale",
                 "target_columns", "l1", "l2", "clip_norm", "clip_value")
"""The keys of a ``[training]`` table (read by :mod:`tracegrad.workflows.train`)."""


def load_problem(path) -> Problem:
    """Read and validate a problem file (TOML, or JSON when the name ends in ``.json``)."""
    path = Path(path)
    data = read_file(path)
    try:
        return parse_problem(data, str(path))
    except RecursionError:
        raise InputError("lists nested too deeply; weights are at most matrices", file=str(path)) from None


def parse_problem(data: dict, source: str = "<problem>") -> Problem:
    """Validate an already-parsed problem table."""
    r = _Reader(source)
    r.known_keys(data, "", TOP_KEYS)
    title = data.get("title", "")
    if not isinstance(title, str):
        r.fail("title", f"expected a text, got {_describe(title)}")
    layout = r.choice(data.get("layout", "in_out"), "layout", LAYOUTS)
    mode = r.choice(data.get("mode", "train"), "mode", MODES)

    if "data" not in data:
        r.fail("data", "missing: give a [data] table with x (inputs) and y (targets)")
    d = r.table(data["data"], "data")
    r.known_keys(d, "data", DATA_KEYS)
    if "x" not in d:
        r.fail("data.x", "missing: the input sample (a list of numbers) or a batch (a list of such lists)")
    if "y" not in d:
        r.fail("data.y", "missing: the target (a number, a list, or one per sample for a batch)")
    xs, batch = _samples(r, d["x"], "data.x")
    check("samples", len(xs), file=source, key="data.x")
    n_in = len(xs[0])
    check("units", n_in, file=source, key="data.x")

    layers_raw = data.get("layers")
    if not isinstance(layers_raw, list) or not layers_raw:
        r.fail("layers", "missing or empty: give one [[layers]] table per layer (weights, bias, activation)")
    check("layers", len(layers_raw), file=source, key="layers")
    layers = []
    for k, raw in enumerate(layers_raw):
        key = f"layers[{k}]"
        raw = r.table(raw, key)
        if "dropout" in raw and k == len(layers_raw) - 1:
            r.fail(f"{key}.dropout", "dropout belongs to hidden layers: the output layer's units are the prediction")
        r.known_keys(raw, key, LAYER_KEYS)
        for needed in ("weights", "bias", "activation"):
            if needed not in raw:
                r.fail(f"{key}.{needed}", "missing")
        w = raw["weights"]
        for side in (w, w[0] if isinstance(w, list) and w else ()):
            check("units", len(side) if isinstance(side, list) else 0, file=source, key=f"{key}.weights")
        layer = _layer(r, raw, key, layout, n_in)
        layer = replace(layer, **_layer_extras(r, raw, key, _units(layer, layout), len(xs)))
        layers.append(layer)
        n_in = _units(layer, layout)

    ys, y_batch = _samples(r, d["y"], "data.y", allow_scalar=True)
    if batch and not y_batch and n_in == 1 and len(ys[0]) == len(xs):
        ys, y_batch = tuple((v,) for v in ys[0]), True  # one number per sample of a one-output batch
    if y_batch != batch or len(ys) != len(xs):
        r.fail("data.y", f"expected one target per sample ({len(xs)} sample{'s' * (len(xs) != 1)}), "
                         f"got {len(ys)}")
    for s, target in enumerate(ys):
        if len(target) != n_in:
            key = f"data.y[{s}]" if batch else "data.y"
            r.fail(key, f"expected {n_in} number{'s' * (n_in != 1)} (one per output unit), got {len(target)}")

    loss_raw = data.get("loss", "half_se")
    penalties, penalize_biases = (), False
    if isinstance(loss_raw, dict):
        r.known_keys(loss_raw, "loss", LOSS_KEYS)
        loss = r.choice(loss_raw.get("name", "half_se"), "loss.name", tuple(LOSSES))
        penalties = tuple((k, r.positive(loss_raw[k], f"loss.{k}")) for k in ("l2", "l1") if k in loss_raw)
        penalize_biases = r.flag(loss_raw.get("penalize_biases", False), "loss.penalize_biases")
    else:
        loss = r.choice(loss_raw, "loss", tuple(LOSSES))

    opt = r.table(data.get("optimizer", {"name": "sgd", "lr": 0.1}), "optimizer")
    name, settings = _optimizer(r, {k: v for k, v in opt.items() if k not in COMMON_OPTIMIZER_KEYS})
    clip_norm = r.positive(opt["clip_norm"], "optimizer.clip_norm") if "clip_norm" in opt else None
    clip_value = r.positive(opt["clip_value"], "optimizer.clip_value") if "clip_value" in opt else None
    training = _training(r, d, opt, len(xs))
    scale, scale_stats = _scaling(r, d, len(xs[0]))

    render = _render(r, data.get("render", {}))
    if "training" in data:
        r.known_keys(r.table(data["training"], "training"), "training", TRAINING_KEYS)
    extra = tuple(sorted((k, data[k]) for k in ("variants", "training", "grading", "assignment") if k in data))
    return Problem(source, title, layout, tuple(layers), xs, ys, batch, loss, name, settings, render, extra, mode,
                   penalties, penalize_biases, clip_norm, clip_value, training, scale, scale_stats)


def _layer_extras(r: _Reader, raw: dict, key: str, units: int, samples: int) -> dict:
    """A layer's dropout, batch normalisation and frozen parameters."""
    extras = {}
    if "dropout" in raw:
        p = r.number(raw["dropout"], f"{key}.dropout")
        if not 0 <= p < 1:
            r.fail(f"{key}.dropout", f"expected a probability from 0 to below 1, got {p!r}")
        extras["dropout"] = p
    for k in ("mask", "seed"):
        if k in raw and not extras.get("dropout"):
            r.fail(f"{key}.{k}", "goes with dropout = p (the probability of dropping a unit)")
    if "seed" in raw:
        extras["seed"] = r.integer(raw["seed"], f"{key}.seed", 0, 2 ** 32)
    if "mask" in raw:
        rows, _ = _samples(r, raw["mask"], f"{key}.mask")
        if len(rows) != samples:
            r.fail(f"{key}.mask", f"expected one row of 0/1 per sample ({samples}), got {len(rows)}")
        for s, row in enumerate(rows):
            where = f"{key}.mask[{s}]" if samples > 1 else f"{key}.mask"
            if len(row) != units or any(v not in (0.0, 1.0) for v in row):
                r.fail(where, f"expected {units} numbers, each 0 (dropped) or 1 (kept)")
        extras["mask"] = rows
    bn = raw.get("batchnorm", False)
    bn_table = bn if isinstance(bn, dict) else {k: raw[k] for k in BATCHNORM_KEYS if k in raw}
    if isinstance(bn, dict):
        r.known_keys(bn, f"{key}.batchnorm", BATCHNORM_KEYS)
        where = f"{key}.batchnorm."
    else:
        if not isinstance(bn, bool):
            r.fail(f"{key}.batchnorm", f"expected true or false (or a table), got {_describe(bn)}")
        if bn_table and not bn:
            r.fail(f"{key}.{next(iter(bn_table))}", "goes with batchnorm = true")
        where = f"{key}."
    if bn:
        values = {}
        for k in ("gamma", "beta", "running_mean", "running_var"):
            if k in bn_table:
                values[k] = r.vector(bn_table[k], where + k)
                if len(values[k]) != units:
                    r.fail(where + k, f"expected {units} numbers (one per unit), got {len(values[k])}")
        if any(v <= 0 for v in values.get("running_var", ())):
            r.fail(where + "running_var", "expected variances above 0")
        for k, low in (("momentum", 0.0), ("eps", 0.0)):
            if k in bn_table:
                values[k] = r.positive(bn_table[k], where + k)
        extras["batchnorm"] = BatchNormSpec(**values)
    if "freeze" in raw:
        freeze = raw["freeze"]
        if not isinstance(freeze, list) or not all(f in ("weights", "bias") for f in freeze):
            r.fail(f"{key}.freeze", 'expected a list of "weights" and/or "bias"')
        extras["freeze"] = tuple(sorted(set(freeze)))
    return extras


def _training(r: _Reader, d: dict, opt: dict, samples: int) -> Training:
    """The iterations: ``[optimizer] steps`` and ``[data] batch_size``, ``epochs``."""
    size = r.integer(d["batch_size"], "data.batch_size", 1, samples) if "batch_size" in d else None
    if "epochs" in d and "steps" in opt:
        r.fail("data.epochs", "give epochs or [optimizer] steps, not both (steps counts iterations)")
    per_epoch = -(-samples // (size or samples))
    if "epochs" in d:
        epochs = r.integer(d["epochs"], "data.epochs", 1, MAX_STEPS)
        steps = epochs * per_epoch
        if steps > MAX_STEPS:
            r.fail("data.epochs", f"{epochs} epochs × {per_epoch} iterations is more than the {MAX_STEPS} "
                                  "iterations a derivation works through; use fewer epochs or a larger batch_size")
    else:
        steps = r.integer(opt.get("steps", 1), "optimizer.steps", 1, MAX_STEPS)
        epochs = -(-steps // per_epoch)
    return Training(steps, size, epochs)


def _scaling(r: _Reader, d: dict, features: int) -> tuple:
    """``(scale, given statistics)`` of ``[data] scale``."""
    for k in ("min", "max", "mean", "std"):
        if k in d and d.get("scale") not in [s for s, keys in SCALES.items() if k in keys]:
            r.fail(f"data.{k}", f"goes with scale = \"{'minmax' if k in ('min', 'max') else 'zscore'}\"")
    if "scale" not in d:
        return None, ()
    scale = r.choice(d["scale"], "data.scale", tuple(SCALES))
    stats = []
    for k in SCALES[scale]:
        if k in d:
            values = r.vector(d[k], f"data.{k}")
            if len(values) != features:
                r.fail(f"data.{k}", f"expected {features} numbers (one per input feature), got {len(values)}")
            stats.append((k, values))
    if len(stats) == 1:
        r.fail(f"data.{SCALES[scale][0] if stats[0][0] != SCALES[scale][0] else SCALES[scale][1]}",
               f"give both {' and '.join(SCALES[scale])}, or neither (then they come from the samples)")
    if scale == "zscore" and stats and any(v <= 0 for v in dict(stats)["std"]):
        r.fail("data.std", "expected standard deviations above 0")
    if scale == "minmax" and stats and any(hi <= lo for lo, hi in zip(dict(stats)["min"], dict(stats)["max"])):
        r.fail("data.max", "expected every max above its min")
    return scale, tuple(stats)


def _optimizer(r: _Reader, opt: dict) -> tuple:
    """The optimizer's name and its sorted ``(setting, value)`` pairs, each checked against
    the optimizer's own settings table; ``lr`` defaults to 0.1."""
    name = r.choice(opt.get("name", "sgd"), "optimizer.name", tuple(OPTIMIZERS))
    table = {s.name: s for s in OPTIMIZERS[name].settings}
    r.known_keys(opt, "optimizer", ("name",) + tuple(table))
    settings = []
    for k in sorted(opt):
        if k == "name":
            continue
        v, setting, key = opt[k], table[k], f"optimizer.{k}"
        if setting.kind == "pair":
            v = r.vector(v, key)
            if len(v) != 2:
                r.fail(key, f"expected two numbers [β₁, β₂], got {len(v)}")
        elif setting.kind == "flag":
            if not isinstance(v, bool):
                r.fail(key, f"expected true or false, got {_describe(v)}")
        else:
            v = r.number(v, key)
        try:
            settings.append((k, setting.check(v, key)))
        except InputError as exc:
            r.fail(key, str(exc).split(": ", 1)[1])
    if "lr" not in opt:
        settings.append(("lr", 0.1))
        settings.sort()
    return name, tuple(settings)


def _samples(r: _Reader, value, key: str, allow_scalar: bool = False):
    """One sample (a list, or a number for a target) or a batch (a list of lists);
    returns (samples, is_batch)."""
    if allow_scalar and isinstance(value, (int, float)) and not isinstance(value, bool):
        return ((r.number(value, key),),), False
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        rows = tuple(r.vector(v, f"{key}[{i}]") for i, v in enumerate(value))
        if len({len(row) for row in rows}) != 1:
            r.fail(key, "every sample of a batch needs the same number of values")
        return rows, True
    return (r.vector(value, key),), False


def _layer(r: _Reader, raw: dict, key: str, layout: str, n_in: int) -> LayerSpec:
    activation = r.choice(raw["activation"], f"{key}.activation", tuple(ACTIVATIONS))
    alpha = r.number(raw.get("alpha", 0.01), f"{key}.alpha")
    w = raw["weights"]
    if isinstance(w, list) and w and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in w):
        weights = r.vector(w, f"{key}.weights")  # flat: one unit, one weight per input
        if len(weights) != n_in:
            r.fail(f"{key}.weights", f"a flat list is the weight vector of a one-unit layer: expected {n_in} "
                                     f"weight{'s' * (n_in != 1)} (one per input), got {len(weights)}")
        units = 1
    else:
        if not (isinstance(w, list) and w and all(isinstance(row, list) for row in w)):
            r.fail(f"{key}.weights", f"expected a matrix (a list of rows) or a flat list, got {_describe(w)}")
        weights = tuple(r.vector(row, f"{key}.weights[{i}]") for i, row in enumerate(w))
        rows, cols = len(weights), {len(row) for row in weights}
        if len(cols) != 1:
            r.fail(f"{key}.weights", "rows of different lengths")
        cols = cols.pop()
        given_units = cols if layout == "in_out" else rows
        b = raw["bias"]
        inputs_ok = (rows if layout == "in_out" else cols) == n_in
        # with the inputs right, a bias vector of another length is the bias's mistake; otherwise it fixes
        # the unit count the weights should have
        units = len(b) if isinstance(b, list) and b and not inputs_ok else given_units
        if (rows, cols) != ((n_in, units) if layout == "in_out" else (units, n_in)):
            if layout == "in_out":
                expected = f"{n_in} row{'s' * (n_in != 1)} (inputs) × {units} column{'s' * (units != 1)} (units)"
            else:
                expected = f"{units} row{'s' * (units != 1)} (units) × {n_in} column{'s' * (n_in != 1)} (inputs)"
            r.fail(f"{key}.weights", f"expected {expected} for layout {layout}, got {_shape(w)}")
    b = raw["bias"]
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        bias = r.number(b, f"{key}.bias")  # one shared bias
    else:
        bias = r.vector(b, f"{key}.bias")
        if len(bias) != units:
            r.fail(f"{key}.bias", f"expected {units} number{'s' * (units != 1)} (one per unit) or one shared "
                                  f"number, got {len(bias)}")
    return LayerSpec(weights, bias, activation, alpha)


def _render(r: _Reader, raw) -> RenderSettings:
    raw = r.table(raw, "render")
    r.known_keys(raw, "render", ("decimals", "sig_figs", "rounding", "lang", "format", "view"))
    if "decimals" in raw and "sig_figs" in raw:
        r.fail("render", "give decimals or sig_figs, not both")
    decimals = r.integer(raw["decimals"], "render.decimals", 0, 15) if "decimals" in raw else None
    sig_figs = r.integer(raw["sig_figs"], "render.sig_figs", 1, 17) if "sig_figs" in raw else None
    if decimals is None and sig_figs is None:
        decimals = 4
    return RenderSettings(
        decimals=decimals,
        sig_figs=sig_figs,
        rounding=r.choice(raw.get("rounding", "exact"), "render.rounding", ROUNDINGS),
        lang=r.choice(raw.get("lang", "en"), "render.lang", LANGS),
        format=r.choice(raw.get("format", "markdown"), "render.format", FORMATS),
        view=r.choice(raw.get("view", "layer"), "render.view", VIEWS),
    )
