"""Time symbolic confirmation: the document's 2-2-1 example against a 2-16-16-1 MLP (337 parameters).

    python bench/symbolic_verify.py [--repeats N]

Each case builds its graph once, then times ``tracegrad.symbolic.verify`` alone
(SymPy already imported): the first run, and the best of ``--repeats`` more. :func:`section` plugs the
same measurement into ``bench/run`` (``SECTIONS["symbolic"] = symbolic_verify.section``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402


def seed_case():
    from tracegrad.problem.schema import load_problem
    from tracegrad.problem.solve import solve

    return solve(load_problem(ROOT / "examples" / "seed.toml"))


def mlp_case():
    from tracegrad.nn import MLP
    from tracegrad.nn.losses import LOSSES

    net = MLP(2, [16, 16, 1], seed=0)
    assert len(net.parameters()) == 337
    return LOSSES["half_se"](net([0.5, -1.5]), [1.0])


CASES = {
    "seed example, 2-2-1 sigmoid, every printed quantity": seed_case,
    "MLP(2, [16, 16, 1], seed=0), one sample, 337 parameters": mlp_case,
}


def section(config, report) -> None:
    """``bench/run`` section: verify time per case (best of ``config.repeats``)."""
    import sympy

    from tracegrad.symbolic import verify

    print(f"\nsymbolic confirmation (tracegrad.symbolic.verify, SymPy {sympy.__version__}); "
          f"best of {config.repeats}")
    for key, (title, build) in zip(("seed", "mlp_337"), CASES.items()):
        subject = build()
        start = time.perf_counter()
        result = verify(subject)  # the first run also fills SymPy's caches (a command-line run is one of these)
        first = time.perf_counter() - start
        assert result.ok, f"{title}: {result.disagreements}"
        seconds = harness.best_of(lambda subject=subject: verify(subject), config.repeats)
        report.figure("symbolic", key, title=title, first_seconds=first, seconds=seconds,
                      derivatives=len(result.items), rules=len(result.rules))
        print(f"  {title:56} first {first:6.2f} s, best {seconds:6.2f} s  ({len(result.items)} derivatives, "
              f"{len(result.rules)} op rules, all agree)")
    report.target("verify, 2-16-16-1 MLP, first run (s)", first, "≤ 30")


class _Print:
    def figure(self, *args, **values) -> None:
        pass

    def target(self, what, value, goal) -> None:
        print(f"  {what}: {value:,.2f} (target {goal})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case, best kept (3)")
    section(parser.parse_args(argv), _Print())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
