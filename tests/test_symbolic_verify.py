"""verify(): SymPy's derivatives of the loss against the engine's gradients, and the op rules.

Independent checks: hand arithmetic of the document's example, the literal
``sympy.diff`` of the full loss expression, central differences; and an engine
with a deliberately broken rule must be caught and the op named.
"""

import dataclasses
import math
import random

import pytest
import sympy as sp

import tracegrad as tg
from tests.conftest import ROOT, central_difference
from tracegrad import InputError, Role, Value, tag
from tracegrad.nn import Dense
from tracegrad.nn.losses import LOSSES
from tracegrad.core.ops import OPS
from tracegrad.symbolic import check_rule, to_sympy, verify
from tracegrad.symbolic.convert import SymbolicGraph, as_trace
from tracegrad.core.value import apply
from tracegrad.render.verify_report import render_verification


def seed_by_hand():
    """The document's 2-2-1 sigmoid network, built from Values: W1[i][j] joins input i to unit j."""
    x = [tag(Value(v), Role("x", None, (i,))) for i, v in enumerate([1.0, 2.0])]
    w1 = [[tag(Value(v), Role("W", 1, (i, j))) for j, v in enumerate(row)]
          for i, row in enumerate([[0.5, 0.6], [0.7, 0.8]])]
    b1 = [tag(Value(v), Role("b", 1, (j,))) for j, v in enumerate([0.1, 0.2])]
    w2 = [tag(Value(v), Role("W", 2, (i, 0))) for i, v in enumerate([0.9, 0.1])]
    b2 = tag(Value(0.3), Role("b", 2, (0,)))
    y = tag(Value(0.5), Role("y", None, (0,)))
    z1 = [tag(x[0] * w1[0][j] + x[1] * w1[1][j] + b1[j], Role("z", 1, (j,))) for j in range(2)]
    a1 = [tag(z.sigmoid(), Role("a", 1, (j,))) for j, z in enumerate(z1)]
    z2 = tag(tg.dot(a1, w2) + b2, Role("z", 2, (0,)))
    y_hat = tag(z2.sigmoid(), Role("y_hat"))
    return tag(0.5 * (y_hat - y) ** 2, Role("loss"))


def sig(v):
    return 1 / (1 + math.exp(-v))


def test_seed_example_agrees_with_hand_arithmetic():
    report = verify(seed_by_hand())
    assert report.ok
    got = {i.name: i.symbolic for i in report.items}
    # by hand, as the document does it (with correct arithmetic)
    a1 = [sig(1 * 0.5 + 2 * 0.7 + 0.1), sig(1 * 0.6 + 2 * 0.8 + 0.2)]
    y_hat = sig(a1[0] * 0.9 + a1[1] * 0.1 + 0.3)
    delta2 = (y_hat - 0.5) * y_hat * (1 - y_hat)
    delta1 = [delta2 * 0.9 * a1[0] * (1 - a1[0]), delta2 * 0.1 * a1[1] * (1 - a1[1])]
    expected = {"b2[0]": delta2, "W2[0][0]": delta2 * a1[0], "W2[1][0]": delta2 * a1[1],
                "b1[0]": delta1[0], "b1[1]": delta1[1], "W1[0][0]": delta1[0] * 1, "W1[1][0]": delta1[0] * 2,
                "W1[0][1]": delta1[1] * 1, "W1[1][1]": delta1[1] * 2, "y[0]": -(y_hat - 0.5)}
    for name, value in expected.items():
        assert math.isclose(got[name], value, rel_tol=1e-12), name
    assert {r.op for r in report.rules} == {"mul", "add", "sigmoid", "dot", "sub", "pow"}


def test_seed_problem_file_confirms_every_printed_quantity():
    from tracegrad.problem.schema import load_problem
    from tracegrad.problem.solve import solve

    report = verify(solve(load_problem(ROOT / "examples" / "seed.toml")))
    assert report.ok
    names = [i.name for i in report.items]
    assert names[:3] == ["dL/dy_hat[0]", "da2/dz2[0]", "delta2[0]"]
    assert {"dL/dW1[1][0]", "dL/db1[1]", "dL/da1[0]", "da1/dz1[1]", "delta1[0]"} <= set(names)
    local = {i.name: i.symbolic for i in report.items if i.kind == "local"}
    a1 = sig(2.0)
    assert math.isclose(local["da1/dz1[0]"], a1 * (1 - a1), rel_tol=1e-12)  # σ'(2) by hand


def test_chain_rule_derivative_is_sympy_diff_of_the_loss_expression():
    loss = seed_by_hand()
    t, root = as_trace(loss)
    graph = SymbolicGraph(t, root)
    full = to_sympy(loss)
    adjoint = graph.adjoints()
    rng = random.Random(3)
    elsewhere = {s: sp.Float(rng.uniform(0.1, 2)) for i, s in graph.symbol.items() if t.nodes[i].is_leaf}
    for i, symbol in graph.symbol.items():
        if t.nodes[i].is_leaf:
            literal, chained = sp.diff(full, symbol), graph.expand(adjoint[i])
            assert math.isclose(literal.evalf(20, subs=elsewhere), chained.evalf(20, subs=elsewhere), rel_tol=1e-15)
            if symbol.name in ("W1[0][1]", "b2[0]"):
                assert sp.simplify(chained - literal) == 0, symbol
    chain, literal = verify(loss), verify(loss, expand=True)
    assert [i.symbolic for i in chain.items] == pytest.approx([i.symbolic for i in literal.items], rel=1e-14)
    assert r"\text{z1[0]}" in chain.items[0].formula and r"\text{z1[0]}" not in literal.items[0].formula


def test_a_broken_rule_is_caught_and_named(monkeypatch):
    spec = OPS["sigmoid"]
    monkeypatch.setitem(OPS, "sigmoid", dataclasses.replace(spec, partials=lambda x, o, p: (o * (1 + o),)))
    report = verify(seed_by_hand())
    assert not report.ok
    assert [r.op for r in report.rules if not r.agree] == ["sigmoid"]
    assert "sigmoid" in report.disagreements
    bad = {i.name for i in report.items if not i.agree}
    # everything behind a sigmoid is wrong; dL/dy does not pass through one
    assert "b2[0]" in bad and "W1[0][0]" in bad and "y[0]" not in bad
    assert "✗" in render_verification(report, "text") and "sigmoid" in render_verification(report, "text")


def test_a_broken_rule_in_a_loss_op_is_caught(monkeypatch):
    spec = OPS["half_sq_err"]
    monkeypatch.setitem(OPS, "half_sq_err", dataclasses.replace(spec, partials=lambda x, o, p: (x[0] - x[1],
                                                                                             x[0] - x[1])))
    a, y = Value(0.8, label="a"), Value(0.5, label="y")
    report = verify(apply("half_sq_err", (a, y)))
    assert report.disagreements == ["y", "half_sq_err"]


def test_a_wrong_gradient_in_a_trace_is_reported():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    t = tg.trace(c)
    a.grad = 0.0  # the trace keeps its own snapshot: 3.0
    assert verify(t).ok
    c2 = a * b
    c2.backward()
    c2.backward()  # accumulated twice: the recorded gradients are no longer dc/da
    assert verify(tg.trace(c2, backward=False)).ok  # a fresh backward pass is used when none was recorded
    t2 = tg.trace(c2)  # recorded grads now 3×
    report = verify(t2)
    assert not report.ok and set(report.disagreements) == {"a", "b"}


ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]
LOSS_SETUPS = {  # loss: (last activation, targets)
    "half_se": ("tanh", [0.3, -0.2]),
    "mse": ("identity", [0.3, -0.2]),
    "mae": ("leaky_relu", [0.3, -0.2]),
    "bce": ("sigmoid", [1.0, 0.0]),
    "bce_logits": ("identity", [1.0, 0.25]),
    "cce": ("softmax", [0.0, 1.0]),
    "cce_logits": ("identity", [0.0, 1.0]),
    "hinge": ("identity", [1.0, -1.0]),
}


def random_network_loss(hidden: str, loss_name: str, seed: int):
    rng = random.Random(seed)
    last, targets = LOSS_SETUPS[loss_name]
    x = [tag(Value(rng.uniform(-1, 1)), Role("x", None, (i,))) for i in range(3)]
    h1 = Dense([[rng.uniform(-1, 1) for _ in range(4)] for _ in range(3)], [rng.uniform(-0.5, 0.5) for _ in range(4)],
               hidden, layer=1, alpha=0.1)
    out = Dense([[rng.uniform(-1, 1) for _ in range(2)] for _ in range(4)], [rng.uniform(-0.5, 0.5) for _ in range(2)],
                last, layer=2, alpha=0.1)
    return LOSSES[loss_name](out(h1(x)), targets)


@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize("loss_name", sorted(LOSS_SETUPS))
def test_random_networks_with_every_activation_and_loss_agree(hidden, loss_name):
    loss = random_network_loss(hidden, loss_name, seed=ACTIVATIONS.index(hidden) * 10 + len(loss_name))
    report = verify(loss)
    assert report.ok, report.disagreements
    parameters = [i.name for i in report.items if i.name[0] in "Wb"]
    assert len(parameters) == 3 * 4 + 4 + 4 * 2 + 2  # W1, b1, W2, b2


def test_symbolic_values_match_central_differences():
    loss = random_network_loss("tanh", "bce", seed=7)
    t, root = as_trace(loss)
    leaves = [i for i, rec in enumerate(t.nodes) if rec.is_leaf and not rec.is_const and rec.label.startswith("W")]
    values = [t.nodes[i].data for i in leaves]

    def f(vs):
        return t.replay(values=dict(zip(leaves, vs))).nodes[root].data

    report = verify(loss, wrt=leaves)
    for k, item in enumerate(report.items):
        assert math.isclose(item.symbolic, central_difference(f, values, k), rel_tol=1e-6, abs_tol=1e-9)


def test_batches_and_worked_problems_agree(tmp_path):
    from tracegrad.problem.schema import load_problem
    from tracegrad.problem.solve import solve

    problem = tmp_path / "batch.toml"
    problem.write_text("""
layout = "out_in"
[[layers]]
weights = [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]]
bias = [0.0, 0.1, -0.1]
activation = "tanh"
[[layers]]
weights = [[0.5, -0.6, 0.3]]
bias = 0.2
activation = "sigmoid"
[data]
x = [[1.0, 2.0], [-0.5, 0.3], [0.0, 1.0]]
y = [1, 0, 1]
[loss]
name = "bce"
""", encoding="utf-8")
    report = verify(solve(load_problem(problem)))
    assert report.ok
    assert "delta1[2][1]" in {i.name for i in report.items}  # sample 2, unit 1
    assert {"dL/db2"} <= {i.name for i in report.items}  # the shared bias is one scalar


def test_reused_subexpressions_get_one_symbol_and_the_right_derivative():
    a, b = Value(0.4, label="a"), Value(-1.2, label="b")
    c = a * b + a  # used three times, unlabelled
    e = c * c + c.tanh()
    report = verify(e)
    assert report.ok
    cv = 0.4 * -1.2 + 0.4
    de_dc = 2 * cv + 1 - math.tanh(cv) ** 2  # by hand
    got = {i.name: i.symbolic for i in report.items}
    assert math.isclose(got["a"], de_dc * (-1.2 + 1), rel_tol=1e-12)
    assert math.isclose(got["b"], de_dc * 0.4, rel_tol=1e-12)
    assert [d.name for d in report.definitions] == ["v₃"]  # c, node 3 (as the node view names it); inline uses
    assert report.definitions[0].formula_text == "a·b + a"


def test_intermediates_and_a_chosen_wrt():
    a, b = Value(1.5, label="a"), Value(0.5, label="b")
    h = (a * b).exp()
    h.label = "h"
    out = h / (h + 1)
    report = verify(out, intermediates=True)
    assert report.ok and [i.name for i in report.items] == ["a", "b", "v2", "h", "v5"]  # answers-file names
    only_b = verify(out, wrt="b")
    assert [i.name for i in only_b.items] == ["b"]
    with pytest.raises(InputError, match="no node labelled 'nope'"):
        verify(out, wrt=["nope"])


def test_a_trace_with_a_chosen_loss_and_nodes_outside_it():
    with tg.record() as rec:
        a, u = Value(1.5, label="a"), Value(2.0, label="u")
        f = a * a
        f.label = "f"
        g = f + u  # the last node: the default output
    assert [i.name for i in verify(rec.trace).items] == ["a", "u"]
    report = verify(rec.trace, loss="f")
    assert [(i.name, i.symbolic) for i in report.items] == [("a", 3.0)]  # d(a²)/da = 2a
    with pytest.raises(InputError, match="u: not below f"):
        verify(rec.trace, wrt="u", loss="f")
    assert g.data == 4.25


@pytest.mark.parametrize("build,expected", [
    (lambda x: x.relu(), 0.0),  # ReLU'(0) = 0, the engine's step(0)
    (lambda x: x.abs(), 0.0),  # sign(0) = 0
    (lambda x: x.max(Value(0.0)), 1.0),  # a tie sends the gradient to the first argument
    (lambda x: x.min(Value(0.0)), 1.0),
    (lambda x: apply("sign", (x * 3,)), 0.0),  # the Dirac delta counts as zero
    (lambda x: x.leaky_relu(0.2), 0.2),
])
def test_kinks_follow_the_engine_convention(build, expected):
    x = Value(0.0, label="x")
    report = verify(build(x), wrt="x")
    assert report.ok and report.items[0].symbolic == pytest.approx(expected, abs=1e-15)


def test_second_derivatives_through_create_graph_nodes():
    x = Value(0.7, label="x")
    y = x ** 3 * x.exp()
    g = y.backward(create_graph=True)[x]  # dy/dx as a graph: (3x² + x³)eˣ
    report = verify(g, wrt="x")
    second = (6 * 0.7 + 6 * 0.7 ** 2 + 0.7 ** 3) * math.exp(0.7)  # d²y/dx² by hand
    assert report.ok and math.isclose(report.items[0].symbolic, second, rel_tol=1e-12)


def test_rule_checks_cover_parameters_and_variadic_ops():
    assert check_rule("leaky_relu", (0.3,)).agree
    assert check_rule("pow", (2.5,)).agree
    # an integral exponent written as a float (x ** 3 in an expression or a program): 3.0·x^2.0 is 3x²
    assert check_rule("pow", (3.0,)).agree and check_rule("pow", (-1.0,)).agree
    assert check_rule("softmax_ce", (), 6).agree
    dot = check_rule("dot", (), 4)
    assert dot.form == "x_{0} x_{2} + x_{1} x_{3}" and [p.declared for p in dot.partials] == [
        "x_{2}", "x_{3}", "x_{0}", "x_{1}"]


@pytest.mark.parametrize("x,y", [([1, 2], [1, 0]), ([[1, 2], [0, 1]], [[0, 1], [1, 0]])])
def test_verify_softmax_with_cross_entropy(tmp_path, x, y):
    # a class with target 0 is left out of cross-entropy: its output is not below the loss, so
    # its derivative is 0 by construction (this crashed with a KeyError)
    import subprocess
    import sys

    path = tmp_path / "softmax.toml"
    path.write_text('[[layers]]\nweights = [[0.5, -0.3], [0.2, 0.4]]\nbias = [0.1, -0.1]\nactivation = "softmax"\n'
                    f'[data]\nx = {x}\ny = {y}\n[loss]\nname = "cce"\n')
    for args in (["verify", str(path)], ["derive", str(path), "--verify", "--format", "text"]):
        r = subprocess.run([sys.executable, "-m", "tracegrad", *args], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    worked = tg.solve(tg.load_problem(path))
    report = verify(worked)
    assert report.ok and all(i.agree for i in report.items)
