"""The benchmark suite behind ``bench/run``: measure, print ratios, write JSON.

Sections run in one process, side by side. Each is a function
``section(config, report)`` that measures, prints its lines and records its
figures with ``report.figure(...)`` / its goals with ``report.target(...)``;
add a section by appending it to :data:`SECTIONS`.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

from . import chain, demo_step, grading, harness, homework, serve, symbolic_verify, workflows

ROOT = Path(__file__).resolve().parent.parent


class Report:
    """Figures and targets collected by the sections, printed as they come."""

    def __init__(self):
        self.figures: dict = {}
        self.targets: list = []

    def figure(self, section: str, name: str, **values) -> None:
        self.figures.setdefault(section, {})[name] = values

    def target(self, what: str, value: float, goal: str, value_collector_off: float | None = None) -> None:
        """Record ``value`` against ``goal`` (``≥ x`` or ``≤ x``), and the collector-off value if any."""
        sign, bound = goal.split()
        ok = value >= float(bound) if sign == "≥" else value <= float(bound)
        entry = {"target": what, "value": round(value, 3), "goal": goal, "met": ok}
        off = ""
        if value_collector_off is not None:
            entry["value_collector_off"] = round(value_collector_off, 3)
            off = f"; collector off {value_collector_off:,.2f}"
        self.targets.append(entry)
        print(f"  {'met' if ok else 'MISSED':6}  {what}: {value:,.2f} (target {goal}{off})")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:10.2f} ms"


def demo_section(config, report: Report) -> None:
    """micrograd's demo training step, every implementation, against micrograd 0.1.0."""
    problem = demo_step.make_problem(config.points, config.hidden, config.seed)
    sizes = "-".join(map(str, problem.sizes))
    print(f"\ndemo training step: MLP {sizes}, {config.points} two-moons points, hinge + 1e-4·L2, "
          f"full batch (forward, backward, SGD update); best of {config.repeats} interleaved rounds")
    reference = demo_step.micrograd_stepper(problem)
    expected = demo_step.run_steps(demo_step.micrograd_stepper(problem), config.check_steps)
    entries = [
        ("micrograd", "micrograd 0.1.0", lambda: reference),
        ("recording_off", "tracegrad Values, recording off", lambda: demo_step.tracegrad_stepper(problem)),
        ("recording_on", "tracegrad Values, recording on", lambda: demo_step.tracegrad_stepper(problem, True)),
        ("nn", "tracegrad.nn.MLP", lambda: demo_step.nn_stepper(problem)),
        ("compiled", "compiled replay", lambda: demo_step.compiled_stepper(problem)),
        ("floor", "hand-written plain Python (floor)", lambda: demo_step.floor_stepper(problem)),
        ("batched", "numpy batched replay", lambda: demo_step.batched_stepper(problem)),
    ]
    steppers, setup = {}, {}
    for key, title, make in entries:
        start = time.perf_counter()
        steppers[key] = make()
        setup[key] = time.perf_counter() - start  # for compiled entries: recording + compiling, once
        if key != "micrograd":
            demo_step.check_agreement(expected, steppers[key], title)
    # Interleaved rounds, so that every entry sees the same machine (other load comes and goes).
    # Each entry is timed with the garbage collector on (as a program runs) and off (as timeit
    # runs); what the setup left alive is frozen out of the collector's scans, so that each entry
    # pays for collecting its own garbage only, as it would running alone.
    times = {key: float("inf") for key in steppers}
    times_off = dict(times)
    gc.collect()
    gc.freeze()
    try:
        for _ in range(config.repeats):
            for key, stepper in steppers.items():
                budget = 0.0 if key == "micrograd" else config.min_time / config.repeats / 2
                times[key] = min(times[key], harness.best_of(stepper[0], 1, min_seconds=budget))
                times_off[key] = min(times_off[key], harness.best_of(stepper[0], 1, budget, collector=False))
    finally:
        gc.unfreeze()
    print(f"  {'':36}{'collector on':>16}{'':>17}{'collector off':>16}")
    for key, title, _ in entries:
        stepper, seconds, seconds_off = steppers[key], times[key], times_off[key]
        peak = harness.peak_bytes(stepper[0])
        ratio, ratio_off = times["micrograd"] / seconds, times_off["micrograd"] / seconds_off
        extra = {"compile_seconds": setup[key]} if len(stepper) > 2 else {}
        report.figure("demo_step", key, title=title, seconds=seconds, speedup_vs_micrograd=ratio,
                      seconds_collector_off=seconds_off, speedup_vs_micrograd_collector_off=ratio_off,
                      peak_bytes=peak, **extra)
        note = f"  (recording + compiling once: {setup[key]:.2f} s)" if extra else ""
        print(f"  {title:36}{_ms(seconds)} {ratio:9.1f}× mg{_ms(seconds_off)} {ratio_off:9.1f}× mg"
              f"  peak {peak / 1e6:6.2f} MB{note}")
    print("  same data, same initial weights, same loss: every implementation matched micrograd's losses "
          f"and parameters over {config.check_steps} steps before timing")
    for what, goal, value in [
        ("recording off vs micrograd (×)", "≥ 10", lambda t: t["micrograd"] / t["recording_off"]),
        ("recording on / recording off (×)", "≤ 1.3", lambda t: t["recording_on"] / t["recording_off"]),
        ("compiled replay vs micrograd (×)", "≥ 50", lambda t: t["micrograd"] / t["compiled"]),
        ("compiled replay / hand-written floor (×)", "≤ 3", lambda t: t["compiled"] / t["floor"]),
        ("numpy batched replay vs micrograd (×)", "≥ 500", lambda t: t["micrograd"] / t["batched"]),
    ]:
        report.target(what, value(times), goal, value(times_off))


def chain_section(config, report: Report) -> None:
    """A chain of ``config.chain`` nodes: build + backward time and peak bytes per node."""
    n = config.chain
    print(f"\nchain of {n:,} nodes (v ← tanh(a·v)), built and differentiated; best of {config.chain_repeats}")
    chain.check(min(n, 20_000))
    seconds = harness.best_of(lambda: chain.build_and_differentiate(n), config.chain_repeats)
    peak = harness.peak_bytes(lambda: chain.build_and_differentiate(n))
    report.figure("chain", "tracegrad", nodes=n, seconds=seconds, peak_bytes=peak, bytes_per_node=peak / n)
    print(f"  build + backward {seconds:.2f} s ({seconds / n * 1e9:.0f} ns per node), "
          f"peak {peak / 1e6:.1f} MB = {peak / n:.0f} bytes per node")
    report.target("chain peak bytes per node", peak / n, "≤ 250")


def train_section(config, report: Report) -> None:
    """``tracegrad train examples/moons_train.toml`` (the loop in-process, as the command runs it),
    its steps on the engine and through compiled replay; the two must give the same numbers."""
    import math

    from tracegrad.workflows import train as training

    path = ROOT / "examples" / "moons_train.toml"
    epochs = config.train_epochs
    runs = {}

    def train(compiled):
        runs[compiled] = training.run(path, epochs=epochs, progress=False, compiled=compiled)[0]

    times = {False: float("inf"), True: float("inf")}
    for _ in range(config.train_repeats):  # interleaved, like the demo entries
        for compiled in times:
            times[compiled] = min(times[compiled], harness.best_of(lambda: train(compiled), 1))
    plain, fast = runs[False], runs[True]
    for a, b in zip(plain.history.iteration_loss + [plain.train_loss], fast.history.iteration_loss + [fast.train_loss]):
        if not math.isclose(a, b, rel_tol=1e-12):
            raise AssertionError(f"training compiled: loss {b!r}, the engine's {a!r}")
    h = plain.history
    print(f"\ntraining run: {path.relative_to(ROOT)} ({h.iterations // h.iterations_per_epoch} epochs × "
          f"{h.iterations_per_epoch} iterations, test loss every epoch); best of {config.train_repeats}")
    for compiled, title in ((False, "steps on the engine"), (True, "steps through compiled replay")):
        report.figure("train", "compiled" if compiled else "engine", title=title, seconds=times[compiled],
                      iterations=h.iterations)
        print(f"  {title:36}{_ms(times[compiled])}")
    print(f"  same losses per iteration (1e-12); compiled replay {times[False] / times[True]:.1f}× faster")
    report.target("training run, engine / compiled replay (×)", times[False] / times[True], "≥ 2")


SECTIONS = {"demo": demo_section, "chain": chain_section, "train": train_section,
            "derive": workflows.derive_section, "variants": workflows.variants_section,
            "symbolic": symbolic_verify.section, "serve": serve.section, "class": grading.section,
            "homework": homework.section}
"""Sections by name, in the order they run."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description="tracegrad's benchmarks against micrograd "
                                     "0.1.0 and the hand-written floor; prints ratios and writes JSON.")
    parser.add_argument("--points", type=int, default=100, help="two-moons points in the demo step (100)")
    parser.add_argument("--hidden", type=int, default=16, help="hidden width of the demo MLP (16)")
    parser.add_argument("--seed", type=int, default=1337, help="seed of the data and the initial weights (1337)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per entry, best kept (5)")
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="keep repeating a fast entry until this many seconds were timed (0.5)")
    parser.add_argument("--check-steps", type=int, default=2,
                        help="steps every implementation must agree with micrograd on before timing (2)")
    parser.add_argument("--chain", type=int, default=1_000_000, help="nodes in the chain (1,000,000)")
    parser.add_argument("--variants", type=int, default=1000, help="homework variants to generate (1,000)")
    parser.add_argument("--chain-repeats", type=int, default=3, help="timed chain runs, best kept (3)")
    parser.add_argument("--train-epochs", type=int, default=None,
                        help="epochs of the training run (default: the problem file's, 60)")
    parser.add_argument("--train-repeats", type=int, default=3, help="timed training runs, best kept (3)")
    parser.add_argument("--serve-clients", default="1,10,50", metavar="N,N,…",
                        help="concurrent clients of tracegrad serve, one level after another (1,10,50)")
    parser.add_argument("--serve-per-client", type=int, default=40, help="requests each client sends (40)")
    parser.add_argument("--serve-requests", type=int, default=10_000,
                        help="requests of the server memory run (10,000)")
    parser.add_argument("--students", type=int, default=1000, help="simulated students judged (1,000)")
    parser.add_argument("--class-files", type=int, default=1000,
                        help="answers files of the seed problem checked with --summary (1,000)")
    parser.add_argument("--class-repeats", type=int, default=3, help="timed class checks, best kept (3)")
    parser.add_argument("--scaling-students", type=int, default=20,
                        help="students per network size in the cost-by-size figures (20)")
    parser.add_argument("--homework-students", type=int, default=100,
                        help="simulated students doing homework against one server (100)")
    parser.add_argument("--homework-checks", type=int, default=10, help="checks each of them makes (10)")
    parser.add_argument("--homework-think", type=float, default=20.0,
                        help="longest pause of a student between two checks, in seconds (20)")
    parser.add_argument("--homework-postgres", metavar="URL",
                        help="a PostgreSQL server to measure the class on as well (a database is made and dropped; "
                             "default: TRACEGRAD_TEST_POSTGRES)")
    parser.add_argument("--only", choices=list(SECTIONS), action="append", help="run only these sections")
    parser.add_argument("-o", "--output", default=str(ROOT / "bench" / "results" / "bench.json"),
                        help="JSON file to write (bench/results/bench.json)")
    args = parser.parse_args(argv)
    for name in ("points", "hidden", "repeats", "check_steps", "chain", "chain_repeats", "variants",
                 "train_repeats", "serve_per_client", "serve_requests", "students", "class_files", "class_repeats",
                 "scaling_students", "homework_students", "homework_checks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.train_epochs is not None and args.train_epochs < 1:
        parser.error("--train-epochs must be at least 1")
    if args.homework_think < 0:
        parser.error("--homework-think must be at least 0")
    if args.chain < 2:
        parser.error("--chain must be at least 2 nodes")
    if not all(c.isdigit() and int(c) > 0 for c in args.serve_clients.split(",")):
        parser.error("--serve-clients must be positive whole numbers separated by commas, e.g. 1,10,50")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy

    import tracegrad

    versions = {"tracegrad": tracegrad.__version__, "micrograd": version("micrograd"), "numpy": numpy.__version__}
    report = Report()
    print(", ".join(f"{k} {v}" for k, v in versions.items()),
          f"Python {platform.python_version()} on {platform.machine()}", sep=", ")
    try:
        for name in args.only or SECTIONS:
            SECTIONS[name](args, report)
    except AssertionError as exc:
        print(f"bench/run: results disagree, nothing timed is trustworthy: {exc}", file=sys.stderr)
        return 1
    result = {
        "command": " ".join(["bench/run", *(sys.argv[1:] if argv is None else argv)]),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": versions,
        "config": {k: v for k, v in vars(args).items() if k != "output"},
        "figures": report.figures,
        "targets": report.targets,
    }
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")
    return 0
