"""Derivations for any depth, width, activation, loss, layout, single sample or batch:
every gradient a derivation prints equals central finite differences of the loss, and
every rendering is accepted by its consumer."""

import math
import random

import pytest

from tests.tex_tools import compile_latex, katex_errors, markdown_math
from tracegrad.problem.schema import parse_problem
from tracegrad.workflows.derive import derive
from tracegrad.problem.solve import solve

# (hidden activation, output activation, loss, target kind)
COMBOS = [
    ("sigmoid", "sigmoid", "half_se", "real"),
    ("tanh", "identity", "mse", "real"),
    ("relu", "identity", "mae", "real"),
    ("leaky_relu", "sigmoid", "bce", "binary"),
    ("tanh", "identity", "bce_logits", "binary"),
    ("sigmoid", "softmax", "cce", "onehot"),
    ("relu", "softmax", "cce_logits", "onehot"),
    ("tanh", "identity", "hinge", "sign"),
]


def make_problem(hidden, output, loss, kind, *, batch, layout, seed):
    rng = random.Random(seed)
    sizes = [3, 4, 3, 2 if kind == "onehot" else 1]
    layers = []
    for k in range(3):
        n_in, n_out = sizes[k], sizes[k + 1]
        rows = [[round(rng.uniform(-1, 1), 2) for _ in range(n_out)] for _ in range(n_in)]
        if layout == "out_in":
            rows = [list(col) for col in zip(*rows)]
        layers.append({"weights": rows, "bias": [round(rng.uniform(-0.5, 0.5), 2) for _ in range(n_out)],
                       "activation": output if k == 2 else hidden, "alpha": 0.1})
    n = 3 if batch else 1

    def target():
        if kind == "real":
            return [round(rng.uniform(-1, 1), 2)]
        if kind == "binary":
            return [float(rng.random() < 0.5)]
        if kind == "sign":
            return [rng.choice([-1.0, 1.0])]
        hot = rng.randrange(2)
        return [1.0 if i == hot else 0.0 for i in range(2)]

    xs = [[round(rng.uniform(-2, 2), 2) for _ in range(3)] for _ in range(n)]
    ys = [target() for _ in range(n)]
    data = {"layout": layout, "layers": layers,
            "data": {"x": xs if batch else xs[0], "y": ys if batch else ys[0]},
            "loss": {"name": loss}, "optimizer": {"name": "sgd", "lr": 0.05}}
    return parse_problem(data, "generated.toml")


def loss_at(problem, layer, i, j, delta):
    """The loss with one weight moved by delta (a forward pass only)."""
    from tracegrad.problem.schema import LayerSpec

    w = [list(row) for row in problem.layers[layer].weights]
    w[i][j] += delta
    layers = list(problem.layers)
    spec = layers[layer]
    layers[layer] = LayerSpec(tuple(tuple(r) for r in w), spec.bias, spec.activation, spec.alpha)
    moved = type(problem)(**{**problem.__dict__, "layers": tuple(layers)})
    return solve(moved).value("loss")


CASES = [(c, batch, layout) for c in COMBOS for batch in (False, True) for layout in ("in_out", "out_in")]


@pytest.mark.parametrize("combo,batch,layout", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{'batch' if b else 'one'}-{lay}" for c, b, lay in CASES])
def test_printed_gradients_are_finite_differences(combo, batch, layout):
    problem = make_problem(*combo, batch=batch, layout=layout, seed=COMBOS.index(combo) * 10 + batch)
    worked = solve(problem)
    lr = problem.setting("lr")
    for k in (1, 3):
        grads = worked.value(f"dL/dW{k}")
        weights = problem.layers[k - 1].weights
        for i in range(len(weights)):
            for j in range(len(weights[0])):
                h = 1e-6
                numeric = (loss_at(problem, k - 1, i, j, h) - loss_at(problem, k - 1, i, j, -h)) / (2 * h)
                if combo[2] in ("mae", "hinge") or "relu" in combo[0]:
                    # kinks: only compare where the loss is locally smooth
                    one_sided = (loss_at(problem, k - 1, i, j, h) - worked.value("loss")) / h
                    if abs(one_sided - numeric) > 1e-4:
                        continue
                assert math.isclose(grads[i][j], numeric, rel_tol=1e-5, abs_tol=1e-7), (k, i, j)
                new = worked.value(f"W{k}_new")[i][j]
                assert math.isclose(new, weights[i][j] - lr * grads[i][j], rel_tol=1e-13, abs_tol=1e-15)


def test_every_combination_renders_and_katex_accepts_it():
    formulas = []
    for combo in COMBOS:
        for batch in (False, True):
            problem = make_problem(*combo, batch=batch, layout="in_out", seed=7)
            worked = solve(problem)
            for lang in ("en", "zh"):
                md = derive(worked, lang=lang).text
                formulas += markdown_math(md)
                assert derive(worked, format="text", lang=lang, rounding="carry").text
    assert katex_errors(formulas) == []


@pytest.mark.parametrize("lang,engine", [("en", "pdflatex"), ("zh", "xelatex")])
def test_a_deep_batch_network_compiles(tmp_path, lang, engine):
    problem = make_problem("tanh", "softmax", "cce_logits", "onehot", batch=True, layout="out_in", seed=3)
    compile_latex(derive(solve(problem), format="latex", lang=lang).text, tmp_path, engine)
