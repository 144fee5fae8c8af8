"""Rich display in Jupyter.

A ``Value`` shows the picture of its graph (SVG, when Graphviz's ``dot`` is
installed) or, without Graphviz, the same boxes as a Markdown table. A
``Trace`` shows its node-view derivation in Markdown. Graphs larger than
:data:`DISPLAY_LIMIT` nodes keep the plain ``repr``, so displaying a big
network's loss never stalls a notebook; draw those on purpose with
:func:`tracegrad.render.picture.to_svg` or ``tracegrad.workflows.derive.derive``.
"""

from __future__ import annotations

from .render.picture import as_trace, boxes, graphviz_available, to_svg
from .core import escape
from .core.value import Value

DISPLAY_LIMIT = 300
"""Most nodes a graph may have to be drawn or derived automatically on display."""


def _small(graph):
    """``graph`` as a trace when it has at most :data:`DISPLAY_LIMIT` nodes, else ``None``
    (a ``Value`` graph is counted with an early stop, never walked in full)."""
    if isinstance(graph, Value):
        seen, stack = set(), [graph]
        while stack:
            v = stack.pop()
            if id(v) not in seen:
                seen.add(id(v))
                if len(seen) > DISPLAY_LIMIT:
                    return None
                stack.extend(v._prev)
    t = as_trace(graph)
    return t if len(t) <= DISPLAY_LIMIT else None


def value_svg(value) -> str | None:
    """The graph below ``value`` as SVG; ``None`` without Graphviz or above the limit."""
    t = _small(value)
    if t is None or not graphviz_available():
        return None
    return to_svg(t)


def value_markdown(value) -> str | None:
    """Without Graphviz: the graph's boxes as a Markdown table (``None`` when SVG is shown)."""
    t = _small(value)
    if t is None or graphviz_available():
        return None
    rows = [f"| {escape.markdown(title)} | {data} | {grad} |" for title, data, grad in boxes(t)]
    return "\n".join(["| value | data | grad |", "|:---|---:|---:|", *rows]) + "\n"


def trace_markdown(trace) -> str | None:
    """The node-view derivation of ``trace`` in Markdown (``None`` above the limit)."""
    if _small(trace) is None:
        return None
    from .workflows.derive import derive

    return derive(trace, format="markdown").text


# --- the %%tracegrad cell magic -------------------------------------------------------------

VIEWS = ("derivation", "graph", "quantities")
"""What ``%%tracegrad --view`` shows."""

_MIME = {"markdown": "text/markdown", "latex": "text/latex", "text": "text/plain", "json": "application/json"}


class Shown:
    """What a cell magic displays: one text under its MIME type, and ``plain`` (default: the
    text itself) for a plain-text front end."""

    def __init__(self, text: str, mime: str = "text/markdown", plain: str | None = None):
        self.text = text
        self.mime = mime
        self.plain = text if plain is None else plain

    def __repr__(self) -> str:
        return self.plain

    def _repr_mimebundle_(self, include=None, exclude=None):
        import json

        data = json.loads(self.text) if self.mime == "application/json" else self.text
        return {self.mime: data, "text/plain": self.plain}


def _parser():
    import argparse

    from .commands.expr import add_options
    from .core.errors import InputError

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise InputError(message, file="%%tracegrad")

    parser = Parser(prog="%%tracegrad", add_help=False,
                    description="Show the derivation of the cell, a straight-line program (micrograd code), "
                                "which is never run.")
    add_options(parser, default_format="markdown")
    parser.add_argument("--of", metavar="NAME", help="the output (default: what .backward() is called on)")
    parser.add_argument("--view", choices=VIEWS, default="derivation",
                        help="the derivation (default), the picture of the graph, or the names answers use")
    parser.add_argument("--check", metavar="ANSWERS",
                        help="a dict of answers in the notebook, inline JSON, or an answers file")
    return parser


def _answers(given: str, namespace: dict):
    """``--check``'s answers: a notebook variable (a dict of answers, a path or parsed answers),
    inline JSON (``{"dL/da": 6}``, digits kept as written), or an answers file."""
    import json
    from decimal import Decimal
    from pathlib import Path

    from .checker.answers import parse_answers
    from .core.errors import InputError

    if given.isidentifier() and given in namespace:
        value = namespace[given]
    elif given.lstrip().startswith("{"):
        try:
            value = json.loads(given, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON ({exc.msg} at column {exc.colno})", file="--check") from None
    elif Path(given).is_file():
        return given
    else:
        raise InputError(f"{given} is not a notebook variable, an answers file or inline JSON such as "
                         "'{\"dL/da\": 6}'", file="--check")
    if isinstance(value, dict):
        full = isinstance(value.get("answers"), dict)  # {"answers": {...}, "tolerance": {...}}
        return parse_answers(value if full else {"answers": value}, source=given)
    return value


def run_magic(line: str, cell: str, namespace: dict) -> Shown:
    """``%%tracegrad [options]``: the cell's program as a derivation (or, with ``--view``, its
    graph or its quantities; with ``--check ANSWERS``, the verdicts on the answers)."""
    import shlex

    from .expressions.program import parse_program

    parser = _parser()
    words = shlex.split(line)
    if "-h" in words or "--help" in words:
        return Shown(parser.format_help(), "text/plain")
    args = parser.parse_args(words)
    program = parse_program("\n" + cell, args.of, source="cell")  # line numbers as the cell's, after %%tracegrad
    if args.check is not None:
        from .workflows.check import check

        return Shown(check(program, _answers(args.check, namespace)).render("markdown", args.lang))
    if args.view == "graph":
        from .core.trace import trace

        from .render.picture import to_mermaid

        graph = trace(program.output)
        mermaid = f"```mermaid\n{to_mermaid(graph, args.decimals)}```\n"
        if graphviz_available():
            return Shown(to_svg(graph, args.decimals), "image/svg+xml", plain=mermaid)
        return Shown(mermaid)
    if args.view == "quantities":
        from .checker.expression import program_subject
        from .render.listing import render_listing
        from .workflows.derive import number_format

        return Shown(render_listing(program_subject(program), "markdown", args.lang, number_format(args.decimals)))
    from .workflows.explain import explain

    derivation = explain(program, wrt=args.wrt, format=args.format, lang=args.lang, decimals=args.decimals,
                         verify=args.verify, fragment=True)
    return Shown(derivation.text, _MIME[args.format])


def register_magic(ipython) -> None:
    """Register ``%%tracegrad`` with an IPython shell (``%load_ext tracegrad`` does)."""
    from .core.errors import TraceGradError

    def tracegrad(line, cell):
        from IPython.core.error import UsageError

        try:
            return run_magic(line, cell, ipython.user_ns)
        except TraceGradError as exc:  # bad input: one message, no traceback
            raise UsageError(str(exc)) from None

    tracegrad.__doc__ = run_magic.__doc__
    ipython.register_magic_function(tracegrad, magic_kind="cell", magic_name="tracegrad")
