"""``tracegrad expr``: differentiate an expression step by step."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "expr", help="differentiate an expression step by step (forward, backward gate by gate, gradients)",
        description="Build the graph of an expression at a point, then print every value forward, the "
                    "backward pass gate by gate (inputs and output, upstream gradient, upstream × local = "
                    "the gradient sent to each input) and the gradients.",
        epilog='example: tracegrad expr "(x + y) * z" --at x=-2 y=5 z=-4 --verify   '
               '(an expression starting with "-" goes after --: tracegrad expr --at x=1 -- -x)')
    p.add_argument("expression", metavar="EXPR", help='an expression such as "(x + y) * z" (quote it)')
    p.add_argument("--at", nargs="*", default=[], metavar="NAME=NUMBER",
                   help="the value of every variable, e.g. --at x=-2 y=5 z=-4")
    p.add_argument("--wrt", nargs="+", metavar="NAME", help="list the gradients of these variables only")
    p.add_argument("--format", choices=("text", "markdown", "latex", "json"), default="text",
                   help="output format (default text)")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the prose (default en)")
    p.add_argument("--decimals", type=int, default=4, metavar="N", help="round displayed values to N decimals")
    p.add_argument("--verify", action="store_true",
                   help="confirm every gradient with SymPy (exit status 1 if one disagrees)")
    p.add_argument("--template-dir", metavar="DIR", help="directory searched first for templates and catalogs")
    p.add_argument("--fragment", action="store_true", help="LaTeX: the body only, without preamble")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..expressions.parse import parse_point
    from ..workflows.explain import _explain
    from ..core.files import write_output

    derivation, report = _explain(args.expression, parse_point(args.at), args.wrt, args.format, args.lang,
                                  args.decimals, args.verify, args.template_dir, args.fragment)
    write_output(derivation.text, args.output, inputs=[args.template_dir])
    return 0 if report is None or report.ok else 1
