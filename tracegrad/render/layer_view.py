"""The layer view: a worked problem laid out as the document lays out its example.

Network and parameters (with the definition of each activation used); the input scaling;
then for every iteration the forward pass, the loss, the backward pass layer by layer and
the gradient summary with the optimizer's own update; for several iterations a table of
the loss per step; for a deep network the gradient norms per layer; the closing summary of
the δ recursion. Every formula, the general ones too (definitions, the optimizer's rule over
θ, the recursion, the norms), comes from the spec tables through
:mod:`tracegrad.problem.formulas`; none is written here.

Every line is *symbol = formula = expansion ≈ value*: the formula from the spec tables
(:mod:`tracegrad.problem.formulas`), the expansion that formula with the printed numbers
substituted (:class:`~tracegrad.core.formula.Expander`), the value read from a trace (the
exact one, or the carry-rounded replay). Each line keeps its expansion as data so the
line verifier (:mod:`tracegrad.render.lines`) can check its arithmetic.
"""

from __future__ import annotations

from dataclasses import replace

from ..core import arithmetic as ar
from ..core.formula import Axes, Binary, Expander, Sym
from ..core.nested import flatten, map_nested
from ..core.notation import L, Math, sub
from ..core.numbers import NumberFormat, exact_text
from ..core.ops import OPS
from ..problem.formulas import (definitions, deltas_by_formula, environment, formula, given_names, loss_formula,
                                norms, recursion, rule, symbol)
from ..problem.kinds import Step, activation_symbol, at, caption, parameter_symbol
from ..problem.solve import Worked
from . import mathtext as mt
from .breaking import laid_out, table_rows as table_rows_of
from .model import Block, DerivationView, GradientRow, Line, Section, Table

DEEP = 3  # networks with this many layers or more end with their gradient norms per layer


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
            self.by_formula = {i: f for group in deltas_by_formula(worked) for i, f in group.items()}
            self.reference = {name: map_nested(q.nodes, self._unrounded) for name, q in worked.quantities.items()}
        self.checks = {name: self._check(items) for name, items in as_printed.checks.items()} if as_printed else {}
        self.pinned = as_printed.pinned if as_printed else frozenset()
        self.env = environment(worked, trace)
        self.given = given_names(worked, self.env)
        self.axes = Axes.of(worked.problem.layout)
        self.seen: set = set()  # nodes already printed under an earlier name
        # a quantity some of whose values need every digit of the precision writes its exact ones so too
        # (not as printed: a document's numbers are shown as it wrote them)
        self.full = set() if as_printed else {name for name, values in self.reference.items()
                                              if any(_needs_every_digit(fmt.printed(v)) for v in flatten(values))}
        self.decay = ""  # the note comparing L2 with weight decay, when the workflow adds it

    # --- numbers ----------------------------------------------------------------------
    def _number(self, ref: str, value: float) -> ar.Number:
        """A number of an expansion: given ones as written, computed ones in the display precision."""
        if ref in self.given:
            return ar.given(value)
        return self.shown(value, ref in self.full)

    def shown(self, value: float, full: bool = False) -> ar.Number:
        """A computed value as printed (``full``: every digit of the precision), and the interval
        it stands for."""
        p = self.fmt.printed(value)
        return ar.Number(value if p.exact else p.value, p.full if full else p.text, p.half)

    # --- lines ------------------------------------------------------------------------
    def line(self, name: str, connector: str | None = None) -> Line:
        """The line of quantity ``name``: caption, symbol, formula, expansion, value."""
        q = self.worked.quantities[name]
        key, params = caption(self.worked, q)
        if connector is None:
            connector = "←" if q.kind in ("new",) or (q.kind == "state" and self._carried(q.state)) else "="
        line = self._line(q, self.msg(key, **params), connector)
        closed = self.closed.get(name)
        if closed is None or (line.formula and closed.replace(" ", "") == line.formula.latex.replace(" ", "")):
            return line
        return replace(line, closed=Math(closed, ""))

    def _carried(self, state: str) -> bool:
        return next(s.carried for s in self.worked.optimizer.state_names if s.key == state)

    def _line(self, q, caption_text: str, connector: str) -> Line:
        name = q.name
        values = self.values[name]
        flat = q.indices()
        repeated = all(i in self.seen for i in flat)
        self.seen.update(flat)
        exact = all(self.fmt.is_exact(v) for v in flatten(self.reference[name]))
        shown = values if self.checks else self.reference[name]  # as printed: the pinned numbers themselves
        full = name in self.full
        value = mt.grid(shown, lambda x: mt.number(x, self.fmt, full))
        f = formula(self.worked, q)
        written = f
        step = at(f"step_{q.parameter}{q.layer}", q.step) if q.kind == "new" else None
        if step in self.pinned and isinstance(f, Binary):
            # as printed: the document wrote the step η·∂L/∂W as a number, which the update subtracts
            written = Binary("-", f.a, Sym("", "", step))
        cells = None if repeated or f is None or isinstance(f, Sym) else self._cells(q, written)
        expansion = mt.grid(cells, ar.write) if cells is not None else None
        if expansion is not None and expansion.text == value.text:
            expansion = cells = None
        texts = map_nested(shown, lambda x: self.shown(x, full).text)
        line = Line(name, caption_text, symbol(self.worked, q), f.math() if f is not None else None, expansion,
                    "=" if exact else "≈", value, values, exact, check=self.checks.get(name), connector=connector,
                    cells=cells, texts=texts)
        return laid_out(line, map_nested(shown, lambda x: mt.number(x, self.fmt, full)))

    def _cells(self, q, f):
        """The formula of ``q`` written out element by element with the printed numbers."""
        ex = Expander(self.env, self.axes, self._number)
        shape = ex.shape(f)
        per_sample = q.per_sample

        def cell(position):
            return ex.cell(f, _array_position(position, shape, per_sample, q.batch, self.axes))
        return _grid(q.nodes, cell)

    def _unrounded(self, i: int) -> float:
        """Node ``i`` computed from its (carried) inputs, before its own rounding."""
        rec = self.trace.nodes[i]
        if rec.is_leaf:
            return rec.data
        if i in self.by_formula:  # written by its own formula (δ = ŷ − y, BatchNorm) of the carried numbers
            return self.by_formula[i](self.trace.nodes)
        return float(OPS[rec.op].forward(tuple(self.trace.nodes[j].data for j in rec.inputs), rec.params))

    def _check(self, items) -> Math:
        """What the arithmetic gives, shown beside a departing printed number (as-printed mode)."""
        shown = Math("", "")
        for n, (name, values) in enumerate(items):
            cell = mt.grid(values, lambda x: mt.number(x, self.fmt))
            shown += Math(r";\ " if n else "", "; " if n else "")
            shown += (name + Math(" = ", " = ") + cell) if name else cell
        label = self.msg("check.as_printed.correct")
        return Math(r"\quad \left(\text{" + label + "} " + shown.latex + r"\right)", f"   ({label} {shown.text})")

    def given_line(self, name: str, caption_text: str, symbol_math: Math, values) -> Line:
        """A given number as written; one with more digits than a person writes (weights
        after training steps) in the display precision, with ≈."""
        long = [x for x in flatten(values) if mt.is_long(x)]
        number = (lambda x: mt.number(x, self.fmt if x in long else None))
        exact = not any(not self.fmt.is_exact(x) for x in long)
        line = Line(name, caption_text, symbol_math, None, None, "=" if exact else "≈", mt.grid(values, number), values,
                    exact)
        return laid_out(line, map_nested(values, number))

    def note_line(self, name: str, caption_text: str, symbol_math: Math, formula_math: Math) -> Line:
        """A formula without numbers (a definition, an update rule)."""
        return Line(name, caption_text, symbol_math, formula_math, None, "=", Math("", ""), None, True)

    def lines(self, names, step) -> list:
        """The lines of those quantities of ``step`` that exist, in order."""
        return [self.line(at(n, step)) for n in names if at(n, step) in self.worked.quantities]

    # --- sections ---------------------------------------------------------------------
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
        if w.steps > 1:
            size = p.training.batch_size or len(p.x)
            per_epoch = -(-len(p.x) // size)
            intro.append(m("network.iterations", steps=w.steps, size=size, per_epoch=per_epoch,
                           epochs=w.iterations[-1].epoch))
        if p.mode == "eval":
            intro.append(m("network.eval_mode"))
        x_values = [list(s) for s in p.x] if p.batch else list(p.x[0])
        y_values = [list(s) for s in p.y] if p.batch else (p.y[0][0] if len(p.y[0]) == 1 else list(p.y[0]))
        given_symbols = Step(w, 1)
        given = [self.given_line("x", m("network.inputs"), given_symbols.raw_x().math(), x_values),
                 self.given_line("y", m("network.target"), given_symbols.y().math(), y_values)]
        for k, layer in enumerate(w.layers, start=1):
            bv = [b.data for b in layer.bias_values]
            given.append(self.given_line(f"W{k}", m("network.weights", k=k), parameter_symbol("W", k),
                                         [[r.data for r in row] for row in layer.weight_matrix]))
            given.append(self.given_line(f"b{k}", m("network.biases", k=k), parameter_symbol("b", k),
                                         bv[0] if layer.shared_bias else bv))
            if f"gamma{k}_new" in w.quantities or f"gamma{k}" in self.env:
                for param in ("gamma", "beta"):
                    values = [v[0] if p.layout == "out_in" else v for v in self.env[f"{param}{k}"].tolist()]
                    values = values[0] if p.layout == "in_out" else values
                    given.append(self.given_line(f"{param}{k}", m(f"network.{param}", k=k),
                                                 parameter_symbol(param, k), values))
        blocks = [Block(m("network.parameters"), tuple(given))]
        # each activation's definition: a formula of its spec, checked against the activations
        texts = {layer.spec.name: layer.spec.text for layer in w.layers}
        defined = [Line(d.key, m("network.definition", f=texts[d.key]), d.math(), None, None, "=", Math("", ""), None,
                        True) for d in definitions(w)]
        if defined:
            blocks.append(Block(m("network.activations"), tuple(defined)))
        loss = self.note_line("L", m("network.loss"), L, loss_formula(w).math())
        blocks.append(Block(m("network.loss"), (loss,)))
        blocks.append(self.optimizer_block())
        return Section("network", m("section.network"), tuple(intro), tuple(blocks))

    def optimizer_block(self) -> Block:
        """The optimizer's update rule as formulas, and its settings."""
        w, m, p = self.worked, self.msg, self.worked.problem
        opt = w.optimizer
        values = opt.hyperparameters()
        symbols = {s.name: s.text for s in opt.settings if s.kind == "number"}
        symbols.update(beta1="β₁", beta2="β₂")
        settings = ", ".join(f"{symbols.get(name, name)} = {mt.number(v, None).text}" for name, v in values.items())
        lines = [replace(self.note_line(f"rule_{g.key}", "", g.symbol, g.formula.math()), connector="←" if g.carried else "=")
                 for g in rule(w)]
        notes = [m("network.optimizer_settings", name=opt.name, settings=settings)]
        if p.clip_norm is not None:
            notes.append(m("network.clip_norm", c=exact_text(p.clip_norm)))
        if p.clip_value is not None:
            notes.append(m("network.clip_value", c=exact_text(p.clip_value)))
        for k, spec in enumerate(p.layers, start=1):
            if spec.freeze:
                frozen = ", ".join(f"{'W' if f == 'weights' else 'b'}{sub(k)}" for f in spec.freeze)
                notes.append(m("network.frozen", params=frozen))
        return Block(m("network.optimizer"), tuple(lines), " ".join(notes))

    def scale(self) -> Section | None:
        """The inputs normalised (the document's preprocessing), before the first step."""
        w, m, p = self.worked, self.msg, self.worked.problem
        if p.scale is None:
            return None
        lines = []
        s = Step(w, 1)
        if p.scale == "minmax":
            stats = (("min", s.x_bound("min")), ("max", s.x_bound("max")))
        else:
            stats = (("mean", s.x_mean()), ("std", s.x_std())) if "x_mean" not in w.quantities else ()
        for stat, given in stats:
            values = self.env[f"x_{stat}"].ravel().tolist()
            lines.append(self.given_line(f"x_{stat}", m(f"scale.{stat}"), given.math(),
                                         values if len(values) > 1 else values[0]))
        lines += self.lines(("x_mean", "x_std", "x_scaled"), 1)
        note = m(f"scale.note_{p.scale}")
        return Section("scale", m("section.scale"), (), (Block("", tuple(lines), note),))

    def forward(self, step: int) -> Section:
        w, m, p = self.worked, self.msg, self.worked.problem
        blocks = []
        for k in range(1, w.depth + 1):
            spec = p.layers[k - 1]
            lines = self.lines((f"z{k}", f"mu{k}", f"var{k}", f"zhat{k}", f"bn{k}"), step)
            note = ""
            if spec.batchnorm is not None and p.mode == "eval":
                note = m("forward.batchnorm_eval")
            if k == w.depth:
                lines += self.lines(("y_hat",) if f"a{k}" in w.quantities else (), step)
            else:
                lines += self.lines((f"a{k}",), step)
            if at(f"d{k}", step) in w.quantities:
                keep = self.env[at(f"mask{k}", step)]
                keep = keep if p.layout == "in_out" else keep.T
                rows = keep.astype(int).tolist()
                lines.append(self.given_line(at(f"mask{k}", step), m("forward.mask", p=exact_text(spec.dropout)),
                                             Step(w, step).mask(k).math(), rows if len(rows) > 1 else rows[0]))
                lines += self.lines((f"d{k}",), step)
            elif spec.dropout and p.mode == "eval":
                note = " ".join(filter(None, [note, m("forward.dropout_eval", p=exact_text(spec.dropout))]))
            heading = m("block.output", k=k) if k == w.depth else m("block.hidden", k=k)
            blocks.append(Block(heading, tuple(lines), note))
        return Section("forward", self._heading("section.forward", step), (), tuple(blocks))

    def loss(self, step: int) -> Section:
        lines = self.lines(("data_loss", "penalty", "loss"), step)
        return Section("loss", self._heading("section.loss", step), (), (Block("", tuple(lines)),))

    def backward(self, step: int) -> Section:
        w, m = self.worked, self.msg
        blocks = []
        for k in range(w.depth, 0, -1):
            names = ["dL/dy_hat", f"dL/dd{k}", f"dL/da{k}", f"da{k}/dz{k}", f"dL/dbn{k}", f"dL/dgamma{k}",
                     f"dL/dbeta{k}", f"dL/dzhat{k}", f"delta{k}", f"dL/dW{k}", f"dL/db{k}"]
            if k != w.depth:
                names.remove("dL/dy_hat")
            lines = self.lines(names, step)
            note = self._why(k)
            heading = m("block.output", k=k) if k == w.depth else m("block.hidden", k=k)
            blocks.append(Block(heading, tuple(lines), note))
        return Section("backward", self._heading("section.backward", step), (), tuple(blocks))

    def _why(self, k: int) -> str:
        """Why the output layer's δ reads as it does, when the loss simplifies it."""
        from ..nn.losses import LOSSES

        w = self.worked
        if k != w.depth:
            return ""
        loss, layer = LOSSES[w.problem.loss], w.layers[-1]
        rule = loss.simplified.get(layer.spec.name)
        if rule is not None and rule.applies(w.problem.y):
            return self.msg(f"why.{rule.message}")
        if loss.from_logits:
            return self.msg("why.from_logits", loss=loss.name)
        return ""

    def update(self, step: int) -> Section:
        w, m, p = self.worked, self.msg, self.worked.problem
        rows, table_rows = [], []
        for k in range(w.depth, 0, -1):
            for parameter in ("W", "b", "gamma", "beta"):
                name = at(f"dL/d{parameter}{k}", step)
                if name not in w.quantities:
                    continue
                values = self.values[name] if self.checks else self.reference[name]
                exact = all(self.fmt.is_exact(v) for v in flatten(self.reference[name]))
                elements = map_nested(values, lambda x, full=name in self.full: mt.number(x, self.fmt, full))
                grid = mt.grid(elements, lambda m: m)
                rows.append(GradientRow(parameter_symbol(parameter, k), grid, "=" if exact else "≈"))
                rel = Math("= " if exact else r"\approx ", " = " if exact else " ≈ ")
                table_rows += table_rows_of(parameter_symbol(parameter, k), rel, elements)
        self.seen = set()  # the update lines print the gradients again, as the document does
        lines = self.lines(("grad_norm", "clip_scale"), step)
        states = [s.key for s in w.optimizer.state_names]
        for k in range(w.depth, 0, -1):
            for parameter in ("W", "b", "gamma", "beta"):
                if at(f"{parameter}{k}_new", step) not in w.quantities:
                    continue
                names = [f"clipped_{parameter}{k}", f"g_{parameter}{k}"] + \
                    [f"{s}_{parameter}{k}" for s in states] + [f"{parameter}{k}_new"]
                lines += self.lines(names, step)
        if p.optimizer == "sgd" and not p.setting("momentum"):
            heading = m("block.updates", lr=exact_text(p.setting("lr", 0.1)))
        else:
            heading = m("block.updates_other", optimizer=p.optimizer)
        note = self._decay_note(step)
        table = Table(m("block.summary_table"), (m("table.parameter"), m("table.gradient")), tuple(table_rows))
        section = Section("update", self._heading("section.update", step), (), (Block(heading, tuple(lines), note),),
                          table)
        return section, tuple(rows)

    def _decay_note(self, step: int) -> str:
        """L2 and weight decay compared with the problem's own numbers (the first step; given by
        the workflow that solved the comparisons, see :func:`tracegrad.workflows.derive.decay_comparison`)."""
        return self.decay if step == 1 else ""

    def _heading(self, key: str, step: int) -> str:
        heading = self.msg(key)
        if self.worked.steps == 1:
            return heading
        it = self.worked.iterations[step - 1]
        return self.msg("step.heading", step=step, epoch=it.epoch, batch=it.batch, section=heading)

    def losses(self) -> Section | None:
        """The loss of every step (a derivation of several steps)."""
        w, m = self.worked, self.msg
        if w.steps < 2:
            return None
        rows = []
        for it in w.iterations:
            value = self.reference[at("loss", it.step)]
            rows.append((Math(str(it.step), str(it.step)), Math(str(it.epoch), str(it.epoch)),
                         Math(str(it.batch), str(it.batch)), mt.number(value, self.fmt)))
        header = (m("losses.step"), m("losses.epoch"), m("losses.batch"), m("losses.loss"))
        return Section("losses", m("section.losses"), (m("losses.intro"),), (),
                       Table("", header, tuple(rows)))

    def norms(self) -> Section | None:
        """‖δₖ‖ and ‖∂L/∂Wₖ‖ per layer, and the ratio to the layer above: vanishing or exploding
        gradients, visible in the worked example (deep networks)."""
        w, m = self.worked, self.msg
        if w.depth < DEEP:
            return None
        header, found = norms(w, self.reference)
        none = Math(r"\text{---}", "—")  # no layer above (or no weights) to compare with
        rows = [(Math(str(k), str(k)), *(mt.number(v, self.fmt) if v is not None else none for v in values))
                for k, *values in found]
        return Section("norms", m("section.norms"), (m("norms.intro"),), (),
                       Table("", (m("norms.layer"),) + header, tuple(rows)))

    def summary(self) -> tuple:
        """The backpropagation recursion as this problem computes it, in general formulas (layer
        indices k, L), each evaluated on every layer it stands for by the line verifier."""
        m = self.msg
        lines = [(m(f"summary.{g.key}"), g.math()) for g in recursion(self.worked)]
        return ((m("summary.forward"), None), *lines, (m("summary.closing"), None))

    def build(self, title: str) -> DerivationView:
        m = self.msg
        sections = [self.network()]
        scaled = self.scale()
        if scaled is not None:
            sections.append(scaled)
        first_rows = ()
        for it in self.worked.iterations:
            update, rows = self.update(it.step)
            first_rows = first_rows or rows
            sections += [self.forward(it.step), self.loss(it.step), self.backward(it.step), update]
        sections += [s for s in (self.losses(), self.norms()) if s is not None]
        precision = self.fmt.describe(m)
        note = m(f"note.{self.rounding}", precision=precision)
        header = (m("block.summary_table"), m("table.parameter"), m("table.gradient"))
        return DerivationView(title or m("title"), m.lang, "layer", self.rounding, precision, note, tuple(sections),
                              first_rows, header, self.summary())


def _grid(nested, cell):
    """``cell(position)`` for every position of ``nested`` (node indices), as nested lists."""
    def walk(level, position):
        if isinstance(level, (list, tuple)):
            return [walk(item, position + (i,)) for i, item in enumerate(level)]
        return cell(position)
    return walk(nested, ())


def _needs_every_digit(p) -> bool:
    """A printed value written with every digit of the precision: a rounded one, or an exact
    one whose short form has them all (0.0045 at four decimals)."""
    return not p.exact or p.text == p.full


def _array_position(position: tuple, shape: tuple, per_sample: bool, batch: bool, axes: Axes) -> tuple:
    """Where element ``position`` of a quantity (its nested layout) is in the formula's value
    array (oriented by :class:`Axes`)."""
    if not shape:
        return ()
    if per_sample:
        sample, unit = (position[0], position[1]) if batch else (0, position[0] if position else 0)
        pos = [0, 0]
        pos[axes.samples], pos[axes.units] = sample, unit
        return tuple(pos)
    if len(position) == len(shape):
        return position
    if len(position) == 1:  # a vector over a layer's units: a row or a column
        pos = [0, 0]
        pos[axes.units] = position[0]
        return tuple(pos)
    return (0,) * len(shape)


def positions(derivation):
    """``((section, block, line), section, block, line)`` for every line of a derivation view, in order."""
    for s, section in enumerate(derivation.sections):
        for b, block in enumerate(section.blocks):
            for i, line in enumerate(block.lines):
                yield (s, b, i), section, block, line


def line_positions(derivation, worked) -> dict:
    """Quantity name → position of the line printing it: its own line, else the line printing its
    nodes (``a2`` is printed as the line ``y_hat``); a step η·∂L/∂W₁ (``step_W1``) is printed within
    its update's line (``W1_new``). Quantities the derivation does not print are left out."""
    by_nodes, by_name = {}, {}
    for where, _, _, line in positions(derivation):
        by_name.setdefault(line.name, where)
        q = worked.quantities.get(line.name)
        if q is not None:
            by_nodes.setdefault(q.nodes, where)
    names = {name: by_name.get(name, by_nodes.get(q.nodes)) for name, q in worked.quantities.items()
             if name in by_name or q.nodes in by_nodes}
    for name, q in worked.quantities.items():
        update = f"{name.removeprefix('step_')}_new"
        if q.kind == "step" and update in by_name:
            names.setdefault(name, by_name[update])
    return names


__all__ = ["LayerView", "line_positions", "positions"]
