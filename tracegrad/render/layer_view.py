"""The layer view: a worked problem laid out as the document lays out its example.

Network and parameters; the forward pass (formula = expanded arithmetic =
result); the loss; the backward pass layer by layer (∂L/∂ŷ, f'(z), δ, ∂L/∂W,
∂L/∂b, ∂L/∂a …); the gradient summary table and the updates; the closing
summary of the δ recursion. Every number is read from a trace (the exact one,
or the carry-rounded replay) and every expansion is written from the graph.
"""

from __future__ import annotations

from dataclasses import replace

from ..core.nested import flatten, map_nested
from ..core.notation import L, Math, Y, sub, var
from ..core.numbers import NumberFormat, exact_text
from ..core.ops import OPS
from ..problem.formulas import activation_symbol, loss_formula, symbol
from ..problem.formulas import formula as formula_of
from ..problem.solve import Worked
from . import mathtext as mt
from .model import Block, DerivationView, Line, Row, Section

GIVEN_DIGITS = 10  # a given number with more digits than this is shown in the display precision
MAX_CELL = 90  # characters of arithmetic per element before a shallower expansion is used

class LayerView:
    """Builds the :class:`~tracegrad.render.model.DerivationView` of a worked problem."""

    def __init__(self, worked: Worked, trace, fmt: NumberFormat, catalog, rounding: str, as_printed=None,
                 closed: dict | None = None):
        self.worked = worked
        self.closed = closed or {}  # {quantity name: LaTeX of its general formula} (--symbolic)
        self.trace = trace
        self.fmt = fmt
        self.msg = catalog
        self.rounding = rounding
        self.values = worked.values(trace)
        # printed numbers pinned (tracegrad.checker.printed): = or ≈ follows the arithmetic, not the pin
        self.reference = as_printed.reference if as_printed else self.values
        if rounding == "carry" and as_printed is None:
            # a carried value is rounded; what is printed, and whether it reads = or ≈, comes from the
            # step's own arithmetic on the carried inputs, before its rounding
            self.reference = {name: map_nested(q.nodes, self._unrounded) for name, q in worked.quantities.items()}
        self.checks = {name: self._check(items) for name, items in as_printed.checks.items()} if as_printed else {}
        self.printed = set(worked.printed_indices())
        self.seen: set = set()  # nodes already printed under an earlier name

    # --- lines -----------------------------------------------------------------------
    def line(self, name: str, caption: str, connector: str = "=") -> Line:
        line = self._line(name, caption, connector)
        closed = self.closed.get(name)
        if closed is None or (line.formula and closed.replace(" ", "") == line.formula.latex.replace(" ", "")):
            return line
        return replace(line, closed=Math(closed, ""))

    def _line(self, name: str, caption: str, connector: str = "=") -> Line:
        q = self.worked.quantities[name]
        values = self.values[name]
        nodes = q.nodes
        flat = q.indices()
        repeated = all(i in self.seen for i in flat)
        expansion = None
        if not repeated:
            expansion = self._expansion(nodes)
        self.seen.update(flat)
        exact = all(self.fmt.is_exact(v) for v in flatten(self.reference[name]))
        shown = values if self.checks else self.reference[name]  # as printed: the pinned numbers themselves
        value = mt.grid(shown, lambda x: mt.number(x, self.fmt))
        formula = formula_of(self.worked, q)
        formula = formula.math() if formula is not None else None
        if expansion is not None and expansion.text == value.text:
            expansion = None
        return Line(name, caption, symbol(self.worked, q), formula, expansion,
                    "=" if exact else "≈", value, values, exact, check=self.checks.get(name), connector=connector)

    def _check(self, items) -> Math:
        """What the arithmetic gives, shown beside a departing printed number (as-printed mode)."""
        shown = Math("", "")
        for n, (name, values) in enumerate(items):
            cell = mt.grid(values, lambda x: mt.number(x, self.fmt))
            shown += Math(r";\ " if n else "", "; " if n else "")
            shown += (name + Math(" = ", " = ") + cell) if name else cell
        label = self.msg("check.as_printed.correct")
        return Math(r"\quad \left(\text{" + label + "} " + shown.latex + r"\right)", f"   ({label} {shown.text})")

    def _unrounded(self, i: int) -> float:
        """Node ``i`` computed from its (carried) inputs, before its own rounding."""
        rec = self.trace.nodes[i]
        if rec.is_leaf:
            return rec.data
        return float(OPS[rec.op].forward(tuple(self.trace.nodes[j].data for j in rec.inputs), rec.params))

    def _expansion(self, nodes) -> Math | None:
        """Arithmetic with numbers, one level below each node; shallower when that reads too long."""
        for depth in (1, 0):
            cells = {i: mt.expand(self.trace, i, self.printed - {i}, self.fmt, depth)
                     or mt.number(self.trace.nodes[i].data, self.fmt) for i in flatten(nodes)}
            if max(len(c.text) for c in cells.values()) <= MAX_CELL:
                return mt.grid(nodes, cells.__getitem__)
        return None

    def given(self, name: str, caption: str, symbol: Math, values) -> Line:
        """A given number as written; one with more digits than a person writes (weights
        after training steps) in the display precision, with ≈."""
        long = [x for x in flatten(values) if len(exact_text(x).lstrip("-").replace(".", "")) > GIVEN_DIGITS]
        value = mt.grid(values, lambda x: mt.number(x, self.fmt if x in long else None))
        exact = not any(not self.fmt.is_exact(x) for x in long)
        return Line(name, caption, symbol, None, None, "=" if exact else "≈", value, values, exact)

    # --- sections --------------------------------------------------------------------
    def network(self) -> Section:
        w, p, m = self.worked, self.worked.problem, self.msg
        sizes = p.sizes
        parts = [m("network.input_layer", n=sizes[0])]
        for k in range(1, w.depth + 1):
            key = "network.output_layer" if k == w.depth else "network.hidden_layer"
            parts.append(m(key, n=sizes[k], k=k, f=activation_symbol(w, k).text))
        intro = [m("network.structure") + m("colon") + " → ".join(parts), m(f"network.layout_{p.layout}")]
        if p.batch:
            intro.append(m("network.batch", n=len(p.x)))
        x_values = [list(s) for s in p.x] if p.batch else list(p.x[0])
        y_values = [list(s) for s in p.y] if p.batch else (p.y[0][0] if len(p.y[0]) == 1 else list(p.y[0]))
        given = [self.given("x", m("network.inputs"), Math("X", "X"), x_values),
                 self.given("y", m("network.target"), Y, y_values)]
        for k, layer in enumerate(w.layers, start=1):
            bv = [b.data for b in layer.bias_values]
            given.append(self.given(f"W{k}", m("network.weights", k=k), var("W", k),
                                    [[r.data for r in row] for row in layer.weight_matrix]))
            given.append(self.given(f"b{k}", m("network.biases", k=k), var("b", k),
                                    bv[0] if layer.shared_bias else bv))
        loss = Line("L", m("network.loss"), L, loss_formula(w).math(), None, "=", Math("", ""), None, True)
        return Section("network", m("section.network"), tuple(intro),
                       (Block(m("network.parameters"), tuple(given)), Block(m("network.loss"), (loss,))))

    def forward(self) -> Section:
        w, m = self.worked, self.msg
        blocks = []
        for k in range(1, w.depth + 1):
            lines = [self.line(f"z{k}", m("caption.z", k=k))]
            if f"a{k}" in w.quantities:
                name = "y_hat" if k == w.depth else f"a{k}"
                caption = m("caption.y_hat") if k == w.depth else m("caption.a", k=k)
                lines.append(self.line(name, caption))
            heading = m("block.output", k=k) if k == w.depth else m("block.hidden", k=k)
            blocks.append(Block(heading, tuple(lines)))
        return Section("forward", m("section.forward"), (), tuple(blocks))

    def loss(self) -> Section:
        return Section("loss", self.msg("section.loss"), (), (Block("", (self.line("loss", self.msg("caption.loss")),)),))

    def backward(self) -> Section:
        w, m = self.worked, self.msg
        blocks = []
        for k in range(w.depth, 0, -1):
            lines = []
            f = activation_symbol(w, k).text
            for name, caption in (
                ("dL/dy_hat", m("caption.dL/dy_hat")),
                (f"dL/da{k}", m("caption.dL/da", k=k)),
                (f"da{k}/dz{k}", m("caption.act_grad", f=f)),
                (f"delta{k}", m("caption.delta_output") if k == w.depth else m("caption.delta_hidden", k=k)),
                (f"dL/dW{k}", m("caption.dL/dW")),
                (f"dL/db{k}", m("caption.dL/db")),
            ):
                if name in w.quantities and (name != "dL/dy_hat" or k == w.depth):
                    lines.append(self.line(name, caption))
            heading = m("block.output", k=k) if k == w.depth else m("block.hidden", k=k)
            blocks.append(Block(heading, tuple(lines)))
        return Section("backward", m("section.backward"), (), tuple(blocks))

    def update(self) -> tuple:
        w, m, p = self.worked, self.msg, self.worked.problem
        rows = []
        for k in range(w.depth, 0, -1):
            for sym, name in (("W", f"dL/dW{k}"), ("b", f"dL/db{k}")):
                values = self.values[name] if self.checks else self.reference[name]
                exact = all(self.fmt.is_exact(v) for v in flatten(self.reference[name]))
                rows.append(Row(var(sym, k), mt.grid(values, lambda x: mt.number(x, self.fmt)),
                                "=" if exact else "≈"))
        self.seen = set()  # the update lines print the step products again, as the document does
        lines = []
        states = {s.key: s for s in w.optimizer.state_names}
        for k in range(w.depth, 0, -1):
            for sym in ("W", "b"):
                p_text = f"{sym}{sub(k)}"
                if f"g_{sym}{k}" in w.quantities:
                    lines.append(self.line(f"g_{sym}{k}", m("caption.grad", p=p_text)))
                for key, state in states.items():
                    lines.append(self.line(f"{key}_{sym}{k}", m(f"caption.state_{state.caption}", p=p_text),
                                           "←" if state.carried else "="))
                if f"step_{sym}{k}" in w.quantities:
                    self.seen.update(w.quantities[f"step_{sym}{k}"].indices())
                lines.append(self.line(f"{sym}{k}_new", m("caption.new", p=p_text), "←"))
        if p.optimizer == "sgd" and not p.setting("momentum"):
            heading = m("block.updates", lr=exact_text(p.setting("lr", 0.1)))
        else:
            heading = m("block.updates_other", optimizer=p.optimizer)
        section = Section("update", m("section.update"), (), (Block(heading, tuple(lines)),))
        header = (m("block.summary_table"), m("table.parameter"), m("table.gradient"))
        return section, tuple(rows), header

    def summary(self) -> tuple:
        m = self.msg
        if self.worked.problem.layout == "in_out":
            weights = Math(r"\frac{\partial L}{\partial W_{k}} = a_{k-1}^{\top} \delta_{k}", "∂L/∂Wₖ = aₖ₋₁ᵀ · δₖ")
            hidden = Math(r"\delta_{k} = \left(\delta_{k+1} W_{k+1}^{\top}\right) \odot f'\left(z_{k}\right)",
                          "δₖ = (δₖ₊₁ · Wₖ₊₁ᵀ) ⊙ f′(zₖ)")
        else:
            weights = Math(r"\frac{\partial L}{\partial W_{k}} = \delta_{k} a_{k-1}^{\top}", "∂L/∂Wₖ = δₖ · aₖ₋₁ᵀ")
            hidden = Math(r"\delta_{k} = \left(W_{k+1}^{\top} \delta_{k+1}\right) \odot f'\left(z_{k}\right)",
                          "δₖ = (Wₖ₊₁ᵀ · δₖ₊₁) ⊙ f′(zₖ)")
        return (
            (m("summary.forward"), None),
            (m("summary.output"), Math(r"\delta_{L} = \frac{\partial L}{\partial \hat{y}} \odot f'\left(z_{L}\right)",
                                       "δ_L = ∂L/∂ŷ ⊙ f′(z_L)")),
            (m("summary.hidden"), hidden),
            (m("summary.weights"), weights),
            (m("summary.bias"), Math(r"\frac{\partial L}{\partial b_{k}} = \delta_{k}", "∂L/∂bₖ = δₖ")),
            (m("summary.closing"), None),
        )

    def build(self, title: str) -> DerivationView:
        m = self.msg
        update, table, header = self.update()
        sections = (self.network(), self.forward(), self.loss(), self.backward(), update)
        precision = self.fmt.describe(m)
        note = m(f"note.{self.rounding}", precision=precision)
        return DerivationView(title or m("title"), m.lang, "layer", self.rounding, precision, note, sections,
                          table, header, self.summary())
