"""``tracegrad verify``: confirm every derivative of a problem (or an expression) with SymPy.

Exit status: 0 when everything agrees, 1 when anything disagrees, 2 on bad input.
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "verify", help="confirm every gradient and every op rule with SymPy",
        description="Differentiate the loss symbolically (SymPy), evaluate each derivative at the recorded "
                    "point and compare it with the engine's value; confirm each op's declared derivative "
                    "rule. Exit status 0: all agree; 1: something disagrees; 2: bad input.",
        epilog='examples: tracegrad verify examples/seed.toml --format markdown --lang zh\n'
               '          tracegrad verify --expr "tanh(w*x + b)" --at w=0.5 x=2 b=-1')
    p.add_argument("problem", nargs="?", metavar="PROBLEM", help="problem file (.toml or .json), or a program (.py)")
    p.add_argument("--expr", metavar="EXPR", help="verify an expression instead of a problem file")
    p.add_argument("--at", nargs="*", default=[], metavar="NAME=NUMBER", help="the variables' values for --expr")
    p.add_argument("--intermediates", action="store_true",
                   help="with --expr or a program: also the derivative with respect to every intermediate node")
    p.add_argument("--expand", action="store_true",
                   help="write each derivative over the inputs and parameters alone (no named intermediates; "
                        "long for deep networks)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="output format (default text)")
    p.add_argument("--lang", choices=("en", "zh"), help="language of the prose (default: the problem's, else en)")
    p.add_argument("--template-dir", metavar="DIR", help="directory searched first for templates and catalogs")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.files import write_output
    from ..expressions.parse import parse_point
    from ..workflows.verify import verify

    at = parse_point(args.at) if args.expr is not None else None
    result = verify(args.problem, expr=args.expr, at=at, intermediates=args.intermediates, expand=args.expand)
    text = result.render(args.format, args.lang, args.template_dir)
    write_output(text, args.output, inputs=[args.problem, args.template_dir])
    return 0 if result.ok else 1
