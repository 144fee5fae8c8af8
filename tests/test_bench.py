"""The benchmark suite, run with tiny sizes so it cannot rot, and its reference pieces
(the hand-written floor, the chain's gradient by hand) checked on their own."""

import json
import math
import subprocess
import sys

from bench import chain, demo_step, floor
from tests.conftest import ROOT


def test_bench_run_tiny(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run"), "--points", "6", "--hidden", "3", "--repeats", "1",
         "--min-time", "0", "--chain", "3000", "--chain-repeats", "1", "--train-epochs", "2", "--train-repeats", "1",
         "--serve-clients", "1,2", "--serve-per-client", "2", "--serve-requests", "40",
         "--students", "2", "--class-files", "3", "--class-repeats", "1", "--scaling-students", "1",
         "--homework-students", "3", "--homework-checks", "2", "--homework-think", "0", "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "every implementation matched micrograd's losses" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    step = report["figures"]["demo_step"]
    assert set(step) == {"micrograd", "recording_off", "recording_on", "nn", "compiled", "floor", "batched"}
    assert all(entry["seconds"] > 0 and entry["seconds_collector_off"] > 0 and entry["peak_bytes"] > 0
               for entry in step.values())
    assert step["micrograd"]["speedup_vs_micrograd"] == 1.0
    assert step["compiled"]["compile_seconds"] > 0
    assert report["figures"]["chain"]["tracegrad"]["nodes"] == 3000
    assert report["figures"]["train"]["compiled"]["iterations"] == report["figures"]["train"]["engine"]["iterations"]
    grading = report["figures"]["class"]
    assert grading["simulated"]["students"] == 2 and grading["seed_summary"]["files"] == 3
    assert {f"size_{'-'.join(map(str, s))}" for s in ((2, 2, 1), (4, 32, 32, 2))} <= set(grading)
    assert {t["target"] for t in report["targets"]} >= {
        "recording off vs micrograd (×)", "recording on / recording off (×)", "compiled replay vs micrograd (×)",
        "compiled replay / hand-written floor (×)", "numpy batched replay vs micrograd (×)",
        "chain peak bytes per node", "first diagnosis names the slip (%)"}
    serve = report["figures"]["serve"]
    assert serve["derive_cached_2"]["requests"] == 4 and serve["check_distinct_1"]["p95_seconds"] > 0
    assert serve["memory"]["requests"] == 40
    homework = report["figures"]["homework"]
    assert homework["sqlite_class"]["checks"] == homework["sqlite_burst"]["checks"] == 6
    assert homework["sqlite_stored"]["sent"] == homework["sqlite_stored"]["stored"] == \
        homework["sqlite_stored"]["csv_attempts"] == 12 and homework["sqlite_burst"]["p95_seconds"] > 0
    assert report["command"].startswith("bench/run --points 6")


def test_bench_run_rejects_bad_sizes():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run"), "--points", "0"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2 and "--points must be at least 1" in result.stderr


def test_floor_step_by_hand():
    # one unit per layer, 1-1-1: z1 = w1·x + b1 = 0.5·2 + 0.1 = 1.1, h = 1.1; s = w2·h + b2 = −1·1.1 + 0.2 = −0.9
    # y = 1: margin 1 − (−0.9) = 1.9 > 0, loss = 1.9 + alpha·(0.25 + 0.01 + 1 + 0.04) = 1.9 + 0.1·1.3 = 2.03
    # ds = −1; dw2 = −h = −1.1, db2 = −1; dh = −w2·1 = 1 (z1 > 0) → dw1 = x = 2, db1 = 1
    W, B = [[[0.5]], [[-1.0]]], [[0.1], [0.2]]
    loss = floor.step(W, B, [[2.0]], [1.0], lr=0.5, alpha=0.1)
    assert math.isclose(loss, 2.03, rel_tol=1e-12)
    # p ← p − lr·(g + 2·alpha·p)
    assert math.isclose(W[0][0][0], 0.5 - 0.5 * (2.0 + 0.2 * 0.5), rel_tol=1e-12)
    assert math.isclose(B[0][0], 0.1 - 0.5 * (1.0 + 0.2 * 0.1), rel_tol=1e-12)
    assert math.isclose(W[1][0][0], -1.0 - 0.5 * (-1.1 + 0.2 * -1.0), rel_tol=1e-12)
    assert math.isclose(B[1][0], 0.2 - 0.5 * (-1.0 + 0.2 * 0.2), rel_tol=1e-12)


def test_every_implementation_matches_micrograd_on_a_small_problem():
    problem = demo_step.make_problem(points=10, hidden=4, seed=1)
    expected = demo_step.run_steps(demo_step.micrograd_stepper(problem), 3)
    for make in (demo_step.tracegrad_stepper, demo_step.nn_stepper, demo_step.compiled_stepper,
                 demo_step.floor_stepper, demo_step.batched_stepper):
        demo_step.check_agreement(expected, make(problem), make.__name__)


def test_chain_gradient_by_hand_matches_the_engine():
    # two links by hand: v1 = tanh(0.9·0.5), v2 = tanh(0.9·v1)
    v1 = math.tanh(0.45)
    v2 = math.tanh(0.9 * v1)
    dx = (1 - v2 * v2) * 0.9 * (1 - v1 * v1) * 0.9
    da = (1 - v2 * v2) * (v1 + 0.9 * (1 - v1 * v1) * 0.5)
    value, got_dx, got_da = chain.by_hand(4)
    assert math.isclose(value, v2, rel_tol=1e-15) and math.isclose(got_dx, dx, rel_tol=1e-14)
    assert math.isclose(got_da, da, rel_tol=1e-14)
    chain.check(5000)
