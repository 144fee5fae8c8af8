"""``tracegrad quantities PROBLEM``: every named quantity with its shape, value and formula."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "quantities", help="list the quantity names an answers file uses, with values and formulas",
        description="List every value a derivation of the problem prints, by the name an answers file "
                    "uses (z1, a1, dL/dW2, W1_new …), with its shape, symbol, formula and value.",
        epilog="example: tracegrad quantities examples/seed.toml --format markdown")
    p.add_argument("problem", metavar="PROBLEM", help="problem file (.toml or .json), or a program (.py)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format (default text)")
    p.add_argument("--lang", choices=("en", "zh"), help="language of the prose (default: the problem's, else en)")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--decimals", type=int, metavar="N", help="round values to N decimals (default 4)")
    precision.add_argument("--sig-figs", type=int, metavar="N", help="round values to N significant figures")
    p.add_argument("--template-dir", metavar="DIR", help="directory searched first for templates and catalogs")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..checker import load_subject
    from ..render.listing import render_listing
    from ..core.files import write_output
    from ..workflows.derive import number_format

    subject = load_subject(args.problem)
    if args.decimals is None and args.sig_figs is None:
        args.decimals, args.sig_figs = subject.precision
    text = render_listing(subject, args.format, args.lang, number_format(args.decimals, args.sig_figs),
                          args.template_dir)
    write_output(text, args.output, inputs=[args.problem, args.template_dir])
    return 0
