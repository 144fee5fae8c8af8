"""Numerical edges: a correct finite result, or an error that names the node and suggests the fix."""

import math
import subprocess
import sys

import pytest

from tests.golden import ROOT, SEED
from tracegrad import DomainError, Value
from tracegrad.problem.schema import parse_problem
from tracegrad.problem.solve import solve


def problem(w_hidden, w_out, loss="half_se", out_act="sigmoid", y=0.5):
    return parse_problem({"layers": [{"weights": w_hidden, "bias": [0.0, 0.0], "activation": "tanh"},
                                     {"weights": w_out, "bias": [0.0], "activation": out_act}],
                          "data": {"x": [1.0, 2.0], "y": y}, "loss": loss})


def test_saturated_sigmoid_and_tanh_give_finite_exact_zero_derivatives():
    worked = solve(problem([[30.0, -30.0], [30.0, -30.0]], [[40.0], [-5.0]]))
    # tanh(90) = 1.0 and tanh(-90) = -1.0 in binary64; z₂ = 40 + 5 = 45, σ(45) = 1.0: every f' is exactly 0
    assert worked.value("a1") == (1.0, -1.0)
    assert worked.value("da1/dz1") == (0.0, 0.0) and worked.value("da2/dz2") == (0.0,)
    assert worked.value("dL/dW1") == ((0.0, 0.0), (0.0, 0.0))


def test_log_of_zero_in_cross_entropy_from_probabilities_names_the_node_and_the_fix():
    with pytest.raises(DomainError) as info:
        solve(problem([[30.0, 0.0], [30.0, 0.0]], [[40.0], [0.0]], loss="bce", y=1))
    message = str(info.value)
    assert message.startswith("bce(a2[0] = 1.0") and "strictly between 0 and 1" in message
    assert "from-logits" in message


def test_the_logits_form_is_finite_where_probabilities_fail():
    worked = solve(problem([[30.0, 0.0], [30.0, 0.0]], [[40.0], [0.0]], loss="bce_logits", out_act="identity",
                           y=1))
    # z = 40, y = 1: L = log(1 + e^-40) ≈ e^-40, δ = σ(40) − 1 ≈ −e^-40 (by hand; in binary64 σ(40) is 1.0,
    # so δ is 0 within e^-40 of the truth)
    assert math.isclose(worked.value("loss"), math.exp(-40), rel_tol=1e-9)
    assert abs(worked.value("delta2")[0] + math.exp(-40)) <= math.exp(-40)


def test_softmax_cross_entropy_of_huge_logits_is_finite():
    from tracegrad.core.value import apply

    z = [Value(1000.0), Value(1001.0), Value(-1000.0)]
    loss = apply("softmax_ce", z + [0.0, 1.0, 0.0])
    loss.backward()
    # L = log(1 + e^-1 + e^-2001) ≈ log(1 + e^-1); ∂L/∂z₂ = softmax₂ − 1 = −e^-1 / (1 + e^-1)
    assert math.isclose(loss.data, math.log(1 + math.exp(-1)), rel_tol=1e-12)
    assert math.isclose(z[1].grad, -math.exp(-1) / (1 + math.exp(-1)), rel_tol=1e-12)


def test_exploding_training_stops_with_the_node_and_the_fix(tmp_path):
    text = (ROOT / "examples" / "moons_train.toml").read_text(encoding="utf-8")
    text = text.replace('name = "adam"\nlr = 0.05', 'name = "sgd"\nlr = 1e200').replace('"bce_logits"', '"mse"')
    path = tmp_path / "explode.toml"
    path.write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "tracegrad", "train", str(path), "--no-progress"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "overflows" in r.stderr or "not finite" in r.stderr
    assert any(fix in r.stderr for fix in ("clip", "learning rate", "smaller"))


def test_huge_inputs_in_a_derivation_are_refused_with_the_node(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(SEED.read_text(encoding="utf-8").replace("x = [1, 2]", "x = [1e200, 1e200]"), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "tracegrad", "derive", str(path)], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode in (0, 2) and "Traceback" not in r.stderr
