"""Whole workflows as a user runs them: ``tracegrad derive`` on the seed example (with and
without ``--verify``), and 1,000 homework variants with their answer keys."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.toml"
VARIANTS = ROOT / "examples" / "seed_variants.toml"


def _command_seconds(args, repeats: int) -> float:
    """Best wall time of ``python -m tracegrad ARGS`` (a fresh interpreter each time, as a user runs it)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tracegrad", *args], check=True, capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best


def derive_section(config, report) -> None:
    """``tracegrad derive`` on the seed example end to end, with and without ``--verify``."""
    from . import harness

    print(f"\ntracegrad derive examples/seed.toml, end to end in a fresh interpreter; best of {config.repeats}")
    start_up = _command_seconds(["--version"], config.repeats)
    for key, args in (("derive", ["derive", str(SEED)]), ("derive_verify", ["derive", str(SEED), "--verify"]),
                      ("derive_latex_zh_carry", ["derive", str(SEED), "--format", "latex", "--lang", "zh",
                                                 "--rounding", "carry"])):
        seconds = _command_seconds(args, config.repeats)
        report.figure("derive", key, command="tracegrad " + " ".join(a if a != str(SEED) else "examples/seed.toml"
                                                                     for a in args), seconds=seconds)
        print(f"  {key:24} {seconds:6.2f} s")
    print(f"  (of which starting Python and tracegrad: {start_up:.2f} s)")
    from tracegrad.workflows.derive import derive

    seconds = harness.best_of(lambda: derive(SEED), config.repeats)
    report.figure("derive", "in_process", seconds=seconds)
    print(f"  in process (tracegrad.derive, Markdown): {seconds * 1e3:.1f} ms")


def variants_section(config, report) -> None:
    """``config.variants`` variants of the seed problem with answer keys: drawing and replay vs writing."""
    from tracegrad.workflows.variants import generate, write

    n = config.variants
    print(f"\n{n:,} variants of examples/seed_variants.toml with answer keys")
    start = time.perf_counter()
    variants = generate(VARIANTS, n, 1)
    computing = time.perf_counter() - start
    out = Path(tempfile.mkdtemp(prefix="tracegrad-bench-"))
    try:
        start = time.perf_counter()
        files = write(variants, out, problem_name="seed")
        writing = time.perf_counter() - start
    finally:
        shutil.rmtree(out)
    report.figure("variants", "seed", count=n, files=len(files), computing_seconds=computing,
                  writing_seconds=writing)
    print(f"  drawing + compiled replay {computing:6.2f} s, writing {len(files):,} files {writing:6.2f} s "
          f"(writing is {writing / (computing + writing):.0%} of the time)")
