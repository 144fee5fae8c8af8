"""Grading a class (``bench/run --only class``): the checker measured on simulated students
(:mod:`bench.students`), the time to check 1,000 answers files on the seed problem with
``--summary`` in one process, and how the cost per student grows with the network's size."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

from tracegrad.core.nested import flatten

from . import harness, students

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.toml"
SIZES = ((2, 2, 1), (4, 8, 8, 2), (4, 16, 16, 2), (4, 32, 32, 2))


def _answers_text(title: str, answers: dict) -> str:
    def shaped(v):
        return "[" + ", ".join(shaped(x) for x in v) + "]" if isinstance(v, list) else str(v)

    lines = [f'title = "{title}"', "[answers]"] + [f'"{name}" = {shaped(v)}' for name, v in answers.items()]
    return "\n".join(lines) + "\n"


def simulated_answers(table: dict, names, candidates: list, rng: random.Random) -> dict:
    """The answers of one simulated student on ``table``: 0–2 slips (a decimal point moved), 4 decimals."""
    slips = []
    for _ in range(rng.choice((0, 1, 1, 2))):
        key, site = rng.choice(candidates)
        if not any(s.key == key for s in slips):
            slips.append(students.Slip(key, site, 10.0 ** rng.choice((1, -1))))
    return students.Student(table, names, 4, slips).answers


def class_files(subject, table: dict, names, count: int, directory: Path, seed: int) -> list:
    """``count`` answers files of simulated students on ``table`` (0–2 slips each, 4 decimals)."""
    rng = random.Random(seed)
    candidates = students.candidates(table, names, students.aliases_of(subject, names))
    paths = []
    for i in range(count):
        path = directory / f"student-{i:04d}.toml"
        path.write_text(_answers_text(f"Student {i}", simulated_answers(table, names, candidates, rng)),
                        encoding="utf-8")
        paths.append(path)
    return paths


def _table(sizes, rng) -> dict:
    layers = []
    for k in range(1, len(sizes)):
        layers.append({"weights": [[round(rng.uniform(-1, 1), 2) for _ in range(sizes[k])] for _ in range(sizes[k - 1])],
                       "bias": [round(rng.uniform(-0.5, 0.5), 2) for _ in range(sizes[k])],
                       "activation": "sigmoid" if k < len(sizes) - 1 else "identity"})
    return {"layout": "in_out", "layers": layers,
            "data": {"x": [round(rng.uniform(-2, 2), 1) for _ in range(sizes[0])],
                     "y": [round(rng.uniform(-1, 1), 1) for _ in range(sizes[-1])]},
            "loss": "mse", "optimizer": {"name": "sgd", "lr": 0.1}}


def section(config, report) -> None:
    from tracegrad.checker import network_subject, parse_answers
    from tracegrad.cli import main
    from tracegrad.problem.schema import parse_problem, read_file
    from tracegrad.workflows.check import check_class

    n = config.students
    print(f"\nsimulated students: {n:,} problems drawn over the spec tables, each worked by hand (numpy) "
          "with 0–2 slips, rounded at 2–5 decimals, carrying its own numbers")
    start = time.perf_counter()
    result = students.measure(n, seed=config.seed)
    t = result["totals"]
    seconds = time.perf_counter() - start
    named = t.named / t.slips if t.slips else 1.0
    rows = {"unslipped numbers judged wrong": (len(t.unslipped_wrong), t.unslipped),
            "slipped numbers, differing from every right value, not judged wrong": (len(t.slipped_missed), t.slipped),
            "slips whose first wrong number names them": (t.named, t.slips),
            "answers judged correct beyond the tolerance": (len(t.lenient), t.correct),
            "carried answers after a number taken for copied or chosen": (
                sum(1 for d in t.degenerate if set(d[3]) - {"zero"}), t.carried),
            "carried answers after a 0 or ±1 at the student's digits only": (
                sum(1 for d in t.degenerate if not set(d[3]) - {"zero"}), t.carried)}
    for what, (k, of) in rows.items():
        print(f"  {what:72} {k:>6,} of {of:,}")
    print("  per slip (made, named):", ", ".join(f"{key} {a}/{b}" for key, (a, b) in sorted(t.by_key.items())))
    print(f"  ({seconds:.1f} s, {seconds / n * 1e3:.0f} ms per simulated student: drawing, solving, judging)")
    report.figure("class", "simulated", students=n, seed=config.seed, answers=t.answers,
                  unslipped=t.unslipped, unslipped_wrong=len(t.unslipped_wrong), slipped=t.slipped,
                  slipped_missed=len(t.slipped_missed), slips=t.slips, named=t.named, correct=t.correct,
                  lenient=len(t.lenient), carried=t.carried,
                  degenerate_copied_or_chosen=sum(1 for d in t.degenerate if set(d[3]) - {"zero"}),
                  degenerate_zero=sum(1 for d in t.degenerate if not set(d[3]) - {"zero"}),
                  by_key={k: list(v) for k, v in sorted(t.by_key.items())})
    report.target("unslipped numbers judged wrong", len(t.unslipped_wrong), "≤ 0")
    report.target("slipped numbers not judged wrong", len(t.slipped_missed), "≤ 0")
    report.target("first diagnosis names the slip (%)", 100 * named, "≥ 95")
    report.target("answers judged correct beyond the tolerance", len(t.lenient), "≤ 0")
    report.target("honest carried answers after a number taken for copied or chosen",
                  sum(1 for d in t.degenerate if set(d[3]) - {"zero"}), "≤ 0")

    count = config.class_files
    table = read_file(SEED)
    subject = network_subject(parse_problem(table, str(SEED)))
    names = [q for q in subject.quantities if q not in subject.unprinted]
    directory = Path(tempfile.mkdtemp(prefix="tracegrad-class-"))
    try:
        files = class_files(subject, table, names, count, directory, config.seed)
        out, grades = directory / "summary.txt", directory / "grades.csv"
        argv = ["check", str(SEED), *map(str, files), "--summary", str(grades), "-o", str(out)]
        seconds = harness.best_of(lambda: main(argv), config.class_repeats)
    finally:
        shutil.rmtree(directory)
    print(f"\ntracegrad check examples/seed.toml <{count:,} answers files> --summary grades.csv, in one process; "
          f"best of {config.class_repeats}")
    print(f"  {seconds:.2f} s ({seconds / count * 1e3:.2f} ms per answers file: reading, judging, diagnosing, "
          "the summary and the CSV)")
    report.figure("class", "seed_summary", files=count, seconds=seconds)
    report.target("1,000 answers files checked with --summary (s, from the files timed)", seconds * 1000 / count, "≤ 10")

    print(f"\ncost per student by network size ({config.scaling_students} students each, every one with a slip; "
          "the problem's own work — the subject, the prepared mistakes — once)")
    rng = random.Random(config.seed)
    for sizes in SIZES:
        table = _table(sizes, rng)
        start = time.perf_counter()
        subject = network_subject(parse_problem(table, "<bench>"))
        subject.grader.prepared()
        setup = time.perf_counter() - start
        names = [q for q in subject.quantities if q not in subject.unprinted]
        candidates = students.candidates(table, names, students.aliases_of(subject, names))
        answers = []
        for i in range(config.scaling_students):
            key, site = rng.choice(candidates)
            s = students.Student(table, names, 4, [students.Slip(key, site, 10.0)])
            answers.append(parse_answers({"answers": s.answers}, f"s{i}"))
        per = harness.best_of(lambda: check_class(subject, answers), 1) / len(answers)
        label = "-".join(map(str, sizes))
        print(f"  {label:12} {len(subject.trace.nodes):6,} nodes, {sum(len(list(flatten(subject.quantities[q]))) for q in names):5,} "
              f"numbers written: {per * 1e3:8.1f} ms per student (setup {setup:.2f} s)")
        report.figure("class", f"size_{label}", nodes=len(subject.trace.nodes), ms_per_student=per * 1e3,
                      setup_seconds=setup)

