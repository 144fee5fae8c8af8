"""The node view: every scalar op of a trace in order, forward then backward.

Forward: each node as ``name = op(operand names) = op(operand values) = value``.
Backward, circuit style, one block per gate: for each input edge,
``upstream × local = contribution`` and the input's running total. Then the
gradient of every leaf.
"""

from __future__ import annotations

from ..core import arithmetic as ar
from ..core import notation as nt
from ..core.notation import Math, partial
from ..core.numbers import NumberFormat
from ..core.ops import OPS
from ..core.trace import Trace
from . import mathtext as mt
from .breaking import laid_out
from .model import Block, DerivationView, Line, Section


def node_name(trace: Trace, i: int) -> Math:
    """A node's name: its label, or v₁₂ after its index."""
    return trace.symbol(i)


class NodeView:
    """Builds the node-view :class:`~tracegrad.render.model.DerivationView` of a trace.

    Under carry rounding every computed value (and every constant written at display
    precision) is rounded as it is printed and the rounded value is what the next step uses,
    in the backward pass too: the upstream gradient and
    the local derivative are the printed ones, each contribution is rounded, and so is each
    running total. Every forward and backward line keeps its arithmetic as data
    (:mod:`tracegrad.core.arithmetic`) for the line verifier."""

    def __init__(self, trace: Trace, fmt: NumberFormat, catalog, rounding: str = "exact"):
        if rounding == "carry":
            # a constant with more digits than a person writes (a softmax's shift) is carried as printed too
            trace = trace.replay(pins={rec.index: fmt.round for rec in trace.nodes
                                       if not rec.is_leaf or mt.is_long(rec.data)})
        self.trace = trace
        self.fmt = fmt
        self.msg = catalog
        self.rounding = rounding
        self.carried = rounding == "carry"
        self._steps = self._backward_steps()

    # --- numbers ----------------------------------------------------------------------
    def _printed(self, x: float) -> ar.Number:
        """A computed value as printed, and the interval it stands for; the same value is
        written the same everywhere."""
        p = self.fmt.printed(x)
        return ar.Number(x if p.exact else p.value, p.text, p.half)

    def _number(self, x: float) -> Math:
        return mt.number(x, self.fmt)

    def _numbers(self, i: int) -> tuple:
        """``(operands, result)`` of node ``i`` as printed cells: leaves as written (in the display
        precision when they have more digits than a person writes, such as a softmax's shift),
        computed values as printed."""
        nodes = self.trace.nodes
        rec = nodes[i]
        raw = float(OPS[rec.op].forward(tuple(nodes[j].data for j in rec.inputs), rec.params))
        operands = [self._printed(nodes[j].data) if not nodes[j].is_leaf or mt.is_long(nodes[j].data)
                    else ar.given(nodes[j].data) for j in rec.inputs]
        return operands, self._printed(raw)

    def _names(self, i: int) -> Math:
        """Node ``i``'s op written with its operands' names (constants as numbers)."""
        rec = self.trace.nodes[i]
        cells = self._numbers(i)[0]
        args = [ar.write(c) if self.trace.nodes[j].is_const else node_name(self.trace, j)
                for j, c in zip(rec.inputs, cells)]
        spec = OPS[rec.op]
        return Math(spec.render([(a.latex, nt.name_precedence(a.text)) for a in args], rec.params, "latex")[0],
                    spec.render([(a.text, nt.name_precedence(a.text)) for a in args], rec.params, "text")[0])

    # --- sections ---------------------------------------------------------------------
    def forward(self) -> Section:
        lines = []
        for rec in self.trace.nodes:
            if rec.is_const:
                continue
            name = node_name(self.trace, rec.index)
            if rec.is_leaf:
                lines.append(Line(name.text, "", name, None, None, "=", mt.number(rec.data, None), rec.data, True))
                continue
            formula = self._names(rec.index)
            operands, result = self._numbers(rec.index)
            # under carry the node holds its rounded value; = or ≈ and the digits come from its own step
            exact = result.half == 0
            cell = ar.Apply(rec.op, tuple(operands), tuple(rec.params))
            expansion, value = ar.write(cell), ar.write(result)
            if expansion.text in (formula.text, value.text):
                expansion = cell = None  # nothing to substitute, or the substitution is the value itself
            lines.append(laid_out(Line(name.text, rec.op, name, formula, expansion, "=" if exact else "≈", value,
                                       rec.data, exact, cells=cell, texts=result.text if cell is not None else None)))
        return Section("node_forward", self.msg("section.node_forward"), (), (Block("", tuple(lines)),))

    def _backward_steps(self) -> list:
        """``(step, upstream, local, contribution, accumulated)`` of every backward edge, as
        printed: the recorded values, or under carry the rounded values a person carries."""
        if not self.carried:
            return [(s, s.upstream, s.local, s.contribution, s.accumulated) for s in self.trace.steps]
        r = self.fmt.round
        totals = {i: 1.0 for i in self.trace.roots}
        out = []
        for s in self.trace.steps:
            upstream, local = totals.get(s.node, 0.0), r(s.local)
            contribution = r(upstream * local)
            totals[s.input] = r(totals.get(s.input, 0.0) + contribution)
            out.append((s, upstream, local, contribution, totals[s.input]))
        self.totals = totals
        return out

    def backward(self) -> Section:
        blocks = []
        current, lines = None, []
        out = self.trace.output
        formula = Math(r"\text{" + self.msg("node.upstream") + r"} \times \text{" + self.msg("node.local") + "}",
                       f"{self.msg('node.upstream')} × {self.msg('node.local')}")
        for step, upstream, local, contribution, accumulated in self._steps:
            if self.trace.nodes[step.input].is_const:
                continue  # a constant's gradient is never used
            if step.node != current:
                if lines:
                    blocks.append(Block(self._gate(current), tuple(lines)))
                current, lines = step.node, []
            target = node_name(self.trace, step.input)
            symbol = partial(node_name(self.trace, out.index), target)
            up, loc, result = self._printed(upstream), self._printed(local), self._printed(upstream * local)
            cell = ar.Apply("mul", (up, loc))
            exact = result.half == 0
            caption = (f"{self.msg('node.contribution')} → {target.text}; "
                       f"{self.msg('node.accumulated')} {self._number(accumulated).text}")
            lines.append(Line(target.text, caption, symbol, formula, ar.write(cell), "=" if exact else "≈",
                              ar.write(result), contribution, exact, cells=cell, texts=result.text))
        if lines:
            blocks.append(Block(self._gate(current), tuple(lines)))
        return Section("node_backward", self.msg("section.node_backward"), (), tuple(blocks))

    def _gate(self, i: int) -> str:
        name = node_name(self.trace, i)
        return f"{name.text} = {self._names(i).text}"

    def gradients(self) -> Section:
        out = self.trace.output
        lines = []
        for rec in self.trace.nodes:
            if rec.is_leaf and not rec.is_const:
                symbol = partial(node_name(self.trace, out.index), node_name(self.trace, rec.index))
                grad = self.totals.get(rec.index, 0.0) if self.carried else rec.grad
                exact = self.fmt.is_exact(grad)
                lines.append(Line(self.trace.key(rec.index), "", symbol, None, None, "=" if exact else "≈",
                                  self._number(grad), grad, exact))
        return Section("node_gradients", self.msg("section.node_gradients"), (), (Block("", tuple(lines)),))

    def build(self, title: str = "") -> DerivationView:
        m = self.msg
        precision = self.fmt.describe(m)
        sections = (self.forward(), self.backward(), self.gradients())
        return DerivationView(title or m("node_title"), m.lang, "node", self.rounding, precision,
                              m(f"note.{self.rounding}", precision=precision), sections)
