"""``tracegrad derive PROBLEM``: the worked derivation of a problem file."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("derive", help="render the step-by-step backprop derivation of a problem file",
                       description="Render the forward pass, loss, backward pass, gradient summary and "
                                   "update of a problem file, step by step.")
    p.add_argument("problem", metavar="PROBLEM", help="problem file (.toml or .json)")
    p.add_argument("--format", choices=("markdown", "latex", "text", "json"), help="output format (default markdown)")
    p.add_argument("--lang", choices=("en", "zh"), help="language of the prose (default en)")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--decimals", type=int, metavar="N", help="round displayed values to N decimals (default 4)")
    precision.add_argument("--sig-figs", type=int, metavar="N", help="round displayed values to N significant figures")
    p.add_argument("--rounding", choices=("exact", "carry"),
                   help="exact: full precision, rounded for display (default); carry: each printed value is "
                        "rounded and used rounded in later steps, as by hand")
    p.add_argument("--view", choices=("layer", "node"), help="layer: the document's layout (default); "
                                                             "node: every scalar op, forward then backward")
    p.add_argument("--template-dir", metavar="DIR", help="directory searched first for templates and catalogs")
    p.add_argument("--fragment", action="store_true", help="LaTeX: the body only, without preamble")
    p.add_argument("--as-printed", metavar="ANSWERS",
                   help="pin the numbers of an answers file (e.g. a document's printed numbers) where they are "
                        "printed; each one that departs from the arithmetic before it gets the correct value beside it")
    p.add_argument("--graph", action="store_true", help="Markdown: append the computation graph as a Mermaid diagram")
    p.add_argument("--verify", action="store_true",
                   help="append a table confirming every printed derivative with SymPy (exit 1 if one disagrees)")
    p.add_argument("--symbolic", action="store_true",
                   help="show each backward quantity's general formula, derived by SymPy, before the numbers")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.files import write_output
    from ..checker.load import is_program
    from ..core.errors import InputError
    from ..workflows.derive import derive

    if is_program(args.problem):
        raise InputError(f"a program is derived by tracegrad expr --file {args.problem}", file=args.problem)
    result = derive(args.problem, format=args.format, lang=args.lang, decimals=args.decimals,
                    sig_figs=args.sig_figs, rounding=args.rounding, view=args.view,
                    template_dir=args.template_dir, fragment=args.fragment, as_printed=args.as_printed,
                    graph=args.graph, verify=args.verify, symbolic=args.symbolic)
    write_output(result.text, args.output, inputs=[args.problem, args.as_printed, args.template_dir])
    return 0 if result.ok else 1
