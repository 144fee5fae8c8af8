"""micrograd's demo training step, implemented every way the suite compares.

The step (micrograd's ``demo.ipynb``): an MLP 2-h-h-1 with ReLU hidden layers
and a linear output, the two-moons points with labels ±1, loss = mean of
max(0, 1 − y·score) + alpha·Σ p² over every parameter, full batch: forward,
backward, SGD update. Every implementation starts from the same weights
(micrograd's own initialisation, copied), sees the same data and computes the
same loss; :func:`check_agreement` asserts that before anything is timed.

Each ``*_stepper`` returns a function running one step and returning the loss
before the update, and a function returning the current parameters in
micrograd's order (layer by layer, unit by unit, weights then bias).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from . import floor


@dataclass(frozen=True)
class Problem:
    """The data and the initial weights (``W[l][j]``: unit j's weights, ``B[l][j]`` its bias)."""

    X: list
    Y: list
    W: list
    B: list
    lr: float = 1.0
    alpha: float = 1e-4

    @property
    def sizes(self) -> list:
        return [len(self.X[0])] + [len(layer) for layer in self.W]

    def parameters(self) -> list:
        return [p for layer, biases in zip(self.W, self.B) for w, b in zip(layer, biases) for p in (*w, b)]


def make_problem(points: int = 100, hidden: int = 16, seed: int = 1337) -> Problem:
    """Two moons (numpy, seeded) and micrograd's MLP(2, [hidden, hidden, 1]) initialised with ``seed``."""
    from micrograd.nn import MLP

    from tracegrad.nn.data import moons

    X, labels = moons(points, noise=0.1, seed=seed)
    random.seed(seed)
    model = MLP(2, [hidden, hidden, 1])
    W = [[[p.data for p in neuron.w] for neuron in layer.neurons] for layer in model.layers]
    B = [[neuron.b.data for neuron in layer.neurons] for layer in model.layers]
    return Problem(X, [2.0 * v - 1.0 for v in labels], W, B)


# --- micrograd 0.1.0 ------------------------------------------------------------------


def micrograd_stepper(problem: Problem):
    """micrograd's demo code, with its ``MLP`` carrying the problem's weights."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(problem.sizes[0], problem.sizes[1:])
    for p, v in zip(model.parameters(), problem.parameters()):
        p.data = v
    X, Y, lr, alpha = problem.X, problem.Y, problem.lr, problem.alpha

    def step():
        inputs = [list(map(Value, x)) for x in X]
        scores = list(map(model, inputs))
        losses = [(1 + -y * s).relu() for y, s in zip(Y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        return total.data

    return step, lambda: [p.data for p in model.parameters()]


# --- tracegrad, from Values --------------------------------------------------------------


def _tracegrad_model(problem: Problem):
    from tracegrad import Value

    layers = [[([Value(w) for w in ws], Value(b)) for ws, b in zip(layer, biases)]
              for layer, biases in zip(problem.W, problem.B)]
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    return layers, params


def _tracegrad_loss(layers, params, X, Y, alpha):
    """The demo loss built from ``Value`` s, one ``dot`` node per unit's weighted sum."""
    import tracegrad as tg
    from tracegrad import Value

    last = len(layers) - 1
    losses = []
    for x, y in zip(X, Y):
        h = [Value(v) for v in x]
        for l, layer in enumerate(layers):
            z = [tg.dot(ws, h) + b for ws, b in layer]
            h = z if l == last else [v.relu() for v in z]
        losses.append((1 - y * h[0]).relu())
    return tg.sum(losses) * (1.0 / len(losses)) + alpha * tg.dot(params, params)


def tracegrad_stepper(problem: Problem, recording: bool = False):
    """tracegrad's engine, the loss built from ``Value`` s; with ``recording`` every step
    runs inside ``tracegrad.record()`` (and its trace is assembled)."""
    import tracegrad as tg

    layers, params = _tracegrad_model(problem)
    X, Y, lr, alpha = problem.X, problem.Y, problem.lr, problem.alpha

    def run():
        loss = _tracegrad_loss(layers, params, X, Y, alpha)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss

    def step():
        if not recording:
            return run().data
        with tg.record() as rec:
            loss = run()
        if rec.trace is None:
            raise RuntimeError("recording produced no trace")
        return loss.data

    return step, lambda: [p.data for p in params]


def nn_stepper(problem: Problem):
    """tracegrad.nn: ``MLP``, the ``hinge`` loss and ``l2_penalty`` (½λΣp² with λ = 2·alpha)."""
    from tracegrad.nn import LOSSES, MLP, l2_penalty

    model = MLP(problem.sizes[0], problem.sizes[1:])
    for p, v in zip(model.parameters(), problem.parameters()):
        p.data = v
    params = model.parameters()
    X, Y, lr, alpha = problem.X, problem.Y, problem.lr, problem.alpha
    hinge = LOSSES["hinge"]

    def step():
        loss = hinge(model.batch(X), Y) + l2_penalty(params, 2 * alpha)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    return step, lambda: [p.data for p in params]


# --- compiled replay -----------------------------------------------------------------------


def compiled_stepper(problem: Problem):
    """The step's trace (recorded once) compiled to straight-line Python over the parameters."""
    import tracegrad as tg
    from tracegrad.compile.runtime import compile_trace

    layers, params = _tracegrad_model(problem)
    with tg.record() as rec:
        loss = _tracegrad_loss(layers, params, problem.X, problem.Y, problem.alpha)
        loss.backward()
    compiled = compile_trace(rec.trace, inputs=params, outputs=[loss])
    state = [p.data for p in params]
    lr = problem.lr

    def step():
        (value,), grads = compiled.forward_backward(state)
        state[:] = [p - lr * g for p, g in zip(state, grads)]
        return value

    return step, lambda: list(state), compiled


def batched_stepper(problem: Problem):
    """One sample's graph, hinge/N + (alpha/N)·Σp² (so the batch sums to the demo loss),
    compiled to numpy and run over all samples at once; gradients summed over the batch."""
    import numpy as np

    import tracegrad as tg
    from tracegrad import Value
    from tracegrad.compile.runtime import compile_trace

    layers, params = _tracegrad_model(problem)
    n = len(problem.X)
    with tg.record() as rec:
        x = [Value(v) for v in problem.X[0]]
        y = Value(problem.Y[0])
        h = x
        for l, layer in enumerate(layers):
            z = [tg.dot(ws, h) + b for ws, b in layer]
            h = z if l == len(layers) - 1 else [v.relu() for v in z]
        loss = (1 - y * h[0]).relu() * (1.0 / n) + (problem.alpha / n) * tg.dot(params, params)
        loss.backward()
    compiled = compile_trace(rec.trace, inputs=params + x + [y], outputs=[loss], wrt=params)
    data = [np.array(column) for column in zip(*problem.X)] + [np.array(problem.Y)]
    state = np.array([p.data for p in params])
    lr = problem.lr

    def step():
        nonlocal state
        outputs, grads = compiled.batched(list(state) + data)
        state = state - lr * grads.sum(axis=1)
        return float(outputs[0].sum())

    return step, lambda: state.tolist(), compiled


# --- the hand-written floor ------------------------------------------------------------------


def floor_stepper(problem: Problem):
    """:func:`bench.floor.step` on copies of the weights."""
    W = [[list(w) for w in layer] for layer in problem.W]
    B = [list(biases) for biases in problem.B]
    X, Y, lr, alpha = problem.X, problem.Y, problem.lr, problem.alpha

    def step():
        return floor.step(W, B, X, Y, lr, alpha)

    return step, lambda: [p for layer, biases in zip(W, B) for w, b in zip(layer, biases) for p in (*w, b)]


def run_steps(stepper: tuple, steps: int) -> tuple:
    """``(losses, parameters)`` after running ``steps`` steps."""
    step, params = stepper[:2]
    return [step() for _ in range(steps)], params()


def check_agreement(expected: tuple, stepper: tuple, name: str, rel: float = 1e-9) -> None:
    """Require the same losses and final parameters as ``expected`` (from :func:`run_steps`).

    Summation orders differ (and micrograd's backward order follows set iteration,
    so its last bits vary from run to run), hence a relative tolerance; a seed whose
    data puts a ReLU exactly at 0 after an update can flip that unit and fail here.
    """
    losses, params = run_steps(stepper, len(expected[0]))
    for k, (a, b) in enumerate(zip(expected[0], losses)):
        if not math.isclose(a, b, rel_tol=rel, abs_tol=rel):
            raise AssertionError(f"{name}: loss {b!r} at step {k}, micrograd gives {a!r}")
    for i, (a, b) in enumerate(zip(expected[1], params)):
        if not math.isclose(a, b, rel_tol=rel, abs_tol=rel):
            raise AssertionError(f"{name}: parameter {i} is {b!r} after the steps, micrograd gives {a!r}")
