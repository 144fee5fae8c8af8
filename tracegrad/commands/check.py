"""``tracegrad check PROBLEM ANSWERS…``: judge the numbers of hand derivations.

One answers file: its report. Several (or ``--summary FILE``): the class summary, and the
grades as CSV in FILE. Exit status: 0 when every answer earns full credit, 1 when some
does not, 2 on bad input (for a class: when an answers file was refused; the others are
still graded).
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "check", help="judge answers files (the numbers of hand derivations) against a problem",
        description="Judge every number of an answers file under the teacher's grading policy (the problem "
                    "file's [grading], or --policy FILE): correct, carried (follows from the student's own "
                    "earlier answers), imprecise (too few digits) or wrong, with the correct step and the likely "
                    "mistake. With several answers files, or --summary, the class summary: per student the counts "
                    "and the score, per quantity the share of each verdict and the most common mistake. "
                    "Exit status 0: everything earns full credit; 1: something does not; 2: bad input.",
        epilog="example: tracegrad check examples/seed.toml examples/seed_printed.toml --format markdown\n"
               "         tracegrad check examples/seed.toml answers/*.toml --summary grades.csv\n"
               "         tracegrad quantities examples/seed.toml   (the names an answers file uses)")
    p.add_argument("problem", metavar="PROBLEM", help="problem file (.toml or .json), or a program (.py)")
    p.add_argument("answers", metavar="ANSWERS", nargs="*",
                   help="answers files (.toml): [answers] name = number or list; may be omitted when the "
                        "problem file holds its own [answers] (an expression problem)")
    p.add_argument("--policy", metavar="FILE",
                   help="grading policy: a file with a [grading] table (replaces the problem file's)")
    p.add_argument("--summary", metavar="FILE",
                   help="write the grades as CSV (one row per answers file) and print the class summary")
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
    import sys
    from pathlib import Path

    from ..checker.answers import load_answers
    from ..checker.load import is_program
    from ..core.errors import InputError
    from ..core.files import write_output
    from ..problem.schema import read_file
    from ..workflows.check import check, check_class, grader_for, subject_of

    if args.roster and not args.student:
        raise InputError("--roster names the assignment of variants to students; give --student ID with it")
    if args.student:
        from ..workflows.roster import student_problem

        args.problem = str(student_problem(args.problem, args.student.strip(), args.roster))
    inputs = [args.problem, args.policy, *args.answers, args.template_dir]
    if args.summary is not None and args.output is not None and Path(args.summary).resolve() == \
            Path(args.output).resolve():
        raise InputError("--summary and --output name the same file; give each its own", file=args.summary)
    if not args.answers:
        if is_program(args.problem) or "expression" not in read_file(Path(args.problem)):
            raise InputError("give an ANSWERS file: only an expression problem file may hold its own [answers]",
                             file=args.problem)
        answers = [load_answers(args.problem, ignore=("expression", "at", "grading"))]
    else:
        answers = args.answers
    if len(answers) == 1 and args.summary is None:
        report = check(args.problem, answers[0], args.policy)
        write_output(report.render(args.format, args.lang, args.template_dir), args.output, inputs=inputs)
        return report.exit_code
    subject = subject_of(args.problem)
    policy = grader_for(subject, args.policy).policy  # a bad policy file stops the run before any answers file
    report = check_class(subject, answers, policy)
    for student in report.errors:
        print(f"tracegrad: error: {student.error}", file=sys.stderr)
    text = report.render(args.format, args.lang, args.template_dir)
    if args.summary is not None:
        write_output(report.csv(), args.summary, inputs=inputs)
    write_output(text, args.output, inputs=inputs + [args.summary])
    return report.exit_code
