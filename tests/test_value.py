"""The Value engine: hand-checked values, micrograd parity, finite differences, edges."""

import math
import sys

import pytest
from hypothesis import given, settings

import tracegrad as tg
from tracegrad import DomainError, Value
from tests.conftest import central_difference
from tests.graphs import build, leaves_of, on_a_kink, points, programs


def micrograd_readme(V):
    a = V(-4.0)
    b = V(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return a, b, g


def test_micrograd_readme_example():
    a, b, g = micrograd_readme(Value)
    # the numbers micrograd's README prints
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_same_numbers_as_micrograd_itself():
    from micrograd.engine import Value as MicroValue

    ours = micrograd_readme(Value)
    theirs = micrograd_readme(MicroValue)
    for x, y in zip(ours, theirs):
        assert math.isclose(x.data, y.data, rel_tol=1e-12)
        assert math.isclose(x.grad, y.grad, rel_tol=1e-12)


def test_micrograd_api_shape():
    v = Value(2.0)
    assert repr(v) == "Value(data=2.0, grad=0.0)"
    w = v * v
    assert w._prev == (v, v)  # ordered, repeats kept
    assert w._op == "mul" and w.op == "mul"
    w.backward()
    assert v.grad == 4.0  # d(v^2)/dv = 2v, by hand


def test_reused_node_accumulates():
    a = Value(3.0)
    b = a + a
    c = b * a  # c = 2a^2, dc/da = 4a = 12
    c.backward()
    assert c.data == 18.0
    assert a.grad == 12.0


def test_diamond():
    x = Value(0.5)
    u, v = x * 2, x.exp()
    y = u * v  # y = 2x e^x, dy/dx = 2e^x (1 + x)
    y.backward()
    assert math.isclose(x.grad, 2 * math.exp(0.5) * 1.5, rel_tol=1e-14)


def test_gradients_accumulate_across_calls_and_zero_grad():
    a, b = Value(2.0), Value(-3.0)
    c = (a * b).tanh()
    c.backward()
    first = a.grad
    c.backward()
    assert math.isclose(a.grad, 2 * first, rel_tol=1e-15)
    tg.zero_grad(c)
    assert a.grad == 0.0 and b.grad == 0.0


def test_sub_and_div_are_their_own_ops():
    a, b = Value(1.0), Value(4.0)
    assert (a - b).op == "sub" and (a / b).op == "div"
    assert (2 - a).op == "sub" and (2 / b).op == "div"
    d = a / b
    d.backward()
    assert a.grad == 0.25 and b.grad == -1.0 / 16


def test_value_exponent_and_number_exponent():
    a, b = Value(2.0), Value(3.0)
    c = a**b  # 8; dc/da = b a^(b-1) = 12; dc/db = a^b ln a = 8 ln 2
    c.backward()
    assert c.data == 8.0 and a.grad == 12.0
    assert math.isclose(b.grad, 8 * math.log(2), rel_tol=1e-14)
    d = Value(2.0)
    e = 3**d  # 9, de/dd = 9 ln 3
    e.backward()
    assert math.isclose(d.grad, 9 * math.log(3), rel_tol=1e-14)


def test_vector_helpers():
    z = [Value(1.0), Value(2.0), Value(3.0)]
    p = tg.softmax(z)
    total = sum(math.exp(k) for k in (1, 2, 3))
    for v, k in zip(p, (1, 2, 3)):
        assert math.isclose(v.data, math.exp(k) / total, rel_tol=1e-14)
    lp = tg.log_softmax(z)
    assert math.isclose(lp[0].data, 1 - math.log(total), rel_tol=1e-14)
    big = tg.softmax([Value(1000.0), Value(1001.0)])  # stable: no overflow
    assert math.isclose(big[1].data, 1 / (1 + math.exp(-1)), rel_tol=1e-14)
    d = tg.dot([Value(1.0), Value(2.0)], [Value(0.5), Value(0.7)])
    assert d.op == "dot" and math.isclose(d.data, 1.9)
    s = tg.sum(z)
    s.backward()
    assert [v.grad for v in z] == [1.0, 1.0, 1.0]
    m = tg.max(Value(1.0), Value(2.0))
    assert m.data == 2.0 and tg.min(Value(1.0), Value(2.0)).data == 1.0


def test_softmax_gradient_against_finite_differences():
    xs = [0.3, -1.2, 2.0]

    def f(vals):
        p = tg.softmax([Value(v) for v in vals])
        return (p[0] * 2 + p[2] * p[1]).data

    z = [Value(v) for v in xs]
    p = tg.softmax(z)
    (p[0] * 2 + p[2] * p[1]).backward()
    for i in range(3):
        assert math.isclose(z[i].grad, central_difference(f, xs, i), rel_tol=1e-6, abs_tol=1e-9)


@pytest.mark.parametrize(
    "build, op",
    [
        (lambda: Value(-2.0, label="x").log(), "log"),
        (lambda: Value(1.0, label="x") / Value(0.0, label="y"), "div"),
        (lambda: Value(-2.0, label="x") ** Value(0.5, label="y"), "vpow"),
        (lambda: Value(1000.0, label="x").exp(), "exp"),
        (lambda: Value(-1.0, label="x").sqrt(), "sqrt"),
        (lambda: Value(1e200, label="x") * Value(1e200, label="y"), "mul"),
        (lambda: Value(0.0, label="x") ** -1, "pow"),
    ],
)
def test_domain_errors_name_the_op_and_operands(build, op):
    with pytest.raises(DomainError) as info:
        build()
    message = str(info.value)
    assert info.value.op == op and message.startswith(op)
    assert "x = " in message


def test_derivative_domain_error():
    x = Value(0.0, label="x")
    y = x.sqrt()
    with pytest.raises(DomainError, match="derivative of sqrt"):
        y.backward()


def test_no_overflow_where_result_is_finite():
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(-1000.0).exp().data == 0.0
    assert Value(1000.0).tanh().data == 1.0


def test_bad_data_is_a_type_error():
    with pytest.raises(TypeError):
        Value("3")
    with pytest.raises(TypeError):
        Value(1.0) + "a"


CHAIN = """
import resource, sys
from tracegrad import Value
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
n = 1_000_000
base = peak()
x = Value(0.5)
y = x
for _ in range(n):
    y = y.tanh()
y.backward()
print(x.grad, (peak() - base) / n)
"""


def test_million_node_chain_backward_and_memory():
    """A chain of a million tanh nodes: no RecursionError, and at most 250 bytes per node at peak
    (resident memory of a fresh process, allocator overhead included)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", CHAIN], capture_output=True, text=True, check=True,
                         cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    grad, per_node = map(float, out.stdout.split())
    assert 0 < grad < 1  # a product of a million tanh' factors, each in (0, 1)
    assert per_node <= 250, f"{per_node:.0f} bytes per node"


def test_create_graph_matches_and_gives_second_derivatives():
    x = Value(0.7)
    y = x**3 + x.exp()
    grads = y.backward(create_graph=True)
    gx = grads[x]
    assert isinstance(gx, Value)
    assert math.isclose(gx.data, 3 * 0.7**2 + math.exp(0.7), rel_tol=1e-14)
    assert math.isclose(x.grad, gx.data, rel_tol=1e-15)
    x.grad = 0.0
    gx.backward()  # d2y/dx2 = 6x + e^x
    assert math.isclose(x.grad, 6 * 0.7 + math.exp(0.7), rel_tol=1e-12)


def test_sigmoid_local_derivative_is_a_node_reading_a_times_one_minus_a():
    z = Value(1.1835, label="z2")
    a = z.sigmoid()
    grads = a.backward(create_graph=True)
    local = grads[z]
    assert local.op == "mul"  # a * (1 - a)
    assert local.inputs[0] is a and local.inputs[1].op == "sub"


def test_import_does_not_load_sympy():
    import subprocess

    code = "import sys, tracegrad; print('sympy' in sys.modules, 'jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


# --- random expression graphs against central differences -------------------------


@settings(max_examples=150, deadline=None)
@given(programs, points)
def test_random_graphs_against_central_differences(program, xs):
    if on_a_kink(program, xs):
        return  # relu(0), |0|, max/min of equal values: the engine's subgradient need not be the derivative
    leaves = leaves_of(xs)
    out = build(program, leaves)[-1]
    out.backward()
    f = lambda v: build(program, v)[-1]  # noqa: E731
    for i in range(3):
        numeric = central_difference(f, xs, i, h=1e-7)
        # at or near a kink (relu, max, min) the one-sided slopes differ: no derivative to compare
        h = 1e-6
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        base = f(xs)
        if abs((f(up) - base) / h - (base - f(down)) / h) > 1e-3 * max(1.0, abs(numeric)):
            continue
        assert math.isclose(leaves[i].grad, numeric, rel_tol=1e-5, abs_tol=1e-6)
