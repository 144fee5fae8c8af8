"""Activations: one :class:`ActivationSpec` per activation, in one table.

Each entry says how the activation is built on the engine (one op-table node per unit
for elementwise ones; :func:`tracegrad.softmax` over the layer; the ``z`` nodes
themselves for ``identity``), its parameters and defaults, its symbol (σ, tanh, ReLU),
its definition as the document writes it (σ(x) = 1/(1 + e^{−x})), and its derivative as
a formula over the layer's ``z`` and ``a`` (σ′ = a ⊙ (1 − a), tanh′ = 1 − a², ReLU′ =
𝟙[z > 0]). The nn layers, the problem-file parser, the layer view, the closed forms and
the checker's mutations all read this table; none of them names an activation by hand.
The definition is a formula, so the line verifier checks it against the activations it
defines (:func:`tracegrad.problem.formulas.formula_mismatches`).

To add an activation: one entry in :data:`ACTIVATIONS` (and, if it is elementwise, its
op in :mod:`tracegrad.core.ops`), plus its tests: ``tests/test_specs.py`` adds one, op and
entry, from a test fixture and derives, verifies and checks a problem with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.errors import InputError
from ..core.formula import E, Applied, Call, Formula, Sym, Total, cases, indicator, maximum, odot
from ..core.functional import softmax as _softmax
from ..core.notation import Math
from ..core.numbers import exact_text
from ..core.ops import OPS

ALPHA = Sym(r"\alpha", "α", "alpha")
"""The slope of an activation's definition (LeakyReLU's α), bound to ``alpha``."""


@dataclass(frozen=True)
class ActivationSpec:
    """One activation. ``build(z, alpha)`` maps a layer's ``z`` nodes to its ``a`` nodes;
    ``definition(x, x_j)`` is f(x) as a :class:`~tracegrad.core.formula.Formula` of its
    variable (``x_j``: the variable at another unit j, for softmax's Σⱼ), written in the network
    section and checked against the activations the engine computed; ``derivative(z, a, alpha)``
    is f′ as a formula over the layer's symbols, ``None`` when the derivative is not
    elementwise (softmax) or trivial (identity); ``from_output`` says the derivative is written
    with ``a`` (σ, tanh), so computing it from ``z`` is a mistake a student can make.
    ``jacobian(g, a)`` is δ = ∂L/∂z from the upstream ``g`` = ∂L/∂a for an activation that is
    not elementwise (softmax: a ⊙ (g − Σⱼ gⱼaⱼ)). An elementwise activation is the op ``op``
    of the op table, which holds how it is computed, evaluated, written and differentiated."""

    name: str
    latex: str
    text: str
    build: Callable[[list, float], list]
    definition: Callable[[Formula, Formula], Formula] | None = None
    derivative: Callable[[Formula, Formula, float], Formula] | None = None
    from_output: bool = False
    op: str | None = None  # the op-table op of an elementwise activation
    params: tuple = ()  # keyword parameters it takes, with problem-file keys of the same names
    jacobian: Callable[[Formula, Formula], Formula] | None = None
    stable: Callable | None = None  # (numpy, z, axes) -> f(z) without overflow, for one not elementwise
    variable: str = "x"  # the variable its definition is written in
    indexed: bool = False  # the definition is of one unit i of a layer (softmax(z)ᵢ)

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

    def applied(self, z: Formula, alpha: float = 0.01) -> Formula:
        """f(z) as a formula: the activation's op for an elementwise one, else its definition
        at z (softmax), z itself for the identity."""
        if self.op is not None:
            return Call(self.op, (z,), (alpha,) if OPS[self.op].params else ())
        if self.definition is not None:
            return Applied(self.symbol(alpha), z, self.definition(z, z), self.stable)
        return z

    def defined(self) -> tuple | None:
        """``(f(x) as written, its definition)``: the definition over the variable bound to ``x``
        (and its slope to ``alpha``), as the network section prints it; ``None`` for the identity."""
        if self.definition is None:
            return None
        name = self.variable
        if self.indexed:
            x, x_j = Sym(f"{name}_{{i}}", f"{name}ᵢ", "x"), Sym(f"{name}_{{j}}", f"{name}ⱼ", "x")
            head = Math(rf"{self.latex}\left({name}\right)_{{i}}", f"{self.text}({name})ᵢ")
            return head, self.definition(x, x_j)
        x = Sym(name, name, "x")
        latex, text = (rf"{self.latex}_{{{ALPHA.latex}}}", f"{self.text}_{ALPHA.text}") if self.params else \
            (self.latex, self.text)
        return Math(rf"{latex}\left({name}\right)", f"{text}({name})"), self.definition(x, x)

    def __call__(self, z: list, alpha: float = 0.01) -> list:
        """Apply the activation to the layer ``z`` (``alpha`` is used by ``leaky_relu`` only)."""
        return self.build(list(z), alpha)


def _stable_softmax(np, z, axes):
    """Softmax over each sample's units, shifted by the largest (no overflow)."""
    z = np.asarray(z, dtype=float)
    if not z.ndim:
        return 1.0
    e = np.exp(z - np.max(z, axis=axes.units, keepdims=True))
    return e / np.sum(e, axis=axes.units, keepdims=True)


def _per_unit(method: str, with_alpha: bool = False):
    if with_alpha:
        return lambda z, alpha: [getattr(v, method)(alpha) for v in z]
    return lambda z, alpha: [getattr(v, method)() for v in z]


_SPECS = (
    ActivationSpec("sigmoid", r"\sigma", "σ", _per_unit("sigmoid"), lambda x, _: 1 / (1 + E ** -x),
                   lambda z, a, alpha: odot(a, 1 - a), from_output=True, op="sigmoid"),
    ActivationSpec("tanh", r"\tanh", "tanh", _per_unit("tanh"),
                   lambda x, _: (E ** x - E ** -x) / (E ** x + E ** -x),
                   lambda z, a, alpha: 1 - a ** 2, from_output=True, op="tanh"),
    ActivationSpec("relu", r"\operatorname{ReLU}", "ReLU", _per_unit("relu"), lambda x, _: maximum(0, x),
                   lambda z, a, alpha: indicator(z > 0), op="relu"),
    ActivationSpec("leaky_relu", r"\operatorname{LeakyReLU}", "LeakyReLU", _per_unit("leaky_relu", True),
                   lambda x, _: maximum(ALPHA * x, x),
                   lambda z, a, alpha: cases((z > 0, 1), otherwise=alpha), op="leaky_relu", params=("alpha",)),
    ActivationSpec("softmax", r"\operatorname{softmax}", "softmax", lambda z, alpha: _softmax(z),
                   lambda x, x_j: E ** x / Total(E ** x_j, "units", "j"),
                   jacobian=lambda g, a: odot(a, g - Total(odot(g, a), "units", "j")), stable=_stable_softmax,
                   variable="z", indexed=True),
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
