"""``derive``: a problem (or a trace) rendered as a step-by-step derivation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core.errors import InputError, in_file
from ..problem.schema import FORMATS, Problem, load_problem
from ..core.trace import Trace
from ..render.environment import Catalog, render
from ..render.model import Confirmation, to_json
from ..core.numbers import MIN_SIG_FIGS, NumberFormat


@dataclass(frozen=True)
class Derivation:
    """Rendered text plus the view model; displays itself in Jupyter."""

    text: str
    format: str
    model: object
    ok: bool = True  # with verify: every derivative agrees with SymPy

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self):
        return self.text if self.format == "markdown" else None

    def _repr_latex_(self):
        return self.text if self.format == "latex" else None


def number_format(decimals=None, sig_figs=None, problem: Problem | None = None) -> NumberFormat:
    """The display precision: explicit options first, then the problem's render defaults, then 4 decimals;
    with decimals, every nonzero computed value keeps at least :data:`MIN_SIG_FIGS` significant figures."""
    if decimals is not None and sig_figs is not None:
        raise InputError("give --decimals or --sig-figs, not both")
    if decimals is None and sig_figs is None and problem is not None:
        decimals, sig_figs = problem.render.decimals, problem.render.sig_figs
    if decimals is None and sig_figs is None:
        decimals = 4
    if decimals is not None and not 0 <= decimals <= 15:
        raise InputError(f"--decimals must be from 0 to 15, got {decimals}")
    if sig_figs is not None and not 1 <= sig_figs <= 17:
        raise InputError(f"--sig-figs must be from 1 to 17, got {sig_figs}")
    return NumberFormat(decimals=decimals, sig_figs=sig_figs, min_sig_figs=MIN_SIG_FIGS if decimals is not None else 0)


def decay_comparison(worked, fmt: NumberFormat, catalog) -> str:
    """The note comparing an L2 penalty with weight decay on the problem's own numbers (a problem
    with ``[loss] l2`` or ``[optimizer] weight_decay``), for the first weight of the first updated
    weight matrix that is not 0: with SGD, adding λ·w to the gradient and shrinking the weight by
    η·λ·w give the same update; with Adam's first step, λ·w inside the moments (L2, PyTorch's Adam
    ``weight_decay``) and decoupled (AdamW) do not. Every update comes from the optimizer table's
    own rule; "" for a problem with neither."""
    from itertools import product

    from ..core.nested import flatten
    from ..core.value import Value
    from ..nn.optim import OPTIMIZERS
    from ..problem.kinds import parameter_symbol
    from ..render.mathtext import number

    p = worked.problem
    penalties = dict(p.penalties)
    lam = penalties.get("l2") or worked.optimizer.weight_decay
    if not lam:
        return ""
    found = next(((k, position, w, g) for k in range(1, worked.depth + 1) if f"dL/dW{k}" in worked.quantities
                  for position, w, g in zip(product(*map(range, worked.quantities[f"dL/dW{k}"].shape)),
                                            flatten(p.layers[k - 1].weights), flatten(worked.value(f"dL/dW{k}")))
                  if w), None)
    if found is None:
        return ""
    k, position, w, g = found
    g -= penalties.get("l2", 0.0) * w + penalties.get("l1", 0.0) * (1.0 if w > 0 else -1.0)  # the data gradient
    lr = p.setting("lr")
    adam = {k: v for k, v in p.settings if k in ("betas", "eps")} if p.optimizer in ("adam", "adamw") else {}

    def first_update(name: str, decoupled: bool) -> float:
        optimizer = OPTIMIZERS[name]([Value(w)], lr=lr, weight_decay=lam, decoupled=decoupled,
                                     **(adam if name == "adam" else {}))
        return optimizer.update(w, g, optimizer.initial_state())[0]
    sgd_l2, sgd_decay = first_update("sgd", False), first_update("sgd", True)
    adam_l2, adamw = first_update("adam", False), first_update("adam", True)
    shown = {name: number(v, fmt).text for name, v in (("g", g), ("sgd_l2", sgd_l2), ("sgd_decay", sgd_decay),
                                                       ("adam_l2", adam_l2), ("adamw", adamw),
                                                       ("diff", adam_l2 - adamw))}
    where = "".join(f"[{i}]" for i in position)
    return catalog("decay.note", weight=parameter_symbol("W", k).text + where, w=number(w, None).text,
                   lam=number(lam, None).text, lr=number(lr, None).text, **shown)


def derive(problem, *, format: str | None = None, lang: str | None = None, decimals: int | None = None,
           sig_figs: int | None = None, rounding: str | None = None, view: str | None = None,
           template_dir=None, fragment: bool = False, extra: dict | None = None,
           as_printed=None, graph: bool = False, verify: bool = False, symbolic: bool = False) -> Derivation:
    """Render a problem (path, :class:`Problem`, :class:`~tracegrad.problem.solve.Worked`) or a :class:`Trace`.

    Options left as ``None`` take the problem file's ``[render]`` defaults. ``as_printed``
    (an answers file) pins a document's printed numbers where it printed them and shows
    the correct arithmetic beside each one that departs from it (layer view). ``graph``
    appends the computation graph as a Mermaid diagram (Markdown only). ``verify``
    appends a table confirming every printed derivative with SymPy and the line verifier's
    finding (:mod:`tracegrad.render.lines`: every line's formula and arithmetic as printed);
    ``Derivation.ok`` says whether all of it holds; ``symbolic`` shows each backward quantity's general
    formula, derived by SymPy, before the numbers (layer view; Markdown, LaTeX, JSON).
    """
    from ..problem.solve import Worked, solve

    if isinstance(problem, (str, bytes)) or hasattr(problem, "__fspath__"):
        problem = load_problem(problem)
    worked = problem if isinstance(problem, Worked) else None
    if isinstance(problem, Problem):
        worked = solve(problem)
    defaults = worked.problem.render if worked is not None else None
    format = format or (defaults.format if defaults else "markdown")
    lang = lang or (defaults.lang if defaults else "en")
    rounding = rounding or (defaults.rounding if defaults else "exact")
    view = view or (defaults.view if defaults else "layer")
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    fmt = number_format(decimals, sig_figs, worked.problem if worked else None)
    catalog = Catalog(lang, template_dir)
    if (verify or symbolic) and worked is None:
        raise InputError("--verify and --symbolic work on a problem file; for a trace use tracegrad.symbolic.verify")
    if symbolic and (view == "node" or format == "text"):
        raise InputError("--symbolic shows formulas in the layer view of Markdown, LaTeX or JSON output")
    closed = None
    if symbolic:
        from ..symbolic.closed import closed_forms

        with in_file(worked.problem.source):
            closed = closed_forms(worked)
    if isinstance(problem, Trace) or view == "node":
        if as_printed is not None:
            raise InputError("--as-printed pins numbers into the layer view of a problem file; drop --view node")
        from ..problem.formulas import node_graph
        from ..render.node_view import NodeView

        trace = problem if isinstance(problem, Trace) else node_graph(worked)
        model = NodeView(trace, fmt, catalog, rounding).build(worked.problem.title if worked else "")
    else:
        from ..problem.formulas import deltas_by_formula

        trace = worked.carry(fmt.round, deltas_by_formula(worked)) if rounding == "carry" else worked.trace
        from ..render.layer_view import LayerView

        printed = None
        if as_printed is not None:
            from ..checker.printed import as_printed as pin_printed

            printed = pin_printed(worked, as_printed, fmt.round if rounding == "carry" else None)
            trace = printed.trace
        view = LayerView(worked, trace, fmt, catalog, rounding, printed, closed)
        view.decay = decay_comparison(worked, fmt, catalog)
        model = view.build(worked.problem.title)
        if printed is not None:
            model = replace(model, note=model.note + catalog("check.as_printed.note", answers=printed.source))
    if extra:
        model.extra.update(extra)
    if graph:
        if format != "markdown":
            raise InputError("--graph embeds a Mermaid diagram in Markdown; for other formats draw the graph "
                             "with tracegrad graph PROBLEM --format dot|svg")
        from ..problem.formulas import node_graph
        from ..render.picture import to_mermaid

        diagram = to_mermaid(problem if isinstance(problem, Trace) else node_graph(worked),
                             fmt.decimals if fmt.decimals is not None else 4)
        model.extra["graph"] = render("graph", format, template_dir, lang, heading=catalog("section.graph"),
                                      mermaid=diagram)
    ok = True
    if verify:
        from ..render.lines import formula_problems, summary, verify_lines
        from ..symbolic.quantities import verification_rows

        with in_file(worked.problem.source):
            rows = verification_rows(worked)
        carried = rounding == "carry"
        found = () if view == "node" or as_printed is not None else formula_problems(worked, trace, fmt, carried)
        lines = verify_lines(model, carried, found)
        ok = all(row.agree for row in rows) and lines.ok
        model = replace(model, checked=summary(lines, catalog), confirmations=tuple(
            Confirmation(r.of_text, r.of, r.formula, r.formula_text, f"{r.symbolic:.12g}", f"{r.engine:.12g}", r.agree,
                         r.name)
            for r in rows))
    if format == "json":
        return Derivation(to_json(model), format, model, ok)
    text = render("derive", format, template_dir, lang, d=model, fragment=fragment,
                  summary_heading=catalog("section.summary"), msg=catalog)
    return Derivation(text, format, model, ok)
