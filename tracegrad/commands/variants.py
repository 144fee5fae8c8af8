"""``tracegrad variants PROBLEM --count N --seed S -o DIR``: homework variants with answer keys."""

from __future__ import annotations


from .export import FORMATS, bank_options

EXTENSIONS = {"moodle": "xml", "qti": "zip", "gift": "txt"}


def register(sub) -> None:
    p = sub.add_parser("variants", help="write N variants of a problem with their answer keys",
                       description="Draw new weights/inputs within the ranges of the problem's [variants] table, "
                                   "replay the recorded graph for each, and write every variant's problem file, "
                                   "its answer key, and key.csv / key.json for the teacher.")
    p.add_argument("problem", metavar="PROBLEM", help="problem file with a [variants] table")
    p.add_argument("--count", type=int, default=10, metavar="N", help="how many variants (default 10)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (same seed, same files)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to write into")
    p.add_argument("--export", choices=FORMATS, metavar="FORMAT",
                   help="also write one question bank of every variant, a category per variant: "
                        "moodle (NAME.moodle.xml), qti (NAME.qti.zip) or gift (NAME.gift.txt)")
    bank_options(p)
    p.add_argument("--roster", metavar="CSV", help="students (a CSV file with a column id): assign each a variant "
                                                   "and write assignment.csv for the teacher")
    p.add_argument("--assignment-seed", metavar="TEXT",
                   help="seed of the assignment of variants to students (default: --seed)")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from ..core.errors import InputError
    from ..core.limits import check
    from ..problem.schema import load_problem
    from ..workflows.export import bank_file, check_options, variants_bank
    from ..workflows.roster import ASSIGNMENT, assignment_csv, read_roster
    from ..workflows.variants import generate, variant_stems, write

    if args.count < 1:
        raise InputError(f"--count must be at least 1, got {args.count}")
    check("variants", args.count, file=args.problem, key="--count")
    if args.export:
        credit = check_options(args.export, cloze=args.cloze, mistake_credit=args.mistake_credit)
    elif args.cloze or args.mistake_credit or args.lang or args.template_dir:
        raise InputError("--cloze, --mistake-credit, --lang and --template-dir shape the question bank; "
                         "give --export FORMAT with them")
    if args.assignment_seed is not None and not args.roster:
        raise InputError("--assignment-seed assigns variants to the students of a --roster; give --roster CSV")
    students = read_roster(args.roster) if args.roster else ()
    name = Path(args.problem).stem
    variants = generate(args.problem, args.count, args.seed)
    stems = variant_stems(name, len(variants))
    extra, notes = [], []
    if students:
        seed = args.seed if args.assignment_seed is None else args.assignment_seed
        extra.append((ASSIGNMENT, assignment_csv(students, stems, str(seed))))
        notes.append(f"assigned {len(students)} students a variant each (assignment seed {seed}): {ASSIGNMENT}")
    if args.export:
        source = load_problem(args.problem)
        bank = variants_bank(variants, stems, source.title or name, args.lang or source.render.lang,
                             mistake_credit=credit)
        bank_name = f"{stems[0].rsplit('-', 1)[0]}.{args.export}.{EXTENSIONS[args.export]}"
        extra.append((bank_name, bank_file(bank, args.export, cloze=args.cloze, template_dir=args.template_dir)))
        notes.append(f"wrote a {args.export} bank of {len(stems)} categories: {bank_name}")
    paths = write(variants, args.output, problem_name=name, inputs=[args.problem, args.roster, args.template_dir],
                  extra=extra)
    print(f"wrote {args.count} variants ({len(paths)} files) to {args.output}")
    for note in notes:
        print(note)
    return 0
