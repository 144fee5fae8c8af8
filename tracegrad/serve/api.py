"""The one door from ``tracegrad serve`` into the rest of tracegrad.

Every call into tracegrad's internals is made here, so that moving a module
elsewhere in the package is a change to this file only. Each function takes
the texts of a request (problem file, answers file, expression or program) and its
options, by the names of the command-line options, and returns what the
command prints (``*_output``) or the view model a page lays out (``*_view``).

The texts become files ``problem.toml`` (``problem.json`` when the text is a
JSON object) and ``answers.toml`` in a fresh private directory that is the
working directory meanwhile, so that they are read by the command's own code
and every message names them as the command would (``problem.toml:
layers[1].weights: …``). That directory is the process's working directory
for the duration of a call: call these functions from one thread at a time
(the server runs them in worker processes, one request at a time each).
Requests never name a file of the server.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..checker import load_answers, load_subject
from ..core.errors import InputError, TraceGradError
from ..core.notation import partial
from ..core.trace import trace
from ..expressions.parse import OUTPUT_NAME, parse, parse_point
from ..expressions.program import parse_program
from ..problem import solve
from ..problem.formulas import node_graph
from ..problem.schema import FORMATS, LANGS, ROUNDINGS, VIEWS, load_problem, read_file
from ..render import mathtext as mt
from ..render.environment import Catalog, search_path
from ..render.layer_view import line_positions, positions
from ..render.listing import listing, render_listing
from ..render.node_view import NodeView, node_name
from ..render.picture import boxes, picture
from ..render.resources import template_dir
from ..workflows.check import check
from ..workflows.derive import derive, number_format
from ..workflows.explain import _explain
from ..workflows.variants import generate, write

__all__ = [
    "ApiError", "TraceGradError", "LANGS", "MAX_VARIANTS", "examples", "catalog", "template_dirs",
    "derive_output", "derive_view", "check_output", "check_view", "quantities_output", "quantities_view", "expr_output",
    "expr_view", "graph_data", "graph_output", "variants_zip", "numbers_text",
]

MAX_VARIANTS = 100
"""Variants one request may draw (the command allows more; a zip of 100 keys is plenty for a class)."""
MAX_GRAPH_NODES = 400
"""Nodes the Graph page draws; a larger graph is refused with a message."""

MEDIA_TYPES = {"json": "application/json", "markdown": "text/markdown", "latex": "application/x-tex",
               "text": "text/plain", "dot": "text/vnd.graphviz", "mermaid": "text/plain"}
"""Response type of each output format."""

FILE_OPTIONS = ("template_dir", "output", "as_printed", "problem", "answers")
"""Command-line options that name files: refused, every text travels in the request body."""


class ApiError(InputError):
    """A request the server refuses (bad options, a program, too many variants): HTTP 400."""


# --- options ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    values: tuple


_INT, _BOOL, _NAMES, _NAME = "a whole number", "true or false", "a list of variable names", "a variable name"
OPTIONS = {
    "derive": {"format": Choice(FORMATS), "lang": Choice(LANGS), "decimals": _INT, "sig_figs": _INT,
               "rounding": Choice(ROUNDINGS), "view": Choice(VIEWS), "fragment": _BOOL, "graph": _BOOL,
               "verify": _BOOL, "symbolic": _BOOL},
    "check": {"format": Choice(("json", "text", "markdown")), "lang": Choice(LANGS)},
    "quantities": {"format": Choice(("json", "text", "markdown")), "lang": Choice(LANGS), "decimals": _INT,
                   "sig_figs": _INT},
    "expr": {"format": Choice(("json", "text", "markdown", "latex")), "lang": Choice(LANGS), "decimals": _INT,
             "wrt": _NAMES, "verify": _BOOL, "fragment": _BOOL, "of": _NAME},
    "graph": {"format": Choice(("json", "dot", "mermaid")), "lang": Choice(LANGS), "decimals": _INT},
    "variants": {"count": _INT, "seed": _INT},
}
"""Each endpoint's options, by the names of the command's options (``sig_figs`` for ``--sig-figs``)."""


def _options(command: str, options) -> dict:
    """``options`` checked against the command's: one message naming the option when one is wrong."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ApiError("expected an object of options, e.g. {\"lang\": \"zh\"}", key="options")
    allowed = OPTIONS[command]
    for name, value in options.items():
        key = f"options.{name}"
        if name in FILE_OPTIONS:
            raise ApiError("names a file, and tracegrad serve reads no file of the server: send every text "
                           "in the request body", key=key)
        spec = allowed.get(name)
        if spec is None:
            raise ApiError(f"unknown option; {command} takes {', '.join(allowed)}", key=key)
        if value is None:
            continue
        if isinstance(spec, Choice):
            ok = isinstance(value, str) and value in spec.values
            expected = f"one of {', '.join(spec.values)}"
        elif spec is _INT:
            ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10 ** 9
            expected = spec
        elif spec is _BOOL:
            ok = isinstance(value, bool)
            expected = spec
        elif spec is _NAME:
            ok = isinstance(value, str)
            expected = spec
        else:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            expected = spec
        if not ok:
            raise ApiError(f"expected {expected}, got {_describe(value)}", key=key)
    return {name: value for name, value in options.items() if value is not None}


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


# --- the request's texts as files -------------------------------------------------------

@contextmanager
def _files(problem=None, answers=None):
    """Write the texts as ``problem.toml`` (or ``.json``) and ``answers.toml`` (or ``.json``) in a
    fresh private directory and work there meanwhile; yields their names (None for an absent text)."""
    names = []
    with tempfile.TemporaryDirectory(prefix="tracegrad-serve-") as scratch:
        old = os.getcwd()
        os.chdir(scratch)
        try:
            for stem, text in (("problem", problem), ("answers", answers)):
                names.append(_write(stem, text))
            yield names
        finally:
            os.chdir(old)


def _write(stem: str, text) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ApiError(f"expected the {stem} file's text as a string, got {_describe(text)}", key=stem)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(f"not valid Unicode text (a lone surrogate at character {exc.start})", key=stem) from None
    name = f"{stem}.json" if text.lstrip().startswith("{") else f"{stem}.toml"
    Path(name).write_bytes(data)
    return name


# --- shipped material --------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    name: str  # file stem: seed
    kind: str  # network, variants, expression or answers
    text: str


EXAMPLES = ("seed", "batch_tanh", "seed_variants", "expression_homework", "seed_printed")
"""The shipped example files the pages offer, first the document's worked example."""


def examples() -> list:
    """The shipped example problems and answers files: beside the templates, in the installed
    package (``tracegrad/examples``) as in a source checkout (``examples/``)."""
    directory = template_dir().parent / "examples"
    found = []
    for name in EXAMPLES:
        text = (directory / f"{name}.toml").read_text(encoding="utf-8")
        kind = ("variants" if "[variants]" in text else "expression" if "expression =" in text
                else "answers" if "[answers]" in text else "network")
        found.append(Example(name, kind, text))
    return found


def catalog(lang: str) -> Catalog:
    """The message catalog of ``lang`` (the shipped one: a request cannot name a template directory)."""
    return Catalog(lang if lang in LANGS else "en")


def template_dirs() -> list:
    """Where the shipped templates are (pages live under ``serve/`` among them)."""
    return search_path()


# --- derive ------------------------------------------------------------------------------

def _derive(problem: str, options: dict):
    with _files(problem) as (path, _):
        opts = _options("derive", options)
        fmt = opts.pop("format", "json")
        return derive(path, format=fmt, **opts)


def derive_output(problem: str, options=None) -> tuple:
    """``tracegrad derive PROBLEM`` with ``options``: ``(text, media type, exit code)``; JSON unless
    ``options["format"]`` asks for markdown, latex or text."""
    result = _derive(problem, options)
    return result.text, MEDIA_TYPES[result.format], 0 if result.ok else 1


def derive_view(problem: str, options=None):
    """The derivation's view model (a :class:`~tracegrad.render.model.DerivationView`)."""
    return _derive(problem, {**(options or {}), "format": "json"}).model


# --- check and quantities ---------------------------------------------------------------

def _report(path: str, answers_path, required: bool = True):
    """The check report and the problem's file table (the answers may sit in an expression problem;
    without answers and not ``required``, the report is None)."""
    data = read_file(Path(path))
    if answers_path is None:
        if "expression" not in data:
            if not required:
                return None, data
            raise ApiError("give the answers: only an expression problem may hold its own [answers]",
                           key="answers")
        answers_path = load_answers(path, ignore=("expression", "at"))
    return check(path, answers_path), data


def check_output(problem: str, answers=None, options=None) -> tuple:
    """``tracegrad check PROBLEM ANSWERS``: ``(text, media type, exit code)``."""
    opts = _options("check", options)
    with _files(problem, answers) as paths:
        report, _ = _report(*paths)
        fmt = opts.get("format", "json")
        return report.render(fmt, opts.get("lang")), MEDIA_TYPES[fmt], report.exit_code


@dataclass(frozen=True)
class CheckResult:
    """What the Check page shows: the report, the derivation its answers belong to, and for each
    derivation line (by the line's ``(section, block, line)`` position) the report rows it answers."""

    report: object  # CheckView, or None without answers
    derivation: object  # DerivationView
    marks: dict
    quantities: object  # Listing


def check_view(problem: str, answers=None, options=None) -> CheckResult:
    """The Check page's model: verdicts, and the derivation with every answered line marked
    (without answers, a network problem's derivation unmarked)."""
    opts = _options("check", options)
    with _files(problem, answers) as paths:
        report, data = _report(*paths, required=False)
        subject = report.subject if report is not None else load_subject(paths[0])
        lang = opts.get("lang") or subject.lang
        if "expression" in data:
            derivation = expr_view(data["expression"], data.get("at", {}), {"lang": lang})
            names = _expression_line_names(derivation)
        else:
            worked = solve(load_problem(paths[0]))
            derivation = derive(worked, format="json", lang=lang).model
            names = line_positions(derivation, worked)
    marks: dict = {}
    view = None
    if report is not None:
        view = report.view(lang)
        for i, verdict in enumerate(report.verdicts):
            where = names.get(verdict.answer.name)
            if where is not None:
                marks.setdefault(where, []).append(view.rows[i])
    return CheckResult(view, derivation, marks, listing(subject, number_format(*subject.precision), lang))


_ASCII_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def _expression_line_names(derivation) -> dict:
    """Quantity name → line position in an expression's derivation: values forward (``v3``), a gate's
    upstream gradient (``df/dv3``, the first line of its backward block), a variable's gradient (``df/dx``)."""
    names = {}
    for where, section, block, line in positions(derivation):
        name = line.name.translate(_ASCII_DIGITS)
        if section.key == "node_forward":
            names.setdefault(name, where)
        elif section.key == "node_backward" and where[2] == 0 or section.key == "node_gradients":
            names.setdefault(f"d{OUTPUT_NAME}/d{name}", where)
    return names


def quantities_view(problem: str, options=None):
    """The names an answers file can use, with values and formulas (a :class:`~tracegrad.checker.listing.Listing`)."""
    opts = _options("quantities", options)
    with _files(problem) as (path, _):
        subject = load_subject(path)
        return listing(subject, number_format(*subject.precision), opts.get("lang"))


def quantities_output(problem: str, options=None) -> tuple:
    """``tracegrad quantities PROBLEM``: ``(text, media type, exit code)``."""
    opts = _options("quantities", options)
    with _files(problem) as (path, _):
        subject = load_subject(path)
        decimals, sig_figs = opts.get("decimals"), opts.get("sig_figs")
        if decimals is None and sig_figs is None:
            decimals, sig_figs = subject.precision
        fmt = opts.get("format", "json")
        return render_listing(subject, fmt, opts.get("lang"), number_format(decimals, sig_figs)), MEDIA_TYPES[fmt], 0


# --- expressions ---------------------------------------------------------------------------

def _point(at) -> dict:
    """``{"x": -2, "y": "5"}``, or the text ``"x=-2 y=5"``, as ``tracegrad expr --at x=-2 y=5`` reads it."""
    if at is None:
        return {}
    if isinstance(at, str):
        return parse_point(re.sub(r"\s*=\s*", "=", at).replace(",", " ").replace(";", " ").split(), key="at")
    if not isinstance(at, dict):
        raise ApiError("expected an object of variable values, e.g. {\"x\": -2, \"y\": 5}", key="at")
    items = []
    for name, value in at.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ApiError(f"expected a number, got {_describe(value)}", key=f"at.{name}")
        items.append(f"{name}={value}")
    return parse_point(items, key="at")


def _source(expression, at, program, output=None) -> tuple:
    """What ``expr`` derives: ``(expression, point)``, or ``(Program, {})`` for a straight-line
    program (micrograd code, interpreted, never run) whose output is ``output`` (``--of``) or the
    node it calls ``.backward()`` on."""
    if (expression is None) == (program is None):
        raise ApiError("give an expression and its point, or a program (not both), e.g. {\"expression\": "
                       "\"(x + y) * z\", \"at\": {\"x\": -2, \"y\": 5, \"z\": -4}}", key="expression")
    if program is None:
        if not isinstance(expression, str):
            raise ApiError("expected the expression as a string, e.g. \"(x + y) * z\"", key="expression")
        if output is not None:
            raise ApiError("names a program's output; an expression's output is the expression", key="options.of")
        return expression, _point(at)
    if not isinstance(program, str):
        raise ApiError("expected the program's Python source as a string, e.g. \"a = Value(2.0)\\nL = a * a\"",
                       key="program")
    if at:
        raise ApiError("a program gives its values in Value(…); at is for expressions", key="at")
    try:
        return parse_program(program, output, source="program"), {}
    except InputError as exc:  # its first line says where and what; the source excerpt stays the command's
        raise ApiError(str(exc).partition("\n")[0]) from None


def _expr(expression, at, options, program=None):
    opts = _options("expr", options)
    source, point = _source(expression, at, program, opts.get("of"))
    fmt = opts.get("format", "json")
    derivation, report = _explain(source, point, opts.get("wrt"), fmt, opts.get("lang", "en"),
                                  opts.get("decimals", 4), opts.get("verify", False), None,
                                  opts.get("fragment", False))
    return derivation, report


def expr_output(expression=None, at=None, options=None, program=None) -> tuple:
    """``tracegrad expr EXPR --at …`` (or ``--file PROGRAM.py``): ``(text, media type, exit code)``."""
    derivation, report = _expr(expression, at, options, program)
    return derivation.text, MEDIA_TYPES[derivation.format], 0 if report is None or report.ok else 1


def expr_view(expression=None, at=None, options=None, program=None):
    """The expression's (or program's) derivation, gate by gate, as a view model."""
    return _expr(expression, at, {**(options or {}), "format": "json", "verify": False}, program)[0].model


# --- graphs --------------------------------------------------------------------------------

def _graph_trace(problem, expression, at, program):
    if (problem is None) == (expression is None and program is None):
        raise ApiError("give a problem, or an expression and its point (not both)", key="problem")
    if problem is not None:
        with _files(problem) as (path, _):
            return node_graph(solve(load_problem(path)))
    source, point = _source(expression, at, program)
    if isinstance(source, str):
        return trace(parse(source, point, name=OUTPUT_NAME))
    return trace(source.output)  # a fresh program: its gradients are this backward pass's alone


def graph_output(problem=None, expression=None, at=None, options=None, program=None) -> tuple:
    """``tracegrad graph``: DOT or Mermaid text, or the graph as JSON (:func:`graph_data`)."""
    opts = _options("graph", options)
    fmt = opts.get("format", "json")
    if fmt == "json":
        import json

        text = json.dumps(graph_data(problem, expression, at, opts, program), ensure_ascii=False, indent=1) + "\n"
    else:
        decimals = opts.get("decimals", 4)
        number_format(decimals)
        text = picture(_graph_trace(problem, expression, at, program), fmt, decimals)
    return text, MEDIA_TYPES[fmt], 0


def graph_data(problem=None, expression=None, at=None, options=None, program=None) -> dict:
    """The computation graph as data: every node (name, op, role, formula with its numbers, value,
    gradient) and every edge with its backward step (upstream × local = contribution)."""
    opts = _options("graph", options)
    t = _graph_trace(problem, expression, at, program)
    if len(t.nodes) > MAX_GRAPH_NODES:
        raise ApiError(f"the graph has {len(t.nodes)} nodes; the page draws at most {MAX_GRAPH_NODES} (tracegrad "
                       "graph PROBLEM --format dot draws any size)", key="problem" if problem is not None else "expression")
    fmt = number_format(opts.get("decimals", 4))
    msg = catalog(opts.get("lang", "en"))
    lines = {line.name: line for block in NodeView(t, fmt, msg).forward().blocks for line in block.lines}
    out = node_name(t, t.output.index)
    consumers = {i for rec in t.nodes for i in rec.inputs}
    nodes = []
    for rec, (title, _, _) in zip(t.nodes, boxes(t, fmt.decimals)):
        name = node_name(t, rec.index)
        line = lines.get(name.text)
        formula = " ".join(f"{c} {p.text}" if c else p.text for c, p in line.chain()) if line else name.text
        nodes.append({
            "index": rec.index, "name": name.text, "title": title, "op": rec.op or ("const" if rec.is_const else "leaf"),
            "role": _role(rec, rec.index in consumers), "formula": formula,
            "data": rec.data, "grad": rec.grad, "data_text": mt.number(rec.data, fmt).text,
            "grad_text": mt.number(rec.grad, fmt).text,
            "gradient": f"{partial(out, name).text} = {mt.number(rec.grad, fmt).text}",
            "inputs": list(rec.inputs),
        })
    edges = []
    for step in t.steps:
        into, source = node_name(t, step.node), node_name(t, step.input)
        numbers = " × ".join(_factor(mt.number(x, fmt).text) for x in (step.upstream, step.local))
        edges.append({
            "source": step.input, "target": step.node, "position": step.position,
            "upstream": step.upstream, "local": step.local, "contribution": step.contribution,
            "accumulated": step.accumulated,
            "text": f"{partial(out, into).text} × {partial(into, source).text} = {numbers} = "
                    f"{mt.number(step.contribution, fmt).text}",
        })
    return {"nodes": nodes, "edges": edges, "output": t.output.index}


def _factor(text: str) -> str:
    """A number as a factor of a product: negative ones in parentheses."""
    return f"({text})" if text.startswith("−") else text


ROLES = {"W": "parameter", "b": "parameter", "x": "input", "y": "target", "z": "sum", "a": "activation",
         "loss": "loss"}
"""Colour classes of network roles (:class:`tracegrad.roles.Role` quantities)."""


def _role(rec, consumed: bool) -> str:
    """What a node is, for colouring: parameter, input, target, sum, activation, loss (network roles),
    constant, variable, value or output."""
    if rec.role is not None:
        return ROLES.get(rec.role.quantity, "value")
    if rec.is_const:
        return "constant"
    if rec.is_leaf:
        return "variable"
    return "value" if consumed else "output"


# --- variants ------------------------------------------------------------------------------

def variants_zip(problem: str, options=None) -> tuple:
    """``tracegrad variants PROBLEM --count N --seed S`` as a zip archive in memory:
    ``(zip bytes, [(variant stem, its answer key)])``."""
    opts = _options("variants", options)
    count, seed = opts.get("count", 10), opts.get("seed", 0)
    if not 1 <= count <= MAX_VARIANTS:
        raise ApiError(f"expected from 1 to {MAX_VARIANTS} variants, got {count}", key="options.count")
    with _files(problem) as (path, _):
        variants = generate(path, count, seed)
        paths = write(variants, "variants", problem_name="problem")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for p in sorted(paths):
                info = zipfile.ZipInfo(f"variants/{p.name}", date_time=(2000, 1, 1, 0, 0, 0))
                archive.writestr(info, p.read_bytes(), zipfile.ZIP_DEFLATED)
    keys = [(f"problem-{v.number:0{max(3, len(str(count)))}d}", v.key) for v in variants]
    return buffer.getvalue(), keys


def numbers_text(nested, decimals: int = 4) -> str:
    """Numbers of an answer key (a number or nested tuples) as a derivation prints them: ``[0.7657]``."""
    fmt = number_format(decimals)
    return mt.grid(nested, lambda x: mt.number(x, fmt)).text
