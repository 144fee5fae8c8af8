"""Activations and losses: values from formulas written here, gradients against finite differences."""

import math

import pytest
from conftest import central_difference

import tracegrad as tg
from tracegrad.core.errors import InputError
from tracegrad.nn.activations import ACTIVATIONS
from tracegrad.nn.losses import LOSSES


def _sig(z):
    return 1 / (1 + math.exp(-z))


def _softmax(z):
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


# the activations as a person writes them, on plain floats
HAND_ACTIVATIONS = {
    "sigmoid": lambda z: [_sig(v) for v in z],
    "tanh": lambda z: [math.tanh(v) for v in z],
    "relu": lambda z: [max(0.0, v) for v in z],
    "leaky_relu": lambda z: [v if v > 0 else 0.2 * v for v in z],
    "softmax": _softmax,
    "identity": lambda z: list(z),
    "linear": lambda z: list(z),
}
Z = [0.7, -1.3, 2.1]
WEIGHTS = [0.5, -1.25, 2.0]  # a weighted sum of the outputs, so every output's gradient matters


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_gradients(name):
    assert set(ACTIVATIONS) == set(HAND_ACTIVATIONS)
    fn = ACTIVATIONS[name]
    zs = [tg.Value(v) for v in Z]
    out = fn(zs, alpha=0.2) if name == "leaky_relu" else fn(zs)
    hand = HAND_ACTIVATIONS[name]
    assert [v.data for v in out] == pytest.approx(hand(Z), rel=1e-12)
    total = sum((w * v for w, v in zip(WEIGHTS, out)), tg.Value(0.0))
    total.backward()

    def f(z):
        return sum(w * a for w, a in zip(WEIGHTS, hand(z)))

    for i, z in enumerate(zs):
        assert z.grad == pytest.approx(central_difference(f, Z, i), rel=1e-6, abs=1e-9)


def test_elementwise_activations_make_one_node_per_unit():
    zs = [tg.Value(v) for v in Z]
    for name, op in [("sigmoid", "sigmoid"), ("tanh", "tanh"), ("relu", "relu"), ("leaky_relu", "leaky_relu")]:
        out = ACTIVATIONS[name](zs)
        assert [v.op for v in out] == [op] * 3 and all(v.inputs == (z,) for v, z in zip(out, zs))
    assert ACTIVATIONS["identity"](zs) == zs


def _bce(p, y):
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


# per-sample losses as a person writes them: prediction list, target list -> number
HAND_LOSSES = {
    "half_se": lambda p, y: sum(0.5 * (a - b) ** 2 for a, b in zip(p, y)),
    "mse": lambda p, y: sum((a - b) ** 2 for a, b in zip(p, y)) / len(p),
    "mae": lambda p, y: sum(abs(a - b) for a, b in zip(p, y)) / len(p),
    "bce": lambda p, y: sum(_bce(a, b) for a, b in zip(p, y)) / len(p),
    "bce_logits": lambda z, y: sum(_bce(_sig(a), b) for a, b in zip(z, y)) / len(z),
    "cce": lambda p, y: -sum(b * math.log(a) for a, b in zip(p, y) if b),
    "cce_logits": lambda z, y: -sum(b * math.log(q) for q, b in zip(_softmax(z), y)),
    "hinge": lambda s, y: sum(max(0.0, 1 - a * b) for a, b in zip(s, y)) / len(s),
}
CASES = {  # (predictions per sample, targets per sample)
    "half_se": ([[0.77, -0.3], [0.2, 0.9]], [[0.5, 0.0], [1.0, 1.0]]),
    "mse": ([[0.77, -0.3], [0.2, 0.9]], [[0.5, 0.0], [1.0, 1.0]]),
    "mae": ([[0.77, -0.3], [0.2, 0.9]], [[0.5, 0.0], [1.0, 1.5]]),
    "bce": ([[0.7, 0.2], [0.4, 0.9]], [[1.0, 0.0], [0.0, 0.3]]),
    "bce_logits": ([[0.7, -2.2], [1.4, 0.1]], [[1.0, 0.0], [0.0, 0.3]]),
    "cce": ([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]], [[0.0, 1.0, 0.0], [0.25, 0.0, 0.75]]),
    "cce_logits": ([[0.2, -1.5, 0.3], [2.1, 0.1, -0.8]], [[0.0, 1.0, 0.0], [0.25, 0.0, 0.75]]),
    "hinge": ([[0.7, -0.2], [1.4, 0.1]], [[1.0, -1.0], [-1.0, 1.0]]),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_values_and_gradients_over_a_batch(name):
    assert set(LOSSES) == set(HAND_LOSSES)
    preds, targets = CASES[name]
    hand = HAND_LOSSES[name]
    values = [[tg.Value(v) for v in p] for p in preds]
    loss = LOSSES[name](values, targets)
    flat = [v for p in preds for v in p]
    width = len(preds[0])

    def f(xs):  # batch mean of the hand formula
        rows = [xs[k:k + width] for k in range(0, len(xs), width)]
        return sum(hand(r, t) for r, t in zip(rows, targets)) / len(rows)

    assert loss.data == pytest.approx(f(flat), rel=1e-12)
    loss.backward()
    for i, v in enumerate(v for p in values for v in p):
        assert v.grad == pytest.approx(central_difference(f, flat, i), rel=1e-6, abs=1e-8)
    assert loss.label == "loss" and loss.op == "div"
    assert [s.label for s in loss.inputs[0].inputs] == ["loss@0", "loss@1"]
    assert LOSSES[name].name == name


def test_from_logits_flags():
    assert {n for n, l in LOSSES.items() if l.from_logits} == {"bce_logits", "cce_logits", "hinge"}


def test_single_sample_loss_is_the_sample_node_itself():
    y_hat = tg.Value(0.7657)
    loss = LOSSES["half_se"](y_hat, 0.5)
    assert loss.op == "half_sq_err" and loss.label == "loss"
    assert loss.inputs[0] is y_hat and loss.inputs[1].label == "y[0]"
    assert loss.data == pytest.approx(0.5 * 0.2657 ** 2)
    two = LOSSES["mse"]([tg.Value(1.0), tg.Value(3.0)], [0.0, 0.0])
    assert two.op == "div" and two.data == (1 + 9) / 2


def test_cce_logits_is_one_stable_node_and_agrees_with_softmax_then_cce():
    z = [tg.Value(v) for v in (1000.0, 0.0, -1000.0)]
    loss = LOSSES["cce_logits"](z, [0.0, 1.0, 0.0])
    assert loss.op == "softmax_ce" and loss.data == pytest.approx(1000.0)
    z = [tg.Value(v) for v in (0.3, -0.2, 1.1)]
    a = LOSSES["cce_logits"](z, [0.0, 0.0, 1.0]).data
    b = LOSSES["cce"](tg.softmax(z), [0.0, 0.0, 1.0]).data
    assert a == pytest.approx(b, rel=1e-12)


def test_bce_logits_is_stable_for_large_logits():
    loss = LOSSES["bce_logits"](tg.Value(-800.0), 1.0)
    assert loss.data == pytest.approx(800.0)


def test_loss_input_errors():
    with pytest.raises(InputError, match="hinge") as err:
        LOSSES["hinge"]([tg.Value(0.5)], [0.0])
    assert err.value.key == "targets[0]"
    with pytest.raises(InputError, match="between 0 and 1"):
        LOSSES["bce"]([[tg.Value(0.5)], [tg.Value(0.5)]], [[1.0], [2.0]])
    with pytest.raises(InputError, match="2 outputs but 1 targets"):
        LOSSES["mse"]([tg.Value(0.5), tg.Value(0.1)], [1.0])
    with pytest.raises(InputError, match="3 samples of predictions but 2 targets"):
        LOSSES["mse"]([[tg.Value(0.5)]] * 3, [1.0, 2.0])
    with pytest.raises(InputError, match="finite number"):
        LOSSES["mse"]([tg.Value(0.5)], ["1"])
