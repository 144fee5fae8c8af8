"""``tracegrad graph``: a picture of a computation graph (DOT, SVG or Mermaid)."""

from __future__ import annotations


def register(sub) -> None:
    parser = sub.add_parser(
        "graph", help="draw a computation graph as DOT, SVG or Mermaid",
        description="Draw the graph of a problem file's forward pass and loss, or of an expression: one box "
                    "per value (name and op, data, grad), left to right, after the backward pass.",
        epilog='examples: tracegrad graph examples/seed.toml --format mermaid; '
               'tracegrad graph --expr "(x + y) * z" --at x=-2 y=5 z=-4 --format svg -o f.svg')
    parser.add_argument("problem", nargs="?", metavar="PROBLEM",
                        help="a problem file, or a program (.py) (or use --expr)")
    parser.add_argument("--expr", metavar="EXPR", help="an expression such as \"(x + y) * z\"")
    parser.add_argument("--at", nargs="*", default=[], metavar="NAME=NUMBER",
                        help="the value of every variable, e.g. --at x=-2 y=5 z=-4")
    parser.add_argument("--format", choices=("dot", "svg", "mermaid"), default="dot",
                        help="dot (Graphviz source, default), svg (needs Graphviz) or mermaid (for Markdown)")
    parser.add_argument("--decimals", type=int, default=4, metavar="N", help="decimals shown (default 4)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..checker.load import is_program
    from ..core.errors import InputError
    from ..expressions.parse import OUTPUT_NAME, parse, parse_point
    from ..core.files import write_output
    from ..render.picture import picture
    from ..workflows.derive import number_format

    if bool(args.expr) == bool(args.problem):
        raise InputError('give a problem file, or an expression with --expr, e.g. --expr "(x + y) * z" '
                         "--at x=-2 y=5 z=-4 (not both)")
    number_format(args.decimals)  # refuses an out-of-range --decimals as derive does
    if args.problem and is_program(args.problem):
        from ..core.trace import trace
        from ..expressions.program import read_program

        graph = trace(read_program(args.problem).output)
    elif args.problem:
        from ..problem.formulas import node_graph
        from ..problem.schema import load_problem
        from ..problem.solve import solve

        graph = node_graph(solve(load_problem(args.problem)))
    else:
        graph = parse(args.expr, parse_point(args.at), name=OUTPUT_NAME, key="--expr")
        graph.backward()
    write_output(picture(graph, args.format, args.decimals), args.output, inputs=[args.problem])
    return 0
