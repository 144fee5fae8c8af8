"""``explain``: an expression's (or a program's) step-by-step derivation, gate by gate."""

from __future__ import annotations

from ..core.errors import InputError, in_file
from ..core.notation import label_key
from ..expressions.parse import OUTPUT_NAME, parse
from ..expressions.program import Program
from ..core.value import Value, zero_grad


def explain(text, at=None, *, wrt=None, format: str = "markdown", lang: str = "en", decimals: int = 4,
            verify: bool = False, template_dir=None, fragment: bool = False):
    """The derivation of ``f = text`` at ``at`` (or of a :class:`~tracegrad.expressions.program.Program`'s
    output, from :func:`tracegrad.parse_program`): every value forward, then the backward
    pass gate by gate (the gate with its inputs and output, the upstream gradient, and
    for each input upstream × local = the gradient sent to it), then the gradients
    (of the variables ``wrt``, default all; a program's leaves by their names). ``verify``
    appends SymPy's confirmation.

    Returns a :class:`tracegrad.workflows.derive.Derivation` (``.text``; it displays in Jupyter).
    """
    return _explain(text, at, wrt, format, lang, decimals, verify, template_dir, fragment)[0]


def _explain(text, at, wrt, format, lang, decimals, verify, template_dir, fragment):
    """:func:`explain`, also returning the verification report (``None`` without ``verify``)."""
    from .derive import Derivation, number_format
    from ..render.environment import Catalog, render
    from ..render.model import to_json
    from ..render.node_view import NodeView
    from ..core.numbers import exact_text
    from ..core.trace import trace

    fmt = number_format(decimals)
    msg = Catalog(lang, template_dir)
    program = isinstance(text, Program)
    if program:
        if at:
            raise InputError("a program gives its values in Value(…); --at is for expressions", key="--at")
        zero_grad(text.output)  # the program's own gradients, once, however often it is explained
        t = trace(text.output)
        leaves = {t.key(r.index): r.index for r in t.nodes if r.is_leaf and not r.is_const}
        default = list(leaves)
        title = msg("program.title", source=text.source, output=t.symbol(t.output.index).text)
    else:
        at = dict(at or {})
        t = trace(parse(text, at, name=OUTPUT_NAME))
        leaves = {n: t.index(at[n]) if isinstance(at[n], Value) else t.labels[n] for n in at}
        default = [n for n in at if isinstance(at[n], (int, float))]
        point = ", ".join(f"{n} = {exact_text(float(at[n].data if isinstance(at[n], Value) else at[n]))}"
                          for n in at)
        title = msg("expr.title_at", expr=text, point=point) if at else msg("expr.title", expr=text)
    wrt = [label_key(n) for n in wrt] if wrt else default
    unknown = [n for n in wrt if n not in leaves]
    if unknown:
        what = "a leaf of the program (its leaves" if program else "a variable of the expression (its variables"
        raise InputError(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not {what}: "
                         f"{', '.join(leaves) or 'none'})", key="--wrt")
    model = _circuit(NodeView(t, fmt, msg).build(title), t, fmt, msg, wrt)
    report = None
    if verify:
        from ..symbolic import verify as confirm
        from ..render.verify_report import render_verification, view

        with in_file("expression"):
            report = confirm(t, wrt=[leaves[n] for n in wrt], expand=True)
        if format == "json":
            model.extra["verify"] = report.to_dict()
        elif format == "latex":
            model.extra["verify"] = render("expr", "latex", template_dir, lang, v=view(report, msg), msg=msg)
        else:
            model.extra["verify"] = render_verification(report, format, lang, template_dir)
    if format == "json":
        return Derivation(to_json(model), format, model), report
    output = render("derive", format, template_dir, lang, d=model, fragment=fragment,
                    summary_heading=msg("section.summary"), msg=msg)
    return Derivation(output, format, model), report


def _circuit(model, t, fmt, msg, wrt):
    """The node view, circuit style: each backward gate headed by its forward line (inputs
    and output) and opened by its upstream gradient; gradients only for ``wrt``."""
    from dataclasses import replace

    from ..core.notation import partial
    from ..render import mathtext as mt
    from ..render.model import Block, Line
    from ..render.node_view import node_name

    forward, backward, gradients = model.sections
    computed = {line.name: line for block in forward.blocks for line in block.lines}
    upstream: dict = {}  # gate -> its upstream gradient, for the gates the node view prints (not into constants)
    for step in t.steps:
        if not t.nodes[step.input].is_const:
            upstream.setdefault(step.node, step.upstream)
    out = node_name(t, t.output.index)
    blocks = []
    for gate, block in zip(upstream, backward.blocks):
        name = node_name(t, gate)
        line = computed[name.text]
        heading = "".join(f" {c} {piece.text}" if c else piece.text for c, piece in line.chain())
        g = upstream[gate]
        first = Line(name.text, msg("expr.upstream"), partial(out, name), None, None, fmt.relation(g),
                     mt.number(g, fmt), g, fmt.is_exact(g))
        blocks.append(Block(heading, (first, *block.lines)))
    kept = {line.name: line for block in gradients.blocks for line in block.lines}
    wanted = Block("", tuple(kept[n] for n in wrt if n in kept))
    sections = (forward, replace(backward, blocks=tuple(blocks)), replace(gradients, blocks=(wanted,)))
    return replace(model, sections=sections)
