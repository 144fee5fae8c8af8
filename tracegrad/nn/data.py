"""Data preprocessing (the document's section) and small generated datasets.

Features are lists of rows (lists of floats); labels a list. Everything random
takes a ``seed`` and uses its own generator, so the same seed gives the same
data, split and batches.

* cleaning: :func:`clean` fills missing values (``None`` or NaN) with the
  column mean, median or a constant, or drops incomplete rows, and reports
  what it did;
* scaling: :class:`MinMaxScaler` and :class:`StandardScaler` (fit on training
  data, transform later data, inverse transform). A constant feature has no
  spread to divide by: min-max maps it to the lower end of the range and z-score
  maps it to 0 (its scale is taken as 1), and the inverse gives the constant back;
* :func:`one_hot`, :func:`train_test_split`, :func:`batches`, :func:`iterations_per_epoch`;
* augmentation: :func:`jitter` and :func:`reflect`;
* datasets: :func:`xor`, :func:`moons`, :func:`spirals`, :func:`linear`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from ..core.errors import InputError


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _rows(X, key: str = "X", allow_missing: bool = False) -> list:
    """``X`` as a rectangular list of float rows, or an :class:`InputError` naming the bad cell."""
    if isinstance(X, np.ndarray):
        X = X.tolist()
    if not isinstance(X, (list, tuple)) or not X:
        raise InputError("expected a non-empty list of rows of numbers", key=key)
    rows = []
    width = None
    for i, row in enumerate(X):
        row = [row] if isinstance(row, Real) or row is None else row
        if not isinstance(row, (list, tuple)):
            raise InputError(f"row {i} is not a list of numbers: {row!r}", key=f"{key}[{i}]")
        if width is None:
            width = len(row)
        if len(row) != width:
            raise InputError(f"row {i} has {len(row)} values, row 0 has {width}", key=f"{key}[{i}]")
        out = []
        for j, v in enumerate(row):
            if allow_missing and _missing(v):
                out.append(None)
            elif isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v):
                out.append(float(v))
            else:
                raise InputError(f"value {v!r} is not a finite number", key=f"{key}[{i}][{j}]")
        rows.append(out)
    return rows


@dataclass(frozen=True)
class CleaningReport:
    """What :func:`clean` did: the strategy, the value filled into each column, every
    filled cell as ``(row, column)``, and the dropped rows (indices into the input)."""

    strategy: str
    fills: dict = field(default_factory=dict)
    filled: tuple = ()
    dropped: tuple = ()

    def __str__(self) -> str:
        if self.strategy == "drop":
            return f"dropped {len(self.dropped)} row(s) with missing values: {list(self.dropped)}"
        how = "a constant" if self.strategy == "constant" else f"the column {self.strategy}"
        lines = [f"filled {len(self.filled)} missing value(s) with {how}"]
        for j, value in sorted(self.fills.items()):
            cells = [r for r, c in self.filled if c == j]
            lines.append(f"  column {j}: {value!r} into rows {cells}")
        return "\n".join(lines)


STRATEGIES = ("mean", "median", "constant", "drop")


def clean(X, strategy: str = "mean", fill_value: float = 0.0, y=None):
    """Fill or drop missing values; returns ``(X, report)``, or ``(X, y, report)`` when ``y`` is given
    (dropped rows are dropped from ``y`` too)."""
    if strategy not in STRATEGIES:
        raise InputError(f"unknown cleaning strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}",
                         key="strategy")
    rows = _rows(X, allow_missing=True)
    labels = None if y is None else list(y)
    if labels is not None and len(labels) != len(rows):
        raise InputError(f"{len(rows)} rows but {len(labels)} labels", key="y")
    if strategy == "drop":
        keep = [i for i, r in enumerate(rows) if None not in r]
        report = CleaningReport("drop", dropped=tuple(i for i in range(len(rows)) if i not in set(keep)))
        rows = [rows[i] for i in keep]
        labels = None if labels is None else [labels[i] for i in keep]
    else:
        fills, filled = {}, []
        for j in range(len(rows[0])):
            present = [r[j] for r in rows if r[j] is not None]
            holes = [i for i, r in enumerate(rows) if r[j] is None]
            if not holes:
                continue
            if strategy == "constant":
                value = float(fill_value)
            elif not present:
                raise InputError(f"column {j} has no values to take a {strategy} of; use strategy 'constant' "
                                 f"or 'drop'", key=f"X[*][{j}]")
            else:
                value = float(np.mean(present) if strategy == "mean" else np.median(present))
            fills[j] = value
            for i in holes:
                rows[i][j] = value
                filled.append((i, j))
        report = CleaningReport(strategy, fills, tuple(sorted(filled)))
    return (rows, report) if labels is None else (rows, labels, report)


class _Scaler:
    """Shared fit/transform/inverse logic: x' = (x − shift) / scale, per column."""

    def __init__(self):
        self.shift: list | None = None
        self.scale: list | None = None

    def fit(self, X) -> "_Scaler":
        self.shift, self.scale = self._fit(np.array(_rows(X), dtype=float))
        return self

    def _check(self, X, key: str) -> np.ndarray:
        if self.shift is None:
            raise InputError(f"{type(self).__name__} is not fitted: call fit() on the training data first", key=key)
        A = np.array(_rows(X, key), dtype=float)
        if A.shape[1] != len(self.shift):
            raise InputError(f"expected {len(self.shift)} features (as fitted), got {A.shape[1]}", key=key)
        return A

    def transform(self, X) -> list:
        """Scale ``X`` with the fitted statistics."""
        A = self._check(X, "X")
        return ((A - self.shift) / self.scale + self._low()).tolist()

    def inverse_transform(self, X) -> list:
        """Undo :meth:`transform`."""
        A = self._check(X, "X")
        return ((A - self._low()) * self.scale + self.shift).tolist()

    def fit_transform(self, X) -> list:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(X).transform(X)

    def _low(self) -> float:
        return 0.0


class MinMaxScaler(_Scaler):
    """x' = lo + (x − min)/(max − min)·(hi − lo); a constant column maps to ``lo``."""

    def __init__(self, feature_range: tuple = (0.0, 1.0)):
        super().__init__()
        lo, hi = feature_range
        if not lo < hi:
            raise InputError(f"feature_range must be (low, high) with low < high, got {feature_range!r}",
                             key="feature_range")
        self.low, self.high = float(lo), float(hi)

    def _fit(self, A):
        lo, hi = A.min(axis=0), A.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        return lo, span / (self.high - self.low)

    def _low(self) -> float:
        return self.low


class StandardScaler(_Scaler):
    """z-score: x' = (x − μ)/σ with the population σ; a constant column (σ = 0) maps to 0."""

    def _fit(self, A):
        sd = A.std(axis=0)
        return A.mean(axis=0), np.where(sd > 0, sd, 1.0)


def one_hot(labels, classes=None):
    """``(rows, classes)``: one row per label with 1.0 at its class's position. ``classes``
    defaults to the sorted distinct labels."""
    labels = list(labels)
    if classes is None:
        classes = sorted(set(labels), key=lambda c: (str(type(c)), c))
    classes = list(classes)
    position = {c: k for k, c in enumerate(classes)}
    rows = []
    for i, label in enumerate(labels):
        if label not in position:
            raise InputError(f"label {label!r} is not one of the classes {classes}", key=f"y[{i}]")
        row = [0.0] * len(classes)
        row[position[label]] = 1.0
        rows.append(row)
    return rows, classes


def train_test_split(X, y, test_size: float = 0.25, seed: int = 0):
    """Shuffle with ``seed`` and split: ``(X_train, X_test, y_train, y_test)``; the test part has
    round(N·test_size) samples (at least one of each part)."""
    X, y = list(X), list(y)
    if len(X) != len(y):
        raise InputError(f"{len(X)} samples but {len(y)} labels", key="y")
    if len(X) < 2 or not 0 < test_size < 1:
        raise InputError(f"need at least 2 samples and 0 < test_size < 1, got {len(X)} and {test_size!r}",
                         key="test_size")
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    n_test = min(max(1, round(len(X) * test_size)), len(X) - 1)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


def iterations_per_epoch(n: int, batch_size: int) -> int:
    """⌈N / batch size⌉: 1000 samples in batches of 100 take 10 iterations."""
    return -(-n // batch_size)


def check_batch_size(size, n: int) -> int:
    """The checked batch size: ``size``, or ``n`` (the whole set) when ``size`` is ``None``."""
    size = n if size is None else size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f"batch size must be a positive integer, got {size!r}", key="batch_size")
    return size


def batches(n: int, batch_size: int | None = None, *, shuffle: bool = True, rng: random.Random | None = None,
            seed: int = 0) -> list:
    """Index lists covering 0..n-1 once: the whole set (``batch_size=None``, batch GD), one sample
    at a time (1, stochastic) or mini-batches; the last batch may be smaller."""
    size = check_batch_size(batch_size, n)
    order = list(range(n))
    if shuffle:
        (rng if rng is not None else random.Random(seed)).shuffle(order)
    return [order[k:k + size] for k in range(0, n, size)]


def jitter(X, y, sigma: float = 0.05, copies: int = 1, seed: int = 0):
    """The data plus ``copies`` noisy copies (Gaussian noise of s.d. ``sigma`` on every feature)."""
    A = np.array(_rows(X), dtype=float)
    rng = np.random.default_rng(seed)
    noisy = [A + rng.normal(0.0, sigma, A.shape) for _ in range(copies)]
    return np.concatenate([A] + noisy).tolist(), list(y) * (copies + 1)


def reflect(X, y, axes=(0,), center=None, label_map: dict | None = None):
    """The data plus its mirror image: the coordinates ``axes`` reflected about ``center``
    (default the origin), labels mapped through ``label_map`` (default unchanged). XOR is
    unchanged by reflecting both axes; two moons reflected through their centre swap classes."""
    A = np.array(_rows(X), dtype=float)
    c = np.zeros(A.shape[1]) if center is None else np.array(center, dtype=float)
    B = A.copy()
    for axis in axes:
        B[:, axis] = 2 * c[axis] - A[:, axis]
    mapped = [label_map.get(v, v) if label_map else v for v in y]
    return np.concatenate([A, B]).tolist(), list(y) + mapped


def xor(n: int = 4, noise: float = 0.0, seed: int = 0):
    """The XOR problem: the four corners of the unit square (n = 4), or ``n`` points drawn
    around them with Gaussian ``noise``; label 1.0 when exactly one coordinate is 1."""
    corners = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    labels = [0.0, 1.0, 1.0, 0.0]
    if n == 4 and noise == 0:
        return corners, labels
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, 4, n)
    A = np.array(corners)[pick] + rng.normal(0.0, noise, (n, 2))
    return A.tolist(), [labels[k] for k in pick]


def moons(n: int = 100, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (as scikit-learn's ``make_moons``): labels 0 (upper) and 1."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    A = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5])])
    labels = np.array([0] * n_out + [1] * n_in)
    order = rng.permutation(n)
    A = A[order] + rng.normal(0.0, noise, (n, 2))
    return A.tolist(), [int(v) for v in labels[order]]


def spirals(n: int = 100, classes: int = 2, noise: float = 0.2, seed: int = 0):
    """``classes`` interleaved spiral arms of ``n`` points each; labels 0..classes-1."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n) + rng.normal(0.0, noise, n)
        rows.extend(np.column_stack([r * np.sin(t), r * np.cos(t)]).tolist())
        labels.extend([k] * n)
    return rows, labels


def linear(n: int = 100, weights=(2.0, -3.0), bias: float = 0.5, scales=(1.0, 100.0), noise: float = 0.1,
           seed: int = 0):
    """A noisy linear regression set: feature j ~ N(0, scales[j]²) and
    y = Σⱼ weights[j]·xⱼ/scales[j] + bias + N(0, noise²). Features on very different scales
    are what z-score normalisation is for."""
    rng = np.random.default_rng(seed)
    s = np.array(scales, dtype=float)
    A = rng.normal(0.0, 1.0, (n, len(s))) * s
    y = (A / s) @ np.array(weights, dtype=float) + bias + rng.normal(0.0, noise, n)
    return A.tolist(), y.tolist()
