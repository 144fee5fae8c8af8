"""The node view: every scalar op of a trace in order, forward then backward.

Forward: each node as ``name = op(operand names) = op(operand values) = value``.
Backward, circuit style, one block per gate: for each input edge,
``upstream × local = contribution`` and the input's running total. Then the
gradient of every leaf.
"""

from __future__ import annotations

from ..core import notation as nt
from ..core.ops import OPS
from ..core.trace import Trace
from . import mathtext as mt
from ..core.notation import Math, partial
from .model import Block, DerivationView, Line, Section
from ..core.numbers import NumberFormat


def node_name(trace: Trace, i: int) -> Math:
    """A node's name: its label, or v₁₂ after its index."""
    return trace.symbol(i)


class NodeView:
    """Builds the node-view :class:`~tracegrad.render.model.DerivationView` of a trace."""

    def __init__(self, trace: Trace, fmt: NumberFormat, catalog, rounding: str = "exact"):
        if rounding == "carry":
            trace = trace.replay(pins={rec.index: fmt.round for rec in trace.nodes if not rec.is_leaf})
        self.trace = trace
        self.fmt = fmt
        self.msg = catalog
        self.rounding = rounding

    def _number(self, x: float) -> Math:
        return mt.number(x, self.fmt)

    def _operand(self, i: int, names: bool) -> tuple:
        rec = self.trace.nodes[i]
        if names and not rec.is_const:
            m = node_name(self.trace, i)
            prec = nt.name_precedence(m.text)
        else:
            m = mt.number(rec.data, None if rec.is_leaf else self.fmt)
            prec = mt.NUMBER_NEGATIVE if m.text.startswith("−") else nt.ATOM
        return (m.latex, prec), (m.text, prec)

    def _op(self, i: int, names: bool) -> Math:
        rec = self.trace.nodes[i]
        spec = OPS[rec.op]
        args = [self._operand(j, names) for j in rec.inputs]
        return Math(spec.render([a[0] for a in args], rec.params, "latex")[0],
                    spec.render([a[1] for a in args], rec.params, "text")[0])

    def forward(self) -> Section:
        lines = []
        for rec in self.trace.nodes:
            if rec.is_const:
                continue
            name = node_name(self.trace, rec.index)
            if rec.is_leaf:
                lines.append(Line(name.text, "", name, None, None, "=", mt.number(rec.data, None), rec.data, True))
                continue
            formula = self._op(rec.index, names=True)
            expansion = self._op(rec.index, names=False)
            # under carry the node holds its rounded value; = or ≈ and the digits come from its own step
            raw = OPS[rec.op].forward(tuple(self.trace.nodes[j].data for j in rec.inputs), rec.params)
            exact = self.fmt.is_exact(raw)
            if expansion.text in (formula.text, self._number(raw).text):
                expansion = None  # nothing to substitute, or the substitution is the value itself
            lines.append(Line(name.text, rec.op, name, formula, expansion, "=" if exact else "≈",
                              self._number(raw), rec.data, exact))
        return Section("node_forward", self.msg("section.node_forward"), (), (Block("", tuple(lines)),))

    def backward(self) -> Section:
        blocks = []
        current, lines = None, []
        out = self.trace.output
        for step in self.trace.steps:
            if self.trace.nodes[step.input].is_const:
                continue  # a constant's gradient is never used
            if step.node != current:
                if lines:
                    blocks.append(Block(self._gate(current), tuple(lines)))
                current, lines = step.node, []
            target = node_name(self.trace, step.input)
            symbol = partial(node_name(self.trace, out.index), target)
            formula = Math(r"\text{" + self.msg("node.upstream") + r"} \times \text{" + self.msg("node.local") + "}",
                           f"{self.msg('node.upstream')} × {self.msg('node.local')}")
            expansion = Math(rf"{self._number(step.upstream).latex} \times {self._paren(step.local).latex}",
                             f"{self._number(step.upstream).text} × {self._paren(step.local).text}")
            exact = self.fmt.is_exact(step.contribution)
            caption = (f"{self.msg('node.contribution')} → {target.text}; "
                       f"{self.msg('node.accumulated')} {self._number(step.accumulated).text}")
            lines.append(Line(target.text, caption, symbol, formula, expansion, "=" if exact else "≈", self._number(step.contribution),
                              step.contribution, exact))
        if lines:
            blocks.append(Block(self._gate(current), tuple(lines)))
        return Section("node_backward", self.msg("section.node_backward"), (), tuple(blocks))

    def _paren(self, x: float) -> Math:
        m = self._number(x)
        return Math(rf"\left({m.latex}\right)", f"({m.text})") if m.text.startswith("−") else m

    def _gate(self, i: int) -> str:
        name = node_name(self.trace, i)
        return f"{name.text} = {self._op(i, names=True).text}"

    def gradients(self) -> Section:
        out = self.trace.output
        lines = []
        for rec in self.trace.nodes:
            if rec.is_leaf and not rec.is_const:
                symbol = partial(node_name(self.trace, out.index), node_name(self.trace, rec.index))
                exact = self.fmt.is_exact(rec.grad)
                lines.append(Line(self.trace.key(rec.index), "", symbol, None, None, "=" if exact else "≈",
                                  self._number(rec.grad), rec.grad, exact))
        return Section("node_gradients", self.msg("section.node_gradients"), (), (Block("", tuple(lines)),))

    def build(self, title: str = "") -> DerivationView:
        m = self.msg
        precision = self.fmt.describe(m)
        sections = (self.forward(), self.backward(), self.gradients())
        return DerivationView(title or m("node_title"), m.lang, "node", self.rounding, precision,
                          m(f"note.{self.rounding}", precision=precision), sections)
