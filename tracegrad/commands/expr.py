"""``tracegrad expr``: differentiate an expression, or a straight-line program, step by step."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "expr", help="differentiate an expression or a micrograd-style program step by step (forward, "
                     "backward gate by gate, gradients)",
        description="Build the graph of an expression at a point, or of a straight-line program (micrograd "
                    "code: a = Value(2.0), L = a * b, L.backward()), then print every value forward, the "
                    "backward pass gate by gate (inputs and output, upstream gradient, upstream × local = "
                    "the gradient sent to each input) and the gradients.",
        epilog='examples: tracegrad expr "(x + y) * z" --at x=-2 y=5 z=-4 --verify   '
               '(or --at first: tracegrad expr --at x=-2 y=5 z=-4 "(x + y) * z"; '
               'an expression starting with "-" goes after --: tracegrad expr --at x=1 -- -x); '
               "tracegrad expr --file lecture.py --wrt a b")
    p.add_argument("expression", metavar="EXPR", nargs="?", help='an expression such as "(x + y) * z" (quote it)')
    p.add_argument("--file", metavar="PROGRAM.py",
                   help="a straight-line program instead of EXPR (- reads standard input); it is never run")
    p.add_argument("--at", nargs="*", action="extend", default=[], metavar="NAME=NUMBER",
                   help="the value of every variable of EXPR, e.g. --at x=-2 y=5 z=-4 (before or after EXPR; "
                        "may be repeated)")
    p.add_argument("--of", metavar="NAME", help="a program's output: this variable, instead of the one the "
                                               "program calls .backward() on (else its last Value)")
    add_options(p)
    p.add_argument("--template-dir", metavar="DIR", help="directory searched first for templates and catalogs")
    p.add_argument("--fragment", action="store_true", help="LaTeX: the body only, without preamble")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def add_options(p, default_format: str = "text") -> None:
    """The options of a derivation (also the ``%%tracegrad`` cell magic's)."""
    p.add_argument("--wrt", nargs="+", metavar="NAME", help="list the gradients of these leaves only")
    p.add_argument("--format", choices=("text", "markdown", "latex", "json"), default=default_format,
                   help=f"output format (default {default_format})")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the prose (default en)")
    p.add_argument("--decimals", type=int, default=4, metavar="N", help="round displayed values to N decimals")
    p.add_argument("--verify", action="store_true",
                   help="confirm every gradient with SymPy (exit status 1 if one disagrees)")


def subject(args):
    """What ``expr`` derives: ``(expression or Program, point)``."""
    from ..core.errors import InputError
    from ..expressions.parse import parse_point
    from ..expressions.program import read_program

    expression, at = args.expression, args.at
    if expression is None and args.file is None:
        expression, at = _expression_among(at)
    if (expression is None) == (args.file is None):
        raise InputError('give an expression or --file PROGRAM.py (not both), e.g. tracegrad expr "(x + y) * z" '
                         "--at x=-2 y=5 z=-4")
    if args.file is None:
        if args.of:
            raise InputError("--of names a program's output; an expression's output is the expression", key="--of")
        return expression, parse_point(at)
    if args.at:
        raise InputError("a program gives its values in Value(…); --at is for expressions", key="--at")
    return read_program(args.file, args.of), {}


def _expression_among(items: list) -> tuple:
    """``(expression, NAME=NUMBER items)`` when ``--at`` came first and took the expression
    too (``tracegrad expr --at x=1 "2*x"``): the one item that is not ``NAME=…``."""
    from ..core.errors import InputError
    from ..expressions.parse import assigned_name

    loose = [item for item in items if assigned_name(item) is None]
    if len(loose) > 1:
        raise InputError(f"{', '.join(map(repr, loose))}: only one of these can be the expression; quote the "
                         'expression as one argument, e.g. tracegrad expr "x + y" --at x=1 y=2', key="--at")
    if not loose:
        return None, items
    return loose[0], [item for item in items if item is not loose[0]]


def run(args) -> int:
    from ..workflows.explain import _explain
    from ..core.files import write_output

    source, point = subject(args)
    derivation, report = _explain(source, point, args.wrt, args.format, args.lang, args.decimals, args.verify,
                                  args.template_dir, args.fragment)
    write_output(derivation.text, args.output, inputs=[args.file, args.template_dir])
    return 0 if report is None or report.ok else 1
