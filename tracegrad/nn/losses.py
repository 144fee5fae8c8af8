"""Loss functions: ``loss(predictions, targets) -> Value``, averaged over a batch.

``predictions`` is a list over samples of lists of output ``Value`` s; a single
sample may be given as one list (or, for one output, as the ``Value`` itself).
``targets`` has the same shape, as numbers; they become leaves tagged
``y[k]``. Over a batch of N samples the loss is (1/N)·Σₛ Lₛ, written as one
``sum`` node and one ``div`` node tagged ``loss``, each per-sample loss tagged
``loss@s``; for one sample the sample's own loss node is tagged ``loss``.

Per sample, over the outputs: ``half_se`` sums ½(ŷ − y)² (the document's
worked example); ``mse``, ``mae``, ``bce``, ``bce_logits`` and ``hinge`` take the
mean; ``cce`` is −Σ y·log p over the terms with y ≠ 0; ``cce_logits`` is one
``softmax_ce`` node. One output means no sum and no mean node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Callable

from ..core.errors import InputError
from ..core.formula import Formula, Frac, Num, Total, bars, call, half, indicator, maximum, odot
from ..core.functional import sum as _sum_nodes
from ..core.value import Value, apply
from .activations import ACTIVATIONS
from .module import mark


def _average(terms: list) -> Value:
    return terms[0] if len(terms) == 1 else _sum_nodes(terms) / len(terms)


def _total(terms: list) -> Value:
    return terms[0] if len(terms) == 1 else _sum_nodes(terms)


def half_se(p: list, y: list) -> Value:
    """Σₖ ½(ŷₖ − yₖ)²."""
    return _total([apply("half_sq_err", (a, b)) for a, b in zip(p, y)])


def mse(p: list, y: list) -> Value:
    """(1/K)·Σₖ (ŷₖ − yₖ)²."""
    return _average([apply("sq_err", (a, b)) for a, b in zip(p, y)])


def mae(p: list, y: list) -> Value:
    """(1/K)·Σₖ |ŷₖ − yₖ|."""
    return _average([(a - b).abs() for a, b in zip(p, y)])


def bce(p: list, y: list) -> Value:
    """(1/K)·Σₖ −[yₖ log pₖ + (1 − yₖ) log(1 − pₖ)] from probabilities."""
    return _average([apply("bce", (a, b)) for a, b in zip(p, y)])


def bce_logits(z: list, y: list) -> Value:
    """Binary cross-entropy from logits z (stable: max(z, 0) − z·y + log(1 + e^−|z|))."""
    return _average([apply("bce_logits", (a, b)) for a, b in zip(z, y)])


def cce(p: list, y: list) -> Value:
    """−Σₖ yₖ log pₖ from probabilities (terms with yₖ = 0 are left out; yₖ = 1 is not written)."""
    terms = [a.log() if b.data == 1 else b * a.log() for a, b in zip(p, y) if b.data != 0]
    if not terms:
        raise InputError("categorical cross-entropy needs a target with a non-zero entry", key="targets")
    return -_total(terms)


def cce_logits(z: list, y: list) -> Value:
    """Softmax + categorical cross-entropy from logits as one stable ``softmax_ce`` node."""
    return apply("softmax_ce", list(z) + list(y))


def hinge(s: list, y: list) -> Value:
    """(1/K)·Σₖ max(0, 1 − yₖ·sₖ) with yₖ ∈ {−1, +1}."""
    return _average([(1 - b * a).relu() for a, b in zip(s, y)])


def _any(y: float) -> str | None:
    return None


def _probability(y: float) -> str | None:
    return None if 0 <= y <= 1 else "must lie between 0 and 1"


def _non_negative(y: float) -> str | None:
    return None if y >= 0 else "must be non-negative (a one-hot or probability vector)"


def _sign(y: float) -> str | None:
    return None if y in (-1, 1) else "must be −1 or +1 for the hinge loss"


# --- formulas: per sample, over a layer's vectors ŷ (or z) and y with n outputs ------------

def _softmax_of(z: Formula) -> Formula:
    return ACTIVATIONS["softmax"].applied(z)


def _mean(term: Formula, n: Formula, outputs: int) -> Formula:
    """(1/n)·Σᵢ term, or the term itself for one output."""
    return term if outputs == 1 else Frac(Num(1), n) * Total(term, "units", "i")


def _sum(term: Formula, outputs: int) -> Formula:
    return term if outputs == 1 else Total(term, "units", "i")


def _per_output(factor: Formula, n: Formula, outputs: int) -> Formula:
    """(1/n)·factor: the derivative of a mean over the outputs."""
    return factor if outputs == 1 else Frac(Num(1), n) * factor


def _bce_formula(p: Formula, y: Formula, n: Formula, outputs: int) -> Formula:
    return -_mean(y * call("log", p) + (1 - y) * call("log", 1 - p), n, outputs)


@dataclass(frozen=True)
class Simplification:
    """The textbook δ = ∂L/∂z a loss gives with an output activation: ``formula(p, y, n, outputs)``,
    explained by the catalog message ``why.<message>``, valid when ``condition(targets)`` holds
    (always when None). ``replaces_chain``: the derivation writes δ this way instead of
    ∂L/∂ŷ ⊙ f′ (softmax, whose Jacobian is not elementwise); otherwise the chain is written and
    the simplification said in a note (σ with BCE)."""

    formula: Callable
    message: str
    condition: Callable | None = None
    replaces_chain: bool = True

    def applies(self, targets) -> bool:
        return self.condition is None or self.condition(targets)


def _sums_to_one(targets) -> bool:
    """Whether every target vector sums to 1 (one-hot or a distribution): then softmax with
    cross-entropy gives δ = ŷ − y (in general, δ = ŷ·Σy − y)."""
    return all(abs(math.fsum(row) - 1.0) <= 1e-12 for row in targets)


@dataclass(frozen=True)
class Loss:
    """A named loss: ``per_sample(outputs, targets)`` on one sample, averaged over a batch by
    ``__call__``; one entry of :data:`LOSSES` holds everything tracegrad knows of it.

    ``from_logits``: it takes the output layer's pre-activations (logits, scores) instead of
    its activations. ``expects`` says what (``outputs``, ``probabilities``, ``logits``,
    ``scores``); ``target_rule`` checks each target; ``labels`` how class labels become
    targets in training (``one_hot``, ``sign``, ``binary`` or ``None`` for regression);
    ``sums_outputs``: the per-sample loss adds its outputs' terms (else it averages them).
    ``formula(p, y, n, outputs)`` is the per-sample loss and ``derivative(p, y, n, outputs)``
    its derivative by the prediction (∂L/∂ŷ, or δ of the output layer for a loss on logits),
    as :class:`~tracegrad.core.formula.Formula` s over the output vector ``p``, the target
    ``y`` and the number of outputs ``n``; ``simplified`` maps an output activation to the
    textbook δ = ∂L/∂z it gives with this loss (softmax with cross-entropy, σ with BCE:
    δ = ŷ − y): a :class:`Simplification`. ``derivative_slips`` are the constant factors of the
    derivative a student drops or doubles: ``(message key check.mistake.<key>, factor(n))``, the
    factor the slip multiplies ∂L/∂ŷ by for ``n`` outputs (dropping the ½ of ½(ŷ − y)² doubles it;
    dropping MSE's 2/n scales it by n/2)."""

    name: str
    from_logits: bool
    per_sample: Callable[[list, list], Value]
    target_rule: Callable[[float], str | None] = _any
    expects: str = "outputs"
    labels: str | None = None
    sums_outputs: bool = False
    formula: Callable | None = None
    derivative: Callable | None = None
    simplified: dict = field(default_factory=dict)
    derivative_slips: tuple = ()

    @property
    def classification(self) -> bool:
        return self.labels is not None

    @property
    def decision(self) -> float:
        """The threshold a one-output classifier's output is compared with (0.5 on probabilities)."""
        return 0.5 if self.expects == "probabilities" else 0.0

    def __call__(self, predictions, targets) -> Value:
        preds, ys = _shape(predictions, targets)
        n = len(preds)
        losses = []
        for s, (p, y) in enumerate(zip(preds, ys)):
            sample = None if n == 1 else s
            losses.append(self.per_sample(p, self.targets(y, sample)))
            if n > 1:
                mark(losses[-1], "loss", sample=s)
        return mark(losses[0] if n == 1 else _sum_nodes(losses) / n, "loss")

    def targets(self, y: list, sample=None) -> list:
        """The targets of one sample as leaves tagged ``y[k]``, each checked by the loss's target rule."""
        out = []
        for k, t in enumerate(y):
            if isinstance(t, Value):
                out.append(t)
                continue
            key = "targets" + ("" if sample is None else f"[{sample}]") + f"[{k}]"
            if not isinstance(t, Real) or isinstance(t, bool) or not math.isfinite(t):
                raise InputError(f"a target must be a finite number, got {t!r}", key=key)
            problem = self.target_rule(float(t))
            if problem:
                raise InputError(f"target {t!r} {problem} ({self.name})", key=key)
            out.append(mark(Value(float(t)), "y", None, (k,), sample))
        return out


def _sample(x) -> bool:
    """True when ``x`` is one sample: a Value, or a list of Values."""
    return isinstance(x, Value) or (isinstance(x, (list, tuple)) and all(isinstance(v, Value) for v in x))


def _shape(predictions, targets):
    if isinstance(predictions, Value):
        predictions = [predictions]
    if _sample(predictions):
        preds = [list(predictions)]
        ys = [targets if isinstance(targets, (list, tuple)) else [targets]]
    else:
        preds = [[p] if isinstance(p, Value) else list(p) for p in predictions]
        if not isinstance(targets, (list, tuple)) or len(targets) != len(preds):
            got = len(targets) if isinstance(targets, (list, tuple)) else repr(targets)
            raise InputError(f"{len(preds)} samples of predictions but {got} targets", key="targets")
        ys = [t if isinstance(t, (list, tuple)) else [t] for t in targets]
    if not preds or not preds[0]:
        raise InputError("no predictions to compute a loss of", key="predictions")
    for s, (p, y) in enumerate(zip(preds, ys)):
        if len(p) != len(y):
            where = "targets" if len(preds) == 1 else f"targets[{s}]"
            raise InputError(f"{len(p)} outputs but {len(y)} targets", key=where)
    return preds, ys


LOSSES = {loss.name: loss for loss in (
    Loss("half_se", False, half_se, sums_outputs=True,
         formula=lambda p, y, n, k: _sum(half() * (p - y) ** 2, k),
         derivative=lambda p, y, n, k: p - y,
         derivative_slips=(("loss_grad_doubled", lambda n: 2.0), ("loss_grad_halved", lambda n: 0.5))),
    Loss("mse", False, mse,
         formula=lambda p, y, n, k: _mean((p - y) ** 2, n, k),
         derivative=lambda p, y, n, k: (Num(2) if k == 1 else Frac(Num(2), n)) * (p - y),
         derivative_slips=(("loss_grad_two_over_n_dropped", lambda n: n / 2.0),
                           ("loss_grad_two_dropped", lambda n: 0.5))),
    Loss("mae", False, mae,
         formula=lambda p, y, n, k: _mean(bars(p - y), n, k),
         derivative=lambda p, y, n, k: _per_output(call("sign", p - y), n, k)),
    Loss("bce", False, bce, _probability, "probabilities", "binary",
         formula=_bce_formula,
         derivative=lambda p, y, n, k: _per_output((p - y) / (p * (1 - p)), n, k),
         simplified={"sigmoid": Simplification(lambda p, y, n, k: _per_output(p - y, n, k), "sigmoid_bce",
                                               replaces_chain=False)}),
    Loss("bce_logits", True, bce_logits, _probability, "logits", "binary",
         formula=lambda z, y, n, k: _bce_formula(call("sigmoid", z), y, n, k),
         derivative=lambda z, y, n, k: _per_output(call("sigmoid", z) - y, n, k)),
    Loss("cce", False, cce, _non_negative, "probabilities", "one_hot", sums_outputs=True,
         formula=lambda p, y, n, k: -_sum(y * call("log", p), k),
         derivative=lambda p, y, n, k: -(y / p),
         simplified={"softmax": Simplification(lambda p, y, n, k: p - y, "softmax_cce", _sums_to_one)}),
    Loss("cce_logits", True, cce_logits, _non_negative, "logits", "one_hot", sums_outputs=True,
         formula=lambda z, y, n, k: -_sum(y * call("log", _softmax_of(z)), k),
         derivative=lambda z, y, n, k: _softmax_of(z) - y),
    Loss("hinge", True, hinge, _sign, "scores", "sign",
         formula=lambda s, y, n, k: _mean(maximum(0, 1 - odot(y, s)), n, k),
         derivative=lambda s, y, n, k: -_per_output(odot(y, indicator(1 - odot(y, s) > 0)), n, k)),
)}
"""Losses by name. To add a loss: one entry here (its per-sample function on the engine,
its formula and derivative), plus its tests."""


def loss(name: str) -> Loss:
    """The loss called ``name``, or an :class:`InputError` listing the known ones."""
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}", key="loss")
    return LOSSES[name]
