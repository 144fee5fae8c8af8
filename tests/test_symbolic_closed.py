"""Closed forms for ``derive --symbolic``: the document's formulas, produced by SymPy, and
checked by evaluating them at the worked numbers against the engine's quantities."""

import math
import random

import pytest
import sympy as sp

from tests.conftest import ROOT
from tracegrad.problem.schema import load_problem, parse_problem
from tracegrad.symbolic import closed_forms, verification_rows
from tracegrad.symbolic.closed import activation_derivative, closed_form_exprs
from tracegrad.problem.solve import solve


@pytest.fixture(scope="module")
def seed():
    return solve(load_problem(ROOT / "examples" / "seed.toml"))


def test_seed_formulas_read_as_the_document_writes_them(seed):
    assert closed_forms(seed) == {
        "dL/dy_hat": r"\hat{y} - y",
        "da2/dz2": r"\hat{y} \left(1 - \hat{y}\right)",
        "delta2": r"\hat{y} \left(1 - \hat{y}\right) \left(\hat{y} - y\right)",
        "dL/dW2": r"\hat{y} \left(1 - \hat{y}\right) \left(\hat{y} - y\right) a_{1}^{T}",
        "dL/db2": r"\hat{y} \left(1 - \hat{y}\right) \left(\hat{y} - y\right)",
        "dL/da1": r"\delta_{2} W_{2}^{T}",
        "da1/dz1": r"a_{1} \odot \left(1 - a_{1}\right)",
        "delta1": r"\left(\delta_{2} W_{2}^{T}\right) \odot \left(a_{1} \odot \left(1 - a_{1}\right)\right)",
        "dL/dW1": r"x^{T} \delta_{1}",
        "dL/db1": r"\delta_{1}",
    }


def problem(layout, activations, loss, y, x=(1.0, -0.5), widths=(3,), seed=0):
    rng = random.Random(seed)
    sizes = [len(x[0]) if isinstance(x[0], (list, tuple)) else len(x), *widths, len(y[0]) if isinstance(y[0], list)
             else len(y)]
    layers = []
    for k, act in enumerate(activations):
        n, m = sizes[k], sizes[k + 1]
        rows, cols = (n, m) if layout == "in_out" else (m, n)
        layers.append({"weights": [[rng.uniform(-1, 1) for _ in range(cols)] for _ in range(rows)],
                       "bias": [rng.uniform(-0.3, 0.3) for _ in range(m)], "activation": act})
    data = {"x": [list(s) for s in x] if isinstance(x[0], (list, tuple)) else list(x), "y": y}
    return solve(parse_problem({"layout": layout, "layers": layers, "data": data, "loss": loss}))


def row_or_column(values, layout):
    return sp.Matrix([list(values)]) if layout == "in_out" else sp.Matrix(list(values))


CASES = [
    ("in_out", ["tanh", "sigmoid"], "bce", [1.0]),
    ("out_in", ["sigmoid", "tanh"], "half_se", [0.3]),
    ("out_in", ["relu", "identity"], "mse", [0.5, -0.5]),
    ("in_out", ["leaky_relu", "sigmoid"], "half_se", [0.2, 0.9]),
]


@pytest.mark.parametrize("layout,activations,loss,y", CASES)
def test_formulas_evaluated_at_the_worked_numbers_equal_the_engine(layout, activations, loss, y):
    worked = problem(layout, activations, loss, y)
    exprs, symbols = closed_form_exprs(worked)
    scalar = {s.name: s for s in symbols.names if isinstance(s, sp.Symbol)}
    matrix = {s.name: s for s in symbols.names if isinstance(s, sp.MatrixSymbol)}
    value, depth = worked.value, worked.depth
    for name, (expr, _) in exprs.items():
        engine = value(name)
        if name == "dL/dy_hat" or name.startswith(("da", "delta")):  # per unit: must hold for every unit
            k = depth if name in ("dL/dy_hat", f"delta{depth}") else int(name[2])
            for j, expected in enumerate(engine):
                at = {scalar["hat_y"]: value("y_hat")[j], scalar["y"]: y[j]} if k == depth else {}
                at.update({scalar[q]: value(q)[j] for q in (f"z{k}", f"a{k}")
                           if q in scalar and q in worked.quantities})
                assert math.isclose(float(expr.subs(at)), expected, rel_tol=1e-12, abs_tol=1e-15), (name, j)
            continue
        k = int(name[5:]) + name.startswith("dL/da")
        prev = list(worked.problem.x[0]) if k == 1 else value(f"a{k - 1}")
        at = {matrix[f"W{k}"]: sp.Matrix([[p.data for p in row] for row in worked.layers[k - 1].weight_matrix]),
              matrix[f"delta{k}"]: row_or_column(value(f"delta{k}"), layout),
              matrix["x" if k == 1 else f"a{k - 1}"]: row_or_column(prev, layout),
              scalar["hat_y"]: value("y_hat")[0], scalar["y"]: y[0]}
        got = expr.subs(at).doit()
        got = sp.Matrix(got) if hasattr(got, "shape") else sp.Matrix([[got]])
        expected = engine if isinstance(engine[0], (list, tuple)) else row_or_column(engine, layout).tolist()
        assert got.shape == (len(expected), len(expected[0])), name
        for g, e in zip(got, [e for row in expected for e in row]):
            assert math.isclose(float(g), e, rel_tol=1e-12, abs_tol=1e-15), name


def test_sigmoid_with_cross_entropy_simplifies_to_the_famous_error_term():
    worked = problem("in_out", ["tanh", "sigmoid"], "bce", [1.0])
    forms = closed_forms(worked)
    assert forms["delta2"] == r"\hat{y} - y"
    assert forms["da1/dz1"] == r"1 - a_{1}^{2}"
    assert forms["delta1"] == r"\left(\delta_{2} W_{2}^{T}\right) \odot \left(1 - a_{1}^{2}\right)"


def test_mean_squared_error_keeps_its_factor_and_relu_its_indicator():
    forms = closed_forms(problem("out_in", ["relu", "identity"], "mse", [0.5, -0.5, 0.1]))
    assert forms["dL/dy_hat"] == r"\frac{2}{3} \left(\hat{y} - y\right)"  # (2/K)(ŷ − y), K = 3
    assert forms["da1/dz1"] == r"\left[z_{1} > 0\right]"
    assert forms["dL/dW2"] == r"\delta_{2} a_{1}^{T}" and forms["dL/da1"] == r"W_{2}^{T} \delta_{2}"


def test_a_batch_sums_parameter_gradients_over_samples():
    worked = problem("in_out", ["tanh", "sigmoid"], "half_se", [[1.0], [0.0]], x=[[1.0, 2.0], [0.5, 0.1]])
    forms = closed_forms(worked)
    assert forms["dL/dW1"] == r"\sum_{s=1}^{2} x^{T} \delta_{1}"
    assert forms["dL/dy_hat"] == r"\frac{\hat{y} - y}{2}"  # the mean over two samples


@pytest.mark.parametrize("op,params,expected", [
    ("sigmoid", (), "a*(1 - a)"),
    ("tanh", (), "1 - a**2"),
    ("relu", (), "[z > 0]"),
    ("leaky_relu", (0.1,), "0.1 + 0.9*[z > 0]"),
    ("exp", (), "a"),
])
def test_activation_derivatives_in_terms_of_the_output(op, params, expected):
    z, a = sp.symbols("z a", real=True)
    assert sp.sstr(activation_derivative(op, params, z, a)) == expected


def test_verification_rows_feed_the_derive_table(seed):
    rows = verification_rows(seed)
    assert len(rows) == 18 and all(r.agree for r in rows)
    first = rows[0]
    assert (first.name, first.of, first.formula) == ("dL/dy_hat[0]", r"\frac{\partial L}{\partial \hat{y}}[0]",
                                                     r"\hat{y}[0] - y[0]")
    assert math.isclose(first.engine, seed.value("dL/dy_hat")[0], rel_tol=0)
