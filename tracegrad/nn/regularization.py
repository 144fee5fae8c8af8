"""Penalty terms added to a loss: L2 (½λ Σ w²) and L1 (λ Σ |w|).

Both are ordinary nodes, so a derivation shows them. Pass the weights to
penalise; :func:`weights` picks a model's weights (role ``W``), leaving biases
and BatchNorm's γ, β alone, as is usual. With SGD an L2 penalty λ is the same
update as the optimizer's ``weight_decay=λ``; with Adam it is not (see
:mod:`tracegrad.nn.optim`).
"""

from __future__ import annotations

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
