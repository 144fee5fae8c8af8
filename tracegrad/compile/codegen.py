"""Code generation for compiled replay: a trace written out as straight-line source.

Each node becomes one line, the forward pass then the backward pass, from its op's
code template (:mod:`.tracing`)::

    v12 = v3 * v7  # z1[0]
    ...
    g7 += g12 * v3

The numpy flavour computes the same for a whole batch (arrays along the batch axis);
an n-ary op whose code is a sum of one term per lane (``dot``, ``sum``) becomes whole-array
operations over stacked inputs (:class:`Lanes`).
"""

from __future__ import annotations

import ast
import math

from ..core.ops import OPS
from .tracing import Sym, is_number, template

_NUMPY_NAMES = {"math.pow": "np.power", "math.fabs": "np.abs", "max": "np.maximum", "min": "np.minimum"}


def constant(x):
    """A number as an ``ast`` node: a minus sign is a unary operator (so that ``unparse``
    parenthesises it where needed, ``(-2.0) ** 2``), infinities and NaN are names."""
    x = float(x) if isinstance(x, bool) else x
    if isinstance(x, float) and math.isnan(x):
        return ast.Name("NAN")
    if x < 0 or isinstance(x, float) and math.copysign(1.0, x) < 0:
        return ast.UnaryOp(ast.USub(), constant(-x))
    return ast.Name("INF") if x == math.inf else ast.Constant(x)


def _call(name, args):
    target, _, attr = name.rpartition(".")
    func = ast.Attribute(ast.Name(target), attr) if target else ast.Name(name)
    return ast.Call(func, list(args), [])


def to_ast(x, numpy: bool, names: dict):
    """``x`` as an ``ast`` expression (numpy flavoured or not); nodes in ``names``
    (temporaries) appear by name."""
    if not isinstance(x, Sym):
        return constant(x)
    if x in names:
        return ast.Name(names[x])
    if x.kind == "name":
        return ast.Name(x.op)
    args = [to_ast(a, numpy, names) for a in x.args]
    if numpy:
        # comparisons used as numbers become 1.0/0.0 arrays (numpy refuses bool arithmetic)
        if x.kind in ("bin", "neg", "call"):
            args = [_call("np.where", [a, ast.Constant(1.0), ast.Constant(0.0)])
                    if isinstance(s, Sym) and s.kind == "cmp" else a for a, s in zip(args, x.args)]
        if x.kind == "if":
            return _call("np.where", args)
        if x.kind == "fail":
            return ast.Name("NAN")
        if x.kind == "call":
            name = _NUMPY_NAMES.get(x.op, x.op.replace("math.", "np."))
            if x.op in ("max", "min"):
                acc = args[0]
                for a in args[1:]:
                    acc = _call(name, [acc, a])
                return acc
            return _call(name, args)
    if x.kind == "bin":
        return ast.BinOp(args[0], x.op(), args[1])
    if x.kind == "neg":
        return ast.UnaryOp(ast.USub(), args[0])
    if x.kind == "cmp":
        return ast.Compare(args[0], [x.op()], [args[1]])
    if x.kind == "call":
        return _call(x.op, args)
    if x.kind == "if":
        return ast.IfExp(args[0], args[1], args[2])
    return _call("_fail", [])


def code_text(code, numpy: bool) -> tuple:
    """``([temporary texts], [result texts or None for a constant 0])`` as format strings:
    ``{0}`` … are the op's inputs, ``{o}`` its output, ``{g}`` its upstream gradient,
    ``{t0}`` … the temporaries."""
    if numpy not in code.texts:
        names = {}
        temps = []
        for k, node in enumerate(code.temps):
            temps.append(ast.unparse(to_ast(node, numpy, names)))
            names[node] = f"{{t{k}}}"
        results = [None if is_number(r) and r == 0 else ast.unparse(to_ast(r, numpy, names))
                   for r in code.results]
        code.texts[numpy] = (temps, results)
    return code.texts[numpy]


class Lanes:
    """An n-ary op whose recorded code is a left-to-right sum of one term per *lane*.

    Found by reading the op's own recorded expressions, not by knowing the op: with
    ``L`` lanes and ``k = s·L`` inputs, input ``j·L + m`` is slot ``j`` of lane ``m``
    (``dot`` over (a₁…aₙ, b₁…bₙ): 2 slots, n lanes; ``sum``: 1 slot). The op qualifies
    when its forward is ``((t₀ + t₁) + t₂) + …`` where every term ``t_m`` is ``t₀`` with
    lane 0's inputs replaced by lane m's, and the backward term of input ``j·L + m`` is
    that of ``j·L`` likewise. Then numpy evaluates the term once over stacked slots
    (``{S0}``, ``{S1}`` … each an array with one row per lane) and adds the rows in the
    same order (``np.cumsum``), and the backward terms once per slot, one row per lane.
    """

    def __init__(self, count, slots, forward, backward):
        self.count, self.slots = count, slots  # lanes, slots per lane
        self.forward = forward  # the term over the slots, a format string
        self.backward = backward  # per slot: the upstream gradient times the partial, or None (zero)

    @staticmethod
    def derive(template):
        code, back, xs = template.forward, template.backward, template.xs
        if len(code.results) != 1 or any(isinstance(r, Sym) and r.kind == "fail" for r in back.results):
            return None
        terms, node = [], code.results[0]
        while isinstance(node, Sym) and node.kind == "bin" and node.op is ast.Add:
            terms.append(node.args[1])
            node = node.args[0]
        terms.append(node)
        terms.reverse()
        count = len(terms)
        if count < 2 or len(xs) % count:
            return None
        slots = len(xs) // count

        def lane_text(expr, m):
            """``expr`` written over slot names when it only reads lane ``m``'s inputs, else None."""
            names = {x: f"{{S{k // count}}}" if k % count == m else "?" for k, x in enumerate(xs)}
            text = ast.unparse(to_ast(expr, True, names))
            return None if "?" in text else text

        forward = lane_text(terms[0], 0)
        if forward is None or "{S" not in forward or "{o}" in forward or "{g}" in forward:
            return None
        if any(lane_text(t, m) != forward for m, t in enumerate(terms)):
            return None
        backward = []
        for j in range(slots):
            results = back.results[j * count:(j + 1) * count]
            if all(is_number(r) and r == 0 for r in results):
                backward.append(None)
                continue
            if any(is_number(r) for r in results):
                return None
            text = lane_text(results[0], 0)
            if text is None or any(lane_text(r, m) != text for m, r in enumerate(results)):
                return None
            # a term that reads no slot (sum: just the upstream gradient) still gives one row per lane
            backward.append(text if "{S" in text else f"np.zeros(({count}, 1)) + ({text})")
        return Lanes(count, slots, forward, backward)


LANES_MIN = 4  # below this many lanes, one array operation per term is as cheap


def lanes_of(template):
    """The :class:`Lanes` form of an op's template, or None when its recorded code is not one."""
    if template.lanes is None:
        template.lanes = Lanes.derive(template) or False
    return template.lanes or None


def _literal(x: float) -> str:
    """A recorded number as source, parenthesised when negative so it can stand anywhere."""
    text = ast.unparse(constant(float(x)))
    return f"({text})" if text.startswith("-") else text


def _tuple(items) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def escape_label(label) -> str:
    """A label for a comment: repr escapes newlines and every other non-printable character."""
    return repr(str(label))[1:-1]


def _comment(label) -> str:
    return "" if label is None else f"  # {escape_label(label)}"


def generate(trace, inputs: tuple, outputs: tuple, wrt: tuple, numpy: bool) -> tuple:
    """The listing of a compiled trace: ``(source, row index lists)``; the plain flavour
    defines ``forward_backward(values)``, the numpy one ``batched(values, n)``, whose
    names ``_I<k>`` stand for the row index lists."""
    nodes = trace.nodes
    input_order, inputs = inputs, set(inputs)
    needed = _below(nodes, outputs)
    live = _below(nodes, outputs[:1])
    carries = [False] * len(nodes)  # a gradient flowing into the node can reach a wrt node
    for i in wrt:
        carries[i] = True
    for rec in nodes:
        carries[rec.index] = carries[rec.index] or any(carries[j] for j in rec.inputs)

    def var(i):
        rec = nodes[i]
        return _literal(rec.data) if rec.is_const and i not in inputs else f"v{i}"

    def lanes(rec):
        if not numpy or rec.is_leaf or OPS[rec.op].arity is not None:
            return None
        form = lanes_of(template(OPS[rec.op], len(rec.inputs), rec.params))
        return form if form is not None and form.count >= LANES_MIN else None

    # numpy: the slots of n-ary nodes, one stacked array per distinct tuple of nodes (a layer's
    # activations feed every unit of the next layer: stacked once, its gradient gathered once)
    stacks = {}  # tuple of node indices -> stack number

    def slots(rec, form):
        members = [tuple(rec.inputs[j * form.count:(j + 1) * form.count]) for j in range(form.slots)]
        return [stacks.setdefault(t, len(stacks)) for t in members]

    lines = [f"def {'batched(values, n)' if numpy else 'forward_backward(values)'}:"]
    lines += [f"    # v{i}: {escape_label(nodes[i].label)}" for i in input_order if nodes[i].label is not None]
    if input_order:
        lines.append(f"    {_tuple(f'v{i}' for i in input_order)[1:-1]} = values")
    lines.append("    # forward")
    built = set()
    for rec in nodes:
        i = rec.index
        if i not in needed or i in inputs or rec.is_const:
            continue
        if rec.is_leaf:
            lines.append(f"    v{i} = {_literal(rec.data)}{_comment(rec.label)}")
            continue
        args = [var(j) for j in rec.inputs]
        form = lanes(rec)
        if form is not None:
            names = {}
            for j, k in enumerate(slots(rec, form)):
                if k not in built:
                    built.add(k)
                    members = args[j * form.count:(j + 1) * form.count]
                    lines.append(f"    s{k} = _stack([{', '.join(members)}])")
                names[f"S{j}"] = f"s{k}"
            lines.append(f"    v{i} = np.cumsum({form.forward.format(**names)}, axis=0)[-1]{_comment(rec.label)}")
            continue
        temps, (forward,) = code_text(template(OPS[rec.op], len(args), rec.params).forward, numpy)
        names = {f"t{k}": f"t{i}_{k}" for k in range(len(temps))}
        lines += [f"    t{i}_{k} = {text.format(*args, **names)}" for k, text in enumerate(temps)]
        lines.append(f"    v{i} = {forward.format(*args, **names)}{_comment(rec.label)}")
    out = outputs[0]
    lines.append(f"    # backward: g<n> = d v{out} / d v<n>")
    lines.append(f"    g{out} = 1.0")
    assigned = {out}

    def add(j, term):
        if j not in assigned:
            assigned.add(j)
            lines.append(f"    g{j} = {term}")
        else:
            lines.append(f"    g{j} = g{j} + {term}" if numpy else f"    g{j} += {term}")

    # numpy: the gradients come back as one array R, a row per wrt node; a stack of distinct
    # leaves each listed once in wrt adds its gathered gradient to R's rows in one operation
    rows = {}
    for k, i in enumerate(wrt):
        rows.setdefault(i, []).append(k)
    by_last = {}  # the stacks to take apart before the backward step of their last member
    for members, k in stacks.items():
        by_last.setdefault(max(members), []).append((k, members))
    gathered = set()
    row_indices = []

    def rows_of(positions):
        if positions == list(range(positions[0], positions[0] + len(positions))):
            return f"{positions[0]}:{positions[-1] + 1}"
        row_indices.append(positions)
        return f"_I{len(row_indices) - 1}"

    for rec in reversed(nodes):
        i = rec.index
        for k, members in by_last.get(i, ()):
            if k not in gathered:
                continue
            if (len(set(members)) == len(members) and out not in members
                    and all(nodes[j].is_leaf and len(rows.get(j, ())) == 1 for j in members)):
                lines.append(f"    R[{rows_of([rows[j][0] for j in members])}] += gs{k}")
                continue
            for m, j in enumerate(members):
                if carries[j]:
                    add(j, f"gs{k}[{m}]")
        if i not in live or i not in assigned or rec.is_leaf:
            continue
        args = [var(j) for j in rec.inputs]
        form = lanes(rec)
        if form is not None:
            names = {f"S{j}": f"s{k}" for j, k in enumerate(slots(rec, form))}
            names.update(o=f"v{i}", g=f"g{i}")
            for j, k in enumerate(slots(rec, form)):
                term = form.backward[j]
                if term is None or not any(carries[x] for x in rec.inputs[j * form.count:(j + 1) * form.count]):
                    continue
                term = term.format(**names)
                lines.append(f"    gs{k} = gs{k} + {term}" if k in gathered else f"    gs{k} = {term}")
                gathered.add(k)
            continue
        temps, terms = code_text(template(OPS[rec.op], len(args), rec.params).backward, numpy)
        edges = [(j, term) for j, term in zip(rec.inputs, terms) if carries[j] and term is not None]
        if not edges:
            continue
        names = {f"t{k}": f"d{i}_{k}" for k in range(len(temps))}
        names.update(o=f"v{i}", g=f"g{i}")
        lines += [f"    d{i}_{k} = {text.format(*args, **names)}" for k, text in enumerate(temps)]
        for j, term in edges:
            add(j, term.format(*args, **names))
    outputs = _tuple(map(var, outputs))
    if not numpy:
        grads = (f"g{i}" if i in assigned else "0.0" for i in wrt)
        lines.append(f"    return {outputs}, {_tuple(grads)}")
        return "\n".join(lines) + "\n", row_indices
    rest = [(k, i) for k, i in enumerate(wrt) if i in assigned]
    if rest:
        where = rows_of([k for k, _ in rest])
        lines.append(f"    R[{where}] += _stack([{', '.join(f'g{i}' for _, i in rest)}])")
    lines.insert(lines.index("    # forward"), f"    R = np.zeros(({len(wrt)}, n))")
    lines.append(f"    return {outputs}, R")
    return "\n".join(lines) + "\n", row_indices


def _below(nodes, roots) -> set:
    seen, stack = set(), list(roots)
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(nodes[i].inputs)
    return seen
