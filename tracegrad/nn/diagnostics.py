"""Gradient diagnostics for the document's vanishing/exploding gradients section."""

from __future__ import annotations

import math


def gradient_norms(model) -> dict:
    """``{layer: ‖∂L/∂θ‖₂}`` over each layer's parameters (weights, biases, γ, β), layers in order.

    Run a backward pass first. Parameters without a layer number are grouped under ``None``.
    """
    squares: dict = {}
    for p in model.parameters():
        layer = p.role.layer if p.role is not None else None
        squares.setdefault(layer, []).append(p.grad * p.grad)
    order = sorted(squares, key=lambda k: (k is None, k or 0))
    return {layer: math.sqrt(math.fsum(squares[layer])) for layer in order}


def format_norms(rows: dict) -> str:
    """A Markdown table of gradient norms: ``rows`` maps a name to ``{layer: norm}``."""
    layers = sorted({layer for norms in rows.values() for layer in norms}, key=lambda k: (k is None, k or 0))
    head = "| network | " + " | ".join(f"layer {k}" for k in layers) + " |"
    rule = "| --- |" + " ---: |" * len(layers)
    body = ["| " + name + " | " + " | ".join(f"{norms[k]:.3e}" if k in norms else "" for k in layers) + " |"
            for name, norms in rows.items()]
    return "\n".join([head, rule, *body])
