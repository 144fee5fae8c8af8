"""Activation functions over a layer: each maps a list of ``Value`` s to a list.

Elementwise ones make one node per unit with the op table's op; ``softmax``
is :func:`tracegrad.softmax` over the whole layer; ``identity`` (alias
``linear``) returns its input nodes themselves.
"""

from __future__ import annotations

from ..core.errors import InputError
from ..core.notation import Math
from ..core.numbers import exact_text
from ..core.functional import softmax as _softmax


def sigmoid(z: list) -> list:
    """σ(z) = 1 / (1 + e^−z) per unit."""
    return [v.sigmoid() for v in z]


def tanh(z: list) -> list:
    """tanh(z) per unit."""
    return [v.tanh() for v in z]


def relu(z: list) -> list:
    """max(0, z) per unit."""
    return [v.relu() for v in z]


def leaky_relu(z: list, alpha: float = 0.01) -> list:
    """z for z > 0, α·z otherwise, per unit."""
    return [v.leaky_relu(alpha) for v in z]


def softmax(z: list) -> list:
    """e^{zᵢ} / Σⱼ e^{zⱼ} over the layer (shifted by max z, so it never overflows)."""
    return _softmax(z)


def identity(z: list) -> list:
    """No activation: the units' z nodes themselves."""
    return list(z)


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu,
               "softmax": softmax, "identity": identity, "linear": identity}
"""Activation functions by name: ``function(list[Value], **params) -> list[Value]``."""

PARAMETERS = {"leaky_relu": ("alpha",)}
"""The keyword parameters an activation takes (the others take none)."""


def activation(name: str, key: str | None = None):
    """The activation called ``name``, or an :class:`InputError` listing the known ones."""
    if name not in ACTIVATIONS:
        raise InputError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}", key=key)
    return ACTIVATIONS[name]


def activate(name: str, z: list, alpha: float = 0.01) -> list:
    """Apply activation ``name`` to the layer ``z`` (``alpha`` is used by ``leaky_relu`` only)."""
    fn = activation(name)
    return fn(z, alpha=alpha) if "alpha" in PARAMETERS.get(name, ()) else fn(z)


def activation_name(name: str, alpha: float = 0.01) -> Math:
    """f for an activation: σ, tanh, ReLU …"""
    return {
        "sigmoid": Math(r"\sigma", "σ"),
        "tanh": Math(r"\tanh", "tanh"),
        "relu": Math(r"\operatorname{ReLU}", "ReLU"),
        "leaky_relu": Math(rf"\operatorname{{LeakyReLU}}_{{{exact_text(alpha)}}}", f"LeakyReLU[{exact_text(alpha)}]"),
        "softmax": Math(r"\operatorname{softmax}", "softmax"),
    }.get(name, Math(r"\operatorname{id}", "id"))
