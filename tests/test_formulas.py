"""Every printed formula, evaluated on the quantities' own values, gives the printed value:
the formula a derivation writes is the one the graph computes, for every layout, batch,
activation, loss and optimizer."""

import itertools
import random

import pytest

from tracegrad.nn.activations import ACTIVATIONS
from tracegrad.nn.losses import LOSSES
from tracegrad.nn.optim import OPTIMIZERS
from tracegrad.problem import parse_problem, solve
from tracegrad.problem.formulas import formula_mismatches

HIDDEN = [a for a in ACTIVATIONS if a not in ("linear", "softmax")]


def _problem(layout, batch, hidden, output, loss, optimizer, seed):
    rng = random.Random(seed)
    sizes = [2, 3, 2 if output == "softmax" or loss.startswith("cce") else 1]

    def matrix(n_in, n_out):
        rows = [[round(rng.uniform(-1, 1), 2) for _ in range(n_out)] for _ in range(n_in)]
        return rows if layout == "in_out" else [list(r) for r in zip(*rows)]

    layers = [{"weights": matrix(sizes[k], sizes[k + 1]), "bias": [round(rng.uniform(-0.5, 0.5), 2)
               for _ in range(sizes[k + 1])], "activation": act} for k, act in enumerate((hidden, output))]
    samples = 3 if batch else 1
    xs = [[round(rng.uniform(-2, 2), 1) for _ in range(2)] for _ in range(samples)]
    spec = LOSSES[loss]
    out = sizes[-1]
    if spec.labels == "one_hot":
        ys = [[1.0 if j == s % out else 0.0 for j in range(out)] for s in range(samples)]
    elif spec.labels == "sign":
        ys = [[rng.choice((-1.0, 1.0))] for _ in range(samples)]
    elif spec.labels == "binary":
        ys = [[rng.choice((0.0, 1.0))] for _ in range(samples)]
    else:
        ys = [[round(rng.uniform(0, 1), 1) for _ in range(out)] for _ in range(samples)]
    data = {"x": xs if batch else xs[0], "y": ys if batch else ys[0]}
    settings = {"name": optimizer, "lr": 0.1}
    return parse_problem({"layout": layout, "layers": layers, "data": data, "loss": loss, "optimizer": settings})


OUTPUTS = {"half_se": "sigmoid", "mse": "identity", "mae": "tanh", "bce": "sigmoid", "bce_logits": "identity",
           "cce": "softmax", "cce_logits": "identity", "hinge": "identity"}

CASES = [(layout, batch, hidden, loss, opt)
         for layout, batch in itertools.product(("in_out", "out_in"), (False, True))
         for hidden, loss, opt in zip(itertools.cycle(HIDDEN), sorted(LOSSES), itertools.cycle(sorted(OPTIMIZERS)))]


@pytest.mark.parametrize("layout,batch,hidden,loss,optimizer", CASES)
def test_every_formula_gives_its_value(layout, batch, hidden, loss, optimizer):
    problem = _problem(layout, batch, hidden, OUTPUTS[loss], loss, optimizer, f"{layout}{batch}{hidden}{loss}")
    worked = solve(problem)
    assert formula_mismatches(worked) == []


# --- the general formulas a derivation prints are evaluated too -----------------------------

SEED = """
[[layers]]
weights = [[0.5, 0.6], [0.7, 0.8]]
bias = [0.1, 0.2]
activation = "sigmoid"

[[layers]]
weights = [[0.9], [0.1]]
bias = [0.3]
activation = "sigmoid"

[data]
x = [1, 2]
y = 0.5

[optimizer]
name = "sgd"
lr = 0.1
"""


def test_a_wrong_activation_definition_is_caught(monkeypatch, tmp_path):
    from dataclasses import replace

    import tracegrad as tg
    from tracegrad.core.formula import E

    # σ(x) = 1/(1 + e^x) (a sign slip) is what the network section would print: the line verifier refuses it
    monkeypatch.setitem(ACTIVATIONS, "sigmoid", replace(ACTIVATIONS["sigmoid"], definition=lambda x, _: 1 / (1 + E ** x)))
    problem = tmp_path / "seed.toml"
    problem.write_text(SEED, encoding="utf-8")
    worked = solve(tg.load_problem(problem))
    bad = formula_mismatches(worked)
    assert [name for name, *_ in bad] == ["a1", "a2"], bad  # each layer the definition stands for
    assert "σ(x) = 1 / (1 + e^x)" in bad[0][1]
    derived = tg.derive(problem, format="text", verify=True)
    assert not derived.ok and "σ(x) = 1 / (1 + e^x)" in derived.text


def test_the_summary_is_the_problems_own_recursion():
    from tracegrad.problem.formulas import recursion

    # a batch of softmax outputs with cross-entropy: δ_L = (1/N)·(ŷ − y), ∂L/∂bₖ sums the batch
    problem = _problem("in_out", True, "tanh", "softmax", "cce", "sgd", "summary")
    worked = solve(problem)
    lines = {g.key: g.math().text for g in recursion(worked)}
    assert lines == {"output": "δ_L = (1/N)·(ŷ − y)", "hidden": "δₖ = (δₖ₊₁·Wₖ₊₁ᵀ) ⊙ f′(zₖ)",
                     "weights": "∂L/∂Wₖ = aₖ₋₁ᵀ·δₖ", "bias": "∂L/∂bₖ = Σₛ δₖ"}
    # each line stands for every layer it describes, and holds there (checked by formula_mismatches)
    assert [i.name for g in recursion(worked) for i in g.identities] == ["delta2", "delta1", "dL/dW2", "dL/dW1",
                                                                          "dL/db2", "dL/db1"]
    assert formula_mismatches(worked) == []
