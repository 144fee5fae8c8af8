"""``tracegrad graph``: a picture of a computation graph (DOT, SVG or Mermaid)."""

from __future__ import annotations


def register(sub) -> None:
    parser = sub.add_parser(
        "graph", help="draw a computation graph as DOT, SVG or Mermaid",
        description="Draw the graph of an expression, one box per value (name and op, data, grad), "
                    "left to right, after the backward pass.",
        epilog='example: tracegrad graph --expr "(x + y) * z" --at x=-2 y=5 z=-4 --format svg -o f.svg')
    parser.add_argument("--expr", metavar="EXPR", help="an expression such as \"(x + y) * z\"")
    parser.add_argument("--at", nargs="*", default=[], metavar="NAME=NUMBER",
                        help="the value of every variable, e.g. --at x=-2 y=5 z=-4")
    parser.add_argument("--format", choices=("dot", "svg", "mermaid"), default="dot",
                        help="dot (Graphviz source, default), svg (needs Graphviz) or mermaid (for Markdown)")
    parser.add_argument("--decimals", type=int, default=4, metavar="N", help="decimals shown (default 4)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..errors import InputError
    from ..expr import OUTPUT_NAME, parse, parse_point
    from ..output import write_output
    from ..picture import picture
    from ..render.derive import number_format

    if not args.expr:
        raise InputError('give the expression to draw with --expr, e.g. --expr "(x + y) * z" --at x=-2 y=5 z=-4')
    number_format(args.decimals)  # refuses an out-of-range --decimals as derive does
    root = parse(args.expr, parse_point(args.at), name=OUTPUT_NAME, key="--expr")
    root.backward()
    write_output(picture(root, args.format, args.decimals), args.output)
    return 0
