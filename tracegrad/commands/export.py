"""``tracegrad export PROBLEM --to moodle|qti|gift -o FILE``: a question bank of a problem."""

from __future__ import annotations

FORMATS = ("moodle", "qti", "gift")


def bank_options(p) -> None:
    """The options a bank takes, shared with ``tracegrad variants --export``."""
    p.add_argument("--cloze", action="store_true",
                   help="Moodle: also one Cloze (embedded answers) question per problem holding the whole derivation")
    p.add_argument("--mistake-credit", type=float, default=0, metavar="PERCENT",
                   help="Moodle and GIFT: the grade of an answer a likely mistake gives (default 0; one of "
                        "Moodle's grades: 5, 10, 20, 25, 33.33333, 50 …)")
    p.add_argument("--lang", choices=("en", "zh"), help="language of the questions (default: the problem's, else en)")
    p.add_argument("--template-dir", metavar="DIR", help="directory searched first for message catalogs")


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="write a question bank of a problem: Moodle XML, Canvas QTI 1.2 zip or GIFT",
        description="A numerical question per printed quantity element (the step's formula and the numbers it "
                    "needs), the right value with the tolerance of the display precision, and the value each "
                    "likely mistake gives as an answer with feedback naming the mistake and showing the correct "
                    "step (Canvas: in the incorrect-answer feedback).",
        epilog="example: tracegrad export examples/seed.toml --to moodle -o seed.xml --cloze")
    p.add_argument("problem", metavar="PROBLEM", help="network problem file (.toml or .json)")
    p.add_argument("--to", choices=FORMATS, required=True, help="moodle (XML), qti (Canvas zip) or gift (text)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    bank_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from dataclasses import replace

    from ..core.files import write_output
    from ..workflows.export import bank_file, check_options, problem_bank

    credit = check_options(args.to, cloze=args.cloze, mistake_credit=args.mistake_credit)
    bank = problem_bank(args.problem, mistake_credit=credit)
    if args.lang:
        bank = replace(bank, lang=args.lang)
    write_output(bank_file(bank, args.to, cloze=args.cloze, template_dir=args.template_dir), args.output,
                 inputs=[args.problem])
    count = sum(len(c.questions) for c in bank.categories)
    print(f"wrote {count} questions to {args.output}")
    return 0
