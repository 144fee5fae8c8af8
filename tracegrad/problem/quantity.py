"""Typed quantities: every value a derivation prints, as data.

A :class:`Quantity` is a kind (``z``, ``delta``, ``dL/dW``, ``new`` …, the table
:data:`tracegrad.problem.kinds.KINDS`), a layer, a parameter (``W`` or ``b``), an optimizer state (``m``,
``v_hat`` …) and a step (the iteration, for derivations of several steps), plus the trace
nodes it points at. Its answers-file name (``z1``, ``dL/dW2``, ``W1_new``, ``m_W1``,
``W1_new@2``), its element keys (``z1[0]``) and its section are derived from those fields,
never parsed back from a name; its symbol, formula and caption come from its kind too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.nested import flatten, shape_of
from .kinds import KINDS


@dataclass(frozen=True)
class Quantity:
    """A named value a derivation prints: ``nodes`` is a nested tuple of trace indices in the
    problem's layout (an extra leading axis per sample for a batch)."""

    kind: str
    layer: int | None = None
    parameter: str | None = None
    state: str | None = None
    step: int | None = None
    nodes: tuple = ()
    batch: bool = False

    @property
    def name(self) -> str:
        """The answers-file name: ``z1``, ``dL/dW2``, ``W1_new``; ``@k`` marks step k > 1."""
        base = KINDS[self.kind].pattern.format(k=self.layer, p=self.parameter, s=self.state)
        return base if self.step is None or self.step == 1 else f"{base}@{self.step}"

    @property
    def section(self) -> str:
        return KINDS[self.kind].section

    @property
    def printed(self) -> bool:
        return KINDS[self.kind].printed

    @property
    def per_sample(self) -> bool:
        """One value per sample of a batch (z, δ …; not ∂L/∂W)."""
        return KINDS[self.kind].per_sample

    @property
    def shape(self) -> tuple:
        return shape_of(self.nodes)

    def indices(self) -> list:
        """Every node index, in reading order."""
        return list(flatten(self.nodes))

    def element(self, position: tuple) -> str:
        """The key of one element: ``z1[0]``, ``dL/dW1[0][1]``."""
        return self.name + "".join(f"[{i}]" for i in position)
