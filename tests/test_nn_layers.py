"""Layers and networks: the document's worked example by hand, layouts, roles, shapes, micrograd parity."""

import math
import random

import pytest

import tracegrad as tg
from tracegrad.core.errors import InputError
from tracegrad.nn import MLP, Activation, Dense, Layer, Neuron
from tracegrad.nn.losses import LOSSES


def sig(z):
    return 1 / (1 + math.exp(-z))


def worked_example(layout="in_out"):
    w1 = [[0.5, 0.6], [0.7, 0.8]]
    if layout == "out_in":
        w1 = [list(r) for r in zip(*w1)]
    l1 = Dense(w1, [0.1, 0.2], "sigmoid", layout=layout, layer=1)
    l2 = Dense([0.9, 0.1], 0.3, "sigmoid", layout=layout, layer=2)
    return MLP.from_layers([l1, l2]), l1, l2


def test_worked_example_forward_and_gradients_by_hand():
    net, l1, l2 = worked_example()
    y_hat = net([1.0, 2.0])
    loss = LOSSES["half_se"](y_hat, 0.5)
    loss.backward()
    # forward, by hand: z1 = x·W1 + b1
    z1 = [1 * 0.5 + 2 * 0.7 + 0.1, 1 * 0.6 + 2 * 0.8 + 0.2]
    assert z1 == pytest.approx([2.0, 2.4])
    a1 = [sig(v) for v in z1]
    z2 = a1[0] * 0.9 + a1[1] * 0.1 + 0.3
    yh = sig(z2)
    assert y_hat.data == pytest.approx(yh, rel=1e-12)
    assert loss.data == pytest.approx(0.5 * (yh - 0.5) ** 2, rel=1e-12)
    # backward, by the document's delta rules
    d2 = (yh - 0.5) * yh * (1 - yh)
    d1 = [d2 * w * a * (1 - a) for w, a in zip([0.9, 0.1], a1)]
    assert [p.grad for p in l2.weight_matrix[0] + l2.weight_matrix[1]] == pytest.approx([d2 * a1[0], d2 * a1[1]])
    assert l2.bias_values[0].grad == pytest.approx(d2)
    x = [1.0, 2.0]
    for i in range(2):
        for j in range(2):
            assert l1.weight_matrix[i][j].grad == pytest.approx(d1[j] * x[i], rel=1e-12)
    assert [b.grad for b in l1.bias_values] == pytest.approx(d1, rel=1e-12)
    # the document prints ŷ ≈ 0.7692; correct arithmetic gives 0.7657 (never tuned to the print)
    assert round(yh, 4) == 0.7657


def test_unit_is_one_dot_then_one_add_with_roles():
    net, l1, l2 = worked_example()
    out = l1([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2
    a = out[1]
    assert a.op == "sigmoid" and a.label == "a1[1]" and a.role == tg.Role("a", 1, (1,))
    z = a.inputs[0]
    assert z.op == "add" and z.label == "z1[1]" and z.role == tg.Role("z", 1, (1,))
    d, b = z.inputs
    assert d.op == "dot" and b is l1.bias_values[1]
    x0, x1, w0, w1 = d.inputs
    assert (x0.label, x1.label) == ("x[0]", "x[1]")
    assert (w0.label, w1.label) == ("W1[0][1]", "W1[1][1]")
    assert (w0.data, w1.data) == (0.6, 0.8)


def test_parameter_labels_follow_the_given_layout():
    _, l1, l2 = worked_example("out_in")
    # out_in: W[j][i]; the value 0.7 (input 1 -> unit 0) sits at row 0, column 1
    assert l1.weight_matrix[0][1].label == "W1[0][1]" and l1.weight_matrix[0][1].data == 0.7
    assert [b.label for b in l1.bias_values] == ["b1[0]", "b1[1]"]
    assert [w.label for row in l2.weight_matrix for w in row] == ["W2[0]", "W2[1]"]
    assert l2.bias_values[0].label == "b2" and l2.shared_bias
    assert (l1.n_in, l1.n_out, l1.layout, l1.activation, l1.layer) == (2, 2, "out_in", "sigmoid", 1)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity"])
def test_both_layouts_give_the_same_outputs_for_transposed_weights(activation):
    w = [[0.5, -0.6, 0.2], [0.7, 0.8, -1.1]]  # in_out: 2 inputs x 3 units
    b = [0.1, -0.2, 0.05]
    a = Dense(w, b, activation, layout="in_out", alpha=0.1)([1.5, -2.0])
    c = Dense([list(r) for r in zip(*w)], b, activation, layout="out_in", alpha=0.1)([1.5, -2.0])
    assert [v.data for v in a] == [v.data for v in c]
    # and by hand, the pre-activations
    z = [1.5 * w[0][j] - 2.0 * w[1][j] + b[j] for j in range(3)]
    if activation == "identity":
        assert [v.data for v in a] == pytest.approx(z)


def test_shared_bias_is_one_value_used_by_every_unit():
    layer = Dense([[1.0, 2.0], [3.0, 4.0]], 0.5, "identity")
    out = layer([1.0, 1.0])
    assert out[0].inputs[1] is out[1].inputs[1] is layer.bias_values[0]
    assert len(layer.parameters()) == 5
    sum(out[1:], out[0]).backward()
    assert layer.bias_values[0].grad == 2.0  # one from each unit


def test_identity_keeps_the_z_node_and_role():
    out = Dense([2.0, 3.0], 1.0, "linear", layer=3)([1.0, 1.0])
    assert out[0].op == "add" and out[0].label == "z3[0]"
    assert out[0].data == 6.0


def test_softmax_over_the_layer_tags_outputs():
    out = Dense([[1.0, 0.0, -1.0]], [0.0, 0.0, 0.0], "softmax")([2.0])
    e = [math.exp(2.0), 1.0, math.exp(-2.0)]
    assert [v.data for v in out] == pytest.approx([x / sum(e) for x in e])
    assert [v.label for v in out] == ["a1[0]", "a1[1]", "a1[2]"]


def test_samples_are_recorded_in_roles():
    layer = Dense([[0.5], [0.5]], [0.0], "relu", layer=2)
    out = layer([1.0, 2.0], sample=3)
    assert out[0].label == "a2[0]@3" and out[0].inputs[0].label == "z2[0]@3"
    assert out[0].inputs[0].inputs[0].inputs[0].label == "x[0]@3"


def test_shape_errors_name_layer_expectation_and_what_was_given():
    first = Dense([[0.5, 0.6], [0.7, 0.8]], [0.1, 0.2], layer=1)
    with pytest.raises(InputError) as err:
        MLP.from_layers([first, Dense([[0.9, 0.1]], 0.3, layer=2)])
    assert err.value.key == "layers[1].weights"
    assert "layer 2: expected 2 rows (inputs) × 1 column (units) for layout in_out, got 1 × 2" in str(err.value)
    assert "looks transposed" in str(err.value)
    with pytest.raises(InputError) as err:
        MLP.from_layers([first, Dense([0.9, 0.1, 0.2], 0.3, layer=2)])
    assert "got a flat list of 3 weights (one unit with 3 inputs)" in str(err.value)
    with pytest.raises(InputError) as err:
        MLP.from_layers([first, Dense([[0.9], [0.1], [0.4]], 0.3, layout="out_in", layer=2)])
    assert "expected 3 rows (units) × 2 columns (inputs) for layout out_in, got 3 × 1" in str(err.value)
    with pytest.raises(InputError) as err:
        Dense([[0.5, 0.6], [0.7, 0.8]], [0.1, 0.2, 0.3], layer=1)
    assert err.value.key == "layers[0].bias" and "expected 2 biases" in str(err.value) and "got 3" in str(err.value)
    with pytest.raises(InputError) as err:
        Dense([[0.5, 0.6], [0.7]], [0.1, 0.2], layer=4)
    assert err.value.key == "layers[3].weights" and "rectangular" in str(err.value)
    with pytest.raises(InputError) as err:
        Dense([[0.5, "x"]], [0.1, 0.2], layer=1)
    assert err.value.key == "layers[0].weights[0][1]"
    with pytest.raises(InputError, match="unknown activation 'swish'"):
        Dense([1.0], 0.0, "swish")
    with pytest.raises(InputError, match="unknown layout"):
        Dense([1.0], 0.0, layout="rows")
    with pytest.raises(InputError, match="takes 2 inputs, got 3"):
        first([1.0, 2.0, 3.0])


def test_mlp_is_micrograd_compatible():
    micrograd = pytest.importorskip("micrograd.nn")
    from micrograd.engine import Value as MValue

    state = random.getstate()
    try:
        random.seed(42)
        theirs = micrograd.MLP(3, [4, 4, 1])
    finally:
        random.setstate(state)
    ours = MLP(3, [4, 4, 1], seed=42)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)
    x = [0.5, -1.5, 2.0]
    out_ours, out_theirs = ours(x), theirs([MValue(v) for v in x])
    assert isinstance(out_ours, tg.Value)
    assert out_ours.data == pytest.approx(out_theirs.data, rel=1e-12)
    (out_ours * out_ours).backward()
    (out_theirs * out_theirs).backward()
    assert [p.grad for p in ours.parameters()] == pytest.approx([p.grad for p in theirs.parameters()], rel=1e-9)
    ours.zero_grad()
    assert all(p.grad == 0 for p in ours.parameters())


def test_micrograd_layer_and_neuron_behaviour():
    one = Layer(2, 1, seed=1)
    assert isinstance(one([1.0, 2.0]), tg.Value)
    two = Layer(2, 2, nonlin=False, seed=1)
    assert isinstance(two([1.0, 2.0]), list)
    n = Neuron(2, seed=3)
    z = n.w[0].data * 1.0 + n.w[1].data * -2.0
    assert n([1.0, -2.0]).data == max(0.0, z)
    assert len(n.parameters()) == 3 and repr(n) == "ReLUNeuron(2)"


def test_seeded_networks_are_reproducible_and_independent_of_global_random():
    random.seed(0)
    a = MLP(2, [3, 1], seed=7)
    random.seed(99)
    b = MLP(2, [3, 1], seed=7)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    c = MLP(2, [3, 1], seed=8)
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]


def test_residual_connections_add_the_input():
    l1 = Dense([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0], "relu", layer=1)
    l2 = Dense([[2.0, 0.0], [0.0, 2.0]], [1.0, 1.0], "identity", layer=2)
    l3 = Dense([1.0, 1.0], 0.0, "identity", layer=3)
    net = MLP.from_layers([l1, l2, l3], residual=True)
    # h1 = relu(x) + x, h2 = (2 h1 + 1) + h1, out = sum(h2)
    x = [1.0, -1.0]
    h1 = [max(0, v) + v for v in x]
    h2 = [2 * v + 1 + v for v in h1]
    assert net(x).data == sum(h2)
    assert net.layers[0].residual_block


def test_batch_forward_and_eval_of_a_stack():
    net = MLP.stack([2, 4, 4, 1], "tanh", init="xavier", seed=3)
    outs = net.batch([[0.1, 0.2], [0.3, -0.4]])
    assert len(outs) == 2 and all(len(o) == 1 for o in outs)
    single = net([0.3, -0.4])
    assert outs[1][0].data == single.data
    assert outs[1][0].label == "z3[0]@1"


def test_activation_module_tags_outputs():
    out = Activation("tanh", layer=2)([0.5, -0.5])
    assert [v.label for v in out] == ["a2[0]", "a2[1]"]
    assert out[0].data == pytest.approx(math.tanh(0.5))


def test_initialisation_schemes_have_their_spread():
    import statistics

    from tracegrad.nn import init

    rng = random.Random(0)
    he = [init.he(rng, 50, 10) for _ in range(20000)]
    assert statistics.pstdev(he) == pytest.approx(math.sqrt(2 / 50), rel=0.03)
    a = math.sqrt(6 / (50 + 10))
    xavier = [init.xavier(rng, 50, 10) for _ in range(20000)]
    assert max(map(abs, xavier)) <= a and statistics.pstdev(xavier) == pytest.approx(a / math.sqrt(3), rel=0.03)
    assert all(-1 <= init.uniform(rng, 3, 3) <= 1 for _ in range(100))
    with pytest.raises(InputError, match="unknown initialisation 'glorot'"):
        init.initializer("glorot")


def test_random_dense_layouts_are_transposes_for_the_same_seed():
    a = Dense.random(3, 2, "identity", init="he", seed=4, layout="in_out")
    b = Dense.random(3, 2, "identity", init="he", seed=4, layout="out_in")
    assert [[w.data for w in row] for row in a.weight_matrix] == [list(col) for col in
                                                                   zip(*[[w.data for w in r] for r in b.weight_matrix])]
    x = [0.3, -1.0, 2.0]
    assert [v.data for v in a(x)] == [v.data for v in b(x)]


def test_importing_nn_loads_no_sympy_jinja_or_matplotlib():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, tracegrad.nn; "
            "print(sorted(m for m in ('sympy', 'jinja2', 'matplotlib', 'tqdm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"
