"""``tracegrad check PROBLEM ANSWERS``: judge the numbers of a hand derivation.

Exit status: 0 when every answer is correct or carried, 1 when any is wrong, 2 on bad input.
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "check", help="judge an answers file (the numbers of a hand derivation) against a problem",
        description="Judge every number of an answers file at the precision it is written with: correct, "
                    "carried (follows from the student's own earlier answers) or wrong, with the correct "
                    "step and the likely mistake. Exit status 0: all correct or carried; 1: something is "
                    "wrong; 2: bad input.",
        epilog="example: tracegrad check examples/seed.toml examples/seed_printed.toml --format markdown\n"
               "         tracegrad quantities examples/seed.toml   (the names an answers file uses)")
    p.add_argument("problem", metavar="PROBLEM", help="problem file (.toml or .json), or a program (.py)")
    p.add_argument("answers", metavar="ANSWERS", nargs="?",
                   help="answers file (.toml): [answers] name = number or list; may be omitted when the "
                        "problem file holds its own [answers] (an expression problem)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format (default text)")
    p.add_argument("--lang", choices=("en", "zh"), help="language of the prose (default: the problem's, else en)")
    p.add_argument("--template-dir", metavar="DIR", help="directory searched first for templates and catalogs")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--student", metavar="ID", help="check against this student's variant: PROBLEM is the variants "
                                                   "directory, or give --roster")
    p.add_argument("--roster", metavar="CSV", help="with --student: the assignment.csv written by "
                                                   "tracegrad variants --roster")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from ..workflows.check import check
    from ..checker.answers import load_answers
    from ..checker.load import is_program
    from ..core.errors import InputError
    from ..core.files import write_output
    from ..problem.schema import read_file

    if args.roster and not args.student:
        raise InputError("--roster names the assignment of variants to students; give --student ID with it")
    if args.student:
        from ..workflows.roster import student_problem

        args.problem = str(student_problem(args.problem, args.student.strip(), args.roster))
    answers = args.answers
    if answers is None:
        if is_program(args.problem) or "expression" not in read_file(Path(args.problem)):
            raise InputError("give an ANSWERS file: only an expression problem file may hold its own [answers]",
                             file=args.problem)
        answers = load_answers(args.problem, ignore=("expression", "at"))
    report = check(args.problem, answers)
    text = report.render(args.format, args.lang, args.template_dir)
    write_output(text, args.output, inputs=[args.problem, args.answers, args.template_dir])
    return report.exit_code
