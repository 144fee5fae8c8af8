"""``tracegrad variants PROBLEM --count N --seed S -o DIR``: homework variants with answer keys."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("variants", help="write N variants of a problem with their answer keys",
                       description="Draw new weights/inputs within the ranges of the problem's [variants] table, "
                                   "replay the recorded graph for each, and write every variant's problem file, "
                                   "its answer key, and key.csv / key.json for the teacher.")
    p.add_argument("problem", metavar="PROBLEM", help="problem file with a [variants] table")
    p.add_argument("--count", type=int, default=10, metavar="N", help="how many variants (default 10)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (same seed, same files)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to write into")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from ..core.errors import InputError
    from ..core.limits import check
    from ..workflows.variants import generate, write

    if args.count < 1:
        raise InputError(f"--count must be at least 1, got {args.count}")
    check("variants", args.count, file=args.problem, key="--count")
    paths = write(generate(args.problem, args.count, args.seed), args.output, problem_name=Path(args.problem).stem,
                  inputs=[args.problem])
    print(f"wrote {args.count} variants ({len(paths)} files) to {args.output}")
    return 0
