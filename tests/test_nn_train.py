"""The training loop: iteration counting, one batch-GD step by hand, XOR, progress bar, diagnostics."""

import math

import pytest

from tracegrad.core.errors import InputError
from tracegrad.nn import MLP, SGD, Dense, data, evaluate, fit, gradient_norms, predict
from tracegrad.nn.diagnostics import format_norms


def line(w=0.0, b=0.0):
    return MLP.from_layers([Dense([w], b, "identity")])


@pytest.mark.parametrize("n, batch_size, per_epoch", [(1000, 100, 10), (1000, None, 1), (7, 1, 7), (10, 3, 4)])
def test_iterations_per_epoch(n, batch_size, per_epoch):
    X = [[i / n] for i in range(n)]
    y = [2 * x[0] for x in X]
    h = fit(line(), (X, y), "mse", SGD(line().parameters(), lr=0.1), epochs=2, batch_size=batch_size,
            progress=False)
    assert h.iterations_per_epoch == per_epoch and h.iterations == 2 * per_epoch and len(h.epoch_loss) == 2


def test_one_batch_gradient_descent_step_by_hand():
    X, y = [[1.0], [2.0], [3.0]], [1.0, 3.0, 2.0]
    model = line(0.5, 0.0)
    h = fit(model, (X, y), "mse", SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
    # L = (1/3) Σ (w x + b − y)²; residuals at w = 0.5, b = 0: −0.5, −2.0, −0.5
    r = [0.5 * 1 - 1, 0.5 * 2 - 3, 0.5 * 3 - 2]
    dw = sum(2 * ri * xi[0] for ri, xi in zip(r, X)) / 3
    db = sum(2 * ri for ri in r) / 3
    w, b = model.parameters()
    assert (w.data, b.data) == pytest.approx((0.5 - 0.1 * dw, -0.1 * db))
    assert h.iteration_loss == pytest.approx([sum(ri * ri for ri in r) / 3])


def test_xor_reaches_near_zero_loss_with_a_fixed_seed():
    X, y = data.xor()
    net = MLP.stack([2, 8, 1], "tanh", "sigmoid", init="xavier", seed=1)
    h = fit(net, (X, y), "bce", "adam", epochs=300, lr=0.05, progress=False)
    assert h.epoch_loss[-1] < 0.01
    assert [round(p[0]) for p in predict(net, X)] == [0, 1, 1, 0]
    assert evaluate(net, (X, y), "bce") == pytest.approx(h.epoch_loss[-1], rel=0.1)


def test_training_is_deterministic_and_records_test_loss():
    X, y = data.moons(40, seed=0)
    runs = []
    for _ in range(2):
        net = MLP.stack([2, 6, 1], "relu", "identity", seed=5)
        runs.append(fit(net, (X, y), "bce_logits", "sgd", epochs=3, batch_size=8, lr=0.1, test=(X[:10], y[:10]),
                        progress=False))
    assert runs[0].iteration_loss == runs[1].iteration_loss and len(runs[0].test_loss) == 3


def test_progress_bar_stays_off_when_not_a_terminal(capsys):
    X, y = [[0.0], [1.0]], [0.0, 1.0]
    fit(line(), (X, y), "mse", "sgd", epochs=3, progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_penalties_and_clipping_in_the_loop():
    X, y = [[1.0]], [100.0]
    model = line(1.0, 0.0)
    fit(model, (X, y), "mse", SGD(model.parameters(), lr=0.1), epochs=1, clip_norm=1.0, progress=False)
    # raw gradient (2·(1 − 100)·1, 2·(1 − 100)) has norm 198·√2; clipped to norm 1
    w, b = model.parameters()
    assert (w.data, b.data) == pytest.approx((1.0 + 0.1 / math.sqrt(2), 0.1 / math.sqrt(2)))
    model = line(1.0, 0.0)
    fit(model, ([[0.0]], [0.0]), "mse", SGD(model.parameters(), lr=0.1), epochs=1, l2=0.5, progress=False)
    assert model.parameters()[0].data == pytest.approx(1.0 - 0.1 * 0.5 * 1.0)  # only the decay moves w


def test_fit_input_errors():
    with pytest.raises(InputError, match="unknown optimizer"):
        fit(line(), ([[0.0]], [0.0]), "mse", "adagrad", progress=False)
    with pytest.raises(InputError, match="unknown loss"):
        fit(line(), ([[0.0]], [0.0]), "l3", "sgd", progress=False)
    with pytest.raises(InputError, match="batch size"):
        fit(line(), ([[0.0]], [0.0]), "mse", "sgd", batch_size=0, progress=False)
    with pytest.raises(InputError, match="2 samples but 1 targets"):
        fit(line(), ([[0.0], [1.0]], [0.0]), "mse", "sgd", progress=False)


def test_gradient_norms_per_layer_by_hand():
    l1 = Dense([[1.0, 2.0]], [0.0, 0.0], "identity", layer=1)
    l2 = Dense([3.0, 4.0], 0.0, "identity", layer=2)
    net = MLP.from_layers([l1, l2])
    net([1.0]).backward()
    # out = 3·(1·x) + 4·(2·x): layer 2 grads (z1 = 1, 2; bias 1), layer 1 grads (3, 4; biases 3, 4)
    norms = gradient_norms(net)
    assert list(norms) == [1, 2]
    assert norms[2] == pytest.approx(math.sqrt(1 + 4 + 1))
    assert norms[1] == pytest.approx(math.sqrt(9 + 16 + 9 + 16))
    table = format_norms({"tiny": norms})
    assert "| tiny |" in table and "layer 2" in table


def test_plots_are_written_and_deterministic(tmp_path):
    pytest.importorskip("matplotlib")
    from tracegrad.nn import plot

    X, y = data.xor()
    net = MLP.stack([2, 4, 1], "tanh", "identity", init="xavier", seed=0)
    h = fit(net, (X, y), "bce_logits", "adam", epochs=5, lr=0.05, test=(X, y), progress=False)
    plot.loss_curves({"xor": h}, tmp_path / "a.svg")
    plot.loss_curves({"xor": h}, tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    plot.decision_boundary(net, X, y, tmp_path / "c.png", resolution=10)
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    plot.gradient_norms({"xor": {1: 0.1, 2: 0.01}}, tmp_path / "d.svg")
    with pytest.raises(InputError, match="png or .svg"):
        plot.gradient_norms({"xor": {1: 0.1}}, tmp_path / "e.pdf")


def test_callback_sees_each_iteration_before_its_update():
    X, y = [[1.0], [2.0], [3.0], [4.0], [5.0]], [1.0, 2.0, 3.0, 4.0, 5.0]
    model = line(0.0, 0.0)
    seen = []

    def watch(iteration, batch):
        seen.append((iteration, sorted(batch), model.parameters()[0].data))

    fit(model, (X, y), "mse", SGD(model.parameters(), lr=0.01), epochs=2, batch_size=2, progress=False,
        callback=watch)
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5, 6]
    assert sorted(i for s in seen[:3] for i in s[1]) == [0, 1, 2, 3, 4]
    assert seen[0][2] == 0.0 and seen[1][2] != 0.0  # the weights the iteration starts from


# --- compiled replay in the loop ------------------------------------------------------------------

COMPILED_RUNS = [  # (data, sizes, activation, output, loss, optimizer, batch size, penalties, clipping)
    ("xor", [2, 4, 1], "tanh", "sigmoid", "bce", "sgd", None, {}, {}),
    ("xor", [2, 4, 1], "tanh", "sigmoid", "bce", "adam", 3, {"l2": 1e-3}, {}),
    ("moons", [2, 6, 5, 1], "relu", "identity", "bce_logits", "adam", 16, {"l1": 1e-3, "l2": 1e-3}, {}),
    ("moons", [2, 6, 1], "relu", "identity", "hinge", "sgd", 7, {"l2": 1e-2}, {"clip_norm": 0.5}),
    ("moons", [2, 5, 3], "leaky_relu", "softmax", "cce_logits", "adam", 16, {}, {"clip_value": 0.1}),
]


def _run_data(name, loss):
    X, y = data.xor() if name == "xor" else data.moons(50, seed=2)
    if loss == "hinge":
        y = [2.0 * v - 1.0 for v in y]
    if loss == "cce_logits":
        y = [[float(v == k) for k in range(3)] for v in y]
    return X, y


@pytest.mark.parametrize("name,sizes,act,out,loss,opt,batch,penalties,clipping", COMPILED_RUNS,
                         ids=[f"{r[0]}-{r[4]}-{r[5]}-{r[6]}" for r in COMPILED_RUNS])
def test_compiled_steps_give_the_engines_losses_and_parameters(name, sizes, act, out, loss, opt, batch,
                                                               penalties, clipping):
    X, y = _run_data(name, loss)
    runs = []
    for compiled in (False, True):
        net = MLP.stack(sizes, act, out, seed=4)
        calls = []
        batch_of = net.batch
        net.batch = lambda xs: (calls.append(len(xs)) if net.training else None) or batch_of(xs)
        h = fit(net, (X, y), loss, opt, epochs=4, batch_size=batch, lr=0.05, test=(X[:5], y[:5]),
                progress=False, compiled=compiled, **penalties, **clipping)
        runs.append((h, [p.data for p in net.parameters()], calls))
    (plain, plain_params, plain_calls), (fast, fast_params, fast_calls) = runs
    assert len(fast.iteration_loss) == len(plain.iteration_loss) == 4 * fast.iterations_per_epoch
    for a, b in zip(plain.iteration_loss + plain.epoch_loss + plain.test_loss + plain_params,
                    fast.iteration_loss + fast.epoch_loss + fast.test_loss + fast_params):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300), (a, b)
    # in training mode the engine built one graph per iteration, the compiled loop one per batch
    # size: the full batches and the smaller last one (xor: 4 = 3 + 1; moons: 50 = 3·16 + 2, 7·7 + 1)
    assert len(plain_calls) == 4 * plain.iterations_per_epoch
    size = batch or len(X)
    assert sorted(fast_calls) == sorted({size, len(X) % size} - {0})


def test_compiled_training_moves_the_weights_like_a_step_by_hand():
    X, y = [[1.0], [2.0], [3.0]], [1.0, 3.0, 2.0]
    model = MLP.from_layers([Dense([0.5], 0.0, "identity")])
    fit(model, (X, y), "mse", SGD(model.parameters(), lr=0.1), epochs=2, progress=False, compiled=True)
    w, b = 0.5, 0.0
    for _ in range(2):  # batch gradient descent on L = (1/3) Σ (w x + b − y)², by hand
        r = [w * x[0] + b - t for x, t in zip(X, y)]
        w, b = w - 0.1 * sum(2 * ri * x[0] for ri, x in zip(r, X)) / 3, b - 0.1 * sum(2 * ri for ri in r) / 3
    assert [p.data for p in model.parameters()] == pytest.approx([w, b], rel=1e-12)


def test_compiled_training_refuses_graphs_that_change():
    from tracegrad.nn.loop import fixed_graph

    X, y = data.xor()
    assert fixed_graph(MLP.stack([2, 3, 1], "tanh", "sigmoid"), "bce") is None
    assert fixed_graph(MLP.stack([2, 3, 1], "tanh", "sigmoid", dropout=0.0), "bce") is None
    for net, loss, reason in [(MLP.stack([2, 3, 1], "tanh", "sigmoid", dropout=0.3), "bce", "dropout"),
                              (MLP.stack([2, 3, 1], "tanh", "sigmoid", batchnorm=True), "bce", "BatchNorm"),
                              (MLP.stack([2, 3, 2], "tanh", "softmax"), "cce", "cce")]:
        assert reason in fixed_graph(net, loss)
        with pytest.raises(InputError, match=reason):
            fit(net, (X, [[1.0, 0.0]] * 4 if loss == "cce" else y), loss, "sgd", progress=False, compiled=True)
