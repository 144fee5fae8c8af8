"""Penalty terms added to a loss, one entry each in :data:`REGULARIZERS`: L2 (½λ Σ w²)
and L1 (λ Σ |w|), each with how it is built on the engine, its formula and its gradient.

Both are ordinary nodes, so a derivation shows them. Pass the weights to
penalise; :func:`weights` picks a model's weights (role ``W``), leaving biases
and BatchNorm's γ, β alone, as is usual. With SGD an L2 penalty λ is the same
update as the optimizer's ``weight_decay=λ``; with Adam it is not (see
:mod:`tracegrad.nn.optim`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.formula import Formula, Frac, Num, Total, bars, call
from ..core.functional import dot
from ..core.functional import sum as _sum
from ..core.value import Value
from .module import mark

def weights(model) -> list:
    """The parameters of ``model`` whose role is a weight (``W``)."""
    return [p for p in model.parameters() if p.role is not None and p.role.quantity == "W"]


def l2_penalty(params, lam: float) -> Value:
    """½·λ·Σ w² as one ``dot`` node times a constant, tagged ``l2``."""
    params = list(params)
    return mark(0.5 * lam * dot(params, params), "l2")


def l1_penalty(params, lam: float) -> Value:
    """λ·Σ |w|, tagged ``l1``."""
    return mark(lam * _sum([p.abs() for p in params]), "l1")


@dataclass(frozen=True)
class Regularizer:
    """A penalty on the weights: ``build(weights, λ)`` on the engine; ``formula(λ, W)`` the
    term over one weight matrix W and ``gradient(λ, W)`` its derivative by W, as formulas."""

    name: str
    build: Callable
    formula: Callable[[Formula, Formula], Formula]
    gradient: Callable[[Formula, Formula], Formula]


REGULARIZERS = {r.name: r for r in (
    Regularizer("l2", l2_penalty, lambda lam, w: Frac(Num(1), Num(2)) * lam * Total(w ** 2, "all"),
                lambda lam, w: lam * w),
    Regularizer("l1", l1_penalty, lambda lam, w: lam * Total(bars(w), "all"),
                lambda lam, w: lam * call("sign", w)),
)}
"""Penalties by name (the problem file's ``[loss] l2 = λ``, ``l1 = λ``)."""
