"""Typed quantities: every value a derivation prints, as data.

A :class:`Quantity` is a kind (``z``, ``delta``, ``dL/dW``, ``new`` …, the table
:data:`KINDS`), a layer, a parameter (``W`` or ``b``), an optimizer state (``m``,
``v_hat`` …) and a step (the iteration, for derivations of several steps), plus the trace
nodes it points at. Its answers-file name (``z1``, ``dL/dW2``, ``W1_new``, ``m_W1``,
``W1_new@2``), its element keys (``z1[0]``) and its section are derived from those fields,
never parsed back from a name; its symbol and formula come from
:mod:`tracegrad.problem.formulas`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.nested import flatten, shape_of


@dataclass(frozen=True)
class Kind:
    """How a kind of quantity is named and where it is printed. ``pattern`` is filled with
    ``k`` (the layer), ``p`` (the parameter) and ``s`` (the optimizer state). A kind that is
    not ``printed`` has no line of its own in the layer view (its arithmetic is written inside
    another line, or only a published walkthrough prints it: per-output loss terms, per-path
    contributions): nameable in answers files, never carry-rounded."""

    pattern: str
    section: str
    per_sample: bool = False
    printed: bool = True


KINDS = {
    "x_mean": Kind("x_mean", "scale"),
    "x_std": Kind("x_std", "scale"),
    "x_scaled": Kind("x_scaled", "scale", True),
    "z": Kind("z{k}", "forward", True),
    "mu": Kind("mu{k}", "forward"),
    "var": Kind("var{k}", "forward"),
    "zhat": Kind("zhat{k}", "forward", True),
    "bn": Kind("bn{k}", "forward", True),
    "a": Kind("a{k}", "forward", True),
    "d": Kind("d{k}", "forward", True),
    "y_hat": Kind("y_hat", "forward", True),
    "data_loss": Kind("data_loss", "loss"),
    "penalty": Kind("penalty", "loss"),
    "loss": Kind("loss", "loss"),
    "sample_loss": Kind("sample_loss", "loss", True, printed=False),
    "loss_term": Kind("loss_terms", "loss", True, printed=False),
    "dL/dy_hat": Kind("dL/dy_hat", "backward", True),
    "act_grad": Kind("da{k}/dz{k}", "backward", True),
    "delta": Kind("delta{k}", "backward", True),
    "dL/dW": Kind("dL/dW{k}", "backward"),
    "dL/db": Kind("dL/db{k}", "backward"),
    "dL/dd": Kind("dL/dd{k}", "backward", True),
    "dL/da_via": Kind("dL/da{k}_via", "backward", True, printed=False),
    "dL/da": Kind("dL/da{k}", "backward", True),
    "dL/dbn": Kind("dL/dbn{k}", "backward", True),
    "dL/dgamma": Kind("dL/dgamma{k}", "backward"),
    "dL/dbeta": Kind("dL/dbeta{k}", "backward"),
    "dL/dzhat": Kind("dL/dzhat{k}", "backward", True),
    "dL/dx": Kind("dL/dx", "backward", True, printed=False),
    "grad_norm": Kind("grad_norm", "update"),
    "clip_scale": Kind("clip_scale", "update"),
    "clipped": Kind("clipped_{p}{k}", "update"),
    "grad": Kind("g_{p}{k}", "update"),
    "state": Kind("{s}_{p}{k}", "update"),
    "step": Kind("step_{p}{k}", "update", printed=False),
    "new": Kind("{p}{k}_new", "update"),
}
"""Every kind of quantity."""


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
    def shape(self) -> tuple:
        return shape_of(self.nodes)

    def indices(self) -> list:
        """Every node index, in reading order."""
        return list(flatten(self.nodes))

    def element(self, position: tuple) -> str:
        """The key of one element: ``z1[0]``, ``dL/dW1[0][1]``."""
        return self.name + "".join(f"[{i}]" for i in position)
