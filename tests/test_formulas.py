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
