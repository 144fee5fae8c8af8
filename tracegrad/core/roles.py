"""Roles: what a node *is* in a network, so renderers can group scalars back into
the document's vectors and matrices (z₁ = [2.0, 2.4]).

A role is optional, immutable and attached to a ``Value`` as ``value.role``;
the engine never reads it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    """``quantity`` names the kind of value (``x``, ``y``, ``z``, ``a``, ``W``, ``b``,
    ``y_hat``, ``loss`` …); ``layer`` is 1-based as in the document (W₁ feeds hidden
    layer 1); ``index`` is the position inside the vector or matrix in the problem's
    layout; ``sample`` the position in a batch (``None`` for a single sample); ``step`` the
    iteration of a derivation of several steps (``None`` for the first)."""

    quantity: str
    layer: int | None = None
    index: tuple = ()
    sample: int | None = None
    step: int | None = None

    def label(self) -> str:
        """A readable label: ``W1[0][1]``, ``z2[0]``, ``x[1]``, ``loss``; ``@3`` marks sample 3,
        ``#2`` step 2."""
        name = self.quantity + ("" if self.layer is None else str(self.layer))
        name += "".join(f"[{i}]" for i in self.index)
        if self.sample is not None:
            name += f"@{self.sample}"
        return name if self.step is None else f"{name}#{self.step}"


def tag(value, role: Role, label: str | None = None):
    """Attach ``role`` (and a label, by default ``role.label()``) to ``value``; returns it."""
    value.role = role
    value.label = label if label is not None else role.label()
    return value
