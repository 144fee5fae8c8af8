"""Compiled replay: straight-line Python and numpy code from a trace.

Every result is checked against something computed another way: arithmetic by
hand, the op table's own forward/partials, the engine on fresh ``Value`` s, a
network rebuilt through tracegrad.nn, or central differences.
"""

import math
import random
import subprocess
import sys

import numpy as np
import pytest

import tracegrad as tg
from tracegrad import DomainError, InputError, Value
from tracegrad.compile.runtime import compile_trace
from tracegrad.core.ops import OPS
from tracegrad.core.value import apply
from tests.conftest import ROOT, central_difference

REL = 1e-12


def close(a, b, rel=REL):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def all_close(xs, ys, rel=REL):
    xs, ys = list(xs), list(ys)
    return len(xs) == len(ys) and all(close(float(a), float(b), rel) for a, b in zip(xs, ys))


def vector_close(xs, ys, rel=REL):
    """Equal to ``rel`` relative to the vector's largest entry: numpy's exp, log and tanh may
    differ from the math module's in the last bit, and a gradient that is a sum of large
    terms cancelling to a small one carries that bit as its absolute error."""
    xs, ys = [float(x) for x in xs], [float(y) for y in ys]
    scale = max(map(abs, xs + ys), default=0.0)
    return len(xs) == len(ys) and all(math.isclose(a, b, rel_tol=rel, abs_tol=rel * scale) for a, b in zip(xs, ys))


def engine(build, values):
    """Output and leaf gradients from the engine on fresh Values (no trace, no compiled code)."""
    leaves = [Value(v) for v in values]
    out = build(leaves)
    out.backward()
    return out.data, [v.grad for v in leaves]


# --- by hand ------------------------------------------------------------------------------


def test_hand_worked_neuron():
    w, x, b = Value(2.0, label="w"), Value(3.0, label="x"), Value(-1.0, label="b")
    z = w * x + b
    z.label = "z"
    loss = z.relu() ** 2
    compiled = compile_trace(tg.trace(loss), inputs=["w", "x", "b"])
    # z = 2·3 − 1 = 5, L = 25; dL/dw = 2z·x = 30, dL/dx = 2z·w = 20, dL/db = 2z = 10
    assert compiled.forward_backward([2.0, 3.0, -1.0]) == ((25.0,), (30.0, 20.0, 10.0))
    # w = 0.5: z = 0.5, L = 0.25; dL/dw = 2·0.5·3 = 3, dL/dx = 2·0.5·0.5 = 0.5, dL/db = 1
    assert compiled.forward_backward([0.5, 3.0, -1.0]) == ((0.25,), (3.0, 0.5, 1.0))
    # w = −1: z = −4, the ReLU is off, everything is 0
    assert compiled.forward_backward([-1.0, 3.0, -1.0]) == ((0.0,), (0.0, 0.0, 0.0))
    outputs, grads = compiled.batched([np.array([2.0, 0.5, -1.0]), 3.0, -1.0])
    assert outputs.tolist() == [[25.0, 0.25, 0.0]]
    assert grads.tolist() == [[30.0, 3.0, 0.0], [20.0, 0.5, 0.0], [10.0, 1.0, 0.0]]


def test_listing_reads_like_the_computation():
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    z = w * x
    z.label = "z1[0]"
    a = z.tanh()
    compiled = compile_trace(tg.trace(a), inputs=[w, x])
    lines = compiled.source.splitlines()
    assert "    v2 = v0 * v1  # z1[0]" in lines
    assert "    v3 = math.tanh(v2)" in lines
    assert "    g2 = g3 * (1 - v3 * v3)" in lines
    assert "    g0 = g2 * v1" in lines and "    g1 = g2 * v0" in lines
    assert "np.tanh(v2)" in compiled.numpy_source
    again = compile_trace(tg.trace(a), inputs=[w, x])
    assert again.source == compiled.source  # deterministic


def test_hostile_labels_stay_inside_comments():
    x = Value(1.5, label="x\nraise SystemExit('injected')")
    y = x * x
    y.label = "y\r\n__import__('os').system('false')  # \u2028"
    compiled = compile_trace(tg.trace(y), inputs=[x])
    assert compiled.forward_backward([3.0]) == ((9.0,), (6.0,))  # by hand: 3², 2·3
    assert "raise SystemExit" not in "".join(line.split("#")[0] for line in compiled.source.splitlines())
    assert "x\\nraise SystemExit" in compiled.source
    assert "\u2028" not in compiled.source
    with pytest.raises(InputError) as info:
        compiled.forward_backward(["3"])
    assert "x\\nraise" in str(info.value) and "\n" not in str(info.value)  # one line, label escaped


# --- every op of the table --------------------------------------------------------------------

CASES = [(name, k, xs, p) for name, spec in OPS.items() for k, (xs, p) in enumerate(spec.examples)]
CASES += [("sum", "wide", tuple(0.1 * k - 7.0 for k in range(150)), ()),
          ("dot", "wide", tuple(math.sin(k) for k in range(300)), ()),
          ("softmax_ce", "ten", tuple(0.3 * k - 1.0 for k in range(10)) + (0.0,) * 9 + (1.0,), ())]


def nearby(xs, rng):
    """The point moved by up to ±10 % per coordinate (staying on the same side of 0)."""
    return tuple(x * (1 + rng.uniform(-0.1, 0.1)) for x in xs)


@pytest.mark.parametrize("name,k,xs,p", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_op_compiles_to_its_own_forward_and_partials(name, k, xs, p):
    spec = OPS[name]
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = apply(spec, leaves, p)
    loss = out * 1.5  # an upstream gradient other than 1
    compiled = compile_trace(tg.trace(loss), inputs=leaves, outputs=[loss, out])
    rng = random.Random(hash(name) % 1000)
    points = [tuple(xs)] + [nearby(xs, rng) for _ in range(4)]
    for point in points:
        (value, forward), grads = compiled.forward_backward(point)
        o = spec.forward(point, p)
        assert close(forward, o) and close(value, o * 1.5), (name, point)
        assert all_close(grads, [1.5 * d for d in spec.partials(point, o, p)]), (name, point)
    outputs, grads = compiled.batched([np.array(column) for column in zip(*points)])
    for s, point in enumerate(points):
        o = spec.forward(point, p)
        assert close(outputs[1][s], o), (name, point)
        assert vector_close(grads[:, s], [1.5 * d for d in spec.partials(point, o, p)]), (name, point)


def test_branches_take_the_engines_side_at_the_edges():
    # relu and step at exactly 0, max/min on ties, abs at 0: the table's convention, not a guess
    x, y = Value(0.0, label="x"), Value(0.0, label="y")
    loss = x.relu() + 2 * x.max(y) + 3 * x.min(y) + 5 * x.abs() + 7 * apply("leaky_relu", [x], (0.25,))
    compiled = compile_trace(tg.trace(loss), inputs=[x, y])
    for point in [(0.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (1.0, 1.0), (2.0, -3.0)]:
        value, grads = engine(lambda v: v[0].relu() + 2 * v[0].max(v[1]) + 3 * v[0].min(v[1]) + 5 * v[0].abs()
                              + 7 * apply("leaky_relu", [v[0]], (0.25,)), point)
        assert compiled.forward_backward(point) == ((value,), tuple(grads)), point
        outputs, batch_grads = compiled.batched([point[0], point[1]])
        assert outputs[0][0] == value and batch_grads[:, 0].tolist() == grads, point


def test_every_op_compiles_without_sympy():
    code = ("import sys, tracegrad as tg\nfrom tracegrad.compile import compile_trace\n"
            "from tracegrad.core.ops import OPS\nfrom tracegrad.core.value import apply\n"
            "for spec in OPS.values():\n"
            "    xs, p = spec.examples[0]\n"
            "    leaves = [tg.Value(x) for x in xs]\n"
            "    compile_trace(tg.trace(apply(spec, leaves, p)), inputs=leaves).batched(xs)\n"
            "assert 'sympy' not in sys.modules, 'compiling imported sympy'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_an_op_the_stand_ins_cannot_follow_is_refused_at_compile_time(monkeypatch):
    from tracegrad.core.ops import OpSpec

    spec = OpSpec("twice_rounded", 1, lambda x, p: float(round(x[0])) * 2, lambda x, o, p: (0,),
                  lambda sp, x, p: 2 * x[0], None, (((1.2,), ()),))
    monkeypatch.setitem(OPS, spec.name, spec)
    x = Value(1.2)
    with pytest.raises(NotImplementedError, match="op 'twice_rounded' cannot be compiled"):
        compile_trace(tg.trace(apply(spec, [x]) * 3), inputs=[x])


def test_recorded_constants_keep_their_sign_and_special_values():
    x = Value(2.0, label="x")
    y = (x * -0.0 + -3.0) ** 2 + x * (x.max(-math.inf) / x)
    compiled = compile_trace(tg.trace(y), inputs=[x])
    assert "(-INF)" in compiled.source
    # x = 5: (5·(−0) − 3)² = 9 (a bare "-3.0 ** 2" would give −9); max(5, −∞)/5 = 1, so the
    # last term is 5; d/dx: 2·(−3)·(−0) = 0, plus 1 + x·d(max(x, −∞)/x)/dx = 1 + 0
    assert compiled.forward_backward([5.0]) == ((14.0,), (1.0,))


# --- random graphs ----------------------------------------------------------------------------

UNARY = ["neg", "exp", "tanh", "sigmoid", "relu", "abs", "sqrt", "log", "step", "sign"]
BINARY = ["add", "sub", "mul", "div", "max", "min", "vpow", "half_sq_err", "sq_err"]


def random_graph(rng, leaves):
    """A random DAG over ``leaves``, kept inside every op's domain (log/sqrt of sigmoids,
    division by 1 + something positive, positive bases); every node, leaves too, summed into one output."""
    nodes = list(leaves)
    for _ in range(30):
        pick = rng.choice(UNARY + BINARY + ["pow", "leaky_relu", "sum", "dot", "bce_logits", "softmax_ce"])
        a, b = rng.choice(nodes), rng.choice(nodes)
        if pick in ("sqrt", "log"):
            v = apply(pick, [a.tanh().sigmoid()])
        elif pick == "exp":
            v = a.tanh().exp()
        elif pick == "div":
            v = a / (1 + b.abs())
        elif pick == "vpow":
            v = a.sigmoid() ** b.tanh()
        elif pick == "pow":
            v = a.tanh() ** rng.choice([2, 3, -1.0]) if rng.random() < 0.5 else (a.sigmoid() + 0.5) ** 0.5
        elif pick == "leaky_relu":
            v = a.leaky_relu(rng.choice([0.01, 0.2]))
        elif pick in ("sum", "dot"):
            v = apply(pick, rng.sample(nodes, 4 if pick == "dot" else 3))
        elif pick in ("bce_logits", "softmax_ce"):
            v = apply(pick, [a.tanh(), b.sigmoid()] if pick == "bce_logits" else [a.tanh(), b.tanh(), 0.3, 0.7])
        else:
            v = apply(pick, [a] if pick in UNARY else [a, b])
        nodes.append(v.tanh() if pick in ("exp", "sq_err", "half_sq_err", "div") else v)
    return tg.sum(nodes)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_match_the_engine(seed):
    rng = random.Random(seed)
    start = [rng.uniform(-2, 2) for _ in range(4)]
    leaves = [Value(v, label=f"l{i}") for i, v in enumerate(start)]
    out = random_graph(random.Random(seed), leaves)
    compiled = compile_trace(tg.trace(out), inputs=leaves)
    points = [start] + [[rng.uniform(-2, 2) for _ in range(4)] for _ in range(5)]
    for point in points:
        value, grads = engine(lambda v: random_graph(random.Random(seed), v), point)
        (got,), got_grads = compiled.forward_backward(point)
        assert close(got, value) and all_close(got_grads, grads), (seed, point)
    outputs, batch_grads = compiled.batched([np.array(c) for c in zip(*points)])
    for s, point in enumerate(points):
        (value,), grads = compiled.forward_backward(point)
        assert close(outputs[0][s], value) and vector_close(batch_grads[:, s], grads), (seed, point)


def test_gradients_agree_with_central_differences():
    rng = random.Random(7)
    leaves = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    compiled = compile_trace(tg.trace(random_graph(random.Random(7), leaves)), inputs=leaves)
    point = [0.3, -0.7, 1.1, 0.2]
    _, grads = compiled.forward_backward(point)
    for i in range(4):
        numeric = central_difference(lambda v: compiled.forward_backward(v)[0][0], point, i)
        assert math.isclose(grads[i], numeric, rel_tol=1e-6, abs_tol=1e-8), i


# --- networks -----------------------------------------------------------------------------------


def test_nn_mlp_training_step_matches_the_network_rebuilt_by_nn():
    from tracegrad.nn import LOSSES, MLP
    from tracegrad.nn.data import moons

    X, labels = moons(12, seed=3)
    Y = [2.0 * v - 1.0 for v in labels]
    model = MLP(2, [5, 4, 1], seed=11)
    params = model.parameters()

    def loss_of(model):
        return LOSSES["hinge"](model.batch(X), Y) + 1e-3 * tg.dot(model.parameters(), model.parameters())

    with tg.record() as rec:
        loss = loss_of(model)
        loss.backward()
    compiled = compile_trace(rec.trace, inputs=params, outputs=[loss])
    rng = random.Random(5)
    for _ in range(3):
        values = [rng.uniform(-1, 1) for _ in params]
        fresh = MLP(2, [5, 4, 1], seed=11)
        for p, v in zip(fresh.parameters(), values):
            p.data = v
        want = loss_of(fresh)
        want.backward()
        (got,), grads = compiled.forward_backward(values)
        assert close(got, want.data) and all_close(grads, [p.grad for p in fresh.parameters()])


NETWORKS = [  # (activation, output, loss, targets, network options)
    ("sigmoid", "sigmoid", "bce", "binary", {}),
    ("tanh", "identity", "mse", "real", {"residual": True}),
    ("leaky_relu", "identity", "bce_logits", "binary", {"batchnorm": True}),
    ("relu", "softmax", "cce", "classes", {}),
    ("tanh", "identity", "cce_logits", "classes", {"dropout": 0.3}),
    ("sigmoid", "identity", "mae", "real", {"layout": "out_in"}),
]


@pytest.mark.parametrize("activation,output,loss_name,kind,options", NETWORKS,
                         ids=[f"{n[0]}-{n[2]}" for n in NETWORKS])
def test_nn_networks_compile_to_the_engines_numbers(activation, output, loss_name, kind, options):
    from tracegrad.nn import LOSSES, MLP

    rng = random.Random(activation + loss_name)
    X = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(5)]
    n_out = 3 if kind == "classes" else 1
    Y = [[float(k == s % 3) for k in range(3)] if kind == "classes" else [float(s % 2)] if kind == "binary"
         else [rng.uniform(-1, 1)] for s in range(5)]

    def build():
        return MLP.stack([3, 4, 4, n_out], activation, output, seed=2, **options)

    model = build()
    with tg.record() as rec:
        loss = LOSSES[loss_name](model.batch(X), Y)
        loss.backward()
    params = model.parameters()
    compiled = compile_trace(rec.trace, inputs=params, outputs=[loss])
    for _ in range(2):
        values = [p * (1 + rng.uniform(-0.2, 0.2)) for p in (q.data for q in params)]
        fresh = build()  # same structure, same dropout masks (same seed)
        for p, v in zip(fresh.parameters(), values):
            p.data = v
        want = LOSSES[loss_name](fresh.batch(X), Y)
        want.backward()
        (got,), grads = compiled.forward_backward(values)
        assert close(got, want.data) and all_close(grads, [p.grad for p in fresh.parameters()])


def test_worked_problem_quantities_replay_compiled():
    from tracegrad.problem.schema import load_problem
    from tracegrad.problem.solve import solve

    worked = solve(load_problem(ROOT / "examples" / "seed.toml"))
    t = worked.trace
    printed = worked.printed_indices()
    leaves = [rec.index for rec in t.nodes if rec.is_leaf and not rec.is_const]
    compiled = compile_trace(t, inputs=leaves, outputs=printed, wrt=())
    outputs, grads = compiled.forward_backward([t.nodes[i].data for i in leaves])
    assert grads == () and all_close(outputs, [t.nodes[i].data for i in printed])
    new = {i: t.nodes[i].data * 1.1 for i in leaves}
    replayed = t.replay(values=new)
    outputs, _ = compiled.forward_backward(list(new.values()))
    assert all_close(outputs, [replayed.nodes[i].data for i in printed])
    # the document's worked example by hand: z1 = x·W1 + b1 = [1·0.5 + 2·0.7 + 0.1, 1·0.6 + 2·0.8 + 0.2]
    z1 = [t.nodes[i].data for i in worked["z1"].indices()]
    assert all_close(z1, [2.0, 2.4])


# --- errors --------------------------------------------------------------------------------------


def test_domain_errors_come_from_the_engine_naming_the_node():
    x = Value(2.0, label="x")
    y = x.log()
    y.label = "log_x"
    compiled = compile_trace(tg.trace(y * 2), inputs=[x])
    with pytest.raises(DomainError, match=r"log\(x = -1.0\)"):
        compiled.forward_backward([-1.0])
    with pytest.raises(DomainError, match="batch sample 1"):
        compiled.batched([np.array([1.0, -1.0, 2.0])])
    e = Value(1.0, label="e")
    big = compile_trace(tg.trace(e.exp() * 3), inputs=[e])
    with pytest.raises(DomainError, match="overflow"):
        big.forward_backward([1000.0])
    m = Value(1.0, label="m")
    product = compile_trace(tg.trace(m * m * 2), inputs=[m])
    with pytest.raises(DomainError, match="overflow"):
        product.forward_backward([1e200])  # no exception in the compiled code: inf, then the engine's check


def test_bad_inputs_are_clear_errors():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    t = tg.trace(c)
    with pytest.raises(InputError, match="not a leaf"):
        compile_trace(t, inputs=[c])
    with pytest.raises(InputError, match="listed twice"):
        compile_trace(t, inputs=["a", "a"])
    with pytest.raises(InputError, match="no node labelled 'q'"):
        compile_trace(t, inputs=["q"])
    compiled = compile_trace(t, inputs=["a", "b"])
    with pytest.raises(InputError, match="expected 2 input values"):
        compiled.forward_backward([1.0])
    with pytest.raises(InputError, match="input b must be a real number"):
        compiled.forward_backward([1.0, "2"])
    assert compiled.forward_backward([3, 4]) == ((12.0,), (4.0, 3.0))  # ints are numbers
    with pytest.raises(InputError, match="1-D array"):
        compiled.batched([np.ones((2, 2)), 1.0])
    with pytest.raises(InputError, match="different lengths"):
        compiled.batched([np.ones(2), np.ones(3)])
    with pytest.raises(InputError, match="1-D array"):
        compiled.batched([np.array(["x"]), 1.0])


def test_outputs_and_intermediate_gradients():
    a, b = Value(1.5, label="a"), Value(-2.0, label="b")
    z = a * b
    z.label = "z"
    loss = z.sigmoid()
    t = tg.trace(loss)
    compiled = compile_trace(t, inputs=["a", "b"], outputs=[loss, "z"], wrt=["z", "a"])
    (value, z_value), (dz, da) = compiled.forward_backward([1.5, -2.0])
    s = 1 / (1 + math.exp(3.0))  # σ(−3) by hand; σ' = s(1 − s)
    assert close(value, s) and z_value == -3.0
    assert close(dz, s * (1 - s)) and close(da, s * (1 - s) * -2.0)


# --- n-ary ops as whole-array operations (numpy) ----------------------------------------------


def test_lane_forms_are_read_from_the_op_table():
    from tracegrad.compile.codegen import lanes_of
    from tracegrad.compile.tracing import template

    def lanes(op, arity):
        return lanes_of(template(OPS[op], arity, ()))

    dot = lanes("dot", 8)  # (a1 … a4, b1 … b4): 4 lanes of 2 slots
    assert (dot.count, dot.slots, dot.forward, dot.backward) == (4, 2, "{S0} * {S1}", ["{g} * {S1}", "{g} * {S0}"])
    total = lanes("sum", 5)
    assert (total.count, total.slots, total.forward) == (5, 1, "{S0}")
    assert lanes("softmax_ce", 8) is None  # not a sum of per-lane terms
    assert lanes("dot", 2) is None  # one lane


def test_wide_n_ary_nodes_batch_as_whole_arrays_and_match_the_engine():
    # a layer feeding units of the next (a shared stack), numbers among batch arrays, a node used
    # twice in one dot, a recorded constant, wrt out of order and with a leaf listed twice
    rng = random.Random(3)
    n_in, width = 6, 5

    def build(v):
        x, w, c = v[:n_in], v[n_in:n_in + n_in * width], v[-1]
        h = [tg.dot(w[k * n_in:(k + 1) * n_in], x).tanh() for k in range(width)]
        s = tg.sum(h + [c, 0.25, h[0]])
        return s * tg.dot(h + [x[0], x[0]], [c, 1.5, x[1], h[2], x[3], x[0], 2.0]) + tg.dot(w, w)

    start = [rng.uniform(-1, 1) for _ in range(n_in + n_in * width + 1)]
    leaves = [Value(v, label=f"l{i}") for i, v in enumerate(start)]
    out = build(leaves)
    t = tg.trace(out)
    wrt = leaves[::-1][:20] + [leaves[0], leaves[3], leaves[-1]]
    compiled = compile_trace(t, inputs=leaves, wrt=wrt)
    assert "np.cumsum(" in compiled.numpy_source and "_stack([" in compiled.numpy_source
    batch = 4
    points = [start] + [[v * (1 + rng.uniform(-0.2, 0.2)) for v in start] for _ in range(batch - 1)]
    columns = [np.array(c) for c in zip(*points)]
    columns[2] = float(points[0][2])  # one input shared by the whole batch (a number)
    for s in range(batch):
        points[s][2] = points[0][2]
    outputs, grads = compiled.batched(columns)
    assert outputs.shape == (1, batch) and grads.shape == (len(wrt), batch)
    for s, point in enumerate(points):
        value, leaf_grads = engine(build, point)
        index = {id(v): k for k, v in enumerate(leaves)}
        assert close(outputs[0][s], value, 1e-12)
        assert vector_close(grads[:, s], [leaf_grads[index[id(v)]] for v in wrt]), s


def test_all_number_batch_through_wide_nodes():
    xs = [Value(0.1 * k - 0.7, label=f"x{k}") for k in range(12)]
    loss = tg.dot(xs, xs) + tg.sum(xs)
    compiled = compile_trace(tg.trace(loss), inputs=xs)
    values = [0.05 * k for k in range(12)]
    outputs, grads = compiled.batched(values)  # every input a number: a batch of one
    # by hand: Σx² + Σx; d/dx_k = 2x_k + 1
    assert close(outputs[0][0], sum(v * v for v in values) + sum(values))
    assert all_close(grads[:, 0], [2 * v + 1 for v in values])
