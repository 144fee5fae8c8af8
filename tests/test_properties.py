"""Property tests (hypothesis). The default run draws a few hundred cases; `pytest -m slow`
runs the same properties over more than 10,000 generated cases."""

import math
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracegrad as tg
from tracegrad.problem.schema import parse_problem
from tracegrad.core.numbers import NumberFormat
from tracegrad.problem.solve import solve
from tests.graphs import build, leaves_of, points, programs

def check_replay_with_pins(program, xs, pick, value):
    nodes = build(program, leaves_of(xs))
    trace = tg.trace(nodes[-1])
    inner = sorted(int(label[1:]) for label in trace.labels if label.startswith("n"))
    k = inner[pick % len(inner)]
    replayed = trace.replay(pins={f"n{k}": value})
    afresh = build(program, leaves_of(xs), override=(k, value))
    for node in afresh:
        if node.label in trace.labels:
            assert replayed[node.label].data == node.data  # same ops in the same order: bit for bit


def check_new_leaves(program, xs, ys):
    trace = tg.trace(build(program, leaves_of(xs))[-1])
    replayed = trace.replay(values={f"x{i}": y for i, y in enumerate(ys) if f"x{i}" in trace.labels})
    fresh = build(program, leaves_of(ys))
    fresh_trace = tg.trace(fresh[-1])
    for rec in fresh_trace.nodes:
        if rec.label is not None:
            assert replayed[rec.label].data == rec.data
            assert replayed[rec.label].grad == rec.grad


@settings(max_examples=120, deadline=None)
@given(programs, points, st.integers(0, 1000), st.floats(-3, 3, allow_nan=False))
def test_replay_with_a_pin_equals_building_afresh_with_that_value(program, xs, pick, value):
    check_replay_with_pins(program, xs, pick, value)


@settings(max_examples=120, deadline=None)
@given(programs, points, points)
def test_replay_with_new_leaves_equals_building_afresh(program, xs, ys):
    check_new_leaves(program, xs, ys)


def half_up(v, places):
    # by hand: the decimal a person computes (0.5 × 0.3² = 0.045), not its binary float (0.04499…)
    return float(Decimal(f"{v:.15g}").quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def sig(z):
    return 1 / (1 + math.exp(-z))


def hand_carry(W1, b1, W2, b2, x, y, lr, places):
    """A 2-2-1 sigmoid network with ½(ŷ−y)², worked by hand rounding every printed value."""
    r = lambda v: half_up(v, places)  # noqa: E731
    z1 = [r(x[0] * W1[0][j] + x[1] * W1[1][j] + b1[j]) for j in range(2)]
    a1 = [r(sig(z)) for z in z1]
    z2 = r(a1[0] * W2[0] + a1[1] * W2[1] + b2)
    yh = r(sig(z2))
    dy = r(yh - y)
    d2 = r(dy * r(yh * (1 - yh)))
    da1 = [r(d2 * w) for w in W2]
    d1 = [r(da1[j] * r(a1[j] * (1 - a1[j]))) for j in range(2)]
    return {
        "z1": z1, "a1": a1, "z2": [z2], "y_hat": [yh], "loss": r(0.5 * (yh - y) ** 2), "delta2": [d2],
        "dL/dW2": [[r(d2 * a1[0])], [r(d2 * a1[1])]], "dL/da1": da1, "delta1": d1,
        "dL/dW1": [[r(d1[j] * x[i]) for j in range(2)] for i in range(2)],
        # the update line subtracts η times the printed gradient (the step η·∂L/∂W has no line of its own)
        "W1_new": [[r(W1[i][j] - lr * r(d1[j] * x[i])) for j in range(2)] for i in range(2)],
        "b2_new": [r(b2 - lr * d2)],
    }


def check_carry(seed, places):
    rng = random.Random(seed)
    w = lambda: round(rng.uniform(-1, 1), 2)  # noqa: E731
    W1, b1, W2, b2 = [[w(), w()], [w(), w()]], [w(), w()], [w(), w()], w()
    x, y, lr = [round(rng.uniform(-2, 2), 1), round(rng.uniform(-2, 2), 1)], round(rng.uniform(0, 1), 2), 0.1
    problem = parse_problem({"layers": [{"weights": W1, "bias": b1, "activation": "sigmoid"},
                                        {"weights": [[W2[0]], [W2[1]]], "bias": [b2], "activation": "sigmoid"}],
                             "data": {"x": x, "y": y}, "loss": "half_se", "optimizer": {"name": "sgd", "lr": lr}})
    worked = solve(problem)
    got = worked.values(worked.carry(NumberFormat(places).round))
    for name, value in hand_carry(W1, b1, W2, b2, x, y, lr, places).items():
        assert _close(got[name], value), (name, got[name], value)


def _close(a, b):
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_close(p, q) for p, q in zip(a, b))
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 6))
def test_carry_rounding_equals_a_hand_computation(seed, places):
    check_carry(seed, places)


# --- the long run: more than 10,000 generated cases in all ----------------------------

@pytest.mark.slow
@settings(max_examples=4000, deadline=None)
@given(programs, points, st.integers(0, 1000), st.floats(-3, 3, allow_nan=False))
def test_slow_replay_with_pins(program, xs, pick, value):
    check_replay_with_pins(program, xs, pick, value)


@pytest.mark.slow
@settings(max_examples=4000, deadline=None)
@given(programs, points, points)
def test_slow_replay_with_new_leaves(program, xs, ys):
    check_new_leaves(program, xs, ys)


@pytest.mark.slow
@settings(max_examples=2500, deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 6))
def test_slow_carry_rounding(seed, places):
    check_carry(seed, places)
