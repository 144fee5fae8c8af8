"""Activations: one :class:`ActivationSpec` per activation, in one table.

Each entry says how the activation is built on the engine (one op-table node per unit
for elementwise ones; :func:`tracegrad.softmax` over the layer; the ``z`` nodes
themselves for ``identity``), its parameters and defaults, its symbol (σ, tanh, ReLU),
its definition as the document writes it (σ(x) = 1/(1 + e^{−x})), and its derivative as
a formula over the layer's ``z`` and ``a`` (σ′ = a ⊙ (1 − a), tanh′ = 1 − a², ReLU′ =
𝟙[z > 0]). The nn layers, the problem-file parser, the layer view, the closed forms and
the checker's mutations all read this table; none of them names an activation by hand.

To add an activation: one entry in :data:`ACTIVATIONS` (and, if it is elementwise, its
op in :mod:`tracegrad.core.ops`), plus its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.errors import InputError
from ..core.formula import Cases, Formula, Indicator, Num, Total, odot
from ..core.functional import softmax as _softmax
from ..core.notation import Math
from ..core.numbers import exact_text


@dataclass(frozen=True)
class ActivationSpec:
    """One activation. ``build(z, alpha)`` maps a layer's ``z`` nodes to its ``a`` nodes;
    ``derivative(z, a, alpha)`` is f′ as a :class:`~tracegrad.core.formula.Formula` over the
    layer's symbols, ``None`` when the derivative is not elementwise (softmax) or trivial
    (identity); ``from_output`` says the derivative is written with ``a`` (σ, tanh), so
    computing it from ``z`` is a mistake a student can make. ``jacobian(g, a)`` is δ = ∂L/∂z from
    the upstream ``g`` = ∂L/∂a for an activation that is not elementwise (softmax:
    a ⊙ (g − Σⱼ gⱼaⱼ))."""

    name: str
    latex: str
    text: str
    build: Callable[[list, float], list]
    definition: Math | None = None
    derivative: Callable[[Formula, Formula, float], Formula] | None = None
    from_output: bool = False
    op: str | None = None  # the op-table op of an elementwise activation
    params: tuple = ()  # keyword parameters it takes, with problem-file keys of the same names
    jacobian: Callable[[Formula, Formula], Formula] | None = None

    def symbol(self, alpha: float = 0.01) -> Math:
        """f as written: σ, tanh, ReLU, LeakyReLU₀.₀₁ …"""
        if "alpha" in self.params:
            return Math(rf"{self.latex}_{{{exact_text(alpha)}}}", f"{self.text}[{exact_text(alpha)}]")
        return Math(self.latex, self.text)

    @property
    def elementwise(self) -> bool:
        return self.op is not None

    @property
    def is_identity(self) -> bool:
        return self.name == "identity"

    def __call__(self, z: list, alpha: float = 0.01) -> list:
        """Apply the activation to the layer ``z`` (``alpha`` is used by ``leaky_relu`` only)."""
        return self.build(list(z), alpha)


def _per_unit(method: str, with_alpha: bool = False):
    if with_alpha:
        return lambda z, alpha: [getattr(v, method)(alpha) for v in z]
    return lambda z, alpha: [getattr(v, method)() for v in z]


_SPECS = (
    ActivationSpec("sigmoid", r"\sigma", "σ", _per_unit("sigmoid"),
                   Math(r"\sigma\left(x\right) = \frac{1}{1 + e^{-x}}", "σ(x) = 1 / (1 + e^(−x))"),
                   lambda z, a, alpha: odot(a, 1 - a), from_output=True, op="sigmoid"),
    ActivationSpec("tanh", r"\tanh", "tanh", _per_unit("tanh"),
                   Math(r"\tanh\left(x\right) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
                        "tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))"),
                   lambda z, a, alpha: 1 - a ** 2, from_output=True, op="tanh"),
    ActivationSpec("relu", r"\operatorname{ReLU}", "ReLU", _per_unit("relu"),
                   Math(r"\operatorname{ReLU}\left(x\right) = \max\left(0, x\right)", "ReLU(x) = max(0, x)"),
                   lambda z, a, alpha: Indicator(z), op="relu"),
    ActivationSpec("leaky_relu", r"\operatorname{LeakyReLU}", "LeakyReLU", _per_unit("leaky_relu", True),
                   Math(r"\operatorname{LeakyReLU}_{\alpha}\left(x\right) = \max\left(\alpha x, x\right)",
                        "LeakyReLU_α(x) = max(α·x, x)"),
                   lambda z, a, alpha: Cases(z, Num(1), Num(alpha)), op="leaky_relu", params=("alpha",)),
    ActivationSpec("softmax", r"\operatorname{softmax}", "softmax", lambda z, alpha: _softmax(z),
                   Math(r"\operatorname{softmax}\left(z\right)_{i} = \frac{e^{z_{i}}}{\sum_{j} e^{z_{j}}}",
                        "softmax(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ)"),
                   jacobian=lambda g, a: odot(a, g - Total(odot(g, a), "units", "j"))),
    ActivationSpec("identity", r"\operatorname{id}", "id", lambda z, alpha: list(z)),
)

ACTIVATIONS: dict = {spec.name: spec for spec in _SPECS}
"""Activations by name (``linear`` is another name for ``identity``); each entry is callable
on a layer: ``ACTIVATIONS["tanh"](z)``."""
ACTIVATIONS["linear"] = ACTIVATIONS["identity"]


def activation(name: str, key: str | None = None) -> ActivationSpec:
    """The activation called ``name``, or an :class:`InputError` listing the known ones."""
    if name not in ACTIVATIONS:
        raise InputError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}", key=key)
    return ACTIVATIONS[name]
